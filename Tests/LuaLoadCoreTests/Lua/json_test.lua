-- json.lua: whole numbers decode as integers, at any depth; fractions stay floats.
local T = ...
local tests = {}

function tests.whole_numbers_decode_as_integers()
  local v = json.decode('{"a": 8, "b": [1, 2.5, {"c": 3}], "d": -0.0}')
  T.eq(math.type(v.a), "integer", "math.type(a)")
  T.eq(tostring(v.a), "8", "tostring(a)")
  T.eq(math.type(v.b[1]), "integer", "b[1]")
  T.eq(v.b[2], 2.5, "b[2]")
  T.eq(math.type(v.b[2]), "float", "math.type(b[2])")
  T.eq(math.type(v.b[3].c), "integer", "nested c")
end

function tests.scalars_decode_too()
  T.eq(math.type(json.decode("42")), "integer", "a bare number")
  T.eq(json.decode("1.5"), 1.5, "a bare fraction")
  T.eq(json.decode('"x"'), "x", "a string")
end

function tests.the_prelude_keeps_its_json_if_the_script_replaces_the_global()
  local decode = json.decode
  json = nil
  T.eq(T.E.json.decode, decode, "E.json")
end

return tests
