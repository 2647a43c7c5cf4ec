-- luaload prelude: a VU's cookie jar, as a browser-like client keeps one (RFC 6265): Set-Cookie stored with
-- its Domain, Path, Expires/Max-Age, Secure and HttpOnly; a Cookie header for each later request that
-- matches. A jar is a list of cookies { name, value, domain, host_only, path, expires, secure, http_only },
-- kept in the VU's context: it dies with the VU.
local E = ...
local tonumber, ipairs, concat, sort, remove = tonumber, ipairs, table.concat, table.sort, table.remove
local wallclock = E.wallclock

local C = {}
E.cookies = C
local created = 0   -- creation order, which breaks ties between paths of one length

local MONTHS = { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6, jul = 7, aug = 8, sep = 9, oct = 10, nov = 11, dec = 12 }

-- Days since 1970-01-01 of a civil date (proleptic Gregorian).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
end

-- Unix seconds of an HTTP date (RFC 1123, RFC 850 or asctime), or nil.
function C.parse_date(s)
  local d, mon, y, hh, mm, ss = s:match("(%d%d?)[ %-](%a%a%a)[ %-](%d+) (%d%d?):(%d%d):(%d%d)")
  if d == nil then mon, d, hh, mm, ss, y = s:match("(%a%a%a) +(%d%d?) (%d%d?):(%d%d):(%d%d) (%d%d%d%d)") end
  local month = mon and MONTHS[mon:lower()]
  if month == nil then return nil end
  y = tonumber(y)
  if y < 70 then y = y + 2000 elseif y < 100 then y = y + 1900 end
  return days_from_civil(y, month, tonumber(d)) * 86400 + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
end

local function is_ip(host) return host:find("^[%d.]+$") or host:find(":", 1, true) end

local function domain_match(host, domain)
  if host == domain then return true end
  return not is_ip(host) and #host > #domain and host:sub(-#domain - 1) == "." .. domain
end

local function default_path(path)
  local dir = path:match("^(/.*)/[^/]*$")
  return (dir == nil or dir == "") and "/" or dir
end

local function path_match(path, cookie_path)
  if path == cookie_path then return true end
  if path:sub(1, #cookie_path) ~= cookie_path then return false end
  return cookie_path:sub(-1) == "/" or path:byte(#cookie_path + 1) == 47
end

-- Stores one Set-Cookie value received from `host` for a request to `path`. A cookie for another domain,
-- or without a name, is ignored; an expiry in the past deletes the cookie.
function C.store(jar, value, host, path)
  local now = wallclock()
  local pair, attrs = value:match("^([^;]*)(.*)$")
  local name, val = pair:match("^%s*([^=]-)%s*=%s*(.-)%s*$")
  if name == nil or name == "" then return end
  created = created + 1
  local c = { name = name, value = val, domain = host, host_only = true, path = default_path(path), seq = created }
  local max_age = false
  for attr in attrs:gmatch(";%s*([^;]*)") do
    local k, v = attr:match("^([^=]-)%s*=%s*(.-)%s*$")
    if k == nil then k, v = attr:match("^(.-)%s*$"), "" end
    k = k:lower()
    if k == "max-age" and tonumber(v) then
      max_age = true
      c.expires = now + tonumber(v)
    elseif k == "expires" and not max_age then
      c.expires = C.parse_date(v)
    elseif k == "domain" and v ~= "" then
      local d = v:gsub("^%.", ""):lower()
      if not domain_match(host, d) then return end
      c.domain, c.host_only = d, false
    elseif k == "path" and v:byte(1) == 47 then
      c.path = v
    elseif k == "secure" then
      c.secure = true
    elseif k == "httponly" then
      c.http_only = true
    end
  end
  for i, old in ipairs(jar) do
    if old.name == c.name and old.domain == c.domain and old.path == c.path then remove(jar, i); break end
  end
  if c.expires == nil or c.expires > now then jar[#jar + 1] = c end
end

-- The cookies of `jar` a request to scheme://host/path carries, longest path first; expired ones are dropped.
function C.matching(jar, scheme, host, path)
  local now, out = wallclock(), {}
  for i = #jar, 1, -1 do
    local c = jar[i]
    if c.expires and c.expires <= now then
      remove(jar, i)
    elseif (c.host_only and host == c.domain or not c.host_only and domain_match(host, c.domain))
        and path_match(path, c.path) and (not c.secure or scheme == "https") then
      out[#out + 1] = c
    end
  end
  sort(out, function(a, b) return #a.path > #b.path or #a.path == #b.path and a.seq < b.seq end)
  return out
end

-- "a=1; b=2" for a request, or nil when no cookie matches.
function C.header(jar, scheme, host, path)
  local list = C.matching(jar, scheme, host, path)
  if #list == 0 then return nil end
  local parts = {}
  for i, c in ipairs(list) do parts[i] = c.name .. "=" .. c.value end
  return concat(parts, "; ")
end
