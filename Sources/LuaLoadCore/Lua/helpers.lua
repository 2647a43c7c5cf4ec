-- luaload prelude: small helpers scripts call (ids, timestamps).
local E = ...
local random, floor, format = math.random, math.floor, string.format
local wallclock = E.wallclock

function uuid()
  return format("%08x-%04x-4%03x-%04x-%04x%08x", random(0, 0xffffffff), random(0, 0xffff),
    random(0, 0xfff), random(0, 0x3fff) | 0x8000, random(0, 0xffff), random(0, 0xffffffff))
end

function utc_iso8601(t)
  t = t or wallclock()
  local s = floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. format(".%03dZ", floor((t - s) * 1000))
end
