-- luaload prelude: a request's options (`opts` of http.get & co.) checked and turned into what the engine
-- sends: header lines, body, URL. Only requests with options come here; a plain http.get costs nothing.
local E = ...
local type, tostring, pairs, error, format, concat, sort = type, tostring, pairs, error, string.format, table.concat, table.sort
local jsonlib, U = E.json, E.url

local O = {}
E.options = O

-- Every option and the Lua type it takes ("any": any value but nil).
local TYPES = {
  headers = "table", body = "string", json = "any", query = "table", name = "string", timeout = "number",
  cookies = "table", allow_redirects = "boolean", auth = "table", form = "table", files = "table",
  tags = "table",   -- the request's stats row's tags (http.lua)
}
local ACCEPTED
do
  local names = {}
  for k in pairs(TYPES) do names[#names + 1] = k end
  sort(names)
  ACCEPTED = concat(names, ", ")
end

-- The header lines every request carries unless the script sets its own.
O.default_headers = "User-Agent: luaload/" .. E.version .. "\r\nAccept-Encoding: gzip, deflate\r\n"

-- Errors here are raised at level 5: check ← prepare ← with_options ← the request function ← the script.
local function check(fname, opts)
  for k, v in pairs(opts) do
    local want = TYPES[k]
    if want == nil then
      error(format("%s: unknown option %s (accepted: %s)", fname, tostring(k), ACCEPTED), 5)
    elseif want ~= "any" and type(v) ~= want then
      error(format("%s: opts.%s must be a %s, got %s", fname, k, want, type(v)), 5)
    end
  end
  local bodies = (opts.body ~= nil and 1 or 0) + (opts.json ~= nil and 1 or 0) + ((opts.form ~= nil or opts.files ~= nil) and 1 or 0)
  if bodies > 1 then error(fname .. ": give one of opts.body, opts.json or opts.form/opts.files", 5) end
  if opts.timeout ~= nil and opts.timeout <= 0 then error(fname .. ": opts.timeout must be a positive number of seconds", 5) end
  local auth = opts.auth
  if auth ~= nil and (type(auth[1]) ~= "string" or type(auth[2]) ~= "string") then
    error(fname .. ': opts.auth must be { "user", "password" }', 5)
  end
end

-- The script's headers as lines, and which of the names the engine or the prelude would add it gave
-- itself (lower-case name → true), raising at `level` (the script's).
local function header_lines(fname, headers, level)
  local parts, given = {}, {}
  for k, v in pairs(headers) do
    if type(k) ~= "string" or k == "" or k:find("[%c:%s]") then
      error(format("%s: invalid header name %q", fname, tostring(k)), level)
    end
    v = tostring(v)
    if v:find("[\r\n]") then error(format("%s: header %s has a line break in its value", fname, k), level) end
    given[k:lower()] = true
    parts[#parts + 1] = k .. ": " .. v .. "\r\n"
  end
  return parts, given
end
O.header_lines = header_lines

-- The body and its default Content-Type.
local function encode_body(opts)
  if opts.json ~= nil then return jsonlib.encode(opts.json), "application/json" end
  if opts.files ~= nil then
    local body, boundary = U.multipart(opts.form, opts.files)
    return body, "multipart/form-data; boundary=" .. boundary
  end
  if opts.form ~= nil then return U.encode_query(opts.form), "application/x-www-form-urlencoded" end
  return opts.body, nil
end

-- Header lines for `opts` with `body_type` (nil: none), leaving out `drop` (lower-case names → true) of
-- the script's: what a request and each of its redirect hops send before cookies.
function O.headers(fname, opts, body_type, drop, level)
  local parts, given = {}, {}
  if opts.headers ~= nil then parts, given = header_lines(fname, opts.headers, level + 1) end
  if drop then
    local kept = {}
    for _, line in pairs(parts) do
      if not drop[line:match("^([^:]*)"):lower()] then kept[#kept + 1] = line end
    end
    parts = kept
  end
  if body_type and not given["content-type"] then parts[#parts + 1] = "Content-Type: " .. body_type .. "\r\n" end
  if opts.auth and not given["authorization"] and not (drop and drop.authorization) then
    parts[#parts + 1] = "Authorization: Basic " .. U.base64(opts.auth[1] .. ":" .. opts.auth[2]) .. "\r\n"
  end
  if not given["user-agent"] then parts[#parts + 1] = "User-Agent: luaload/" .. E.version .. "\r\n" end
  if not given["accept-encoding"] then parts[#parts + 1] = "Accept-Encoding: gzip, deflate\r\n" end
  return concat(parts), given["cookie"]
end

-- The Content-Type the prelude gives `body` made from `opts` (a multipart body names its own boundary).
function O.body_type(opts, body)
  if opts.json ~= nil then return "application/json" end
  if opts.files ~= nil then return "multipart/form-data; boundary=" .. body:match("^%-%-(.-)\r\n") end
  if opts.form ~= nil then return "application/x-www-form-urlencoded" end
  return nil
end

-- Checks `opts` and returns what the request sends: header lines, body, timeout, URL (with the query),
-- stats name (nil: the default), and whether the script set a Cookie header itself (then the jar adds none).
function O.prepare(fname, url, opts)
  check(fname, opts)
  local body, body_type = encode_body(opts)
  local headers, has_cookie = O.headers(fname, opts, body_type, nil, 5)
  local query = opts.query
  if query ~= nil then
    local qs = U.encode_query(query)
    if qs ~= "" then url = url .. (url:find("?", 1, true) and "&" or "?") .. qs end
  end
  return headers, body, opts.timeout, url, opts.name, has_cookie
end
