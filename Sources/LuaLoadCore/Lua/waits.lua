-- luaload prelude: the waits between task runs (Locust's between, constant,
-- constant_pacing, constant_throughput).
local E = ...
local type, error, random, setmetatable = type, error, math.random, setmetatable
local now = E.now

-- Level 3: check_seconds ← the wait's constructor ← the script.
local function check_seconds(fname, v)
  if type(v) ~= "number" or v < 0 then error(fname .. ": expected seconds >= 0", 3) end
end

-- The built-in waits cannot fail, so the task loop calls them without the protection user functions get.
local builtin_waits = setmetatable({}, { __mode = "k" })
E.builtin_waits = builtin_waits
local function builtin(fn) builtin_waits[fn] = true; return fn end

function between(a, b)
  check_seconds("between", a); check_seconds("between", b)
  if b < a then error("between: the second bound must not be below the first", 2) end
  return builtin(function() return a + random() * (b - a) end)
end

function constant(s)
  check_seconds("constant", s)
  return builtin(function() return s end)
end

-- When each task run started, per VU (weak keys: a stopped VU's state goes with it). The task loop
-- writes it for paced VUs only.
local task_started = setmetatable({}, { __mode = "k" })
E.task_started = task_started

-- Waits that need each task run's start time; only their VUs read the clock per task.
local paced_waits = setmetatable({}, { __mode = "k" })
E.paced_waits = paced_waits

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
  check_seconds("constant_pacing", s)
  return pacing(s)
end

function constant_throughput(n)
  if type(n) ~= "number" or n <= 0 then error("constant_throughput: expected task runs per second > 0", 2) end
  return pacing(1 / n)
end
