-- luaload prelude: the calls that yield to the engine (http.*, sleep), the responses they
-- return, and the running VU's context. The request path lives here in one closure per method, and
-- `current` is an upvalue of it (not a table field), so a request costs no lookup beyond today's.
local E = ...
local yield, format, concat, sort = coroutine.yield, string.format, table.concat, table.sort
local type, tostring, error, pairs, ipairs = type, tostring, error, pairs, ipairs
local getmetatable, setmetatable, rawget, rawset, pcall = getmetatable, setmetatable, rawget, rawset, pcall
local jsonlib, U, C, O = E.json, E.url, E.cookies, E.options
local P = E.protocol
local OP_HTTP, OP_SLEEP, FLAG_SET_COOKIE, FLAG_REDIRECT = P.OP_HTTP, P.OP_SLEEP, P.FLAG_SET_COOKIE, P.FLAG_REDIRECT
local timings = E.timings
local DEFAULT_HEADERS = O.default_headers

---------------------------------------------------------------- the VU's context
-- A VU's context `ctx`: `last` is the response the script may still override (res:failure/success);
-- `outcome` the VU's latest response's override, sent with the next yield (false: the default rule, true,
-- or a failure message); `finished` the task runs completed since the last yield. Every yield is
-- `yield(op, outcome, finished, ...)` (yield_protocol.h), so the engine records the previous response
-- and counts task runs. Closing the window leaves `outcome` for that yield: a newer response, whose
-- override it could be mistaken for, comes only after it. "None" is `false`, never nil: a field set to
-- nil and back is looked up and inserted again (luaV_finishset, luaH_newkey), several times per request.
local current                -- the running VU's context; one coroutine runs at a time per state

-- The runner switches VUs; it sets `current` through here (only at VU starts and after protected calls).
function E.set_current(ctx) current = ctx end

-- A VU's context, with the origin its relative paths go to: `host_url` (its class's host) or the run's
-- default (-H, or the script's `host`). Origins are split once per host URL.
local bases = {}
local prefixed = false   -- whether any VU's base URL has a path (Locust's base URL)
-- Whether a plain request (no opts) has more to do: a base path to add, or cookies kept (`cookies_seen`).
-- One flag, so the plain request tests one upvalue whatever is in use (52 VM instructions a request less
-- than a test of its own, measured by callgrind).
local extras = false
local function with_prefix(ctx, url)
  if ctx and ctx.prefix and url:byte(1) == 47 then return ctx.prefix .. url end
  return url
end
function E.new_context(host_url)
  -- (A scenario's VU also gets `tags` and `tag_table`, set once by runner.lua: not here, so a context outside
  -- scenarios keeps its five fields and its table's size. A first measurement blamed them for +135
  -- instructions a request; that was Lua's per-run string-hash seed, which moves a run by ±0.5 %.)
  local ctx = { finished = 0, step = 0, last = false, outcome = false, yielded = false }
  local url = host_url or E.default_host
  if url ~= nil then
    local b = bases[url]
    if b == nil then
      local scheme, host, port, path = U.split(url)
      -- Locust's base URL: a path in the host ("http://h/api/v1") prefixes every relative path.
      local prefix = path and path:gsub("/$", "")
      if prefix == "" then prefix = nil end
      if prefix then prefixed, extras = true, true end
      b = scheme and { U.origin(scheme, host, port), scheme, host, prefix } or false
      bases[url] = b
    end
    if b then ctx.base, ctx.base_scheme, ctx.base_host, ctx.prefix = b[1], b[2], b[3], b[4] end
  end
  return ctx
end

-- The override window of the VU's last response ends (its next request, sleep or task end).
local function close(ctx)
  ctx.last = false
end
E.close = close

-- Closes the window and hands over what the engine must record: outcome and finished task runs.
local function settle(ctx)
  local outcome, finished = ctx.outcome, ctx.finished
  ctx.last, ctx.outcome, ctx.finished = false, false, 0
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

-- The absolute URL of a path as requested, with the VU's base (its class's host, or -H).
local function absolute(ctx, path)
  if path:byte(1) == 47 and ctx.base then return ctx.base .. path end
  return path
end

-- Computed when first read, so a response that nobody looks into costs no table or string work:
-- headers (split from the raw head), url (absolute), history (redirect hops), timings (the engine's).
-- A response keeps everything in its array part, which a table constructor fills with one allocation and
-- no hashing (named fields cost a hash part and an insertion each, ~700 instructions a response, read or
-- not); `res.status` & co. are read through __index: slots RAW, CTX, PATH, ERROR, ELAPSED, STATUS, BODY.
local RAW, CTX, PATH, ERROR, ELAPSED, STATUS, BODY = 1, 2, 3, 4, 5, 6, 7
local BATCHED = 8   -- true in a response of http.batch (recorded as it arrived: no override, no timings)
local SLOTS = { status = STATUS, body = BODY, error = ERROR, elapsed = ELAPSED }

local ResponseMT = { __index = function(res, k)
  local slot = SLOTS[k]
  if slot then return rawget(res, slot) end
  if k == "headers" then
    local h = parse_headers(rawget(res, RAW))
    rawset(res, "headers", h)
    return h
  elseif k == "url" then
    return absolute(rawget(res, CTX), rawget(res, PATH))
  elseif k == "proto" then   -- "HTTP/1.1" or "HTTP/2.0" (k6's names): the head's first word
    local raw = rawget(res, RAW)
    return raw and raw:match("^(HTTP/[%d.]+)")
  elseif k == "history" then
    local h = {}
    rawset(res, "history", h)
    return h
  elseif k == "timings" then
    if rawget(res, BATCHED) then error("res.timings: not kept for http.batch responses (use res.elapsed)", 2) end
    if rawget(res, CTX).last ~= res then
      error("res.timings: read it before the VU's next request, sleep or task end (the engine keeps only the last request's)", 2)
    end
    local t = timings()
    rawset(res, "timings", t)
    return t
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
  if rawget(res, BATCHED) then
    error(fname .. ": http.batch responses are recorded as they arrive, by the default rule (use check() on them)", 3)
  end
  if rawget(res, CTX).last ~= res then
    error(fname .. ": too late, this response was already recorded (call it before the VU's next request, sleep or task end)", 3)
  end
end

function Response.failure(res, msg)
  settable(res, "failure")
  rawget(res, CTX).outcome = msg == nil and "failure" or tostring(msg)
end

function Response.success(res)
  settable(res, "success")
  rawget(res, CTX).outcome = true
end

---------------------------------------------------------------- request options
E.encode_query = U.encode_query

-- Checked paths and their default stats names, so a repeated path costs one lookup. Bounded, since a
-- script may build a new path for every request. Level 3: default_name ← the request function ← the script.
local url_names, url_count = {}, 0
local function default_name(fname, url)
  if type(url) ~= "string" then error(format("%s: expected a path string, got %s", fname, type(url)), 3) end
  if url:byte(1) ~= 47 and not url:find("^https?://") then
    error(format("%s: %q must start with / or http:// or https://", fname, url), 3)
  end
  if url:find("[%c ]") then
    error(format("%s: %q has a space or a control character: percent-encode it (%%20) or pass it in opts.query", fname, url), 3)
  end
  local q = url:find("?", 1, true)
  local name = q and url:sub(1, q - 1) or url
  if url_count >= 10000 then url_names, url_count = {}, 0 end
  url_names[url] = name
  url_count = url_count + 1
  return name
end

---------------------------------------------------------------- stats rows
-- Stats rows are numbered per Lua state; the engine learns a row's method and name with its first request.
local stat_ids, stat_count = {}, 0

-- Groups name requests (k6's `::` nesting): inside group("login", fn) a request's row is "login::/token".
-- Off until the first group() hands its naming function over (checks.lua), and then tested only where
-- `extras` or opts already take a request off the plain path: a script without groups pays nothing.
local grouped, group_name = false, nil
function E.use_groups(fn) group_name, grouped, extras = fn, true, true end

local function new_stat(byname, name)
  local id = stat_count
  stat_count = id + 1
  byname[name] = id
  return id
end

-- Tagged rows (opts.tags, a scenario's tag): their own ids, by method, tags ("k:v,k2:v2"), then name (nested
-- tables, not one key made per request: a string built per request cost ~700 instructions, callgrind). A new
-- row's tags go in E.row_tags[id], where the engine reads them when the row's first request comes (so a
-- tagged request's frame is a plain one: one request path for both).
local tagged_ids = {}
local row_tags = {}
E.row_tags = row_tags
local function tagged_stat(method, name, tags)
  local bytags = tagged_ids[method]
  if bytags == nil then bytags = {}; tagged_ids[method] = bytags end
  local byname = bytags[tags]
  if byname == nil then byname = {}; bytags[tags] = byname end
  local id = byname[name]
  if id == nil then
    id = new_stat(byname, name)
    row_tags[id] = tags
  end
  return id
end

-- A request's tags: its VU's scenario's, then opts.tags over them; "k:v,…" keys sorted, or false for none.
-- Level 3: request_tags ← the request function ← the script.
local function build_tags(fname, ctx, extra)
  local t = {}
  if ctx and ctx.tag_table then for k, v in pairs(ctx.tag_table) do t[k] = v end end
  for k, v in pairs(extra) do
    local ok, text = pcall(E.tag_text, fname .. ": opts.tags", k, v)
    if not ok then error(text, 4) end
    t[k] = text
  end
  local s = E.tag_string(t)
  return s ~= "" and s
end

-- One tag (`{ kind = "write" }`, the usual case) is looked up in a memo by (scenario tags, key, value): a
-- table and a sort per request made a tagged request cost 2.3x an untagged one with opts (callgrind).
local memo, memo_count = {}, 0
local function request_tags(fname, ctx, extra)
  if extra == nil then return ctx and ctx.tags end
  local k, v = next(extra)
  if k == nil or next(extra, k) ~= nil or type(v) ~= "string" then
    local s = build_tags(fname, ctx, extra)   -- (not a tail call: the error level counts this frame)
    return s
  end
  local base = ctx and ctx.tags or ""
  local byk = memo[base]
  if byk == nil then byk = {}; memo[base] = byk end
  local byv = byk[k]
  if byv == nil then byv = {}; byk[k] = byv end
  local s = byv[v]
  if s == nil then
    if memo_count >= 10000 then memo, memo_count = {}, 0 end   -- bounded: values may be built per request
    s = build_tags(fname, ctx, extra)
    byv[v] = s
    memo_count = memo_count + 1
  end
  return s
end

-- A VU of a scenario exists: plain requests look at their context's tags too (single-model runs never do).
function E.use_tags() extras = true end

---------------------------------------------------------------- cookies
-- The scheme, host and path a request goes to (its VU's base when the path is relative).
local function target(ctx, url)
  local scheme, host, _, path = U.split(url)
  if scheme == nil then return ctx.base_scheme, ctx.base_host, path end
  return scheme, host, path
end

-- The jar's matching cookies and opts.cookies (`extra`) as a Cookie line, appended to `headers`.
local function with_cookies(ctx, headers, url, extra)
  local jar, line = ctx.jar, nil
  if jar ~= nil then
    local scheme, host, path = target(ctx, url)
    if host then line = C.header(jar, scheme, host, path) end
  end
  if extra ~= nil then
    local parts = {}
    for k, v in pairs(extra) do parts[#parts + 1] = tostring(k) .. "=" .. tostring(v) end
    sort(parts)
    if #parts > 0 then line = (line and line .. "; " or "") .. concat(parts, "; ") end
  end
  if line == nil then return headers end
  return headers .. "Cookie: " .. line .. "\r\n"
end

-- Whether any VU of this state has kept a cookie: until then a plain request does not look at its jar.
local cookies_seen = false

-- Keeps the Set-Cookie headers of a response to `url` in the VU's jar.
local function keep_cookies(ctx, raw, url)
  local scheme, host, path = target(ctx, url)
  if host == nil then return end
  cookies_seen, extras = true, true
  local jar = ctx.jar or {}
  ctx.jar = jar
  for line in raw:gmatch("([^\r\n]*)\r\n") do
    if line:sub(1, 11):lower() == "set-cookie:" then C.store(jar, line:sub(12):match("^%s*(.-)%s*$"), host, path) end
  end
end

---------------------------------------------------------------- redirects
local REDIRECT = { [301] = true, [302] = true, [303] = true, [307] = true, [308] = true }
local MAX_REDIRECTS = 30
local TOO_MANY = "too many redirects (more than " .. MAX_REDIRECTS .. ")"

-- What one hop of a redirect chain sends, as requests does: 303 (and 301/302 after a POST... or any
-- non-HEAD for 302/303) becomes a GET without a body; 307/308 keep method and body. Authorization goes
-- only to the host that was asked first.
local function next_hop(ctx, r, status, location)
  local from = absolute(ctx, r.url)
  local to = U.resolve(from, location)
  local scheme, host, port, path, query = U.split(to)
  if scheme == nil then return nil end
  if (status == 303 and r.method ~= "HEAD") or (status == 302 and r.method ~= "HEAD") or (status == 301 and r.method == "POST") then
    r.method, r.body = "GET", nil
  end
  if r.first_host == nil then
    local _, first = U.split(from)
    r.first_host = first
  end
  local drop = {}
  if r.body == nil then drop["content-type"] = true end
  if host ~= r.first_host then drop.authorization = true end
  -- Back on the VU's own origin, the path alone: the engine then reuses the kept-alive connection.
  r.url = U.origin(scheme, host, port) == ctx.base and (path .. (query and "?" .. query or "")) or to
  local headers, has_cookie = DEFAULT_HEADERS, false
  if r.opts then headers, has_cookie = O.headers(r.fname, r.opts, r.body and O.body_type(r.opts, r.body), drop, 6) end
  if not has_cookie then headers = with_cookies(ctx, headers, r.url, r.opts and r.opts.cookies) end
  r.headers = headers
  return from
end

-- Follows the chain from a 3xx reply, one frame per hop (LL_SLOT_FOLLOWS: the engine counts the hop as a
-- redirect and carries its time); returns the last reply, the hops as { status, url }, and a failure
-- message when the chain was too long. `history`: the hops an http.batch entry already made.
local function follow(ctx, r, status, elapsed, body, err, raw, history)
  local failure, flags = nil, 0
  history = history or {}
  while REDIRECT[status] and raw do
    local location = parse_headers(raw).location
    if location == nil then break end
    if #history == MAX_REDIRECTS then
      failure = TOO_MANY
      break
    end
    local from = next_hop(ctx, r, status, location)
    if from == nil then break end
    history[#history + 1] = { status = status, url = from }
    status, elapsed, body, err, raw, flags = yield(OP_HTTP, nil, 0, r.stat, r.method, r.url, r.headers, r.body, r.timeout, r.name, true)
    current = ctx
    if flags & FLAG_SET_COOKIE ~= 0 then keep_cookies(ctx, raw, r.url) end
  end
  return status, elapsed, body, err, raw, history, failure
end

-- A reply that asks for more (LL_REPLY_FLAGS): cookies to keep, a redirect to follow (unless
-- allow_redirects = false). A followed chain's last reply replaces the first in `res`.
local function attend(ctx, res, flags, method, url, body, timeout, name, stat, opts, fname)
  if flags & FLAG_SET_COOKIE ~= 0 then keep_cookies(ctx, rawget(res, RAW), url) end
  if flags & FLAG_REDIRECT == 0 or (opts ~= nil and opts.allow_redirects == false) then return end
  local r = { method = method, url = url, body = body, timeout = timeout, name = name, stat = stat, opts = opts, fname = fname }
  local status, elapsed, rbody, err, raw, history, failure =
    follow(ctx, r, res[STATUS], rawget(res, ELAPSED), rawget(res, BODY), rawget(res, ERROR), rawget(res, RAW))
  res[STATUS], res[BODY], res[ELAPSED], res[ERROR], res[RAW], res[PATH] = status, rbody, elapsed, err, raw, r.url
  rawset(res, "history", history)
  ctx.last = res
  if failure then ctx.outcome = failure end
end

---------------------------------------------------------------- requests
-- A request's options checked and applied (O.prepare), with the VU's cookies unless the script set a
-- Cookie header itself. Errors name the script's line: level 3 here is the request function's caller.
local function with_options(fname, url, opts, name, ctx)
  if type(opts) ~= "table" then error(fname .. ": opts must be a table", 3) end
  local headers, body, timeout, opt_url, opt_name, has_cookie = O.prepare(fname, url, opts)
  if ctx ~= nil and not has_cookie and (ctx.jar ~= nil or opts.cookies ~= nil) then
    headers = with_cookies(ctx, headers, opt_url, opts.cookies)
  end
  return headers, body, timeout, opt_url, opt_name or name
end

-- One request function per method (http.get, ...): the method, its name for messages and its stats
-- rows are upvalues, so a plain request does no string work and no extra call: options, cookies,
-- redirects and tags cost only the requests that have them.
local requesters = {}
local function requester(method)
  local fname = "http." .. method:lower()
  local byname = stat_ids[method] or {}
  stat_ids[method] = byname
  local fn = function(url, opts)
    local name = url_names[url] or default_name(fname, url)
    local headers, body, timeout, stat = DEFAULT_HEADERS, nil, nil, nil
    local ctx = current
    -- The stats row is chosen in each branch (a tagged request, opts.tags or its VU's scenario's tag, has one
    -- of its own), so a plain request takes it in the last branch and runs not one instruction more for tags.
    -- (`if x then`, not `if x ~= nil then`: Lua 5.4 compares with nil through a function call.)
    if opts then
      if prefixed then url = with_prefix(ctx, url) end
      headers, body, timeout, url, name = with_options(fname, url, opts, name, ctx)
      if grouped then name = group_name(name) end
      local tags = (opts.tags or (ctx and ctx.tags)) and request_tags(fname, ctx, opts.tags)
      stat = tags and tagged_stat(method, name, tags) or byname[name] or new_stat(byname, name)
    elseif extras then
      if prefixed then url = with_prefix(ctx, url) end
      if cookies_seen and ctx and ctx.jar then headers = with_cookies(ctx, headers, url, nil) end
      if grouped then name = group_name(name) end
      local tags = ctx and ctx.tags
      stat = tags and tagged_stat(method, name, tags) or byname[name] or new_stat(byname, name)
    else   -- (not `stat = byname[name] or …`: its TESTSET copies the row id, 12 instructions a request, callgrind)
      stat = byname[name]
      if not stat then stat = new_stat(byname, name) end
    end
    if not ctx then
      error(fname .. ": requests can only be made inside tasks, on_start, on_stop, setup or teardown", 2)
    end
    -- settle(ctx), inline: the previous response's window ends, its outcome goes with this frame.
    local outcome, finished = ctx.outcome, ctx.finished
    if outcome then ctx.outcome = false end
    ctx.last, ctx.finished = false, 0
    -- The frame's order is LL_SLOT_*'s and the reply's LL_REPLY_*'s (protocol_test.lua checks both).
    local status, elapsed, rbody, err, raw, flags = yield(OP_HTTP, outcome, finished, stat, method, url, headers, body, timeout, name)
    current = ctx
    ctx.yielded = true
    local res = setmetatable({ raw, ctx, url, err, elapsed, status, rbody }, ResponseMT)
    if flags ~= 0 then attend(ctx, res, flags, method, url, body, timeout, name, stat, opts, fname) end
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

---------------------------------------------------------------- http.batch
-- k6's http.batch: one VU's requests at once, the responses in the list's order (or under the keys of a keyed
-- table). Each entry is checked (options, cookies, group name, tags, stats row) exactly as one request is,
-- before anything is sent, so a bad entry sends nothing; errors name the script's line and the entry. The
-- engine runs the entries as streams of one HTTP/2 connection or on --batch-per-host HTTP/1.1 connections;
-- those it does not run (another origin than the first entry's, no connection free) come back as nil and go
-- here one after another, as ordinary requests. Batch responses are recorded as they arrive, by the default
-- rule (k6's): res:failure / res:success do not apply to them (use check()).
-- Redirects: an entry's frame says whether a redirect of its (LL_SLOT_BATCH_REDIRECTS) is a hop to follow;
-- the engine then counts it as a redirect and Lua sends the hops of every entry that got one as the next
-- batch, each carrying its chain's time (LL_SLOT_FOLLOWS), until no entry has a hop left.
local OP_BATCH, BATCH_STRIDE, REPLY_COUNT = P.OP_BATCH, P.BATCH_STRIDE, P.REPLY_COUNT
local BATCH_MAX = P.BATCH_MAX
local unpack = table.unpack
local frame = {}   -- the batch frame's values, reused (yield copies them)

-- An entry's method, URL, body and opts from its forms: "url" (a GET), { method, url, opts } (ours),
-- { method, url, body, params } (k6's), { method = , url = , body = , params = | opts = } (k6's object).
local function entry_parts(fname, e)
  if type(e) == "string" then return "GET", e, nil end
  if type(e) ~= "table" then error(format("%s: expected a URL string or a table, got %s", fname, type(e)), 3) end
  local method, url, body, opts
  if e.url ~= nil or e.method ~= nil then
    method, url, body, opts = e.method or "GET", e.url, e.body, e.params or e.opts
  else
    method, url = e[1], e[2]
    if type(e[3]) == "table" and e[4] == nil then opts = e[3] else body, opts = e[3], e[4] end
  end
  if type(method) ~= "string" or not method:find("^%u+$") then
    error(format("%s: method must be an upper-case name like \"GET\", got %s", fname, tostring(method)), 3)
  end
  if opts ~= nil and type(opts) ~= "table" then error(fname .. ": opts must be a table", 3) end
  if body ~= nil then
    if type(body) ~= "string" and type(body) ~= "table" then
      error(format("%s: body must be a string or a table (a form), got %s", fname, type(body)), 3)
    end
    local o = {}
    if opts then for k, v in pairs(opts) do o[k] = v end end
    if type(body) == "table" then o.form = body else o.body = body end
    opts = o
  end
  return method, url, opts
end

-- A keyed batch's keys, sorted (k6's object form: `{ home = "/", api = { "GET", "/api" } }`), so it goes in
-- the same order every run; nil for a list. A table that mixes the two is an error at the script's line.
local function batch_keys(list)
  local n, count, keys = #list, 0, {}
  for k in pairs(list) do
    count = count + 1
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  if count == n then return nil end
  if #keys ~= count then
    error("http.batch: expected a list of requests or a table of named requests, not both (or other keys)", 3)
  end
  sort(keys)
  return keys
end

-- Yields one batch frame of `round` (each entry LL_BATCH_STRIDE values in LL_SLOT_STAT.. order) and returns
-- the reply, packed.
local function send_batch(ctx, round)
  local n = #round
  local outcome, finished = ctx.outcome, ctx.finished
  if outcome then ctx.outcome = false end
  ctx.last, ctx.finished = false, 0
  frame[1], frame[2], frame[3], frame[4] = OP_BATCH, outcome, finished, n
  local at = 4
  for k = 1, n do
    local r = round[k]
    for f = 1, BATCH_STRIDE do frame[at + f] = r[f] end
    at = at + BATCH_STRIDE
  end
  local reply = table.pack(yield(unpack(frame, 1, at)))
  current = ctx
  ctx.yielded = true
  for j = at, 5, -1 do frame[j] = nil end   -- no entry's strings kept alive by the reused frame
  return reply
end

-- The redirect chain of entry `e` (its request as next_hop reads it, and its hops so far), made at its first hop.
local function chain_of(chains, k, e)
  local c = chains[k]
  if c == nil then
    c = { r = { stat = e[1], method = e[2], url = e[3], body = e[5], timeout = e[6], name = e[7],
                opts = e.opts, fname = e.fname }, history = {} }
    chains[k] = c
  end
  return c
end

-- The hop that follows `res` (a redirect the engine counted: its entry's policy was to follow), as the next
-- round's entry: the chain's time so far travels in LL_SLOT_FOLLOWS, and past MAX_REDIRECTS hops its next
-- redirect is recorded as a failure (the plain path's rule). nil: no Location, or one that resolves to no
-- URL (then the counted redirect ends the chain, as a plain request's does).
local function batch_hop(ctx, chains, k, e, res)
  local location = parse_headers(rawget(res, RAW)).location
  if location == nil then return nil end
  local c = chain_of(chains, k, e)
  local r, status = c.r, rawget(res, STATUS)
  local from = next_hop(ctx, r, status, location)
  if from == nil then return nil end
  local h = c.history
  h[#h + 1] = { status = status, url = from }
  return { r.stat, r.method, r.url, r.headers, r.body, r.timeout, r.name, rawget(res, ELAPSED),
           #h < MAX_REDIRECTS or TOO_MANY }
end

-- The entries (`rest`: their positions in `round`) the engine did not run, one after another as ordinary
-- requests, recorded by the default rule when the next frame goes; their redirects followed as a plain
-- request's (a hop of an entry continues its chain: its time, hops and redirect budget).
local function run_rest(ctx, round, at, rest, out, chains)
  for _, j in ipairs(rest) do
    local e, k = round[j], at[j]
    local outcome, finished = ctx.outcome, ctx.finished
    if outcome then ctx.outcome = false end
    ctx.last, ctx.finished = false, 0
    local status, elapsed, rbody, err, raw, flags =
      yield(OP_HTTP, outcome, finished, e[1], e[2], e[3], e[4], e[5], e[6], e[7], e[8])
    current = ctx
    if flags & FLAG_SET_COOKIE ~= 0 then keep_cookies(ctx, raw, e[3]) end
    local res = setmetatable({ raw, ctx, e[3], err, elapsed, status, rbody, true }, ResponseMT)
    if flags & FLAG_REDIRECT ~= 0 and e[9] then
      local c = chain_of(chains, k, e)
      local history, failure
      status, elapsed, rbody, err, raw, history, failure = follow(ctx, c.r, status, elapsed, rbody, err, raw, c.history)
      res[STATUS], res[BODY], res[ELAPSED], res[ERROR], res[RAW], res[PATH] = status, rbody, elapsed, err, raw, c.r.url
      if failure then ctx.outcome = failure end
    end
    if chains[k] then rawset(res, "history", chains[k].history) end
    out[k] = res
  end
end

function http.batch(list)
  if type(list) ~= "table" then error("http.batch: expected a list of requests", 2) end
  local ctx = current
  if not ctx then error("http.batch: requests can only be made inside tasks, on_start, on_stop, setup or teardown", 2) end
  local keys = batch_keys(list)
  local n = keys and #keys or #list
  if n > BATCH_MAX then error(format("http.batch: %d requests, more than the %d one batch may hold", n, BATCH_MAX), 2) end
  local round, at = {}, {}
  -- Each entry as one request is prepared (levels as in the request functions: with_options, default_name
  -- and request_tags are called from here, one level below the script).
  for k = 1, n do
    local key = keys and keys[k] or k
    local fname = keys and format("http.batch: request %q", key) or "http.batch: request " .. k
    local method, url, opts = entry_parts(fname, list[key])
    local name = url_names[url] or default_name(fname, url)
    local headers, body, timeout, tags = DEFAULT_HEADERS, nil, nil, false
    if opts then
      if prefixed then url = with_prefix(ctx, url) end
      headers, body, timeout, url, name = with_options(fname, url, opts, name, ctx)
      if grouped then name = group_name(name) end
      tags = (opts.tags or ctx.tags) and request_tags(fname, ctx, opts.tags) or false
    elseif extras then
      if prefixed then url = with_prefix(ctx, url) end
      if cookies_seen and ctx.jar then headers = with_cookies(ctx, headers, url, nil) end
      if grouped then name = group_name(name) end
      tags = ctx.tags or false
    end
    if requesters[method] == nil then requester(method) end
    local byname = stat_ids[method]
    local stat = tags and tagged_stat(method, name, tags) or byname[name] or new_stat(byname, name)
    local follows = not (opts and opts.allow_redirects == false)
    round[k] = { stat, method, url, headers, body, timeout, name, false, follows, opts = opts, fname = fname }
    at[k] = k
  end
  if n == 0 then return {} end
  local out, chains = {}, {}
  repeat
    local reply = send_batch(ctx, round)
    local hops, hop_at, rest = {}, {}, nil
    for j = 1, #round do
      local b, e, k = (j - 1) * REPLY_COUNT, round[j], at[j]
      local status = reply[b + 1]
      if status == nil then
        rest = rest or {}
        rest[#rest + 1] = j
      else
        local url, raw, flags = e[3], reply[b + 5], reply[b + 6]
        if flags & FLAG_SET_COOKIE ~= 0 then keep_cookies(ctx, raw, url) end
        local res = setmetatable({ raw, ctx, url, reply[b + 4], reply[b + 2], status, reply[b + 3], true }, ResponseMT)
        out[k] = res
        local hop = flags & FLAG_REDIRECT ~= 0 and e[9] == true and batch_hop(ctx, chains, k, e, res)
        if hop then
          local m = #hops + 1
          hops[m], hop_at[m] = hop, k
        end
        if chains[k] then rawset(res, "history", chains[k].history) end
      end
    end
    if rest then run_rest(ctx, round, at, rest, out, chains) end
    round, at = hops, hop_at
  until #round == 0
  ctx.last = false   -- recorded by the default rule: no override window
  if keys == nil then return out end
  local named = {}
  for k = 1, n do named[keys[k]] = out[k] end
  return named
end

-- The running VU's cookies as name → value: those a request to `url` would carry, or every one.
function http.cookies(url)
  local ctx = current
  if ctx == nil then error("http.cookies: only inside tasks, on_start, on_stop, setup or teardown", 2) end
  if url ~= nil and (type(url) ~= "string" or (url:byte(1) ~= 47 and not url:find("^https?://"))) then
    error("http.cookies: expected a path or an http(s) URL", 2)
  end
  local out = {}
  local jar = ctx.jar
  if jar == nil then return out end
  local list = jar
  if url ~= nil then
    local scheme, host, path = target(ctx, url)
    list = host and C.matching(jar, scheme, host, path) or {}
  end
  for i = #list, 1, -1 do out[list[i].name] = list[i].value end   -- the first (longest path) wins
  return out
end

-- Empties the running VU's jar.
function http.clear_cookies()
  local ctx = current
  if ctx == nil then error("http.clear_cookies: only inside tasks, on_start, on_stop, setup or teardown", 2) end
  ctx.jar = nil
end

function sleep(seconds)
  if type(seconds) ~= "number" or seconds < 0 then error("sleep: expected a number of seconds >= 0", 2) end
  local ctx = current
  if ctx == nil then error("sleep: only inside tasks, on_start or on_stop", 2) end
  local outcome, finished = settle(ctx)
  yield(OP_SLEEP, outcome, finished, seconds)
  current = ctx
end
