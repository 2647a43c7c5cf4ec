-- luaload wrk prelude, chunk 1 of 2: the global `wrk` table of wrk's SCRIPTING document — its defaults,
-- wrk.format, wrk.lookup, wrk.connect — and how the command line fills it in before the script runs.
local E = ...
local type, tostring, pairs, error, format, concat = type, tostring, pairs, error, string.format, table.concat

wrk = {
  scheme  = "http",
  host    = "localhost",
  port    = nil,
  method  = "GET",
  path    = "/",
  headers = {},
  body    = nil,
  thread  = nil,
}
wrk.lookup = E.wrk_lookup
wrk.connect = E.wrk_connect

-- "file:line: " of the script's call: the first frame above that is not the prelude's; after a tail call
-- (`return wrk.format(...)`) that frame is gone, and the script's callback being run is named instead.
local getinfo = debug.getinfo
local function where()
  for level = 3, 12 do
    local info = getinfo(level, "Sl")
    if info == nil then break end
    if info.what ~= "C" and not info.source:find("^=luaload/") then return info.short_src .. ":" .. info.currentline .. ": " end
  end
  local fn = E.wrk_running
  if fn == nil then return "" end
  local info = getinfo(fn, "S")
  return info.short_src .. ":" .. info.linedefined .. ": "
end

local function check(value, what, allowed)
  local t = type(value)
  if t ~= allowed then error(format("%swrk.format: %s must be a %s, got %s", where(), what, allowed, t), 0) end
end

-- A request as bytes. Missing arguments come from the wrk table; like wrk, it sets Host (when absent) and
-- Content-Length (the body's, or none) on the headers table it uses.
function wrk.format(method, path, headers, body)
  method = method or wrk.method
  path = path or wrk.path
  headers = headers or wrk.headers
  body = body or wrk.body
  check(method, "the method", "string")
  check(path, "the path", "string")
  check(headers, "headers", "table")
  if body ~= nil then check(body, "the body", "string") end
  if headers["Host"] == nil then headers["Host"] = wrk.headers["Host"] end
  headers["Content-Length"] = body and #body
  local s = { method .. " " .. path .. " HTTP/1.1" }
  for name, value in pairs(headers) do
    local t = type(value)
    if t ~= "string" and t ~= "number" then
      error(format("%swrk.format: header %s must be a string or a number, got %s", where(), tostring(name), t), 0)
    end
    s[#s + 1] = name .. ": " .. value
  end
  s[#s + 1] = ""
  s[#s + 1] = body or ""
  return concat(s, "\r\n")
end

-- Before the script runs: the URL's parts and the -H headers ("Name", "value" pairs).
function E.wrk_configure(scheme, host, port, path, ...)
  wrk.scheme, wrk.host, wrk.port, wrk.path = scheme, host, port, path
  local n = select("#", ...)
  for k = 1, n, 2 do
    local name, value = select(k, ...)
    wrk.headers[name] = value
  end
end

-- After setup(thread): the Host header (from the URL unless -H or the script gave one), the script's
-- init(args), then the request wrk.request() returns when the script has no request() of its own.
function E.wrk_init(args)
  if wrk.headers["Host"] == nil then
    local host = wrk.host
    if host:find(":", 1, true) then host = "[" .. host .. "]" end
    if wrk.port then host = host .. ":" .. wrk.port end
    wrk.headers["Host"] = host
  end
  local init = rawget(_G, "init")
  if type(init) == "function" then init(args) end
  local req = wrk.format()
  wrk.request = function() return req end
  return wrk.method
end

-- The main state's setup phase, once per thread: the thread's address defaults to the first address of the
-- URL's host that accepts a connection (as wrk's), then the script's setup(thread) may change it.
local addrs
function E.wrk_setup(thread)
  if addrs == nil then
    local service = wrk.port or (wrk.scheme == "https" and "443" or "80")
    addrs = {}
    for _, addr in ipairs(wrk.lookup(wrk.host, service)) do
      if wrk.connect(addr) then addrs[#addrs + 1] = addr end
    end
    if #addrs == 0 then error("unable to connect to " .. wrk.host .. ":" .. service, 0) end
  end
  thread.addr = addrs[1]
  local setup = rawget(_G, "setup")
  if type(setup) == "function" then setup(thread) end
end

-- Whether the script defines done() (read by the CLI before it prints).
function E.wrk_has_done()
  return type(rawget(_G, "done")) == "function"
end

-- A thread's own state, before init(args): wrk.thread is this thread (get/set reach this state's globals).
function E.wrk_bind(thread)
  wrk.thread = thread
end
