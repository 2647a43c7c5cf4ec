-- luaload prelude: k6's custom metrics. metrics.counter/gauge/rate/trend(name) → an object with
-- :add(value, tags?). Values are summed here, in the thread's Lua state (trends keep their values until
-- the engine takes them, once a second, into an HDR histogram); see checks.lua's E.take_pending.
local E = ...
local type, tostring, error, pairs, format, sort, concat = type, tostring, error, pairs, string.format, table.sort, table.concat
local take_pending = E.take_pending
local KINDS = { counter = 1, gauge = 2, rate = 3, trend = 4 }
local declared = {}   -- name → kind: one name, one kind

-- The series a value goes to: the metric itself and, with tags, "name{k:v,k2:v2}" (tags sorted), which a
-- threshold can name (k6's sub-metrics).
local function tag_key(name, tags)
  local keys = {}
  for k, v in pairs(tags) do
    if type(k) ~= "string" then error("metric " .. name .. ": tag names must be strings", 4) end
    keys[#keys + 1] = k .. ":" .. tostring(v)
  end
  if #keys == 0 then return nil end
  sort(keys)
  return name .. "{" .. concat(keys, ",") .. "}"
end

-- Adds v to one series (made at its first value). Looked up each time: the engine takes the pending table
-- once a second.
local function add_to(series, kind, unit, v)
  local metrics = (E.pending or take_pending()).metrics
  local m = metrics[series]
  if m == nil then m = { KINDS[kind], series, unit, 0, 0, v, v, v, {} }; metrics[series] = m end
  m[4] = m[4] + 1
  if kind == "rate" then
    if v then m[5] = m[5] + 1 end
    return
  end
  m[5] = m[5] + v
  m[6] = v
  if v < m[7] then m[7] = v elseif v > m[8] then m[8] = v end
  if kind == "trend" then local vals = m[9]; vals[#vals + 1] = v end
end

-- Adds one value (rate: true/false or a number, non-zero counting as true). Measured: counter:add(1) costs
-- ~2,600 instructions (callgrind, -t 1 -u 1 -n 30000: 346.0M against 268.1M without it).
function E.metric_add(kind, name, unit, value, tags)
  if kind == "rate" then
    if type(value) == "number" then value = value ~= 0 elseif type(value) ~= "boolean" then
      error(format("metric %s: add() takes true/false or a number, got %s", name, type(value)), 3)
    end
  elseif type(value) ~= "number" or value ~= value then
    error(format("metric %s: add() takes a number, got %s", name, type(value)), 3)
  elseif kind == "counter" and value < 0 then
    error(format("metric %s: a counter only grows: add(%s) is negative", name, tostring(value)), 3)
  end
  add_to(name, kind, unit, value)
  if tags ~= nil then
    if type(tags) ~= "table" then error(format("metric %s: add(value, tags): tags must be a table", name), 3) end
    local sub = tag_key(name, tags)
    if sub then add_to(sub, kind, unit, value) end
  end
end
local metric_add = E.metric_add

local Metric = {}
Metric.__index = Metric
function Metric:add(value, tags) metric_add(self.kind, self.name, self.unit, value, tags) end

local function declare(kind)
  return function(name, opts)
    if type(name) ~= "string" or not name:match("^[%a_][%w_%.%-]*$") then
      error(format("metrics.%s(name): name must be letters, digits, _ . - (starting with a letter or _), got %s", kind, tostring(name)), 2)
    end
    if opts ~= nil and type(opts) ~= "table" then error(format("metrics.%s(%q, opts): opts must be a table like { unit = \"ms\" }", kind, name), 2) end
    local unit = opts and opts.unit
    if opts then
      for k in pairs(opts) do
        if k ~= "unit" then error(format("metrics.%s(%q, opts): unknown key %s (accepted: unit)", kind, name, tostring(k)), 2) end
      end
      if unit ~= nil and type(unit) ~= "string" then error(format("metrics.%s(%q): unit must be a string", kind, name), 2) end
    end
    if declared[name] and declared[name] ~= kind then
      error(format("metrics.%s(%q): %q is already a %s", kind, name, name, declared[name]), 2)
    end
    declared[name] = kind
    return setmetatable({ kind = kind, name = name, unit = unit or (kind == "trend" and "ms" or "") }, Metric)
  end
end

metrics = { counter = declare("counter"), gauge = declare("gauge"), rate = declare("rate"), trend = declare("trend") }
