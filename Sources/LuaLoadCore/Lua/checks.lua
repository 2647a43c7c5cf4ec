-- luaload prelude: k6's check() and group(). Counts are kept here, in the thread's Lua state, in the
-- table E.take_pending() hands out; the engine takes it once a second (ScriptMetrics+Lua.swift) and
-- adds it to the worker's stats. A script that never calls check() or metrics.* costs nothing.
local E = ...
local type, tostring, next, pcall, error = type, tostring, next, pcall, error
local format, concat = string.format, table.concat
local now = E.now

-- What was counted since the engine last took it:
--   checks[name] = { passes, fails, first error }
--   metrics[series] = { kind, name, unit, count, sum, last, min, max, values (trend) }
-- (arrays, so the engine reads them with lua_rawgeti only).
function E.take_pending()
  local p = E.pending
  if p == nil then p = { checks = {}, metrics = {} }; E.pending = p end
  return p
end
local take_pending = E.take_pending

-- Each VU's (coroutine's) current group path ("login::get token"); groups nest by call. Keyed by
-- coroutine because VUs interleave at every request inside a group.
local running = coroutine.running
local group_paths = setmetatable({}, { __mode = "k" })

local grouped = false   -- whether group() was ever called: until then no check looks up its VU's path

-- A request's row name inside a group: "login::/token" (http.lua calls it once E.use_groups gave it).
-- Prefixed names are kept per path (bounded, as http.lua's url_names): a grouped request builds no string
-- after its first.
local group_names, group_count = {}, 0
local function group_name(name)
  local path = group_paths[running()]
  if not path then return name end
  local names = group_names[path]
  if names == nil then
    if group_count >= 10000 then group_names, group_count = {}, 0 end
    names = {}
    group_names[path] = names
  end
  local full = names[name]
  if full == nil then
    full = path .. "::" .. name
    names[name] = full
    group_count = group_count + 1
  end
  return full
end

-- check(value, { ["name"] = function(v) return ... end, ["other"] = true }, tags?) → whether all passed.
-- A failed check never fails the request (k6's rule); an error inside one counts as a failed check and
-- keeps its message (file:line). Measured: a check() of one function costs ~5,800 instructions, the table and
-- closure the script builds for it included (callgrind, -t 1 -u 1 -n 30000 against luaload serve: 442.6M
-- against 268.1M without it; ~10,000 with a sorted names table per call).
function check(value, checks, tags)
  if type(checks) ~= "table" then
    error(format("check(value, checks): checks must be a table like { [\"status is 200\"] = function(r) return r.status == 200 end }, got %s", type(checks)), 2)
  end
  if tags ~= nil and type(tags) ~= "table" then error("check(value, checks, tags): tags must be a table", 2) end
  local all, path = true, grouped and group_paths[running()]
  for name, fn in next, checks do
    if type(name) ~= "string" then error("check(): each check's name must be a string, got " .. tostring(name), 2) end
    local ok, err = fn, nil
    if type(fn) == "function" then
      local called, result = pcall(fn, value)
      if called then ok = result and true or false else ok = false; err = tostring(result) end
    elseif type(fn) ~= "boolean" then
      error(format("check(): check %q must be a function(value) or a boolean, got %s", name, type(fn)), 2)
    end
    if path then name = path .. "::" .. name end
    -- The pending table is looked up after the call: a check function may have yielded (a request) meanwhile.
    local counts = (E.pending or take_pending()).checks
    local c = counts[name]
    if c == nil then c = { 0, 0, nil }; counts[name] = c end
    if ok then c[1] = c[1] + 1 else c[2] = c[2] + 1; all = false; if c[3] == nil then c[3] = err end end
  end
  return all
end

-- group(name, fn, ...) runs fn(...) with `name` added to the VU's group path (check names and request names
-- inside it are prefixed "name::", group_name above) and records its duration (ms) in the trend
-- group_duration{group:path}.
function group(name, fn, ...)
  if type(name) ~= "string" or name == "" then error("group(name, fn): name must be a non-empty string", 2) end
  if type(fn) ~= "function" then error("group(name, fn): fn must be a function, got " .. type(fn), 2) end
  if not grouped then grouped = true; E.use_groups(group_name) end   -- http.lua names requests by group from now on
  local co = running()
  local outer = group_paths[co]
  local path = outer and (outer .. "::" .. name) or name
  group_paths[co] = path
  local t0 = now()
  local results = table.pack(pcall(fn, ...))
  group_paths[co] = outer
  E.metric_add("trend", "group_duration", "ms", (now() - t0) * 1000, { group = path })
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

-- env: -e NAME=value and --env-file (k6's __ENV); with --secret, print() masks those values (the engine
-- masks them in every report and message too).
function E.set_env(values, secrets)
  env = values
  if #secrets == 0 then return end
  local raw_print, gsub, select, tostring = print, string.gsub, select, tostring
  local function mask(s)
    for _, secret in ipairs(secrets) do
      if secret ~= "" then s = gsub(s, secret:gsub("%W", "%%%0"), "***") end
    end
    return s
  end
  print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = mask(tostring((select(i, ...)))) end
    raw_print(table.concat(parts, "\t"))
  end
end
