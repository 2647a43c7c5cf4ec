-- luaload prelude: the coroutines the engine runs — a VU's life (on_start, the task loop,
-- waits, on_stop), setup() and teardown() — and how script errors, fail() and stop() end a task.
local E = ...
local type, tostring, error, xpcall, random = type, tostring, error, xpcall, math.random
local getmetatable, setmetatable, rawget, pcall = getmetatable, setmetatable, rawget, pcall
local traceback = debug.traceback
local P = E.protocol
local OP_WAIT, OP_ERROR, OP_STOPPED, OP_IDLE = P.OP_WAIT, P.OP_ERROR, P.OP_STOPPED, P.OP_IDLE
local now, jsonlib, classes = E.now, E.json, E.classes
local set_current, close, settle, suspend = E.set_current, E.close, E.settle, E.suspend
local builtin_waits, paced_waits, task_started = E.builtin_waits, E.paced_waits, E.task_started

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
  set_current(ctx)
  if getmetatable(e) == StopMT then return true end
  if getmetatable(e) == FailMT then
    if ctx.last then ctx.outcome = e.msg; return false end
  end
  suspend(ctx, OP_ERROR, e.msg, e.tb)
  return false
end

-- Runs one hook (on_start, on_stop) protected; returns true when the VU must stop.
local function run(fn, self, ctx)
  local ok, e = xpcall(fn, on_error, self)
  set_current(ctx)
  if ok then return false end
  return handle(e, ctx)
end

local function wait_seconds(wait, self, ctx)
  if wait == nil then return 0 end
  if type(wait) == "number" then return wait end
  if builtin_waits[wait] then return wait(self) end
  local ok, secs = xpcall(wait, on_error, self)
  set_current(ctx)
  if ok and type(secs) == "number" and secs >= 0 then return secs end
  local msg = ok and ("the wait function returned " .. tostring(secs) .. ", not seconds >= 0") or secs.msg
  suspend(ctx, OP_ERROR, msg, ok and msg or secs.tb)
  return 1   -- a broken wait must not spin
end

-- A task run that failed before any request, with no wait, would fail again at once, for ever (a spin
-- of both cores and ~40k script errors a second): its VU waits ERROR_PAUSE seconds instead.
local ERROR_PAUSE = 1

-- After each task run: count it, end its last response's override window, wait.
-- A zero wait after a task that yielded (made a request) goes straight on: the next yield carries the
-- outcome and the task-run count. A task that never yields still yields here, so no VU starves the others.
-- `pause`: after a task run that failed before any request, the least wait (see ERROR_PAUSE).
local function after_task(ctx, self, wait, pause)
  ctx.finished = ctx.finished + 1
  close(ctx)
  local seconds = 0
  if wait ~= nil then seconds = wait_seconds(wait, self, ctx) end
  if pause and seconds == 0 then seconds = pause end
  if seconds > 0 or not ctx.yielded then suspend(ctx, OP_WAIT, seconds) end
end

-- Runs tasks forever. One protected call covers every task run until an error ends one; then the
-- VU re-enters it, so a task costs no xpcall of its own. The pool holds each task `weight` times.
local function task_loop(self, ctx, cls, wait, paced)
  local pool, n, sequential = cls._pool, #cls._pool, cls.sequential
  local only = not sequential and n == 1 and pool[1]   -- one task: no pick
  while true do
    if paced then task_started[self] = now() end
    local fn = only
    if not fn then
      if sequential then
        local step = ctx.step % n + 1
        ctx.step = step
        fn = pool[step]
      else
        fn = pool[random(n)]
      end
    end
    ctx.yielded = false
    fn(self)
    -- after_task(ctx, self, wait), inline: a task run costs no call beyond the task's own.
    ctx.finished = ctx.finished + 1
    ctx.last = false   -- close(ctx)
    if wait then
      local seconds = wait_seconds(wait, self, ctx)
      if seconds > 0 or not ctx.yielded then suspend(ctx, OP_WAIT, seconds) end
    elseif not ctx.yielded then
      suspend(ctx, OP_WAIT, 0)
    end
  end
end

-- The open model (--rate): the VU parks (OP_IDLE) until the engine hands it an arrival, runs one task
-- run, and parks again; no wait in between, since arrivals set the pace. Returns only on an error.
local function arrival_loop(self, ctx, cls)
  local pool, n, sequential = cls._pool, #cls._pool, cls.sequential
  while true do
    suspend(ctx, OP_IDLE)
    local fn
    if sequential then
      local step = ctx.step % n + 1
      ctx.step = step
      fn = pool[step]
    else
      fn = pool[n == 1 and 1 or random(n)]
    end
    ctx.yielded = false
    fn(self)
    ctx.finished = ctx.finished + 1
    close(ctx)
  end
end

-- A scenario of iterations: task runs while `claim()` grants one, then returns (the VU ends), with no
-- wait after the last (`left()` says whether any is left). Returns early only on an error; the task run
-- it ended was claimed, so it counts, as k6 counts an iteration that threw.
local function counted_loop(self, ctx, cls, wait, paced, claim, left)
  local pool, n, sequential = cls._pool, #cls._pool, cls.sequential
  while claim() do
    if paced then task_started[self] = now() end
    if sequential then ctx.step = ctx.step % n + 1 end
    ctx.yielded = false
    pool[sequential and ctx.step or random(n)](self)
    if left() then
      after_task(ctx, self, wait)
    else
      ctx.finished = ctx.finished + 1
      close(ctx)
    end
  end
  return true
end

-- Scenario index → the task runs its VUs on this thread may still start (`iterations`: shared by them).
local shared_left = {}

-- The claim of a VU of a scenario of iterations, and whether any is left: shared by the thread's VUs of its
-- scenario (its share of `iterations`, set by the first of them), or the VU's own `iterations_per_user`.
local function claimer(scenario, quota, per_user)
  if per_user then
    local n = quota
    return function()
      if n <= 0 then return false end
      n = n - 1
      return true
    end, function() return n > 0 end
  end
  if shared_left[scenario] == nil then shared_left[scenario] = quota end
  return function()
    local n = shared_left[scenario]
    if n <= 0 then return false end
    shared_left[scenario] = n - 1
    return true
  end, function() return shared_left[scenario] > 0 end
end

local selves = {}   -- vu id → { self, ctx }, kept only for classes with on_stop
local new_context = E.new_context
local function class_host(cls) return cls.host ~= "" and cls.host or nil end

-- A VU's whole life: on_start, then weighted tasks separated by the class's wait, or (`open`, the
-- open model) one task run per arrival. `scenario`: its index in `scenarios` (scenarios.lua), whose tags
-- its requests carry; `quota`: its scenario's task runs on this thread (or its own, `per_user`), if bounded.
function E.vu_main(class_index, vu_id, open, scenario, quota, per_user)
  local cls = classes[class_index]
  local self = setmetatable({ id = vu_id }, cls._self_mt)
  local ctx = new_context(class_host(cls))
  local tags = E.scenario_tags[scenario]   -- (scenarios.lua loads after this file)
  if tags then ctx.tags, ctx.tag_table = tags, E.scenario_tag_tables[scenario]; E.use_tags() end
  if cls.on_stop then selves[vu_id] = { self, ctx } end
  set_current(ctx)
  local stopped = false
  if cls.on_start then stopped = run(cls.on_start, self, ctx) end
  local wait = cls.wait
  local paced = paced_waits[wait]
  while not stopped and open do
    local _, e = xpcall(arrival_loop, on_error, self, ctx, cls)
    stopped = handle(e, ctx)
    if not stopped then ctx.finished = ctx.finished + 1; close(ctx) end
  end
  local claim, left
  if quota then claim, left = claimer(scenario, quota, per_user) end
  while not stopped and claim do
    local done, e = xpcall(counted_loop, on_error, self, ctx, cls, wait, paced, claim, left)
    local requested = ctx.yielded
    stopped = done or handle(e, ctx)
    if not stopped then after_task(ctx, self, wait, not requested and ERROR_PAUSE) end
  end
  while not stopped do
    local _, e = xpcall(task_loop, on_error, self, ctx, cls, wait, paced)   -- returns only on an error
    local requested = ctx.yielded
    stopped = handle(e, ctx)
    if not stopped then after_task(ctx, self, wait, not requested and ERROR_PAUSE) end
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
  local saved = selves[vu_id]
  if saved == nil or not cls.on_stop then return OP_STOPPED end
  selves[vu_id] = nil
  local self = saved[1]
  local ctx = new_context(class_host(cls))
  ctx.jar = saved[2].jar   -- the VU's cookies, as its session would still have them
  if saved[2].tags then ctx.tags, ctx.tag_table = saved[2].tags, saved[2].tag_table end
  set_current(ctx)
  run(cls.on_stop, self, ctx)
  return OP_STOPPED, settle(ctx)
end

-- setup() once before any VU: its result travels to every thread as JSON and becomes `setup_data`.
-- Returns OP_STOPPED, outcome, finished, then the JSON or why setup failed (LL_SLOT_SETUP_*).
function E.setup_main()
  local ctx = new_context(nil)
  set_current(ctx)
  local ok, e = xpcall(rawget(_G, "setup"), on_error)
  set_current(ctx)
  if not ok then
    suspend(ctx, OP_ERROR, "setup(): " .. e.msg, e.tb)
    local outcome, finished = settle(ctx)
    return OP_STOPPED, outcome, finished, nil, "setup() failed: " .. e.msg
  end
  if e == nil then return OP_STOPPED, settle(ctx) end
  local encoded_ok, encoded = pcall(jsonlib.encode, e)
  local outcome, finished = settle(ctx)
  if not encoded_ok then
    return OP_STOPPED, outcome, finished, nil,
      "setup() must return JSON-like data (tables, strings, numbers, booleans): " .. tostring(encoded)
  end
  return OP_STOPPED, outcome, finished, encoded
end

-- teardown(data) once after every VU stopped.
function E.teardown_main()
  local ctx = new_context(nil)
  set_current(ctx)
  local ok, e = xpcall(rawget(_G, "teardown"), on_error, rawget(_G, "setup_data"))
  set_current(ctx)
  if not ok then suspend(ctx, OP_ERROR, "teardown(): " .. e.msg, e.tb) end
  return OP_STOPPED, settle(ctx)
end
