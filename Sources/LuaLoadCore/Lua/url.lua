-- luaload prelude: URLs and request bodies — splitting and resolving URLs (redirects, cookies),
-- percent-encoding, query strings, forms, multipart bodies, base64 (basic auth).
local E = ...
local type, tostring, tonumber, pairs, ipairs = type, tostring, tonumber, pairs, ipairs
local format, concat, sort, random, char = string.format, table.concat, table.sort, math.random, string.char

local U = {}
E.url = U

-- "https://Host:8443/a/b?q" → scheme, host (lower case, no port), port (a number), path ("/a/b"), query ("q" or nil).
-- A relative path ("/a?q") gives only path and query. nil when it is neither.
function U.split(url)
  local scheme, authority, rest = url:match("^(https?)://([^/?#]*)(.*)$")
  if scheme == nil then
    if url:byte(1) ~= 47 then return nil end
    rest = url
  end
  rest = rest:gsub("#.*$", "")
  local path, query = rest:match("^([^?]*)%??(.*)$")
  if path == "" then path = "/" end
  if query == "" and not rest:find("?", 1, true) then query = nil end
  if scheme == nil then return nil, nil, nil, path, query end
  local host, port = authority:match("^%[(.-)%]:?(%d*)$")
  if host == nil then host, port = authority:match("^([^:]*):?(%d*)$") end
  if host == nil or host == "" then return nil end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  return scheme, host:lower(), port, path, query
end

-- "scheme://host[:port]" with the default port left out: how two URLs are compared for the same origin.
function U.origin(scheme, host, port)
  local shown = host:find(":", 1, true) and ("[" .. host .. "]") or host
  if port == (scheme == "https" and 443 or 80) then return scheme .. "://" .. shown end
  return scheme .. "://" .. shown .. ":" .. port
end

-- Removes "." and ".." segments (RFC 3986 5.2.4) from a path that starts with "/".
local function clean_path(path)
  local segments, out = {}, {}
  for seg in (path .. "/"):gmatch("([^/]*)/") do segments[#segments + 1] = seg end
  for i, seg in ipairs(segments) do
    if seg == ".." then
      if #out > 1 then out[#out] = nil end
      if i == #segments then out[#out + 1] = "" end
    elseif seg == "." then
      if i == #segments then out[#out + 1] = "" end
    else
      out[#out + 1] = seg
    end
  end
  local p = concat(out, "/")
  if p:byte(1) ~= 47 then p = "/" .. p end
  return p
end

-- The absolute URL a Location header points to, from the absolute URL it came with.
function U.resolve(base, location)
  if location:find("^https?://") then return location end
  local scheme, host, port, path = U.split(base)
  local origin = U.origin(scheme, host, port)
  if location:sub(1, 2) == "//" then return scheme .. ":" .. location end
  if location:byte(1) == 47 then return origin .. clean_path(location:match("^[^?#]*")) .. (location:match("%?[^#]*") or "") end
  if location:byte(1) == 63 then return origin .. path .. location:match("^[^#]*") end   -- "?q"
  local dir = path:match("^(.*/)") or "/"
  return origin .. clean_path(dir .. location:match("^[^?#]*")) .. (location:match("%?[^#]*") or "")
end

local function urlencode(v)
  return (tostring(v):gsub("[^%w%-%._~]", function(c) return format("%%%02X", c:byte()) end))
end
U.encode = urlencode

-- Keys sorted, so a query's text (and a stats row named after it) does not depend on table order.
-- A list value repeats its key.
function U.encode_query(q)
  local keys = {}
  for k in pairs(q) do keys[#keys + 1] = k end
  sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = q[k]
    if type(v) == "table" then
      for _, x in ipairs(v) do parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(x) end
    else
      parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(v)
    end
  end
  return concat(parts, "&")
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
function U.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local k1, k2, k3, k4 = (n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63
    out[#out + 1] = B64:sub(k1 + 1, k1 + 1) .. B64:sub(k2 + 1, k2 + 1)
      .. (b and B64:sub(k3 + 1, k3 + 1) or "=") .. (c and B64:sub(k4 + 1, k4 + 1) or "=")
  end
  return concat(out)
end

-- multipart/form-data (RFC 7578): form fields, then files. Returns the body and its boundary.
-- `files` maps a field name to { filename =, content =, content_type = } (or to a plain string: the content).
function U.multipart(form, files)
  local boundary = format("luaload-%08x%08x", random(0, 0xffffffff), random(0, 0xffffffff))
  local parts = {}
  local function add(head, content)
    parts[#parts + 1] = "--" .. boundary .. "\r\n" .. head .. "\r\n\r\n" .. content .. "\r\n"
  end
  local function sorted_keys(t)
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    return keys
  end
  local function quoted(s) return (tostring(s):gsub('[\r\n"]', function(c) return format("%%%02X", c:byte()) end)) end
  if form then
    for _, k in ipairs(sorted_keys(form)) do
      local v = form[k]
      local values = type(v) == "table" and v or { v }
      for _, x in ipairs(values) do add('Content-Disposition: form-data; name="' .. quoted(k) .. '"', tostring(x)) end
    end
  end
  for _, k in ipairs(sorted_keys(files)) do
    local f = files[k]
    if type(f) == "string" then f = { content = f } end
    add('Content-Disposition: form-data; name="' .. quoted(k) .. '"; filename="' .. quoted(f.filename or k) .. '"\r\n'
        .. "Content-Type: " .. (f.content_type or "application/octet-stream"), f.content or "")
  end
  parts[#parts + 1] = "--" .. boundary .. "--\r\n"
  return concat(parts), boundary
end
