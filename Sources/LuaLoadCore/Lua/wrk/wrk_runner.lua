-- luaload wrk prelude, chunk 2 of 2: a wrk connection's life as a VU coroutine — delay(), request(),
-- send, response() per response — and done()'s statistics objects.
local E = ...
local type, tostring, error, xpcall, rawget, setmetatable, getmetatable, next, floor =
  type, tostring, error, xpcall, rawget, setmetatable, getmetatable, next, math.floor
local yield, traceback, getinfo = coroutine.yield, debug.traceback, debug.getinfo
local P = E.protocol
local OP_RAW, OP_SLEEP, OP_ERROR, OP_STOPPED, OP_THREAD_STOP = P.OP_RAW, P.OP_SLEEP, P.OP_ERROR, P.OP_STOPPED, P.OP_THREAD_STOP
local OP_IDLE = P.OP_IDLE

-- thread:stop() in the thread's own state (wrkshim.c hands this function out): noted here; the connection
-- whose callback called it then tells the engine (LL_OP_THREAD_STOP), which stops every connection of the thread.
local stopping = false
function E.wrk_thread_stop() stopping = true end

-- response()'s headers: a table built from the raw head on first use (most scripts never read it).
local function fill(t)
  local raw = rawget(t, 1)
  t[1] = nil
  setmetatable(t, nil)
  local first = raw:find("\r\n", 1, true)
  if first then
    for name, value in raw:sub(first + 2):gmatch("([^:\r\n]+):[ \t]*([^\r\n]*)\r\n") do t[name] = value end
  end
  return t
end
local HeadersMT = {
  __index = function(t, k) return rawget(fill(t), k) end,
  __pairs = function(t) return next, fill(t), nil end,
}

-- "file:line" of a user function, for messages about what it returned.
local function where(fn)
  local info = getinfo(fn, "S")
  return info.short_src .. ":" .. info.linedefined
end

-- Request → send → responses → delay, for ever (until the stop). `req` holds the last request until the next
-- one exists: the engine caches a request's pipelining depth by the string's address, which stays unique
-- while the string lives. `open` (-R, the open model): each cycle first waits for an arrival (LL_OP_IDLE),
-- and the engine times its responses from when that arrival was due.
local function cycle(request, response, delay, open)
  local req
  local function deliver(status, head, body, ...)
    if status == nil then return end
    E.wrk_running = response
    response(status, setmetatable({ head }, HeadersMT), body)
    if stopping then yield(OP_THREAD_STOP, nil, 0) end
    return deliver(...)
  end
  while true do
    if open then yield(OP_IDLE, nil, 0) end
    if delay then
      E.wrk_running = delay
      local ms = delay()
      if type(ms) ~= "number" or ms < 0 then
        error(where(delay) .. ": delay() must return a number of milliseconds >= 0, got " .. tostring(ms), 0)
      end
      if stopping then yield(OP_THREAD_STOP, nil, 0) end
      yield(OP_SLEEP, nil, 0, ms / 1000)
    end
    E.wrk_running = request
    local r = request()
    if type(r) ~= "string" then error(where(request) .. ": request() must return a string, got " .. type(r), 0) end
    req = r
    if stopping then yield(OP_THREAD_STOP, nil, 0) end
    if response then
      deliver(yield(OP_RAW, nil, 0, req, true, false))
    else
      yield(OP_RAW, nil, 0, req, false, false)
    end
  end
end

local function on_error(e)
  local msg = type(e) == "string" and e or tostring(e)
  return { msg = msg, tb = traceback(msg, 2) }
end

local function fn(name)
  local f = rawget(_G, name)
  return type(f) == "function" and f or nil
end

-- A connection's coroutine (the engine passes the class and VU numbers, unused here, and `open`: -R).
-- With no request(), response() or delay() the request never changes: the engine resends it by itself
-- (LL_SLOT_RAW_REPEAT) and this coroutine wakes only after a failure — except with -R, where each request
-- waits for its arrival. A script error is recorded and ends this connection (wrk itself would abort).
function E.vu_main(_, _, open)
  local request, response, delay = fn("request"), fn("response"), fn("delay")
  local ok, e = xpcall(function()
    if not (request or response or delay) and not open then
      local req = wrk.request()
      while true do yield(OP_RAW, nil, 0, req, false, true) end
    end
    cycle(request or wrk.request, response, delay, open)
  end, on_error)
  if not ok then yield(OP_ERROR, nil, 0, e.msg, e.tb) end
  return OP_STOPPED, nil, 0
end

function E.vu_stop() return OP_STOPPED, nil, 0 end

---------------------------------------------------------------- done()
-- wrk's rank: the smallest value whose cumulative count reaches round(p/100 * n + 0.5).
local function percentile(s, p)
  if type(p) ~= "number" then error("percentile: expected a number, got " .. type(p), 2) end
  local d = getmetatable(s).data
  local rank = floor(p / 100 * d.count + 0.5 + 0.5)
  local total = 0
  for i = 1, #d.values do
    total = total + d.counts[i]
    if total >= rank then return d.values[i] end
  end
  return 0
end

-- A statistics object as wrk's done() gets it: min, max, mean, stdev, :percentile(p), s(i) → value, count, #s.
-- `d` = { min, max, mean, stdev, count, values = {...}, counts = {...} } (distinct values ascending).
local function stats(d)
  local mt = { data = d,
               __call = function(_, i) return d.values[i] or 0, d.counts[i] or 0 end,
               __len = function() return #d.values end }
  return setmetatable({ min = d.min, max = d.max, mean = d.mean, stdev = d.stdev, percentile = percentile }, mt)
end

function E.wrk_done(summary, latency, requests)
  local done = rawget(_G, "done")
  if type(done) == "function" then done(summary, stats(latency), stats(requests)) end
end
