/// The Lua half of the engine, loaded into every thread's Lua state before the user's script.
///
/// `http.*`, `sleep` and the task runner are plain Lua that `coroutine.yield` an operation to the engine;
/// the engine only ever calls `lua_resume`, so no Lua error or yield ever unwinds through Swift.
/// Every yield is `yield(op, outcome, finished, ...)`: `outcome` settles the VU's previous response —
/// nil (default rule), true (`res:success()`) or a message (`res:failure(msg)` / `fail(msg)`) — and
/// `finished` counts the task runs completed since the last yield.
enum Prelude {
    static let opHTTP = 1, opSleep = 2, opWait = 3, opError = 4, opStopped = 5

    static let source = #"""
local yield, random, floor = coroutine.yield, math.random, math.floor
local type, tostring, error, pairs, ipairs = type, tostring, error, pairs, ipairs
local getmetatable, setmetatable, rawget, rawset, xpcall = getmetatable, setmetatable, rawget, rawset, xpcall
local traceback, concat, sort, format = debug.traceback, table.concat, table.sort, string.format
local now, wallclock, jsonlib = __luaload_now, __luaload_wallclock, json
__luaload_now, __luaload_wallclock = nil, nil

-- lua-cjson decodes every number as a float; give whole numbers back as integers, so 8 prints as "8".
local math_type, tointeger, raw_decode = math.type, math.tointeger, jsonlib.decode
local function integers(v)
  for k, x in pairs(v) do
    if type(x) == "table" then integers(x)
    elseif math_type(x) == "float" then local n = tointeger(x); if n then v[k] = n end end
  end
  return v
end
jsonlib.decode = function(text)
  local v = raw_decode(text)
  if type(v) == "table" then return integers(v) end
  if math_type(v) == "float" then return tointeger(v) or v end
  return v
end

local OP_HTTP, OP_SLEEP, OP_WAIT, OP_ERROR, OP_STOPPED = 1, 2, 3, 4, 5
local E = {}                 -- what the engine calls, kept in the registry out of the script's reach
debug.getregistry().luaload = E

local current                -- the running VU's context; one coroutine runs at a time per state
local classes, implicit = {}, nil

-- A VU's context `ctx`: `last` is the response the script may still override (res:failure/success),
-- `outcome` that override; `report` the outcome to send with the next yield (nil: the default rule, true,
-- or a failure message);
-- `finished` the task runs completed since the last yield. Every yield is
-- `yield(op, outcome, finished, ...)`, so the engine records the previous response and counts task runs.

-- The override window of the VU's last response ends (its next request, sleep or task end).
local function close(ctx)
  if ctx.last ~= nil then
    ctx.last = nil
    ctx.report = ctx.outcome
    ctx.outcome = nil
  end
end

-- Closes the window and hands over what the engine must record: outcome and finished task runs.
local function settle(ctx)
  close(ctx)
  local outcome, finished = ctx.report, ctx.finished
  ctx.report, ctx.finished = nil, 0
  return outcome, finished
end

---------------------------------------------------------------- responses
local Response = {}
local HeadersMT = { __index = function(t, k)
  if type(k) == "string" then return rawget(t, k:lower()) end
end }

-- `raw` is the response head as received: the status line, header lines, a blank line (and maybe more).
local function parse_headers(raw)
  local h = {}
  local first = raw and raw:find("\r\n", 1, true)
  if first then
    local blank = raw:find("\r\n\r\n", first, true) or #raw
    for name, value in raw:sub(first + 2, blank + 1):gmatch("([^:\r\n]+):[ \t]*([^\r\n]*)\r\n") do
      local k = name:lower()
      local prev = rawget(h, k)
      h[k] = prev and (prev .. ", " .. value) or value
    end
  end
  return setmetatable(h, HeadersMT)
end

local ResponseMT = { __index = function(res, k)
  if k == "headers" then
    local h = parse_headers(rawget(res, "_raw_headers"))
    rawset(res, "headers", h)
    return h
  end
  return Response[k]
end }

function Response.json(res)
  local ok, value = pcall(jsonlib.decode, res.body or "")
  if not ok then error("res:json(): the response body is not JSON (" .. tostring(value) .. ")", 2) end
  return value
end

local function settable(res, fname)
  if getmetatable(res) ~= ResponseMT then error(fname .. ": call it as res:" .. fname .. "(...)", 3) end
  if rawget(res, "_ctx").last ~= res then
    error(fname .. ": too late, this response was already recorded (call it before the VU's next request, sleep or task end)", 3)
  end
end

function Response.failure(res, msg)
  settable(res, "failure")
  rawget(res, "_ctx").outcome = msg == nil and "failure" or tostring(msg)
end

function Response.success(res)
  settable(res, "success")
  rawget(res, "_ctx").outcome = true
end

---------------------------------------------------------------- requests
-- Stats rows are numbered per Lua state; the engine learns a row's method and name with its first request.
local stat_ids, stat_count = {}, 0
local function new_stat(byname, name)
  local id = stat_count
  stat_count = id + 1
  byname[name] = id
  return id
end

local function urlencode(v)
  return (tostring(v):gsub("[^%w%-%._~]", function(c) return format("%%%02X", c:byte()) end))
end

local function encode_query(q, level)
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

local function header_block(headers, fname, level)
  if type(headers) ~= "table" then error(fname .. ": opts.headers must be a table", level) end
  local parts, has_type = {}, false
  for k, v in pairs(headers) do
    if type(k) ~= "string" or k == "" or k:find("[%c:%s]") then
      error(format("%s: invalid header name %q", fname, tostring(k)), level)
    end
    v = tostring(v)
    if v:find("[\r\n]") then error(format("%s: header %s has a line break in its value", fname, k), level) end
    if k:lower() == "content-type" then has_type = true end
    parts[#parts + 1] = k .. ": " .. v .. "\r\n"
  end
  return concat(parts), has_type
end

-- Checked paths and their default stats names, so a repeated path costs one lookup. Bounded, since a
-- script may build a new path for every request.
local url_names, url_count = {}, 0
local function default_name(fname, url)
  if type(url) ~= "string" then error(format("%s: expected a path string, got %s", fname, type(url)), 3) end
  if url:byte(1) ~= 47 and not url:find("^https?://") then
    error(format("%s: %q must start with / or http:// or https://", fname, url), 3)
  end
  local q = url:find("?", 1, true)
  local name = q and url:sub(1, q - 1) or url
  if url_count >= 10000 then url_names, url_count = {}, 0 end
  url_names[url] = name
  url_count = url_count + 1
  return name
end

-- One request function per method (http.get, ...): the method, its name for messages and its stats
-- rows are upvalues, so the per-request path does no string work and no extra call.
local requesters = {}
local function requester(method)
  local fname = "http." .. method:lower()
  local byname = stat_ids[method] or {}
  stat_ids[method] = byname
  local fn = function(url, opts)
    local name = url_names[url] or default_name(fname, url)
    local headers, body, timeout
    if opts ~= nil then
      local level = 2
      if type(opts) ~= "table" then error(fname .. ": opts must be a table", level) end
      local has_type = false
      if opts.headers ~= nil then headers, has_type = header_block(opts.headers, fname, level) end
      body = opts.body
      if body ~= nil and type(body) ~= "string" then error(fname .. ": opts.body must be a string", level) end
      if opts.json ~= nil then
        if body ~= nil then error(fname .. ": give opts.body or opts.json, not both", level) end
        body = jsonlib.encode(opts.json)
        if not has_type then headers = (headers or "") .. "Content-Type: application/json\r\n" end
      end
      if opts.name ~= nil then
        name = opts.name
        if type(name) ~= "string" then error(fname .. ": opts.name must be a string", level) end
      end
      timeout = opts.timeout
      if timeout ~= nil and (type(timeout) ~= "number" or timeout <= 0) then
        error(fname .. ": opts.timeout must be a positive number of seconds", level)
      end
      local query = opts.query
      if query ~= nil then
        if type(query) ~= "table" then error(fname .. ": opts.query must be a table", level) end
        local qs = encode_query(query)
        if qs ~= "" then url = url .. (url:find("?", 1, true) and "&" or "?") .. qs end
      end
    end
    local ctx = current
    if ctx == nil then
      error(fname .. ": requests can only be made inside tasks, on_start, on_stop, setup or teardown", 2)
    end
    local stat = byname[name] or new_stat(byname, name)
    if ctx.last ~= nil then   -- settle(ctx), inline: the previous response's window ends
      ctx.last = nil
      ctx.report = ctx.outcome
      ctx.outcome = nil
    end
    local outcome, finished = ctx.report, ctx.finished
    ctx.report, ctx.finished = nil, 0
    local status, elapsed, rbody, err, raw = yield(OP_HTTP, outcome, finished, stat, method, url, headers, body, timeout, name)
    current = ctx
    ctx.yielded = true
    local res = setmetatable({ status = status, elapsed = elapsed, body = rbody, error = err, url = url,
                               _raw_headers = raw, _ctx = ctx }, ResponseMT)
    ctx.last = res
    return res
  end
  requesters[method] = fn
  return fn
end

http = {}
function http.request(method, url, opts)
  local fn = requesters[method]
  if fn == nil then
    if type(method) ~= "string" or not method:find("^%u+$") then
      error(format("http.request: method must be an upper-case name like \"GET\", got %s", tostring(method)), 2)
    end
    fn = requester(method)
  end
  return fn(url, opts)   -- a tail call: error levels stay those of http.get & co.
end
for _, m in ipairs({ "GET", "HEAD", "DELETE", "POST", "PUT", "PATCH", "OPTIONS" }) do
  http[m:lower()] = requester(m)
end

function sleep(seconds)
  if type(seconds) ~= "number" or seconds < 0 then error("sleep: expected a number of seconds >= 0", 2) end
  local ctx = current
  if ctx == nil then error("sleep: only inside tasks, on_start or on_stop", 2) end
  local outcome, finished = settle(ctx)
  yield(OP_SLEEP, outcome, finished, seconds)
  current = ctx
end

---------------------------------------------------------------- helpers
function uuid()
  return format("%08x-%04x-4%03x-%04x-%04x%08x", random(0, 0xffffffff), random(0, 0xffff),
    random(0, 0xfff), random(0, 0x3fff) | 0x8000, random(0, 0xffff), random(0, 0xffffffff))
end

function utc_iso8601(t)
  t = t or wallclock()
  local s = floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. format(".%03dZ", floor((t - s) * 1000))
end

---------------------------------------------------------------- waits (Locust's)
local function check_seconds(fname, v, level)
  if type(v) ~= "number" or v < 0 then error(fname .. ": expected seconds >= 0", level + 1) end
end

-- The built-in waits cannot fail, so the task loop calls them without the protection user functions get.
local builtin_waits = setmetatable({}, { __mode = "k" })
local function builtin(fn) builtin_waits[fn] = true; return fn end

function between(a, b)
  check_seconds("between", a, 2); check_seconds("between", b, 2)
  if b < a then error("between: the second bound must not be below the first", 2) end
  return builtin(function() return a + random() * (b - a) end)
end

function constant(s)
  check_seconds("constant", s, 2)
  return builtin(function() return s end)
end

-- When each task run started, per VU (weak keys: a stopped VU's state goes with it).
local task_started = setmetatable({}, { __mode = "k" })

-- Waits that need each task run's start time; only their VUs read the clock per task.
local paced_waits = setmetatable({}, { __mode = "k" })

local function pacing(period)
  local fn = function(self)
    local left = period - (now() - (task_started[self] or now()))
    return left > 0 and left or 0
  end
  paced_waits[fn] = true
  return builtin(fn)
end

-- Starts a task run every `s` seconds, however long the run took (0 wait if it overran).
function constant_pacing(s)
  check_seconds("constant_pacing", s, 2)
  return pacing(s)
end

function constant_throughput(n)
  if type(n) ~= "number" or n <= 0 then error("constant_throughput: expected task runs per second > 0", 2) end
  return pacing(1 / n)
end

---------------------------------------------------------------- user classes and tasks
local Class = {}
Class.__index = Class

-- task(fn), task(weight, fn), or task{ fn, weight = 2, tags = {"read"} } (also `fn = ...` in the table).
local function add_task(cls, a, b, level)
  local weight, fn, tags = a, b, nil
  if type(a) == "function" and b == nil then weight, fn = 1, a end
  if type(a) == "table" and b == nil then
    fn = a.fn or a[1]
    weight = a.weight == nil and 1 or a.weight
    tags = a.tags
    if tags ~= nil and type(tags) ~= "table" then error("task{...}: tags must be a list of strings", level + 1) end
  end
  if type(fn) ~= "function" then error("task: expected a function, as task(fn), task(weight, fn) or task{fn, weight = n, tags = {...}}", level + 1) end
  if type(weight) ~= "number" or weight < 0 or weight % 1 ~= 0 then
    error("task: the weight must be a whole number >= 0", level + 1)
  end
  local tagset = {}
  for _, t in ipairs(tags or {}) do tagset[tostring(t)] = true end
  cls._tasks[#cls._tasks + 1] = { fn = fn, weight = weight, tags = tagset }
  return cls
end

function user(spec)
  if spec == nil then spec = {} end
  if type(spec) ~= "table" then error("user{...}: expected a table of options", 2) end
  local cls = setmetatable(spec, Class)
  cls._tasks = {}
  cls._self_mt = { __index = cls }
  classes[#classes + 1] = cls
  return cls
end

function Class:task(a, b) return add_task(self, a, b, 2) end

function task(a, b)
  if implicit == nil then implicit = user({}); implicit._implicit = true end
  add_task(implicit, a, b, 2)
end

-- FAIL and STOP travel as error objects, so they end the task at once.
local FailMT, StopMT = {}, {}
function fail(msg) error(setmetatable({ msg = msg == nil and "fail()" or tostring(msg) }, FailMT), 0) end
function stop() error(setmetatable({}, StopMT), 0) end

local function on_error(e)
  local mt = getmetatable(e)
  if mt == StopMT then return e end
  if mt == FailMT then e.tb = traceback(e.msg, 2); return e end
  local msg = type(e) == "string" and e or tostring(e)
  return { msg = msg, tb = traceback(msg, 2) }
end

-- After a protected call failed: stop() ends the VU (true); fail() marks the last request; any other
-- error is recorded with its traceback.
local function handle(e, ctx)
  current = ctx
  if getmetatable(e) == StopMT then return true end
  if getmetatable(e) == FailMT then
    if ctx.last ~= nil then ctx.outcome = e.msg; return false end
  end
  local outcome, finished = settle(ctx)
  yield(OP_ERROR, outcome, finished, e.msg, e.tb)
  current = ctx
  return false
end

-- Runs one hook (on_start, on_stop) protected; returns true when the VU must stop.
local function run(fn, self, ctx)
  local ok, e = xpcall(fn, on_error, self)
  current = ctx
  if ok then return false end
  return handle(e, ctx)
end

local function wait_seconds(wait, self, ctx)
  if wait == nil then return 0 end
  if type(wait) == "number" then return wait end
  if builtin_waits[wait] then return wait(self) end
  local ok, secs = xpcall(wait, on_error, self)
  current = ctx
  if ok and type(secs) == "number" and secs >= 0 then return secs end
  local msg = ok and ("the wait function returned " .. tostring(secs) .. ", not seconds >= 0") or secs.msg
  local outcome, finished = settle(ctx)
  yield(OP_ERROR, outcome, finished, msg, ok and msg or secs.tb)
  current = ctx
  return 1   -- a broken wait must not spin
end

-- After each task run: count it, end its last response's override window, wait.
-- A zero wait after a task that yielded (made a request) goes straight on: the next yield carries the
-- outcome and the task-run count. A task that never yields still yields here, so no VU starves the others.
local function after_task(ctx, self, wait)
  ctx.finished = ctx.finished + 1
  close(ctx)
  local seconds = 0
  if wait ~= nil then seconds = wait_seconds(wait, self, ctx) end
  if seconds > 0 or not ctx.yielded then
    local outcome, finished = settle(ctx)
    yield(OP_WAIT, outcome, finished, seconds)
    current = ctx
  end
end

-- Runs tasks forever. One protected call covers every task run until an error ends one; then the
-- VU re-enters it, so a task costs no xpcall of its own.
local function task_loop(self, ctx, cls, wait, paced)
  local pool, n, sequential = cls._pool, #cls._pool, cls.sequential
  while true do
    if paced then task_started[self] = now() end
    local fn
    if sequential then
      local step = ctx.step % n + 1
      ctx.step = step
      fn = pool[step]
    elseif n == 1 then
      fn = pool[1]
    else
      fn = pool[random(n)]
    end
    ctx.yielded = false
    fn(self)
    after_task(ctx, self, wait)
  end
end

local selves = {}   -- vu id → self, kept only for classes with on_stop

-- A VU's whole life: on_start, then weighted tasks separated by the class's wait.
function E.vu_main(class_index, vu_id)
  local cls = classes[class_index]
  local self = setmetatable({ id = vu_id }, cls._self_mt)
  if cls.on_stop then selves[vu_id] = self end
  local ctx = { finished = 0, step = 0 }
  current = ctx
  local stopped = false
  if cls.on_start then stopped = run(cls.on_start, self, ctx) end
  local wait = cls.wait
  local paced = paced_waits[wait]
  while not stopped do
    local _, e = xpcall(task_loop, on_error, self, ctx, cls, wait, paced)   -- returns only on an error
    stopped = handle(e, ctx)
    if not stopped then after_task(ctx, self, wait) end
  end
  if cls.on_stop then
    selves[vu_id] = nil
    run(cls.on_stop, self, ctx)
  end
  return OP_STOPPED, settle(ctx)
end

-- on_stop for a VU still running when the test ends (run in a fresh coroutine).
function E.vu_stop(class_index, vu_id)
  local cls = classes[class_index]
  local self = selves[vu_id]
  if self == nil or not cls.on_stop then return OP_STOPPED end
  selves[vu_id] = nil
  local ctx = { finished = 0 }
  current = ctx
  run(cls.on_stop, self, ctx)
  return OP_STOPPED, settle(ctx)
end

-- setup() once before any VU: its result travels to every thread as JSON and becomes `setup_data`.
function E.setup_main()
  local fn = rawget(_G, "setup")
  local ctx = { finished = 0 }
  current = ctx
  local ok, e = xpcall(fn, on_error)
  current = ctx
  if not ok then
    local outcome, finished = settle(ctx)
    yield(OP_ERROR, outcome, finished, "setup(): " .. e.msg, e.tb)
    current = ctx
    outcome, finished = settle(ctx)
    return OP_STOPPED, outcome, finished, nil, "setup() failed: " .. e.msg
  end
  if e == nil then return OP_STOPPED, settle(ctx) end
  local encoded_ok, encoded = pcall(jsonlib.encode, e)
  if not encoded_ok then
    local outcome, finished = settle(ctx)
    return OP_STOPPED, outcome, finished, nil,
      "setup() must return JSON-like data (tables, strings, numbers, booleans): " .. tostring(encoded)
  end
  local outcome, finished = settle(ctx)
  return OP_STOPPED, outcome, finished, encoded
end

-- teardown(data) once after every VU stopped.
function E.teardown_main()
  local ctx = { finished = 0 }
  current = ctx
  local ok, e = xpcall(rawget(_G, "teardown"), on_error, rawget(_G, "setup_data"))
  current = ctx
  if not ok then
    local outcome, finished = settle(ctx)
    yield(OP_ERROR, outcome, finished, "teardown(): " .. e.msg, e.tb)
    current = ctx
  end
  return OP_STOPPED, settle(ctx)
end

local function split_list(s)
  local set, any = {}, false
  if s then for item in s:gmatch("[^,%s]+") do set[item] = true; any = true end end
  return any and set or nil
end

local function keep_task(t, include, exclude)
  if include then
    local hit = false
    for tag in pairs(t.tags) do if include[tag] then hit = true end end
    if not hit then return false end
  end
  if exclude then
    for tag in pairs(t.tags) do if exclude[tag] then return false end end
  end
  return true
end

-- After the script ran: build task pools (tags filtered); returns
-- {weight1, fixed1, has_on_stop1, host1, weight2, ...} (host "" when none), the global `host`,
-- and whether setup / teardown exist.
function __luaload_finalize()
  local include, exclude = split_list(rawget(_G, "__luaload_tags")), split_list(rawget(_G, "__luaload_exclude_tags"))
  __luaload_tags, __luaload_exclude_tags = nil, nil
  local setup_json = rawget(_G, "__luaload_setup_json")
  if setup_json ~= nil then setup_data = jsonlib.decode(setup_json); __luaload_setup_json = nil end
  if implicit ~= nil then
    implicit.wait = rawget(_G, "wait") or rawget(_G, "wait_time")
    implicit.on_start = rawget(_G, "on_start")
    implicit.on_stop = rawget(_G, "on_stop")
    implicit.sequential = rawget(_G, "sequential")
  end
  local out = {}
  local usable = 0
  for i, cls in ipairs(classes) do
    if cls.wait == nil and cls.wait_time ~= nil then cls.wait = cls.wait_time end
    local w = cls.wait
    if w ~= nil and type(w) ~= "function" and not (type(w) == "number" and w >= 0) then
      error(format("user class #%d: wait must be a function like between(1, 3) or seconds", i), 0)
    end
    local pool = {}
    for _, t in ipairs(cls._tasks) do
      if keep_task(t, include, exclude) then
        for _ = 1, t.weight do pool[#pool + 1] = t.fn end
      end
    end
    cls._pool = pool
    if cls.host ~= nil and type(cls.host) ~= "string" then error(format("user class #%d: host must be a URL string", i), 0) end
    if cls.fixed_count ~= nil and (type(cls.fixed_count) ~= "number" or cls.fixed_count < 0 or cls.fixed_count % 1 ~= 0) then
      error(format("user class #%d: fixed_count must be a whole number >= 0", i), 0)
    end
    local weight = cls.weight == nil and 1 or cls.weight
    if type(weight) ~= "number" or weight < 0 or weight % 1 ~= 0 then
      error(format("user class #%d: weight must be a whole number >= 0", i), 0)
    end
    local fixed = cls.fixed_count or 0
    if #cls._tasks == 0 then error(format("user class #%d has no tasks: add one with task(fn)", i), 0) end
    if #pool == 0 then
      if include == nil and exclude == nil then error(format("user class #%d: all its tasks have weight 0", i), 0) end
      weight, fixed = 0, 0     -- every task filtered out by --tags / --exclude-tags: the class gets no users
    else
      usable = usable + 1
    end
    out[#out + 1] = weight; out[#out + 1] = fixed; out[#out + 1] = cls.on_stop and 1 or 0
    out[#out + 1] = cls.host or ""
  end
  if #classes == 0 then error("the script defines no tasks: add one with task(function(self) ... end)", 0) end
  if usable == 0 then error("no task is left after --tags / --exclude-tags", 0) end
  local setup, teardown = rawget(_G, "setup"), rawget(_G, "teardown")
  if setup ~= nil and type(setup) ~= "function" then error("setup must be a function", 0) end
  if teardown ~= nil and type(teardown) ~= "function" then error("teardown must be a function", 0) end
  local host = rawget(_G, "host")
  return out, type(host) == "string" and host or nil, setup ~= nil, teardown ~= nil
end
"""#
}
