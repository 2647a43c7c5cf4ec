-- luaload prelude: `scenarios = { browse = { class = Browser, stages = {...} }, ingest = { class = Ingest,
-- rate = "200/s", max_vus = 50, start_time = "30s" } }` (k6's scenarios): several load models in one run,
-- each with its own class, start time and tag. Checked once by finalize (E.read_scenarios); each VU's
-- requests carry its scenario's tag string (E.scenario_tags, set on the VU's context by runner.lua).
local E = ...
local type, tostring, error, pairs, ipairs, rawget = type, tostring, error, pairs, ipairs, rawget
local format, sort, concat = string.format, table.sort, table.concat

local at = E.declared_at
E.GLOBALS.scenarios = "table"

-- key → what it takes (checked below); exactly one of users, stages, rate (rate_stages may start from rate)
-- and shape sets the model; iterations or iterations_per_user bound a `users` scenario by task runs;
-- graceful_stop lets task runs under way at its end finish.
local KEYS = { class = true, users = true, spawn_rate = true, stages = true, rate = true, rate_stages = true,
               max_vus = true, start_time = true, duration = true, tags = true, shape = true,
               iterations = true, iterations_per_user = true, max_duration = true, graceful_stop = true }
local ACCEPTED = E.key_list(KEYS)
local HINTS = {
  executor = "luaload picks the executor from the keys: users (constant VUs), stages (ramping VUs), rate (constant arrival rate), rate_stages (ramping arrival rate), shape (a function), users with iterations (shared) or iterations_per_user",
  exec = "a scenario runs a user class: class = MyClass",
  vus = "a scenario's users are `users`",
  preAllocatedVUs = "the open model's pool is `max_vus`",
  maxVUs = "write it max_vus",
  startTime = "write it start_time",
  maxDuration = "write it max_duration",
  gracefulStop = "write it graceful_stop",
  gracefulRampDown = "a ramp-down stops users at once (as Locust); graceful_stop applies at the scenario's end",
}

-- A tag key or value as text; keys are names, values anything printable without , { } or a control character.
local function tag_text(where, k, v)
  if type(k) ~= "string" or not k:find("^[%a_][%w_%.%-]*$") then
    error(format("%s: tag keys must be names (letters, digits, _ . -), got %s", where, tostring(k)), 0)
  end
  local tv = type(v)
  if tv ~= "string" and tv ~= "number" and tv ~= "boolean" then
    error(format("%s: tag %s must be a string, number or boolean, got %s", where, k, tv), 0)
  end
  v = tostring(v)
  if v == "" or v:find("[,{}%c]") then error(format("%s: tag %s = %q: no empty value, comma, brace or control character", where, k, v), 0) end
  return v
end
E.tag_text = tag_text

-- { k = v, ... } (plus `base`, a table of tags already set) → "k:v,k2:v2", keys sorted: a stats row's tags.
local function tag_string(t)
  local keys, parts = {}, {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys)
  for i, k in ipairs(keys) do parts[i] = k .. ":" .. t[k] end
  return concat(parts, ",")
end
E.tag_string = tag_string

-- The line of `name = {` (or ["name"] = {) below the `scenarios` statement, so errors point at the scenario.
local function scenario_line(name)
  local here = at.scenarios
  if here == nil then return "" end
  local src, line = here:match("^(.-):(%d+): $")
  local f = src and io.open(src, "r")
  if f == nil then return here end
  local n, found = 0, nil
  for l in f:lines() do
    n = n + 1
    if n >= tonumber(line) and (l:find("^%s*" .. name:gsub("%p", "%%%0") .. "%s*=") or l:find('%[%s*"' .. name:gsub("%p", "%%%0") .. '"%s*%]%s*=')
        or l:find("[{,]%s*" .. name:gsub("%p", "%%%0") .. "%s*=%s*{")) then
      found = n
      break
    end
    if n > tonumber(line) + 1000 then break end
  end
  f:close()
  return src .. ":" .. (found or line) .. ": "
end

local function is_duration(v) return type(v) == "string" or (type(v) == "number" and v >= 0) end
local function whole(v, least) return type(v) == "number" and v >= least and v % 1 == 0 end

-- "200/s", "12000/m", "5/h" or a number (per second) → arrivals per second, or nil.
local function per_second(v)
  if type(v) == "number" then return v >= 0 and v or nil end
  if type(v) ~= "string" then return nil end
  local n, unit = v:match("^%s*([%d%.]+)%s*/%s*([smh])%s*$")
  n = tonumber(n)
  if n == nil then return nil end
  return n / (unit == "s" and 1 or unit == "m" and 60 or 3600)
end

-- A list of { duration = "30s", <what> = ... } → the same with the value read by `read`.
local function read_list(where, list, what, read, example)
  local usage = format("%s must be a list like { {duration = \"30s\", %s}, ... }", what, example)
  if type(list) ~= "table" or #list == 0 then error(format("%s: %s", where, usage), 0) end
  local out = {}
  for k in pairs(list) do
    if type(k) ~= "number" or k < 1 or k > #list or k % 1 ~= 0 then error(format("%s: %s: unknown key %s", where, what, tostring(k)), 0) end
  end
  for i, s in ipairs(list) do
    local key = what == "stages" and "users" or "rate"
    if type(s) ~= "table" then error(format("%s: %s[%d]: %s", where, what, i, usage), 0) end
    for k in pairs(s) do
      if k ~= "duration" and k ~= key then error(format("%s: %s[%d]: unknown key %s (accepted: duration, %s)", where, what, i, tostring(k), key), 0) end
    end
    if not is_duration(s.duration) then error(format('%s: %s[%d].duration must be like "30s" or seconds', where, what, i), 0) end
    local v = read(s[key])
    if v == nil then error(format("%s: %s[%d].%s must be %s", where, what, i, key, key == "users" and "a whole number >= 0" or 'a rate like "100/s"'), 0) end
    out[i] = { duration = tostring(s.duration), value = v }
  end
  return out
end

local function class_index(where, cls)
  if cls == nil then return 0 end   -- every class, by weight
  for i, c in ipairs(E.classes) do if c == cls then return i end end
  error(where .. ": class must be a user class (local Browser = user{...}), got " .. type(cls), 0)
end

-- iterations (k6's shared-iterations: the scenario's users share them), iterations_per_user (k6's
-- per-vu-iterations), max_duration (the bound on either) and shape (a function of the scenario's time).
local function read_bounds(where, s, out)
  local it, per = s.iterations, s.iterations_per_user
  if it ~= nil and per ~= nil then error(where .. ": give iterations (shared by the users) or iterations_per_user, not both", 0) end
  local key = it ~= nil and "iterations" or "iterations_per_user"
  local n = it or per
  if n ~= nil then
    if not whole(n, 1) then error(format("%s: %s must be a whole number >= 1", where, key), 0) end
    if s.users == nil then error(format("%s: %s counts the task runs of users = N (constant users): add users", where, key), 0) end
    if s.duration ~= nil then error(format("%s: a scenario with %s ends when they are done: bound it with max_duration, not duration", where, key), 0) end
    out.iterations, out.per_user = n, per ~= nil
  elseif s.max_duration ~= nil then
    error(where .. ": max_duration bounds a scenario of iterations (or iterations_per_user); otherwise use duration", 0)
  end
  if s.shape ~= nil then
    if type(s.shape) ~= "function" then error(where .. ": shape must be a function(run_time) returning users, spawn_rate or nil", 0) end
    out.shape, out.shape_fn = true, s.shape
  end
end

local function read_one(name, s)
  local here = scenario_line(name)
  local where = here .. "scenarios." .. name
  if type(s) ~= "table" then error(where .. ": expected a table like { class = MyClass, users = 10 }", 0) end
  for k in pairs(s) do
    if not KEYS[k] then
      error(format("%s: unknown key %s (%saccepted: %s)", where, tostring(k), HINTS[k] and (HINTS[k] .. "; ") or "", ACCEPTED), 0)
    end
  end
  local models = (s.users ~= nil and 1 or 0) + (s.stages ~= nil and 1 or 0) + ((s.rate ~= nil or s.rate_stages ~= nil) and 1 or 0)
    + (s.shape ~= nil and 1 or 0)
  if models ~= 1 then
    error(where .. ": give one of users = N (constant), stages = {...} (ramping users), rate = \"200/s\" (arrivals; rate_stages = {...} to ramp it), shape = function(t) return users, spawn_rate end", 0)
  end
  local out = { name = name, at = here:sub(1, -3), class = class_index(where, s.class) }
  if s.users ~= nil and not whole(s.users, 1) then error(where .. ": users must be a whole number >= 1", 0) end
  if s.spawn_rate ~= nil and (type(s.spawn_rate) ~= "number" or s.spawn_rate <= 0 or s.users == nil) then
    error(where .. ": spawn_rate must be a number > 0, with users", 0)
  end
  out.users, out.spawn_rate = s.users, s.spawn_rate
  if s.stages ~= nil then out.stages = read_list(where, s.stages, "stages", function(v) return whole(v, 0) and v or nil end, "users = 100") end
  if s.rate ~= nil then
    out.rate = per_second(s.rate)
    if out.rate == nil then error(where .. ': rate must be like "200/s", "600/m" or a number per second', 0) end
  end
  if s.rate_stages ~= nil then out.rate_stages = read_list(where, s.rate_stages, "rate_stages", per_second, 'rate = "100/s"') end
  read_bounds(where, s, out)
  local open = s.rate ~= nil or s.rate_stages ~= nil
  if open and not whole(s.max_vus, 1) then error(where .. ": max_vus (the VU pool arrivals run on, a whole number >= 1) is required with rate", 0) end
  if s.max_vus ~= nil and not open and s.shape == nil then error(where .. ": max_vus sizes an arrival rate's pool or bounds shape(): with users or stages, the users are the VUs", 0) end
  if s.max_vus ~= nil and not whole(s.max_vus, 1) then error(where .. ": max_vus must be a whole number >= 1", 0) end
  out.max_vus = s.max_vus
  for _, k in ipairs({ "start_time", "duration", "max_duration", "graceful_stop" }) do
    if s[k] ~= nil and not is_duration(s[k]) then error(format('%s: %s must be like "30s" or seconds', where, k), 0) end
    out[k] = s[k] ~= nil and tostring(s[k]) or nil
  end
  if s.duration ~= nil and (s.stages ~= nil or s.rate_stages ~= nil) then
    error(where .. ": duration is given by the stages (their sum): drop duration", 0)
  end
  local tags = { scenario = name }
  if s.tags ~= nil then
    if type(s.tags) ~= "table" then error(where .. ": tags must be a table like { kind = \"write\" }", 0) end
    for k, v in pairs(s.tags) do
      if k == "scenario" then error(where .. ": tags: scenario is the scenario's name, set by luaload", 0) end
      tags[k] = tag_text(where .. ": tags", k, v)
    end
  end
  out.tags = tag_string(tags)
  return out, tags
end

-- Scenario index (1-based, names sorted) → its tags as text and as a table, for its VUs' contexts.
-- Its shape function, if it has one (called by E.shape_tick).
E.scenario_tags, E.scenario_tag_tables, E.scenario_shapes = {}, {}, {}

-- Adds the script's `scenarios` (a list, names sorted) to finalize's result.
function E.read_scenarios(out)
  local s = rawget(_G, "scenarios")
  if s == nil then return end
  local here = at.scenarios or ""
  if type(s) ~= "table" then error(here .. "scenarios must be a table like { browse = { class = Browser, users = 10 } }", 0) end
  local names = {}
  for name in pairs(s) do
    if type(name) ~= "string" or not name:find("^[%a_][%w_%.%-]*$") then
      error(here .. "scenarios: a scenario's name is a name (letters, digits, _ . -), got " .. tostring(name), 0)
    end
    names[#names + 1] = name
  end
  if #names == 0 then error(here .. "scenarios is empty: declare at least one, or leave it out", 0) end
  if rawget(_G, "stages") ~= nil or rawget(_G, "shape") ~= nil then
    error(here .. "the script sets scenarios and " .. (rawget(_G, "stages") ~= nil and "stages" or "shape()") .. ": keep one (a scenario takes stages = {...})", 0)
  end
  sort(names)
  local list = {}
  for i, name in ipairs(names) do
    local tags
    list[i], tags = read_one(name, s[name])
    E.scenario_tags[i], E.scenario_tag_tables[i], E.scenario_shapes[i] = list[i].tags, tags, list[i].shape_fn
    list[i].shape_fn = nil
  end
  out.scenarios = list
end
