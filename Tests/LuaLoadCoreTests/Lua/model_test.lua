-- model.lua: task declarations, pool building with tag filters, finalize's checks and result, and the
-- weighted / sequential task picker as a VU runs it.
local T = ...
local E, P = T.E, T.P
local tests = {}

local function a() end
local function b() end
local function c() end

local function count(pool, fn)
  local n = 0
  for _, x in ipairs(pool) do if x == fn then n = n + 1 end end
  return n
end

function tests.pools_repeat_each_task_by_weight_and_filter_by_tags()
  local tasks = {
    { fn = a, weight = 3, tags = { read = true } },
    { fn = b, weight = 1, tags = { write = true } },
    { fn = c, weight = 0, tags = {} },
  }
  local all = E.build_pool(tasks)
  T.eq(#all, 4, "pool size")
  T.eq(count(all, a), 3, "a's share")
  T.eq(count(all, b), 1, "b's share")
  T.eq(#E.build_pool(tasks, { read = true }), 3, "--tags read")
  T.eq(#E.build_pool(tasks, nil, { read = true }), 1, "--exclude-tags read")
  T.eq(#E.build_pool(tasks, { read = true, write = true }, { write = true }), 3, "include, then exclude")
end

function tests.finalize_reports_classes_by_field()
  local u1 = user { weight = 3, host = "http://127.0.0.1:9" }
  u1:task(a)
  local u2 = user { fixed_count = 2, host = "" }
  u2:task(2, b):task(c)
  function u2:on_stop() end
  host = "http://example.test"
  local info = E.finalize({})
  T.eq(#info.classes, 2, "classes")
  local c1, c2 = info.classes[1], info.classes[2]
  T.eq(c1.weight, 3, "c1.weight"); T.eq(c1.fixed_count, 0, "c1.fixed_count")
  T.eq(c1.has_on_stop, false, "c1.has_on_stop"); T.eq(c1.host, "http://127.0.0.1:9", "c1.host")
  T.eq(c2.weight, 1, "c2.weight"); T.eq(c2.fixed_count, 2, "c2.fixed_count")
  T.eq(c2.has_on_stop, true, "c2.has_on_stop"); T.eq(c2.host, nil, "c2.host")
  T.eq(#u2._pool, 3, "u2's pool")
  T.eq(info.host, "http://example.test", "host")
  T.eq(info.has_setup, false, "has_setup"); T.eq(info.has_teardown, false, "has_teardown")
end

function tests.tags_filter_and_a_filtered_out_class_gets_no_users()
  task { a, tags = { "read" } }
  local other = user { weight = 5 }
  other:task { fn = b, weight = 2, tags = { "write" } }
  local info = E.finalize({ tags = "write, misc" })
  T.eq(info.classes[1].weight, 0, "implicit class, all filtered out")
  T.eq(info.classes[2].weight, 5, "the write class keeps its weight")
  T.eq(#other._pool, 2, "write pool")
end

function tests.finalize_decodes_setup_data_and_sees_setup_and_teardown()
  task(a)
  function setup() end
  function teardown() end
  local info = E.finalize({ setup_json = '{"token": "t", "n": 3}' })
  T.eq(setup_data.token, "t", "setup_data.token")
  T.eq(math.type(setup_data.n), "integer", "setup_data.n")
  T.eq(info.has_setup, true, "has_setup"); T.eq(info.has_teardown, true, "has_teardown")
end

function tests.finalize_errors()
  -- A class's error names the line of its user{} (or of the first task()): each case is on one line.
  local cases = {
    { function() end, "the script defines no tasks: add one with task(function(self) ... end)", false },
    { function() user {} end, "user class #1 has no tasks: add one with task(fn)" },
    { function() task(0, a) end, "user class #1: all its tasks have weight 0" },
    { function() local u = user {}; u:task(a); u.host = 5 end, "user class #1: host must be a URL string" },
    { function() user { weight = 1.5 }:task(a) end, "user class #1: weight must be a whole number >= 0" },
    { function() user { fixed_count = -1 }:task(a) end, "user class #1: fixed_count must be a whole number >= 0" },
    { function() local u = user {}; u:task(a); u.wait = "x" end, "user class #1: wait must be a function like between(1, 3) or seconds" },
  }
  for i, c in ipairs(cases) do
    local classes = E.classes
    for k in pairs(classes) do classes[k] = nil end
    setup = nil
    c[1]()
    local info = debug.getinfo(c[1], "S")
    local at = c[3] == false and "" or (info.short_src .. ":" .. info.linedefined .. ": ")
    T.raises(function() E.finalize({}) end, at .. c[2], "case " .. i)
  end
end

function tests.declarations_are_checked_at_the_callers_line()
  local function raises(fn, pattern)
    local ok, err = pcall(fn)
    T.eq(ok, false, pattern)
    T.eq(err:find(pattern, 1, true) ~= nil, true, err)
  end
  raises(function() user { wieght = 2 } end, T.here() .. ": user{...}: unknown key wieght (accepted: fixed_count, host, on_start, on_stop, sequential, wait, wait_time, weight)")
  raises(function() user { host = 5 } end, T.here() .. ": user{...}: host must be a string, got number")
  raises(function() user { wait = "x" } end, T.here() .. ": user{...}: wait must be a function like between(1, 3) or seconds >= 0, got string")
  raises(function() task { a, wieght = 2 } end, T.here() .. ": task{...}: unknown key wieght")
  for k in pairs(E.classes) do E.classes[k] = nil end
  user {}:task(a)
  rawset(_G, "setup", 1)
  raises(function() E.finalize({}) end, "global setup must be a function, got number")
  rawset(_G, "setup", nil)
  for k in pairs(E.classes) do E.classes[k] = nil end
end

function tests.no_task_left_after_tags()
  task { a, tags = { "read" } }
  T.raises(function() E.finalize({ exclude_tags = "read" }) end, "no task is left after --tags / --exclude-tags")
end

function tests.task_argument_errors_name_the_callers_line()
  local u = user {}
  T.raises(function() task(5) end, T.here() .. ": task: expected a function, as task(fn), task(weight, fn) or task{fn, weight = n, tags = {...}}")
  T.raises(function() u:task("x") end, T.here() .. ": task: expected a function, as task(fn), task(weight, fn) or task{fn, weight = n, tags = {...}}")
  T.raises(function() u:task(-1, a) end, T.here() .. ": task: the weight must be a whole number >= 0")
  T.raises(function() task { a, tags = "read" } end, T.here() .. ": task{...}: tags must be a list of strings")
  T.raises(function() user(5) end, T.here() .. ": user{...}: expected a table of options")
end

-- Runs a VU `runs` times through its task loop (each task makes one request), returns the URLs requested.
local function requested_urls(co, runs)
  local urls = { T.resume(co, 1, 1)[P.SLOT_URL] }
  for _ = 2, runs do
    urls[#urls + 1] = T.resume(co, T.reply(200, 1, "", nil, nil))[P.SLOT_URL]
  end
  return urls
end

function tests.the_picker_follows_the_weights()
  math.randomseed(11)
  task(3, function() http.get("/a") end)
  task(1, function() http.get("/b") end)
  local co = T.vu()
  local n = { ["/a"] = 0, ["/b"] = 0 }
  for _, url in ipairs(requested_urls(co, 4000)) do n[url] = n[url] + 1 end
  T.ok(n["/a"] > 2800 and n["/a"] < 3200, "weight 3 of 4 picked " .. n["/a"] .. " times in 4000")
end

function tests.sequential_tasks_run_in_declaration_order()
  sequential = true
  task(function() http.get("/1") end)
  task(function() http.get("/2") end)
  task(function() http.get("/3") end)
  T.eq(table.concat(requested_urls(T.vu(), 7), " "), "/1 /2 /3 /1 /2 /3 /1", "order")
end

return tests
