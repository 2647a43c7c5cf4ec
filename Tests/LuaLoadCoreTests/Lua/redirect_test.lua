-- Redirects as the prelude follows them: the engine flags a redirect status (LL_FLAG_REDIRECT); one frame
-- per hop, marked LL_SLOT_FOLLOWS, with requests' rules for method, body and credentials; cookies from each hop.
local T = ...
local P = T.P
local tests = {}

local function head(status, location, extra)
  return "HTTP/1.1 " .. status .. " X\r\nLocation: " .. location .. "\r\n" .. (extra or "") .. "\r\n"
end

function tests.a_303_after_a_post_becomes_a_get_without_body()
  local res
  task(function()
    res = http.post("/a", { body = "x", headers = { ["Content-Type"] = "text/plain", ["X-Keep"] = "1" }, auth = { "u", "p" } })
  end)
  local co = T.vu({ host = "http://h:8080" })
  local f = T.resume(co, 1, 1)
  T.eq(f.n, P.HTTP_FRAME_SIZE, "a request's frame")
  local hop = T.resume(co, T.reply(303, 1, "", nil, head(303, "/b"), P.FLAG_REDIRECT))
  T.eq(hop.n, P.SLOT_FOLLOWS, "a hop's frame")
  T.eq(hop[P.SLOT_FOLLOWS], true, "marked as a hop")
  T.eq(hop[P.SLOT_OUTCOME], nil, "a hop settles nothing")
  T.eq(hop[P.SLOT_FINISHED], 0)
  T.eq(hop[P.SLOT_STAT], f[P.SLOT_STAT], "the same stats row")
  T.eq(hop[P.SLOT_METHOD], "GET")
  T.eq(hop[P.SLOT_URL], "/b", "same origin: the path alone")
  T.eq(hop[P.SLOT_BODY], nil)
  local h = hop[P.SLOT_HEADERS]
  T.ok(h:find("X-Keep: 1\r\n", 1, true), "the script's headers go on")
  T.ok(not h:find("Content-Type", 1, true), "no Content-Type without a body")
  T.ok(h:find("Authorization: Basic dTpw\r\n", 1, true), "same host: credentials go on")
  T.resume(co, T.reply(200, 2, "done", nil, "HTTP/1.1 200 OK\r\n\r\n"))
  T.eq(res.status, 200); T.eq(res.body, "done")
  T.eq(#res.history, 1); T.eq(res.history[1].status, 303); T.eq(res.history[1].url, "http://h:8080/a")
  T.eq(res.url, "http://h:8080/b")
end

function tests.a_307_keeps_method_and_body_and_another_host_gets_no_credentials()
  task(function() http.put("/a", { body = "keep", auth = { "u", "p" } }) end)
  local co = T.vu({ host = "http://h:8080" })
  T.resume(co, 1, 1)
  local hop = T.resume(co, T.reply(307, 1, "", nil, head(307, "http://other:9/x?y=1"), P.FLAG_REDIRECT))
  T.eq(hop[P.SLOT_METHOD], "PUT"); T.eq(hop[P.SLOT_BODY], "keep")
  T.eq(hop[P.SLOT_URL], "http://other:9/x?y=1", "another origin: the whole URL")
  T.ok(not hop[P.SLOT_HEADERS]:find("Authorization", 1, true), "no credentials for another host")
end

function tests.cookies_of_a_hop_go_with_the_next()
  task(function() http.get("/login") end)
  local co = T.vu({ host = "http://h" })
  T.resume(co, 1, 1)
  local hop = T.resume(co, T.reply(302, 1, "", nil, head(302, "/home", "Set-Cookie: sid=42; Path=/\r\n"), P.FLAG_SET_COOKIE | P.FLAG_REDIRECT))
  T.ok(hop[P.SLOT_HEADERS]:find("Cookie: sid=42\r\n", 1, true), "the cookie set by the redirect")
end

function tests.no_follow_and_no_location_return_the_3xx()
  local a, b
  task(function()
    a = http.get("/a", { allow_redirects = false })
    b = http.get("/b")
  end)
  local co = T.vu({ host = "http://h" })
  T.resume(co, 1, 1)
  local f = T.resume(co, T.reply(302, 1, "", nil, head(302, "/x"), P.FLAG_REDIRECT))
  T.eq(f[P.SLOT_URL], "/b", "no hop with allow_redirects = false")
  T.eq(a.status, 302); T.eq(#a.history, 0)
  T.resume(co, T.reply(301, 1, "", nil, "HTTP/1.1 301 X\r\n\r\n", P.FLAG_REDIRECT))
  T.eq(b.status, 301, "a 3xx without Location is returned as is")
end

return tests
