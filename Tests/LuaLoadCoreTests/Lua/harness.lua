-- Runs the tests of one *_test.lua file in a plain luaload Lua state (the prelude loaded; no engine, no
-- sockets). LuaPreludeTests calls it once without a name to list a file's tests (global __test_names),
-- then once per test, each in a fresh state, so one test's user classes never reach another.
-- A test file gets the helpers T as `...` and returns { test_name = function() ... end, ... }.
local dir = ...
local format, concat, sort, pack, unpack = string.format, table.concat, table.sort, table.pack, table.unpack
local E = debug.getregistry().luaload
local P = E.protocol

local T = { E = E, P = P }

local function show(v)
  if type(v) == "string" then return format("%q", v) end
  return tostring(v)
end

function T.eq(actual, expected, what)
  if actual ~= expected then
    error(format("%s: expected %s, got %s", what or "value", show(expected), show(actual)), 2)
  end
end

function T.ok(cond, what)
  if not cond then error(what or "expected a true condition", 2) end
end

-- The header lines every request carries unless the script gives its own.
T.DEFAULT_HEADERS = "User-Agent: luaload/" .. E.version .. "\r\nAccept-Encoding: gzip, deflate\r\n"

-- "file:line" of the caller, for the position an argument error must name.
function T.here()
  local info = debug.getinfo(2, "Sl")
  return info.short_src .. ":" .. info.currentline
end

-- `fn` must raise exactly `expected` (a string, with its position).
function T.raises(fn, expected, what)
  local ok, err = pcall(fn)
  if ok then error((what or "call") .. ": expected the error " .. show(expected) .. ", got none", 2) end
  if err ~= expected then
    error(format("%s: expected the error %s, got %s", what or "call", show(expected), show(err)), 2)
  end
end

-- Resumes coroutine `co` with `...` and returns what it yielded or returned (a frame), packed.
function T.resume(co, ...)
  local r = pack(coroutine.resume(co, ...))
  if not r[1] then error("the coroutine raised: " .. tostring(r[2]), 2) end
  return pack(unpack(r, 2, r.n))
end

-- The engine's reply to an OP_HTTP frame, placed by LL_REPLY_* (unpack it into T.resume).
function T.reply(status, elapsed, body, err, raw, flags)
  local r = {}
  r[P.REPLY_STATUS], r[P.REPLY_ELAPSED], r[P.REPLY_BODY], r[P.REPLY_ERROR], r[P.REPLY_HEADERS], r[P.REPLY_FLAGS] =
    status, elapsed, body, err, raw, flags or 0
  return unpack(r, 1, P.REPLY_COUNT)
end

-- Finalizes what the test declared (finalize's `opts`) and returns a VU coroutine, not started (resume it
-- with class index and VU id, as the engine does), and finalize's result.
function T.vu(opts)
  local info = E.finalize(opts or {})
  return coroutine.create(E.vu_main), info
end

return function(file, name)
  local f = assert(io.open(dir .. "/" .. file))
  local source = f:read("a")
  f:close()
  local tests = assert(load(source, "=" .. file))(T)
  if name == nil then
    local names = {}
    for k in pairs(tests) do names[#names + 1] = k end
    sort(names)
    __test_names = concat(names, ",")
    return
  end
  local ok, err = xpcall(tests[name], debug.traceback)
  if not ok then error(err, 0) end
end
