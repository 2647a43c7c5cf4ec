-- luaload prelude: data feeders. `data.csv(path)` and `data.lines(path)` read a file next to the script
-- when the script loads (a missing or malformed file stops the run before traffic, naming the file and
-- line); `feeder:next()` hands out rows once each across the whole run — every thread together, in file
-- order — starting over at the end unless `{ recycle = false }` (then nil). Each thread parses the file
-- itself; they share one counter per feeder (the engine's, one atomic step per row handed out).
local E = ...
local type, tostring, error, setmetatable, getmetatable, pairs, ipairs, pcall = type, tostring, error, setmetatable, getmetatable, pairs, ipairs, pcall
local open, format = io.open, string.format
local feeder_id, feeder_take = E.feeder_id, E.feeder_take

data = {}

local Feeder = {}
Feeder.__index = Feeder

function Feeder:next()
  if getmetatable(self) ~= Feeder then error("next: call it as feeder:next()", 2) end
  local ticket = feeder_take(self._id)
  local n = #self._rows
  if not self._recycle and ticket >= n then return nil end
  return self._rows[ticket % n + 1]
end

-- How many rows (or lines) the file has.
function Feeder:__len() return #self._rows end

-- Feeders made so far per file, so the k-th feeder of a file is the same counter in every thread.
local made = {}

local function read_file(fname, path)
  if type(path) ~= "string" or path == "" then error(fname .. ": expected a file path", 3) end
  local full = path:byte(1) == 47 and path or ((E.script_dir or ".") .. "/" .. path)
  local f, why = open(full, "rb")
  if f == nil then error(format("%s: cannot read %s (%s)", fname, path, tostring(why)), 3) end
  local text = f:read("a")
  f:close()
  return text, full
end

local function options(fname, opts)
  if opts == nil then return true end
  if type(opts) ~= "table" then error(fname .. ": options must be a table like { recycle = false }", 3) end
  for k, v in pairs(opts) do
    if k ~= "recycle" then error(format("%s: unknown option %s (accepted: recycle)", fname, tostring(k)), 3) end
    if type(v) ~= "boolean" then error(fname .. ": recycle must be true or false", 3) end
  end
  return opts.recycle ~= false
end

local function new_feeder(fname, kind, full, rows, recycle)
  if #rows == 0 then error(format("%s: %s has no rows", fname, full), 3) end
  local key = kind .. ":" .. tostring(recycle) .. ":" .. full
  made[key] = (made[key] or 0) + 1
  local id = feeder_id(key .. "#" .. made[key])
  if id == nil then error(fname .. ": too many data feeders (at most 256)", 3) end
  return setmetatable({ _id = id, _rows = rows, _recycle = recycle }, Feeder)
end

-- One CSV record from `text` at `pos` (RFC 4180: quoted fields, "" inside quotes, CRLF or LF), the
-- position after it, and the line it ended on; errors name the file's line.
local function record(text, pos, line, where)
  local fields = {}
  while true do
    local c = text:sub(pos, pos)
    local value
    if c == '"' then
      local parts, p = {}, pos + 1
      while true do
        local q = text:find('"', p, true)
        if q == nil then error(format("%s:%d: a quoted field is not closed", where, line), 0) end
        parts[#parts + 1] = text:sub(p, q - 1)
        local _, breaks = text:sub(p, q - 1):gsub("\n", "")
        line = line + breaks
        if text:sub(q + 1, q + 1) == '"' then parts[#parts + 1] = '"'; p = q + 2 else pos = q + 1; break end
      end
      value = table.concat(parts)
      local after = text:sub(pos, pos)
      if after ~= "," and after ~= "\r" and after ~= "\n" and after ~= "" then
        error(format("%s:%d: unexpected text after a quoted field", where, line), 0)
      end
    else
      local stop = text:find("[,\r\n]", pos) or #text + 1
      value = text:sub(pos, stop - 1)
      pos = stop
    end
    fields[#fields + 1] = value
    local sep = text:sub(pos, pos)
    if sep == "," then
      pos = pos + 1
    else
      if sep == "\r" then pos = pos + 1 end
      if text:sub(pos, pos) == "\n" then pos = pos + 1 end
      return fields, pos, line
    end
  end
end

-- data.csv(path [, { recycle = false }]): rows as tables keyed by the header line's names.
function data.csv(path, opts)
  local recycle = options("data.csv", opts)
  local text, full = read_file("data.csv", path)
  local ok, rows = pcall(function()
    local header, pos, line = record(text, 1, 1, path)
    local out = {}
    while pos <= #text do
      line = line + 1
      local fields
      fields, pos, line = record(text, pos, line, path)
      if not (#fields == 1 and fields[1] == "") then   -- blank lines are skipped
        if #fields ~= #header then
          error(format("%s:%d: %d fields where the header has %d", path, line, #fields, #header), 0)
        end
        local row = {}
        for i, name in ipairs(header) do row[name] = fields[i] end
        out[#out + 1] = row
      end
    end
    return out
  end)
  if not ok then error("data.csv: " .. tostring(rows), 2) end
  return new_feeder("data.csv", "csv", full, rows, recycle)
end

-- data.lines(path [, { recycle = false }]): the file's non-empty lines, as strings.
function data.lines(path, opts)
  local recycle = options("data.lines", opts)
  local text, full = read_file("data.lines", path)
  local rows = {}
  for line in text:gmatch("([^\n]*)\n?") do
    line = line:gsub("\r$", "")
    if line ~= "" then rows[#rows + 1] = line end
  end
  return new_feeder("data.lines", "lines", full, rows, recycle)
end
