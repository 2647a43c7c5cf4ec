-- waits.lua: between, constant, constant_pacing, constant_throughput, and their argument errors.
local T = ...
local E = T.E
local tests = {}

function tests.between_stays_within_its_bounds_and_spreads()
  math.randomseed(7)
  local wait = between(1, 3)
  local lo, hi = math.huge, -math.huge
  for _ = 1, 2000 do
    local s = wait()
    if s < lo then lo = s end
    if s > hi then hi = s end
  end
  T.ok(lo >= 1 and hi <= 3, "between(1, 3) gave " .. lo .. ".." .. hi)
  T.ok(lo < 1.1 and hi > 2.9, "between(1, 3) does not spread: " .. lo .. ".." .. hi)
  T.eq(between(2, 2)(), 2, "between(2, 2)")
  T.ok(E.builtin_waits[wait], "between is a built-in wait (called unprotected)")
end

function tests.constant_returns_its_seconds()
  local wait = constant(0.25)
  T.eq(wait(), 0.25, "constant(0.25)()")
  T.ok(E.builtin_waits[wait], "constant is a built-in wait")
  T.ok(not E.paced_waits[wait], "constant needs no start times")
end

function tests.constant_pacing_waits_for_the_rest_of_its_period()
  local wait = constant_pacing(5)
  T.ok(E.paced_waits[wait], "constant_pacing reads task start times")
  local self = {}
  E.task_started[self] = E.now() - 2
  local left = wait(self)
  T.ok(left > 2.9 and left <= 3, "5 s period, 2 s gone: " .. left)
  E.task_started[self] = E.now() - 9
  T.eq(wait(self), 0, "an overrun waits 0")
end

function tests.constant_throughput_paces_one_run_per_period()
  local wait = constant_throughput(4)
  local self = {}
  E.task_started[self] = E.now()
  local left = wait(self)
  T.ok(left > 0.2 and left <= 0.25, "4 runs/s: " .. left)
end

function tests.argument_errors_name_the_callers_line()
  T.raises(function() between(-1, 2) end, T.here() .. ": between: expected seconds >= 0")
  T.raises(function() between(1, "x") end, T.here() .. ": between: expected seconds >= 0")
  T.raises(function() between(3, 1) end, T.here() .. ": between: the second bound must not be below the first")
  T.raises(function() constant(nil) end, T.here() .. ": constant: expected seconds >= 0")
  T.raises(function() constant_pacing(-1) end, T.here() .. ": constant_pacing: expected seconds >= 0")
  T.raises(function() constant_throughput(0) end, T.here() .. ": constant_throughput: expected task runs per second > 0")
end

return tests
