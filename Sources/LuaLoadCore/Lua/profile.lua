-- luaload prelude: what a script declares about the run's load and its verdict —
-- `stages`, `shape(run_time)` (Locust's LoadTestShape) and `thresholds` — checked once by finalize, and
-- shape() called by the Runner about once a second.
local E = ...
local type, tostring, error, pairs, ipairs, rawget = type, tostring, error, pairs, ipairs, rawget
local format, sort, getinfo = string.format, table.sort, debug.getinfo

local at = E.declared_at   -- "file:line: " of each global the script set (model.lua)

local function is_duration(v) return type(v) == "string" or (type(v) == "number" and v >= 0) end

-- stages = { {duration = "30s", users = 100}, ... } → the same, durations as text for the engine to parse.
local function read_stages(stages)
  if stages == nil then return nil end
  local usage = 'stages must be a list like { {duration = "30s", users = 100}, {duration = "1m", users = 100} }'
  local here = at.stages or ""
  if type(stages) ~= "table" or #stages == 0 then error(here .. usage, 0) end
  local out = {}
  for k in pairs(stages) do
    if type(k) ~= "number" or k < 1 or k > #stages or k % 1 ~= 0 then
      error(format("%sstages: unknown key %s: %s", here, tostring(k), usage), 0)
    end
  end
  for i, s in ipairs(stages) do
    if type(s) ~= "table" then error(format("%sstages[%d]: %s", here, i, usage), 0) end
    for k in pairs(s) do
      if k ~= "duration" and k ~= "users" then
        error(format("%sstages[%d]: unknown key %s (accepted: duration, users)", here, i, tostring(k)), 0)
      end
    end
    if not is_duration(s.duration) then error(format('%sstages[%d].duration must be like "30s" or seconds', here, i), 0) end
    local u = s.users
    if type(u) ~= "number" or u < 0 or u % 1 ~= 0 then error(format("%sstages[%d].users must be a whole number >= 0", here, i), 0) end
    out[i] = { duration = tostring(s.duration), users = u }
  end
  return out
end

-- One entry: "p95 < 200", or { "p95 < 200", abort_on_fail = true, delay = "10s" }.
local function read_entry(name, i, e, out)
  local expr, abort, delay = e, nil, nil
  if type(e) == "table" then expr, abort, delay = e[1], e.abort_on_fail, e.delay end
  local where = format("%sthresholds[%q][%d]", at.thresholds or "", name, i)
  if type(e) == "table" then
    for k in pairs(e) do
      if k ~= 1 and k ~= "abort_on_fail" and k ~= "delay" then
        error(format("%s: unknown key %s (accepted: the expression first, abort_on_fail, delay)", where, tostring(k)), 0)
      end
    end
  end
  if type(expr) ~= "string" then error(where .. ': expected an expression like "p95 < 200"', 0) end
  if abort ~= nil and type(abort) ~= "boolean" then error(where .. ": abort_on_fail must be true or false", 0) end
  if delay ~= nil and not is_duration(delay) then error(where .. ': delay must be like "10s" or seconds', 0) end
  out[#out + 1] = { name = name, expr = expr, abort_on_fail = abort == true, delay = delay ~= nil and tostring(delay) or nil }
end

-- thresholds = { ["GET /health"] = { "p95 < 200", ... }, Aggregated = { ... } } → a flat list, names sorted
-- (a table's order is not defined), each name's expressions in their order.
local function read_thresholds(t)
  if t == nil then return {} end
  local here = at.thresholds or ""
  if type(t) ~= "table" then error(here .. 'thresholds must be a table like { ["GET /health"] = { "p95 < 200" } }', 0) end
  local names = {}
  for name in pairs(t) do
    if type(name) ~= "string" then error(here .. "thresholds: keys must be request names (strings), got " .. tostring(name), 0) end
    names[#names + 1] = name
  end
  sort(names)
  local out = {}
  for _, name in ipairs(names) do
    local list = t[name]
    if type(list) == "string" then list = { list } end
    if type(list) ~= "table" then error(format('%sthresholds[%q] must be a list like { "p95 < 200" }', here, name), 0) end
    for i, e in ipairs(list) do read_entry(name, i, e, out) end
  end
  return out
end

-- Adds what the script declared about the load to finalize's result.
function E.read_profile(out)
  out.stages = read_stages(rawget(_G, "stages"))
  out.thresholds = read_thresholds(rawget(_G, "thresholds"))
  out.thresholds_at = at.thresholds and at.thresholds:sub(1, -3)
  out.stages_at = at.stages and at.stages:sub(1, -3)
  local shape = rawget(_G, "shape")
  if shape ~= nil and type(shape) ~= "function" then error((at.shape or "") .. "shape must be a function(run_time) returning users, spawn_rate or nil", 0) end
  out.has_shape = shape ~= nil
  if shape ~= nil and out.stages ~= nil then error((at.shape or "") .. "the script sets both stages and shape(): keep one", 0) end
end

-- Called by the Runner (protected, with a traceback): shape(run_time) → users, spawn_rate, or nil to end.
-- `scenario` > 0: that scenario's shape (scenarios.lua), run_time from its start; nil ends the scenario.
function E.shape_tick(run_time, scenario)
  local shape = scenario > 0 and E.scenario_shapes[scenario] or rawget(_G, "shape")
  local users, rate, classes = shape(run_time)
  if users == nil then return nil end
  local info = getinfo(shape, "S")
  local at = info.short_src .. ":" .. info.linedefined
  if type(users) ~= "number" or users < 0 or users % 1 ~= 0 then
    error(format("%s: shape() must return users (a whole number >= 0) and spawn_rate, or nil to end the %s; got users = %s",
                 at, scenario > 0 and "scenario" or "run", tostring(users)), 0)
  end
  if type(rate) ~= "number" or rate <= 0 then
    error(format("%s: shape() must return spawn_rate > 0 after users; got %s", at, tostring(rate)), 0)
  end
  if classes ~= nil then
    error(at .. ": shape(): a list of user classes (the third value) is not supported; the pool's classes follow their weights", 0)
  end
  return users, rate
end

-- The last chunk of the prelude: from here on, the script's first assignment of a global luaload reads
-- records its line (finalize removes the watch, so the run's globals cost nothing).
-- A table constructor over several lines assigns at its last line: the statement's first line is the one
-- above it that names the global (read from the script's file, once per declaration).
local function statement_line(k)
  local info = debug.getinfo(3, "Sl")
  if info == nil or info.currentline <= 0 then return "" end
  local line = info.currentline
  local path = info.source:sub(1, 1) == "@" and info.source:sub(2)
  local f = path and io.open(path, "r")
  if f then
    local lines, n = {}, 0
    for l in f:lines() do
      n = n + 1
      lines[n] = l
      if n >= line then break end
    end
    f:close()
    for i = line, math.max(1, line - 200), -1 do
      local l = lines[i]
      if l and (l:find("^%s*" .. k .. "%s*=") or l:find("^%s*function%s+" .. k .. "%f[^%w_]")) then line = i; break end
    end
  end
  return info.short_src .. ":" .. line .. ": "
end

E.globals_mt = { __newindex = function(t, k, v)
  if E.GLOBALS[k] then at[k] = statement_line(k) end
  rawset(t, k, v)
end }
setmetatable(_G, E.globals_mt)
