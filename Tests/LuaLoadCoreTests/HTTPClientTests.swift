import Foundation
import XCTest

/// HTTP client parity with Locust's HttpUser (a requests Session): cookies, redirects, compression, auth,
/// forms, uploads, timings and data feeders, each checked against what a loopback server received.
final class HTTPClientTests: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    func testCookiesAreKeptPerUserAndSentOnlyWhereTheyMatch() throws {
        let script = Luaload.script(#"""
        local function enc(s) return (s:gsub("[^%w]", function(c) return string.format("%%%02X", c:byte()) end)) end
        task(function(self)
          local set = {"sid=" .. self.id .. "; Path=/", "api=1; Path=/json", "gone=x; Max-Age=0", "sec=1; Secure",
                       "foreign=1; Domain=example.com", "old=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT"}
          local q = {}
          for i, c in ipairs(set) do q[i] = "c=" .. enc(c) end
          http.get("/set-cookie?" .. table.concat(q, "&"), { name = "set" })
          http.get("/echo")
          http.get("/json")
          local jar = http.cookies()
          if jar.sid ~= tostring(self.id) or jar.api ~= "1" or jar.gone or jar.foreign or jar.old then fail("jar") end
          local here = http.cookies("/echo")
          if here.api or here.sid ~= tostring(self.id) then fail("cookies for /echo") end
          http.clear_cookies()
          http.get("/echo", { name = "after clear", cookies = { extra = "1" } })
          stop()
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "2", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr + r.stdout)
        XCTAssertEqual(r.failuresCount, 0, "\(r.failures)")
        let echoes = server.received("/echo").map { $0.headers["cookie"] ?? "" }
        XCTAssertEqual(echoes.count, 4)
        XCTAssertEqual(Set(echoes), ["sid=1", "sid=2", "extra=1"], "each user's own cookie, nothing else; after clear only opts.cookies")
        // Longest path first (RFC 6265): the /json cookie, then the user's session.
        XCTAssertEqual(Set(server.received("/json").map { $0.headers["cookie"] ?? "" }), ["api=1; sid=1", "api=1; sid=2"])
        XCTAssertTrue(server.received("/set-cookie").allSatisfy { $0.headers["cookie"] == nil }, "nothing before the first Set-Cookie")
    }

    func testRedirectsAreFollowedAsOneStatsEntryAndCounted() throws {
        let script = Luaload.script(#"""
        task(function()
          local res = http.get("/redirect/3", { name = "chain" })
          if res.status ~= 200 or res.body ~= "done" then fail("chain ended with " .. res.status) end
          if #res.history ~= 3 or res.history[1].status ~= 302 or res.history[1].url ~= HOST .. "/redirect/3" then fail("history") end
          if res.url ~= HOST .. "/redirect/0" then fail("url " .. res.url) end
          local kept = http.get("/redirect/2", { name = "no follow", allow_redirects = false })
          if kept.status ~= 302 or #kept.history ~= 0 then fail("allow_redirects = false") end
          local see = http.post("/redirect-to?status=303&url=/echo", { name = "303", body = "dropped" })
          local seen = see:json()
          if seen.method ~= "GET" or seen.body ~= "" then fail("303 must become a GET without body") end
          local keep = http.post("/redirect-to?status=307&url=/echo", { name = "307", body = "kept" })
          local kept_seen = keep:json()
          if kept_seen.method ~= "POST" or kept_seen.body ~= "kept" then fail("307 keeps method and body") end
          http.get("/loop", { name = "loop" })
          stop()
        end)
        """#.replacingOccurrences(of: "HOST", with: "\"\(server.url)\""))
        let r = try Luaload.run(["-t", "1", "-u", "1", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 1, "the loop's failure sets the exit code: " + r.stderr)
        XCTAssertEqual(r.requests, 5)
        XCTAssertEqual(r.failuresCount, 1)
        XCTAssertEqual(r.failureErrors(), ["too many redirects (more than 30)"])
        XCTAssertEqual(r.row("chain")?["redirects"] as? Int, 3)
        XCTAssertEqual(r.row("no follow")?["redirects"] as? Int, 0)
        XCTAssertEqual(r.row("303", method: "POST")?["redirects"] as? Int, 1)
        XCTAssertEqual(r.row("loop")?["redirects"] as? Int, 30)
        XCTAssertEqual(server.count("/loop"), 31)
        XCTAssertEqual(r.json["redirects"] as? Int, 3 + 1 + 1 + 30)
        // Recorded + redirects + abandoned = what the server saw.
        XCTAssertEqual(r.requests + (r.json["redirects"] as? Int ?? 0) + r.abandoned, server.total)
        XCTAssertEqual(r.errors.count, 0, "\(r.errors)")
    }

    func testCrossHostRedirectDropsAuthorizationAndResolvesNames() throws {
        let other = try TestHTTPServer()
        defer { other.stop() }
        // "localhost" is a name: resolved off the event loop, on the resolver thread.
        let target = "http://localhost:\(other.port)/echo"
        let script = Luaload.script(#"""
        task(function()
          local res = http.get("/redirect-to?status=302&url=TARGET", { auth = { "user", "pass" }, name = "away" })
          if res.status ~= 200 then fail("status " .. res.status .. " " .. tostring(res.error)) end
          local t = res.timings
          if t.dns < 0 or t.connect < 0 then fail("timings") end
          stop()
        end)
        """#.replacingOccurrences(of: "TARGET", with: target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!))
        let r = try Luaload.run(["-t", "1", "-u", "1", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr + "\(r.failures)")
        XCTAssertEqual(server.received("/redirect-to").first?.headers["authorization"], "Basic dXNlcjpwYXNz")
        XCTAssertEqual(other.received("/echo").count, 1)
        XCTAssertNil(other.received("/echo").first?.headers["authorization"], "credentials stay with the host they were given for")
    }

    func testCompressedBodiesAreDecodedAndDefaultHeadersSent() throws {
        let script = Luaload.script(#"""
        task(function()
          local g = http.get("/gzip")
          if g.body ~= string.rep("hello from gzip ", 8) then fail("gzip body: " .. g.body) end
          local d = http.get("/deflate")
          if d.body ~= string.rep("hello from deflate ", 8) then fail("deflate body") end
          local raw = http.get("/raw-deflate")
          if raw.body ~= "hello from raw deflate" then fail("raw deflate body") end
          http.get("/echo", { headers = { ["User-Agent"] = "mine", ["Accept-Encoding"] = "identity" }, name = "own headers" })
          stop()
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "1", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr + "\(r.failures)")
        let gzip = server.received("/gzip").first
        XCTAssertEqual(gzip?.headers["accept-encoding"], "gzip, deflate")
        XCTAssertEqual(gzip?.headers["user-agent"], "luaload/0.2.0")
        let own = server.received("/echo").first
        XCTAssertEqual(own?.headers["user-agent"], "mine")
        XCTAssertEqual(own?.headers["accept-encoding"], "identity")
        // The content size in the stats is the decoded body's.
        XCTAssertEqual(r.row("/gzip")?["avg_content_size"] as? Double, 128)
    }

    func testAuthFormsAndFileUploadsReachTheServer() throws {
        let script = Luaload.script(#"""
        task(function()
          http.post("/echo", { name = "auth", auth = { "user", "pass" } })
          http.post("/echo", { name = "form", form = { b = { "x y", "z" }, a = 1 } })
          http.post("/echo", { name = "upload", form = { note = "hi" },
                               files = { data = { filename = "a.csv", content = "id,n\n1,2\n", content_type = "text/csv" } } })
          stop()
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "1", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr + "\(r.failures)")
        let got = server.received("/echo")
        XCTAssertEqual(got.count, 3)
        XCTAssertEqual(got[0].headers["authorization"], "Basic dXNlcjpwYXNz")
        XCTAssertEqual(got[1].headers["content-type"], "application/x-www-form-urlencoded")
        XCTAssertEqual(String(decoding: got[1].body, as: UTF8.self), "a=1&b=x%20y&b=z")
        let type = got[2].headers["content-type"] ?? ""
        XCTAssertTrue(type.hasPrefix("multipart/form-data; boundary="), type)
        let boundary = String(type.dropFirst("multipart/form-data; boundary=".count))
        let body = String(decoding: got[2].body, as: UTF8.self)
        XCTAssertEqual(body, "--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
            + "--\(boundary)\r\nContent-Disposition: form-data; name=\"data\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\nid,n\n1,2\n\r\n"
            + "--\(boundary)--\r\n")
    }

    func testTimingsPerResponseAndPerRow() throws {
        let script = Luaload.script(#"""
        task(function()
          local first = http.get("/slow?ms=40", { name = "slow" })
          local t = first.timings
          if t.wait < 35 or math.abs(t.total - first.elapsed) > 0.01 then fail("first: wait " .. t.wait .. " total " .. t.total) end
          local again = http.get("/slow?ms=40", { name = "slow" })
          if again.timings.connect ~= 0 or again.timings.tls ~= 0 then fail("a kept-alive connection has no connect phase") end
          local ok, err = pcall(function() return first.timings end)   -- already read: kept
          if not ok then fail(err) end
          local split = http.get("/late-body")
          if split.timings.wait > 100 or split.timings.receive < 150 then fail("late body: wait " .. split.timings.wait) end
          local late = http.get("/ok")
          http.get("/ok")
          local ok2, err2 = pcall(function() return late.timings end)
          if ok2 or not err2:find("before the VU's next request") then fail("late read must be refused") end
          stop()
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "1", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr + "\(r.failures)")
        let timings = r.row("slow")?["timings_ms"] as? [String: Any]
        let wait = timings?["wait"] as? [String: Any]
        XCTAssertEqual(wait?["count"] as? Int, 2)
        XCTAssertGreaterThanOrEqual(wait?["p50"] as? Double ?? 0, 35)
        XCTAssertEqual((timings?["connect"] as? [String: Any])?["count"] as? Int, 1, "one connect for the user's kept-alive connection")
        // A response in two reads (the body 200 ms after the head): its wait is kept apart from its latency; 100 ms
        // of a loaded machine's delays either way still tell them apart.
        let late = r.row("/late-body")
        let lateWait = (late?["timings_ms"] as? [String: Any])?["wait"] as? [String: Any]
        XCTAssertEqual(lateWait?["count"] as? Int, 1)
        XCTAssertLessThan(lateWait?["p50"] as? Double ?? 999, 100)
        XCTAssertGreaterThanOrEqual(late?["median_ms"] as? Double ?? 0, 190)
        let okWait = (r.row("/ok")?["timings_ms"] as? [String: Any])?["wait"] as? [String: Any]
        XCTAssertEqual(okWait?["count"] as? Int, 2)
    }

    func testDataFeedersHandOutEachRowOnceAcrossThreads() throws {
        let dir = Luaload.temporaryDirectory + "luaload-feeder-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "email,password\na@x,1\n\"b,c@x\",\"say \"\"hi\"\"\"\nd@x,3\ne@x,4\nf@x,5\n".write(toFile: dir + "/users.csv", atomically: true, encoding: .utf8)
        try "one\ntwo\n\nthree\n".write(toFile: dir + "/words.txt", atomically: true, encoding: .utf8)
        let script = dir + "/feed.lua"
        try #"""
        local users = data.csv("users.csv")
        local words = data.lines("words.txt", { recycle = false })
        if #users ~= 5 or #words ~= 3 then error("sizes") end
        task(function(self)
          local u = users:next()
          http.get("/ok?u=" .. u.email:gsub(",", "_"), { name = "user" })
          local w = words:next()
          http.get("/ok?w=" .. tostring(w), { name = "word" })
          self.runs = (self.runs or 0) + 1
          if self.runs == 3 then stop() end
        end)
        """#.write(toFile: script, atomically: true, encoding: .utf8)
        let r = try Luaload.run(["-t", "2", "-u", "4", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr + "\(r.errors)")
        let users = server.received("/ok").map(\.target).filter { $0.hasPrefix("/ok?u=") }
        XCTAssertEqual(users.count, 12)
        var seen: [String: Int] = [:]
        for u in users { seen[u, default: 0] += 1 }
        // 12 rows taken from 5, by 4 users on 2 threads: rows 1-5, 1-5, 1-2 — whichever thread took which.
        XCTAssertEqual(seen, ["/ok?u=a@x": 3, "/ok?u=b_c@x": 3, "/ok?u=d@x": 2, "/ok?u=e@x": 2, "/ok?u=f@x": 2],
                       "rows handed out in file order, once per round, all threads together")
        let words = server.received("/ok").map(\.target).filter { $0.hasPrefix("/ok?w=") }
        XCTAssertEqual(words.filter { $0 != "/ok?w=nil" }.sorted(), ["/ok?w=one", "/ok?w=three", "/ok?w=two"],
                       "recycle = false: each line once, then nil")
        XCTAssertEqual(words.count, 12)
        let before = server.count("/ok")

        try "email,password\na@x,1\nb@x\n".write(toFile: dir + "/users.csv", atomically: true, encoding: .utf8)
        let bad = try Luaload.run(["-u", "1", "-n", "1", "-H", server.url], script: script)
        XCTAssertEqual(bad.exitCode, 2)
        XCTAssertTrue(bad.stderr.contains("feed.lua:1: data.csv: users.csv:3: 1 fields where the header has 2"), bad.stderr)
        try FileManager.default.removeItem(atPath: dir + "/users.csv")
        let missing = try Luaload.run(["-u", "1", "-n", "1", "-H", server.url], script: script)
        XCTAssertEqual(missing.exitCode, 2)
        XCTAssertTrue(missing.stderr.contains("feed.lua:1: data.csv: cannot read users.csv"), missing.stderr)
        XCTAssertEqual(server.count("/ok"), before, "no traffic from a run whose data file is bad")
    }

    func testVersion() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Luaload.binary)
        p.arguments = ["--version"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), "0.2.0\n")
    }
}
