-- Every frame the prelude yields (or returns) to the engine, read at yield_protocol.h's LL_SLOT_*
-- positions, and replies placed at LL_REPLY_*: what the engine would see, without the engine.
local T = ...
local E, P = T.E, T.P
local tests = {}

function tests.the_protocol_table_holds_the_headers_numbers()
  local ops = { P.OP_HTTP, P.OP_SLEEP, P.OP_WAIT, P.OP_ERROR, P.OP_STOPPED, P.OP_IDLE, P.OP_RAW, P.OP_THREAD_STOP, P.OP_BATCH }
  local seen = {}
  for i, op in ipairs(ops) do
    T.eq(math.type(op), "integer", "op #" .. i)
    T.ok(not seen[op], "op #" .. i .. " is distinct")
    seen[op] = true
  end
  T.eq(P.SLOT_OP, 1, "the op comes first")
  T.eq(P.HTTP_FRAME_SIZE, P.SLOT_NAME, "the name ends an HTTP frame")
  T.eq(P.SLOT_FOLLOWS, P.HTTP_FRAME_SIZE + 1, "a redirect hop's frame adds one value")
  T.eq(P.REPLY_COUNT, 6, "reply values")
  T.eq(P.REPLY_FLAGS, P.REPLY_COUNT, "the flags end a reply")
  T.eq(P.SLOT_BATCH_FIRST, P.SLOT_BATCH_COUNT + 1, "a batch's entries follow its count")
  T.eq(P.BATCH_STRIDE, P.SLOT_BATCH_REDIRECTS - P.SLOT_STAT + 1, "a batch entry: a request's values, follows, redirects")
  T.eq(P.SLOT_BATCH_REDIRECTS, P.SLOT_FOLLOWS + 1, "the redirect policy after FOLLOWS")
end

-- Entry k's (1-based) field `slot` (an LL_SLOT_STAT..LL_SLOT_BATCH_REDIRECTS number) in a batch frame.
local function field(f, k, slot) return f[P.SLOT_BATCH_FIRST + (k - 1) * P.BATCH_STRIDE + slot - P.SLOT_STAT] end

function tests.a_batch_frame_and_its_reply_in_order()
  local rs
  task(function()
    rs = http.batch({ "/a", { "POST", "/b", { body = "x", name = "bee", timeout = 3 } },
                      { method = "PUT", url = "/c", body = "y", params = { headers = { ["X-K"] = "v" } } },
                      { "DELETE", "/d", nil, { query = { q = 1 } } } })
    sleep(1)
  end)
  local co = T.vu()
  local f = T.resume(co, 1, 1)
  T.eq(f[P.SLOT_OP], P.OP_BATCH, "op")
  T.eq(f[P.SLOT_BATCH_COUNT], 4, "count")
  T.eq(f.n, P.SLOT_BATCH_FIRST - 1 + 4 * P.BATCH_STRIDE, "frame size")
  T.eq(field(f, 1, P.SLOT_METHOD), "GET", "a URL string is a GET")
  T.eq(field(f, 1, P.SLOT_URL), "/a", "url 1")
  T.eq(field(f, 1, P.SLOT_HEADERS), T.DEFAULT_HEADERS, "headers 1")
  T.eq(field(f, 2, P.SLOT_METHOD), "POST", "method 2")
  T.eq(field(f, 2, P.SLOT_BODY), "x", "body 2 (opts.body)")
  T.eq(field(f, 2, P.SLOT_TIMEOUT), 3, "timeout 2")
  T.eq(field(f, 2, P.SLOT_NAME), "bee", "name 2")
  T.eq(field(f, 3, P.SLOT_BODY), "y", "body 3 (k6's object form)")
  T.eq(field(f, 3, P.SLOT_HEADERS), "X-K: v\r\n" .. T.DEFAULT_HEADERS, "params 3")
  T.eq(field(f, 4, P.SLOT_URL), "/d?q=1", "k6's array form: opts fourth")
  T.ok(field(f, 1, P.SLOT_STAT) ~= field(f, 2, P.SLOT_STAT), "rows by method and name")
  local reply = {}
  for k = 1, 4 do
    local r = { T.reply(200 + k, k, "body" .. k, nil, "HTTP/2.0 20" .. k .. "\r\nx: " .. k .. "\r\n\r\n") }
    for j = 1, P.REPLY_COUNT do reply[(k - 1) * P.REPLY_COUNT + j] = r[j] end
  end
  local s = T.resume(co, table.unpack(reply, 1, 4 * P.REPLY_COUNT))
  T.eq(#rs, 4, "four responses")
  for k = 1, 4 do
    T.eq(rs[k].status, 200 + k, "status " .. k); T.eq(rs[k].body, "body" .. k, "body " .. k)
    T.eq(rs[k].headers.x, tostring(k), "headers " .. k); T.eq(rs[k].proto, "HTTP/2.0", "proto " .. k)
  end
  T.eq(s[P.SLOT_OP], P.OP_SLEEP, "then the sleep")
  T.eq(s[P.SLOT_OUTCOME], false, "batch responses are recorded by the engine: no outcome travels")
end

-- A batch reply from per-entry reply lists (nil: an entry the engine did not run).
local function batch_reply(n, replies)
  local out = {}
  for k = 1, n do
    local r = replies[k]
    if r then for j = 1, P.REPLY_COUNT do out[(k - 1) * P.REPLY_COUNT + j] = r[j] end end
  end
  return table.unpack(out, 1, n * P.REPLY_COUNT)
end

function tests.a_keyed_batch_goes_in_key_order_and_answers_by_key()
  local rs
  task(function() rs = http.batch({ home = "/", api = { "POST", "/api", "b" }, zeta = { url = "/z" } }) end)
  local co = T.vu()
  local f = T.resume(co, 1, 1)
  T.eq(f[P.SLOT_BATCH_COUNT], 3, "count")
  T.eq(field(f, 1, P.SLOT_URL), "/api", "sorted keys: api first")
  T.eq(field(f, 1, P.SLOT_BODY), "b", "api's body")
  T.eq(field(f, 2, P.SLOT_URL), "/", "then home")
  T.eq(field(f, 3, P.SLOT_URL), "/z", "then zeta")
  T.resume(co, batch_reply(3, { { T.reply(201, 1, "A") }, { T.reply(200, 1, "H") }, { T.reply(202, 1, "Z") } }))
  T.eq(rs.api.body .. rs.home.body .. rs.zeta.body, "AHZ", "each response under its key")
  T.eq(rs[1], nil, "no list part")
end

function tests.batch_entries_carry_tags_group_names_and_redirect_policies()
  task(function()
    group("login", function()
      http.batch({ "/a", { "GET", "/b", { tags = { kind = "api" } } }, { "GET", "/c", { allow_redirects = false } } })
    end)
    stop()
  end)
  local co = T.vu()
  local f = T.resume(co, 1, 1)
  T.eq(field(f, 1, P.SLOT_NAME), "login::/a", "the group prefixes the name")
  T.eq(field(f, 2, P.SLOT_NAME), "login::/b", "a tagged entry too")
  T.eq(E.row_tags[field(f, 1, P.SLOT_STAT)], nil, "no tags")
  T.eq(E.row_tags[field(f, 2, P.SLOT_STAT)], "kind:api", "opts.tags: the row's tags, where the engine reads them")
  T.eq(field(f, 1, P.SLOT_FOLLOWS), false, "not a hop")
  T.eq(field(f, 1, P.SLOT_BATCH_REDIRECTS), true, "redirects followed")
  T.eq(field(f, 3, P.SLOT_BATCH_REDIRECTS), false, "allow_redirects = false")
  T.ok(field(f, 1, P.SLOT_STAT) ~= field(f, 2, P.SLOT_STAT), "a tagged row of its own")
end

function tests.batch_redirects_go_as_the_next_batch_until_none_is_left()
  local rs
  task(function() rs = http.batch({ "/a", { "POST", "/b", "x" }, "/c" }) end)
  local co = T.vu({ host = "http://h" })
  T.resume(co, 1, 1)
  local function head(status, location) return "HTTP/1.1 " .. status .. " X\r\nLocation: " .. location .. "\r\n\r\n" end
  -- /a and /b redirect (the engine counted both as hops), /c is answered.
  local f = T.resume(co, batch_reply(3, { { T.reply(302, 4, "", nil, head(302, "/a2"), P.FLAG_REDIRECT) },
                                         { T.reply(303, 5, "", nil, head(303, "http://other/b2"), P.FLAG_REDIRECT) },
                                         { T.reply(200, 1, "C") } }))
  T.eq(f[P.SLOT_OP], P.OP_BATCH, "the hops as a batch")
  T.eq(f[P.SLOT_BATCH_COUNT], 2, "two hops")
  T.eq(field(f, 1, P.SLOT_URL), "/a2", "same origin: the path")
  T.eq(field(f, 1, P.SLOT_FOLLOWS), 4, "the chain's time so far")
  T.eq(field(f, 2, P.SLOT_METHOD), "GET", "303: a GET")
  T.eq(field(f, 2, P.SLOT_BODY), nil, "without the body")
  T.eq(field(f, 2, P.SLOT_URL), "http://other/b2", "another origin")
  T.eq(field(f, 2, P.SLOT_FOLLOWS), 5)
  T.eq(field(f, 1, P.SLOT_BATCH_REDIRECTS), true, "one hop of 30")
  -- The engine runs /a2 (another redirect) but not the other origin's hop: that one goes as a request.
  local g = T.resume(co, batch_reply(2, { { T.reply(301, 9, "", nil, head(301, "/a3"), P.FLAG_REDIRECT) } }))
  T.eq(g[P.SLOT_OP], P.OP_HTTP, "the hop the engine did not run")
  T.eq(g[P.SLOT_URL], "http://other/b2")
  T.eq(g[P.SLOT_FOLLOWS], 5, "its chain's time travels in the request's frame")
  local h = T.resume(co, T.reply(200, 7, "B"))
  T.eq(h[P.SLOT_OP], P.OP_BATCH, "then /a's second hop")
  T.eq(h[P.SLOT_BATCH_COUNT], 1)
  T.eq(field(h, 1, P.SLOT_URL), "/a3")
  T.eq(field(h, 1, P.SLOT_FOLLOWS), 9)
  T.resume(co, batch_reply(1, { { T.reply(200, 12, "A") } }))
  T.eq(rs[1].body .. rs[2].body .. rs[3].body, "ABC", "the chains' last responses, in order")
  T.eq(#rs[1].history, 2, "two hops"); T.eq(rs[1].history[2].url, "http://h/a2")
  T.eq(rs[1].url, "http://h/a3"); T.eq(rs[1].elapsed, 12)
  T.eq(#rs[2].history, 1); T.eq(#rs[3].history, 0)
end

function tests.entries_the_engine_did_not_run_go_one_after_another()
  local rs
  task(function() rs = http.batch({ "/a", "/b", "/c" }) end)
  local co = T.vu()
  T.resume(co, 1, 1)
  -- The engine ran only /b (say the others go to HTTP/1.1): nil statuses for 1 and 3.
  local reply = {}
  local r2 = { T.reply(200, 1, "B", nil, nil) }
  for j = 1, P.REPLY_COUNT do reply[P.REPLY_COUNT + j] = r2[j] end
  local f1 = T.resume(co, table.unpack(reply, 1, 3 * P.REPLY_COUNT))
  T.eq(f1[P.SLOT_OP], P.OP_HTTP, "entry 1 as a request")
  T.eq(f1[P.SLOT_URL], "/a", "entry 1's url")
  local f3 = T.resume(co, T.reply(201, 1, "A", nil, nil))
  T.eq(f3[P.SLOT_URL], "/c", "then entry 3")
  T.eq(f3[P.SLOT_OUTCOME], false, "entry 1 by the default rule")
  local w = T.resume(co, T.reply(202, 1, "C", nil, nil))
  T.eq(w[P.SLOT_OP], P.OP_BATCH, "the next task run")
  T.eq(rs[1].body .. rs[2].body .. rs[3].body, "ABC", "responses in the list's order")
  T.eq(rs[3].status, 202, "status 3")
end

function tests.a_bad_entry_names_the_line_and_the_entry_and_sends_nothing()
  task(function()
    local bad = '"GET", got get'
    T.raises(function() http.batch({ "/a", { "get", "/b" } }) end, T.here() .. ": http.batch: request 2: method must be an upper-case name like " .. bad)
    local ok, e = pcall(function() http.batch({ "/a", "/b", { "GET", "/c", { bogus = 1 } } }) end); local line = T.here()
    T.ok(not ok and e:find(line .. ": http.batch: request 3: unknown option bogus (accepted: ", 1, true) == 1, e)
    T.raises(function() http.batch({ "nope" }) end, T.here() .. ': http.batch: request 1: "nope" must start with / or http:// or https://')
    T.raises(function() http.batch("/a") end, T.here() .. ": http.batch: expected a list of requests")
    local mixed = ": http.batch: expected a list of requests or a table of named requests, not both (or other keys)"
    T.raises(function() http.batch({ "/a", home = "/" }) end, T.here() .. mixed)
    local api = ': http.batch: request "api": method must be an upper-case name like "GET", got get'
    T.raises(function() http.batch({ home = "/", api = { "get", "/b" } }) end, T.here() .. api)
    local tag = ": http.batch: request 2: opts.tags: tag keys must be names (letters, digits, _ . -), got 1"
    T.raises(function() http.batch({ "/a", { "GET", "/b", { tags = { [1] = "x" } } } }) end, T.here() .. tag)
    T.eq(#http.batch({}), 0, "an empty batch: no responses")
    local rs = http.batch({ "/ok" })
    local late = ": failure: http.batch responses are recorded as they arrive, by the default rule (use check() on them)"
    T.raises(function() rs[1]:failure("no") end, T.here() .. late)
    stop()
  end)
  local co = T.vu()
  local f = T.resume(co, 1, 1)
  T.eq(f[P.SLOT_OP], P.OP_BATCH, "only the good batch was sent")
  T.eq(f[P.SLOT_BATCH_COUNT], 1, "one entry")
  T.resume(co, T.reply(200, 1, "", nil, nil))
end

function tests.an_http_frame_and_its_reply()
  local res
  task(function()
    res = http.post("/items?a=1", { headers = { ["X-A"] = "b" }, body = "payload", timeout = 2, name = "items",
                                    query = { q = "x y" } })
    sleep(0.5)
  end)
  local co = T.vu()
  local f = T.resume(co, 1, 1)
  T.eq(f.n, P.HTTP_FRAME_SIZE, "frame size")
  T.eq(f[P.SLOT_OP], P.OP_HTTP, "op")
  T.eq(f[P.SLOT_OUTCOME], false, "outcome: none (false, the default rule)")
  T.eq(f[P.SLOT_FINISHED], 0, "finished")
  T.eq(f[P.SLOT_STAT], 0, "the state's first stats row")
  T.eq(f[P.SLOT_METHOD], "POST", "method")
  T.eq(f[P.SLOT_URL], "/items?a=1&q=x%20y", "url")
  T.eq(f[P.SLOT_HEADERS], "X-A: b\r\n" .. T.DEFAULT_HEADERS, "headers")
  T.eq(f[P.SLOT_BODY], "payload", "body")
  T.eq(f[P.SLOT_TIMEOUT], 2, "timeout")
  T.eq(f[P.SLOT_NAME], "items", "name")
  local raw = "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n\r\n"
  local s = T.resume(co, T.reply(201, 12.5, "done", nil, raw))
  T.eq(res.status, 201, "res.status"); T.eq(res.elapsed, 12.5, "res.elapsed")
  T.eq(res.body, "done", "res.body"); T.eq(res.error, nil, "res.error")
  T.eq(res.url, "/items?a=1&q=x%20y", "res.url")
  T.eq(res.headers["content-type"], "text/plain", "res.headers")
  T.eq(res.headers["CONTENT-TYPE"], "text/plain", "any case")
  T.eq(res.headers["set-cookie"], "a, b", "repeated headers")
  T.eq(s[P.SLOT_OP], P.OP_SLEEP, "sleep's op")
  T.eq(s[P.SLOT_SECONDS], 0.5, "sleep's seconds")
end

function tests.a_tagged_requests_frame_is_a_plain_one_and_its_row_keeps_the_tags()
  task(function()
    http.get("/t", { tags = { kind = "x" } })
    http.get("/t")
  end)
  local co = T.vu()
  local f = T.resume(co, 1, 1)
  T.eq(f.n, P.HTTP_FRAME_SIZE, "a plain request's frame")
  T.eq(E.row_tags[f[P.SLOT_STAT]], "kind:x", "the row's tags, read by the engine with its first request")
  local g = T.resume(co, T.reply(200, 1, "", nil, nil))
  T.ok(g[P.SLOT_STAT] ~= f[P.SLOT_STAT], "the untagged request's row is another")
  T.eq(E.row_tags[g[P.SLOT_STAT]], nil, "untagged")
end

function tests.a_transport_error_reply()
  local res
  task(function() res = http.get("/down") end)
  local co = T.vu()
  T.resume(co, 1, 1)
  local f = T.resume(co, T.reply(0, 3, "", "connection refused", nil))
  T.eq(res.status, 0, "status"); T.eq(res.error, "connection refused", "error")
  T.eq(next(res.headers), nil, "no headers")
  T.eq(f[P.SLOT_OP], P.OP_HTTP, "the next task run's request")
  T.eq(f[P.SLOT_FINISHED], 1, "one task run finished")
  T.eq(f[P.SLOT_STAT], 0, "the same row")
end

function tests.outcomes_travel_with_the_next_frame()
  local n = 0
  task(function()
    n = n + 1
    local res = http.get("/x")
    if n == 1 then res:failure("bad status") elseif n == 2 then res:success() end
  end)
  local co = T.vu()
  T.resume(co, 1, 1)
  local f2 = T.resume(co, T.reply(200, 1, "", nil, nil))
  T.eq(f2[P.SLOT_OUTCOME], "bad status", "res:failure(msg)")
  local f3 = T.resume(co, T.reply(500, 1, "", nil, nil))
  T.eq(f3[P.SLOT_OUTCOME], true, "res:success()")
  local f4 = T.resume(co, T.reply(200, 1, "", nil, nil))
  T.eq(f4[P.SLOT_OUTCOME], false, "the default rule")
end

function tests.response_methods_name_the_callers_line()
  task(function()
    local res = http.get("/x")
    T.raises(function() res.failure({}) end, T.here() .. ": failure: call it as res:failure(...)")
    sleep(0)
    local late = ": success: too late, this response was already recorded (call it before the VU's next request, sleep or task end)"
    T.raises(function() res:success() end, T.here() .. late)
    stop()
  end)
  local co = T.vu()
  T.resume(co, 1, 1)
  T.resume(co, T.reply(200, 1, "", nil, nil))   -- the sleep's frame
  local f = T.resume(co)
  T.eq(f[P.SLOT_OP], P.OP_STOPPED, "stop() ends the VU")
end

function tests.open_model_idle_frames_one_task_run_per_resume()
  local runs = 0
  wait = constant(5)   -- the open model has no waits: arrivals set the pace
  function on_start() http.get("/login") end
  task(function() runs = runs + 1; http.get("/item") end)
  local co = T.vu()
  local f = T.resume(co, 1, 1, true)
  T.eq(f[P.SLOT_OP], P.OP_HTTP, "on_start's request")
  f = T.resume(co, T.reply(200, 1, "", nil, nil))
  T.eq(f[P.SLOT_OP], P.OP_IDLE, "after on_start the VU parks")
  T.eq(f[P.SLOT_FINISHED], 0, "on_start is no task run")
  T.eq(runs, 0, "no task before an arrival")
  f = T.resume(co)
  T.eq(f[P.SLOT_OP], P.OP_HTTP, "an arrival: one task run")
  T.eq(runs, 1, "one run")
  f = T.resume(co, T.reply(500, 1, "", nil, nil))
  T.eq(f[P.SLOT_OP], P.OP_IDLE, "then it parks again, with no wait")
  T.eq(f[P.SLOT_FINISHED], 1, "the run is counted")
  T.eq(f[P.SLOT_OUTCOME], false, "the response settles by the default rule")
end

function tests.error_wait_and_stopped_frames()
  local runs, where = 0, nil
  wait = constant(1)
  task(function()
    runs = runs + 1
    if runs == 1 then where = T.here(); error("boom") end
    if runs == 3 then stop() end
  end)
  local co = T.vu()
  local e = T.resume(co, 1, 1)
  T.eq(e[P.SLOT_OP], P.OP_ERROR, "an error's op")
  T.eq(e[P.SLOT_MESSAGE], where .. ": boom", "message")
  T.ok(e[P.SLOT_TRACEBACK]:find("stack traceback:", 1, true), "traceback: " .. tostring(e[P.SLOT_TRACEBACK]))
  -- The prelude's frames are cited by file, as chunk names give them.
  T.ok(e[P.SLOT_TRACEBACK]:find("luaload/runner.lua:%d+: in"), "prelude frames: " .. e[P.SLOT_TRACEBACK])
  local w = T.resume(co)
  T.eq(w[P.SLOT_OP], P.OP_WAIT, "the wait after a task run")
  T.eq(w[P.SLOT_SECONDS], 1, "constant(1)")
  T.eq(w[P.SLOT_FINISHED], 1, "the failed run counts")
  local w2 = T.resume(co)
  T.eq(w2[P.SLOT_OP], P.OP_WAIT, "the second run's wait")
  T.eq(w2[P.SLOT_FINISHED], 1, "the second run finished")
  local s = T.resume(co)
  T.eq(s[P.SLOT_OP], P.OP_STOPPED, "stop()")
  T.eq(s[P.SLOT_FINISHED], 0, "a run that stop() ends does not count")
  T.eq(coroutine.status(co), "dead", "the VU's coroutine returned")
end

function tests.setup_frames_carry_its_json_or_its_failure()
  task(function() end)
  function setup() return { token = "t" } end
  E.finalize({})
  local ok = T.resume(coroutine.create(E.setup_main))
  T.eq(ok[P.SLOT_OP], P.OP_STOPPED, "setup's end")
  T.eq(ok[P.SLOT_SETUP_JSON], '{"token":"t"}', "setup's JSON")
  T.eq(ok[P.SLOT_SETUP_FAILURE], nil, "no failure")
  function setup() error("no token", 0) end
  local co = coroutine.create(E.setup_main)
  local e = T.resume(co)
  T.eq(e[P.SLOT_OP], P.OP_ERROR, "the error is recorded first")
  T.eq(e[P.SLOT_MESSAGE], "setup(): no token", "message")
  local f = T.resume(co)
  T.eq(f[P.SLOT_OP], P.OP_STOPPED, "then setup ends")
  T.eq(f[P.SLOT_SETUP_JSON], nil, "no JSON")
  T.eq(f[P.SLOT_SETUP_FAILURE], "setup() failed: no token", "why")
end

function tests.teardown_gets_setup_data()
  task(function() end)
  local got
  function teardown(data) got = data end
  E.finalize({ setup_json = '{"n": 1}' })
  local f = T.resume(coroutine.create(E.teardown_main))
  T.eq(f[P.SLOT_OP], P.OP_STOPPED, "teardown's end")
  T.eq(got.n, 1, "teardown(setup_data)")
end

return tests
