-- luaload prelude: what a script declares (user classes, tasks, tags) and `finalize`,
-- which checks it once the script ran and builds each class's weighted task pool.
local E = ...
local type, tostring, error, pairs, ipairs = type, tostring, error, pairs, ipairs
local setmetatable, rawget, format, getinfo = setmetatable, rawget, string.format, debug.getinfo
local jsonlib = E.json

-- "file:line: " of the script's code `level` frames up ("" when unknown): where a declaration's error points.
local function where(level)
  local info = getinfo(level + 1, "Sl")
  if info == nil or info.currentline <= 0 then return "" end
  return info.short_src .. ":" .. info.currentline .. ": "
end
E.where = where

-- The keys of a table, sorted, for "accepted: ..." lists.
local function key_list(t)
  local names = {}
  for k in pairs(t) do names[#names + 1] = k end
  table.sort(names)
  return table.concat(names, ", ")
end
E.key_list = key_list

-- Checks a declaration's table against `types` (key → a Lua type, or "wait": a number or a function), raising
-- at `level` (the script's line) on an unknown key or a wrong type: a typo must not pass as a default.
local function check_keys(what, t, types, level, hint)
  for k, v in pairs(t) do
    local want = types[k]
    if want == nil then
      error(format("%s: unknown key %s (accepted: %s)%s", what, tostring(k), key_list(types), hint or ""), level + 1)
    elseif want == "wait" then
      if type(v) ~= "function" and not (type(v) == "number" and v >= 0) then
        error(format("%s: %s must be a function like between(1, 3) or seconds >= 0, got %s", what, k, type(v)), level + 1)
      end
    elseif type(v) ~= want then
      error(format("%s: %s must be a %s, got %s", what, k, want, type(v)), level + 1)
    end
  end
end
E.check_keys = check_keys

local TASK_KEYS = { [1] = "function", fn = "function", weight = "number", tags = "table" }
local USER_KEYS = { weight = "number", wait = "wait", wait_time = "wait", host = "string", fixed_count = "number",
                    on_start = "function", on_stop = "function", sequential = "boolean" }

local classes = {}           -- in declaration order; the engine's class index is the position here
E.classes = classes
local implicit               -- the class global task() adds to

local Class = {}
Class.__index = Class

-- task(fn), task(weight, fn), or task{ fn, weight = 2, tags = {"read"} } (also `fn = ...` in the table).
-- Level 3: add_task ← task / cls:task ← the script.
local function add_task(cls, a, b)
  local weight, fn, tags = a, b, nil
  if type(a) == "function" and b == nil then weight, fn = 1, a end
  if type(a) == "table" and b == nil then
    for k in pairs(a) do
      if TASK_KEYS[k] == nil then
        error(format("task{...}: unknown key %s (accepted: the function first, fn, weight, tags)", tostring(k)), 3)
      end
    end
    fn = a.fn or a[1]
    weight = a.weight == nil and 1 or a.weight
    tags = a.tags
    if tags ~= nil and type(tags) ~= "table" then error("task{...}: tags must be a list of strings", 3) end
  end
  if type(fn) ~= "function" then error("task: expected a function, as task(fn), task(weight, fn) or task{fn, weight = n, tags = {...}}", 3) end
  if type(weight) ~= "number" or weight < 0 or weight % 1 ~= 0 then
    error("task: the weight must be a whole number >= 0", 3)
  end
  local tagset = {}
  for _, t in ipairs(tags or {}) do tagset[tostring(t)] = true end
  cls._tasks[#cls._tasks + 1] = { fn = fn, weight = weight, tags = tagset }
end

function user(spec)
  if spec == nil then spec = {} end
  if type(spec) ~= "table" then error("user{...}: expected a table of options", 2) end
  check_keys("user{...}", spec, USER_KEYS, 2, "; set fields of your own after it: local u = user{...}; u.field = value")
  local cls = setmetatable(spec, Class)
  cls._at = where(2)
  cls._tasks = {}
  cls._self_mt = { __index = cls }
  classes[#classes + 1] = cls
  return cls
end

-- Not `return add_task(...)`: a tail call would drop this frame, and the error level with it.
function Class:task(a, b)
  add_task(self, a, b)
  return self
end

function task(a, b)
  if implicit == nil then implicit = user({}); implicit._implicit = true; implicit._at = where(2) end
  add_task(implicit, a, b)
end

---------------------------------------------------------------- the script's globals
-- Global name → "file:line: " where the script first set it (profile.lua watches _G while the script runs),
-- so an error about a global names the line that set it.
E.declared_at = {}
-- The globals luaload reads, and their types; those of task()'s class apply only when the script uses task().
E.GLOBALS = { host = "string", wait = "wait", wait_time = "wait", on_start = "function", on_stop = "function",
              sequential = "boolean", setup = "function", teardown = "function", stages = "table",
              thresholds = "table", shape = "function" }
local IMPLICIT_ONLY = { wait = true, wait_time = true, on_start = true, on_stop = true, sequential = true }

local function check_globals()
  local at = E.declared_at
  for name, want in pairs(E.GLOBALS) do
    local v = rawget(_G, name)
    if v ~= nil then
      local bad = want == "wait" and not (type(v) == "function" or (type(v) == "number" and v >= 0))
                  or want ~= "wait" and type(v) ~= want
      if bad then
        error(format("%sglobal %s must be a %s, got %s", at[name] or "", name,
                     want == "wait" and "function like between(1, 3) or seconds >= 0" or want, type(v)), 0)
      end
      if IMPLICIT_ONLY[name] and implicit == nil then
        error(format("%sglobal %s applies to tasks declared with task(); this script's classes come from user{...}: set %s in them",
                     at[name] or "", name, name), 0)
      end
    end
  end
end

---------------------------------------------------------------- finalize
-- "a, b c" → { a = true, b = true, c = true }; nil when empty (no filter).
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

-- Each kept task appears `weight` times, so the task loop picks with one random index.
local function build_pool(tasks, include, exclude)
  local pool = {}
  for _, t in ipairs(tasks) do
    if keep_task(t, include, exclude) then
      for _ = 1, t.weight do pool[#pool + 1] = t.fn end
    end
  end
  return pool
end
E.build_pool = build_pool

local function whole(v) return type(v) == "number" and v >= 0 and v % 1 == 0 end

-- Checks class #i, builds its pool; returns what the engine reads of it, and whether any task is left.
local function finalize_class(i, cls, include, exclude)
  if cls.wait == nil and cls.wait_time ~= nil then cls.wait = cls.wait_time end
  local w = cls.wait
  if w ~= nil and type(w) ~= "function" and not (type(w) == "number" and w >= 0) then
    error(format("%suser class #%d: wait must be a function like between(1, 3) or seconds", cls._at, i), 0)
  end
  local pool = build_pool(cls._tasks, include, exclude)
  cls._pool = pool
  if cls.host ~= nil and type(cls.host) ~= "string" then error(format("%suser class #%d: host must be a URL string", cls._at, i), 0) end
  if cls.fixed_count ~= nil and not whole(cls.fixed_count) then
    error(format("%suser class #%d: fixed_count must be a whole number >= 0", cls._at, i), 0)
  end
  local weight = cls.weight == nil and 1 or cls.weight
  if not whole(weight) then error(format("%suser class #%d: weight must be a whole number >= 0", cls._at, i), 0) end
  local fixed = cls.fixed_count or 0
  if #cls._tasks == 0 then error(format("%suser class #%d has no tasks: add one with task(fn)", cls._at, i), 0) end
  if #pool == 0 then
    if include == nil and exclude == nil then error(format("%suser class #%d: all its tasks have weight 0", cls._at, i), 0) end
    weight, fixed = 0, 0     -- every task filtered out by --tags / --exclude-tags: the class gets no users
  end
  -- host = "" means no host of its own: the class uses -H or the global `host`.
  local host = cls.host ~= "" and cls.host or nil
  return { weight = weight, fixed_count = fixed, has_on_stop = not not cls.on_stop, host = host }, #pool > 0
end

-- After the script ran. `opts`: { tags =, exclude_tags = } (comma-separated) and `setup_json` (setup()'s
-- result, which becomes `setup_data`). Returns { classes = { {weight=, fixed_count=, has_on_stop=, host=}, ... },
-- host = the global `host` or nil, has_setup =, has_teardown =, stages =, thresholds =, has_shape = }.
function E.finalize(opts)
  local include, exclude = split_list(opts.tags), split_list(opts.exclude_tags)
  if getmetatable(_G) == E.globals_mt then setmetatable(_G, nil) end   -- the script ran: stop watching its globals
  if opts.setup_json ~= nil then setup_data = jsonlib.decode(opts.setup_json) end
  check_globals()
  if implicit ~= nil then
    implicit.wait = rawget(_G, "wait") or rawget(_G, "wait_time")
    implicit.on_start = rawget(_G, "on_start")
    implicit.on_stop = rawget(_G, "on_stop")
    implicit.sequential = rawget(_G, "sequential")
    local wait_at = E.declared_at.wait or E.declared_at.wait_time
    if wait_at then implicit._at = wait_at end
  end
  local infos, usable = {}, 0
  for i, cls in ipairs(classes) do
    local info, any = finalize_class(i, cls, include, exclude)
    infos[i] = info
    if any then usable = usable + 1 end
  end
  if #classes == 0 then error("the script defines no tasks: add one with task(function(self) ... end)", 0) end
  if usable == 0 then error("no task is left after --tags / --exclude-tags", 0) end
  local setup, teardown = rawget(_G, "setup"), rawget(_G, "teardown")
  if setup ~= nil and type(setup) ~= "function" then error("setup must be a function", 0) end
  if teardown ~= nil and type(teardown) ~= "function" then error("teardown must be a function", 0) end
  local host = rawget(_G, "host")
  E.default_host = opts.host or (type(host) == "string" and host or nil)
  local out = { classes = infos, host = type(host) == "string" and host or nil,
                has_setup = setup ~= nil, has_teardown = teardown ~= nil }
  E.read_profile(out)   -- profile.lua: stages, thresholds, shape
  E.read_scenarios(out)   -- scenarios.lua
  return out
end
