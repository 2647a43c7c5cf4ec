-- The state's allocator (CLuaShim/statealloc.c): blocks from per-class free lists up to 256 bytes, malloc
-- above; growing and shrinking across that line moves the bytes. Values must survive every move.
local T = ...
local tests = {}

-- An array part grows 1, 2, 4, ... 4096 slots (16 bytes each: across 256 bytes at 32 slots), is checked,
-- then shrinks as the collector resizes it back, and is checked again.
function tests.tables_grow_and_shrink_across_the_pool_limit()
  for round = 1, 3 do
    local t = {}
    for i = 1, 4096 do t[i] = i * round end
    for i = 1, 4096 do T.eq(t[i], i * round, "slot " .. i) end
    for i = 4096, 9, -1 do t[i] = nil end
    collectgarbage(); collectgarbage()
    for i = 1, 8 do T.eq(t[i], i * round, "slot " .. i .. " after the shrink") end
    local h = {}
    for i = 1, 300 do h["k" .. i] = i end   -- a hash part across the line too
    for i = 1, 300 do T.eq(h["k" .. i], i, "key k" .. i) end
  end
end

-- Strings of every length up to 600 bytes, made, dropped and made again from reused blocks.
function tests.strings_of_every_size_keep_their_bytes()
  for round = 1, 3 do
    local kept = {}
    for n = 1, 600 do kept[n] = string.rep(string.char(65 + (n + round) % 26), n) end
    collectgarbage()
    for n = 1, 600 do
      T.eq(#kept[n], n, "length")
      T.eq(kept[n], string.rep(string.char(65 + (n + round) % 26), n), "bytes of " .. n)
    end
  end
end

return tests
