-- luaload prelude, chunk 3 of 7: the calls that yield to the engine (http.*, sleep), the responses they
-- return, and the running VU's context. The request path lives here in one closure per method, and
-- `current` is an upvalue of it (not a table field), so a request costs no lookup beyond today's.
local E = ...
local yield, format, concat, sort = coroutine.yield, string.format, table.concat, table.sort
local type, tostring, error, pairs, ipairs = type, tostring, error, pairs, ipairs
local getmetatable, setmetatable, rawget, rawset, pcall = getmetatable, setmetatable, rawget, rawset, pcall
local jsonlib = E.json
local P = E.protocol
local OP_HTTP, OP_SLEEP = P.OP_HTTP, P.OP_SLEEP

---------------------------------------------------------------- the VU's context
-- A VU's context `ctx`: `last` is the response the script may still override (res:failure/success),
-- `outcome` that override; `report` the outcome to send with the next yield (nil: the default rule, true,
-- or a failure message); `finished` the task runs completed since the last yield. Every yield is
-- `yield(op, outcome, finished, ...)` (yield_protocol.h), so the engine records the previous response
-- and counts task runs.
local current                -- the running VU's context; one coroutine runs at a time per state

-- The runner switches VUs; it sets `current` through here (only at VU starts and after protected calls).
function E.set_current(ctx) current = ctx end

-- The override window of the VU's last response ends (its next request, sleep or task end).
local function close(ctx)
  if ctx.last ~= nil then
    ctx.last = nil
    ctx.report = ctx.outcome
    ctx.outcome = nil
  end
end
E.close = close

-- Closes the window and hands over what the engine must record: outcome and finished task runs.
local function settle(ctx)
  close(ctx)
  local outcome, finished = ctx.report, ctx.finished
  ctx.report, ctx.finished = nil, 0
  return outcome, finished
end
E.settle = settle

-- Yields frame `op` with the frame's own values `...` and makes `ctx` current again on resume.
function E.suspend(ctx, op, ...)
  local outcome, finished = settle(ctx)
  yield(op, outcome, finished, ...)
  current = ctx
end

---------------------------------------------------------------- responses
local Response = {}
local HeadersMT = { __index = function(t, k)
  if type(k) == "string" then return rawget(t, k:lower()) end
end }

-- `raw` is the response head as received: the status line, header lines, a blank line (and maybe more).
local function parse_headers(raw)
  local h = {}
  local first = raw and raw:find("\r\n", 1, true)
  if first then
    local blank = raw:find("\r\n\r\n", first, true) or #raw
    for name, value in raw:sub(first + 2, blank + 1):gmatch("([^:\r\n]+):[ \t]*([^\r\n]*)\r\n") do
      local k = name:lower()
      local prev = rawget(h, k)
      h[k] = prev and (prev .. ", " .. value) or value
    end
  end
  return setmetatable(h, HeadersMT)
end

local ResponseMT = { __index = function(res, k)
  if k == "headers" then
    local h = parse_headers(rawget(res, "_raw_headers"))
    rawset(res, "headers", h)
    return h
  end
  return Response[k]
end }

function Response.json(res)
  local ok, value = pcall(jsonlib.decode, res.body or "")
  if not ok then error("res:json(): the response body is not JSON (" .. tostring(value) .. ")", 2) end
  return value
end

-- Level 3: settable ← res:failure / res:success ← the script.
local function settable(res, fname)
  if getmetatable(res) ~= ResponseMT then error(fname .. ": call it as res:" .. fname .. "(...)", 3) end
  if rawget(res, "_ctx").last ~= res then
    error(fname .. ": too late, this response was already recorded (call it before the VU's next request, sleep or task end)", 3)
  end
end

function Response.failure(res, msg)
  settable(res, "failure")
  rawget(res, "_ctx").outcome = msg == nil and "failure" or tostring(msg)
end

function Response.success(res)
  settable(res, "success")
  rawget(res, "_ctx").outcome = true
end

---------------------------------------------------------------- request options
local function urlencode(v)
  return (tostring(v):gsub("[^%w%-%._~]", function(c) return format("%%%02X", c:byte()) end))
end

-- Keys sorted, so a query's text (and a stats row named after it) does not depend on table order.
local function encode_query(q)
  local keys = {}
  for k in pairs(q) do keys[#keys + 1] = k end
  sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = q[k]
    if type(v) == "table" then
      for _, x in ipairs(v) do parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(x) end
    else
      parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(v)
    end
  end
  return concat(parts, "&")
end
E.encode_query = encode_query

-- Level 3: header_block ← the request function ← the script (http.request tail-calls the request function).
local function header_block(headers, fname)
  if type(headers) ~= "table" then error(fname .. ": opts.headers must be a table", 3) end
  local parts, has_type = {}, false
  for k, v in pairs(headers) do
    if type(k) ~= "string" or k == "" or k:find("[%c:%s]") then
      error(format("%s: invalid header name %q", fname, tostring(k)), 3)
    end
    v = tostring(v)
    if v:find("[\r\n]") then error(format("%s: header %s has a line break in its value", fname, k), 3) end
    if k:lower() == "content-type" then has_type = true end
    parts[#parts + 1] = k .. ": " .. v .. "\r\n"
  end
  return concat(parts), has_type
end

-- Checked paths and their default stats names, so a repeated path costs one lookup. Bounded, since a
-- script may build a new path for every request. Level 3: default_name ← the request function ← the script.
local url_names, url_count = {}, 0
local function default_name(fname, url)
  if type(url) ~= "string" then error(format("%s: expected a path string, got %s", fname, type(url)), 3) end
  if url:byte(1) ~= 47 and not url:find("^https?://") then
    error(format("%s: %q must start with / or http:// or https://", fname, url), 3)
  end
  local q = url:find("?", 1, true)
  local name = q and url:sub(1, q - 1) or url
  if url_count >= 10000 then url_names, url_count = {}, 0 end
  url_names[url] = name
  url_count = url_count + 1
  return name
end

---------------------------------------------------------------- requests
-- Stats rows are numbered per Lua state; the engine learns a row's method and name with its first request.
local stat_ids, stat_count = {}, 0
local function new_stat(byname, name)
  local id = stat_count
  stat_count = id + 1
  byname[name] = id
  return id
end

-- One request function per method (http.get, ...): the method, its name for messages and its stats
-- rows are upvalues, so the per-request path does no string work and no extra call.
local requesters = {}
local function requester(method)
  local fname = "http." .. method:lower()
  local byname = stat_ids[method] or {}
  stat_ids[method] = byname
  local fn = function(url, opts)
    local name = url_names[url] or default_name(fname, url)
    local headers, body, timeout
    if opts ~= nil then   -- inline, not a call: a request with options costs no extra frame
      if type(opts) ~= "table" then error(fname .. ": opts must be a table", 2) end
      local has_type = false
      if opts.headers ~= nil then headers, has_type = header_block(opts.headers, fname) end
      body = opts.body
      if body ~= nil and type(body) ~= "string" then error(fname .. ": opts.body must be a string", 2) end
      if opts.json ~= nil then
        if body ~= nil then error(fname .. ": give opts.body or opts.json, not both", 2) end
        body = jsonlib.encode(opts.json)
        if not has_type then headers = (headers or "") .. "Content-Type: application/json\r\n" end
      end
      if opts.name ~= nil then
        name = opts.name
        if type(name) ~= "string" then error(fname .. ": opts.name must be a string", 2) end
      end
      timeout = opts.timeout
      if timeout ~= nil and (type(timeout) ~= "number" or timeout <= 0) then
        error(fname .. ": opts.timeout must be a positive number of seconds", 2)
      end
      local query = opts.query
      if query ~= nil then
        if type(query) ~= "table" then error(fname .. ": opts.query must be a table", 2) end
        local qs = encode_query(query)
        if qs ~= "" then url = url .. (url:find("?", 1, true) and "&" or "?") .. qs end
      end
    end
    local ctx = current
    if ctx == nil then
      error(fname .. ": requests can only be made inside tasks, on_start, on_stop, setup or teardown", 2)
    end
    local stat = byname[name] or new_stat(byname, name)
    if ctx.last ~= nil then   -- settle(ctx), inline: the previous response's window ends
      ctx.last = nil
      ctx.report = ctx.outcome
      ctx.outcome = nil
    end
    local outcome, finished = ctx.report, ctx.finished
    ctx.report, ctx.finished = nil, 0
    -- The frame's order is LL_SLOT_*'s and the reply's LL_REPLY_*'s (protocol_test.lua checks both).
    local status, elapsed, rbody, err, raw = yield(OP_HTTP, outcome, finished, stat, method, url, headers, body, timeout, name)
    current = ctx
    ctx.yielded = true
    local res = setmetatable({ status = status, elapsed = elapsed, body = rbody, error = err, url = url,
                               _raw_headers = raw, _ctx = ctx }, ResponseMT)
    ctx.last = res
    return res
  end
  requesters[method] = fn
  return fn
end

http = {}
function http.request(method, url, opts)
  local fn = requesters[method]
  if fn == nil then
    if type(method) ~= "string" or not method:find("^%u+$") then
      error(format("http.request: method must be an upper-case name like \"GET\", got %s", tostring(method)), 2)
    end
    fn = requester(method)
  end
  return fn(url, opts)   -- a tail call: error levels stay those of http.get & co.
end
for _, m in ipairs({ "GET", "HEAD", "DELETE", "POST", "PUT", "PATCH", "OPTIONS" }) do
  http[m:lower()] = requester(m)
end

function sleep(seconds)
  if type(seconds) ~= "number" or seconds < 0 then error("sleep: expected a number of seconds >= 0", 2) end
  local ctx = current
  if ctx == nil then error("sleep: only inside tasks, on_start or on_stop", 2) end
  local outcome, finished = settle(ctx)
  yield(OP_SLEEP, outcome, finished, seconds)
  current = ctx
end
