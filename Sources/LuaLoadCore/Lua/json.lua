-- luaload prelude: the `json` library as scripts see it.
-- Every prelude chunk gets the internal table E (the registry's `luaload`) as `...`.
local E = ...
local type, pairs = type, pairs
local math_type, tointeger = math.type, math.tointeger

-- The prelude keeps its own reference: a script may replace the global `json`.
local jsonlib = json
E.json = jsonlib

-- lua-cjson decodes every number as a float; give whole numbers back as integers, so 8 prints as "8".
local raw_decode = jsonlib.decode
local function integers(v)
  for k, x in pairs(v) do
    if type(x) == "table" then integers(x)
    elseif math_type(x) == "float" then local n = tointeger(x); if n then v[k] = n end end
  end
  return v
end

jsonlib.decode = function(text)
  local v = raw_decode(text)
  if type(v) == "table" then return integers(v) end
  if math_type(v) == "float" then return tointeger(v) or v end
  return v
end
