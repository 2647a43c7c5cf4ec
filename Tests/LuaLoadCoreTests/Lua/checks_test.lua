-- checks.lua and metrics.lua: what check(), group() and metrics.* count in the state's pending table,
-- and their argument errors at the caller's line.
local T = ...
local E = T.E
local tests = {}

local function pending() return E.take_pending() end

function tests.check_counts_passes_fails_and_errors_by_name()
  E.pending = nil
  T.eq(check({ status = 200 }, { ["is 200"] = function(r) return r.status == 200 end, flag = true }), true, "all passed")
  T.eq(check({ status = 500 }, { ["is 200"] = function(r) return r.status == 200 end, flag = false }), false, "one failed")
  T.eq(check(1, { boom = function() error("no luck") end }), false, "an error is a failed check")
  local c = pending().checks
  T.eq(c["is 200"][1], 1, "is 200 passes"); T.eq(c["is 200"][2], 1, "is 200 fails")
  T.eq(c.flag[1], 1, "flag passes"); T.eq(c.flag[2], 1, "flag fails")
  T.eq(c.boom[2], 1, "boom fails")
  T.ok(c.boom[3]:find("checks_test.lua:%d+: no luck"), "the error keeps its file:line: " .. tostring(c.boom[3]))
end

function tests.check_argument_errors_name_the_caller()
  local ok, err = pcall(check, 1, "x")
  T.ok(not ok and err:find("checks must be a table"), tostring(err))
  ok, err = pcall(check, 1, { a = 5 })
  T.ok(not ok and err:find('check "a" must be a function'), tostring(err))
end

function tests.groups_nest_check_names_and_record_their_duration()
  E.pending = nil
  local inner = group("login", function()
    return group("get token", function()
      check(1, { ok = true })
      return 42
    end)
  end)
  T.eq(inner, 42, "group returns fn's results")
  T.ok(pending().checks["login::get token::ok"] ~= nil, "nested check name")
  T.eq(pending().metrics["group_duration{group:login::get token}"][4], 1, "inner group timed once")
  T.eq(pending().metrics["group_duration{group:login}"][4], 1, "outer group timed once")
  check(1, { ok = true })
  T.ok(pending().checks.ok ~= nil, "outside the group: no prefix")
  local ok, err = pcall(group, "g", function() error("inside") end)
  T.ok(not ok and tostring(err):find("inside"), "an error in a group goes on up")
  check(1, { after = true })
  T.ok(pending().checks.after ~= nil, "the group path is restored after an error")
end

function tests.metrics_sum_by_series_with_tags()
  E.pending = nil
  local c, g, r, t = metrics.counter("c"), metrics.gauge("g"), metrics.rate("r"), metrics.trend("t", { unit = "B" })
  c:add(1); c:add(2, { region = "ams", kind = "x" })
  g:add(5); g:add(3)
  r:add(true); r:add(false); r:add(0); r:add(7)
  t:add(10); t:add(20.5)
  local m = pending().metrics
  T.eq(m.c[4], 2, "counter adds"); T.eq(m.c[5], 3, "counter sum")
  T.eq(m["c{kind:x,region:ams}"][5], 2, "tagged series, tags sorted")
  T.eq(m.g[6], 3, "gauge last"); T.eq(m.g[7], 3, "gauge min"); T.eq(m.g[8], 5, "gauge max")
  T.eq(m.r[4], 4, "rate values"); T.eq(m.r[5], 2, "rate trues")
  T.eq(m.t[3], "B", "trend unit"); T.eq(#m.t[9], 2, "trend values kept"); T.eq(m.t[9][2], 20.5, "trend value")
end

function tests.metric_errors()
  local ok, err = pcall(metrics.counter, "bad name")
  T.ok(not ok and err:find("name must be letters"), tostring(err))
  metrics.counter("once")
  ok, err = pcall(metrics.trend, "once")
  T.ok(not ok and err:find('"once" is already a counter'), tostring(err))
  ok, err = pcall(function() metrics.counter("neg"):add(-1) end)
  T.ok(not ok and err:find("a counter only grows"), tostring(err))
  ok, err = pcall(function() metrics.trend("tt"):add("x") end)
  T.ok(not ok and err:find("add%(%) takes a number"), tostring(err))
  ok, err = pcall(metrics.gauge, "gg", { units = "ms" })
  T.ok(not ok and err:find("unknown key units"), tostring(err))
end

function tests.set_env_sets_env_and_masks_print()
  local printed
  local saved = print
  print = function(s) printed = s end
  E.set_env({ TOKEN = "abc.def", X = "1" }, { "abc.def" })
  T.eq(env.X, "1", "env.X")
  print("token=" .. env.TOKEN, "and", "abcXdef")
  T.eq(printed, "token=***\tand\tabcXdef", "masked (the dot is no pattern)")
  print = saved
end

return tests
