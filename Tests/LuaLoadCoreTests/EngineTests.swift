import Foundation
import XCTest

/// luaload against a loopback server the test owns: exact counts and real failures.
final class EngineTests: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    func testEveryRequestCountedExactlyAgainstTheServer() throws {
        // A timed stop with requests in flight: recorded + abandoned must equal what the server received.
        let script = Luaload.script(#"""
        task(3, function() http.get("/ok") end)
        task(1, function() http.get("/slow?ms=30", { name = "/slow" }) end)
        """#)
        let r = try Luaload.run(["-t", "2", "-u", "20", "-d", "2s", "-H", server.url], script: script)
        settledCount(r.requests + r.abandoned) { server.total }   // the server parses what was written just before the stop
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertGreaterThan(r.requests, 100)
        XCTAssertEqual(r.failuresCount, 0)
        XCTAssertEqual(r.requests + r.abandoned, server.total, "recorded \(r.requests) + abandoned \(r.abandoned) vs server \(server.total)")
        XCTAssertEqual(r.requests("/ok") + r.requests("/slow") , r.requests)
        XCTAssertEqual(r.json["threads"] as? Int, 2)
        XCTAssertEqual(r.json["stop_reason"] as? String, "duration")
    }

    func testKeepAliveUsesOneConnectionPerUser() throws {
        let script = Luaload.script(#"""
        task(function(self)
          self.n = (self.n or 0) + 1
          http.get("/ok")
          if self.n == 50 then stop() end
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "4", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual(r.requests, 200)
        XCTAssertEqual(server.count("/ok"), 200)
        XCTAssertEqual(server.connections, 4)
        XCTAssertEqual(r.json["stop_reason"] as? String, "users_finished")
    }

    func testServerErrorsDropsAndTimeoutsAreFailuresWithClearErrors() throws {
        let script = Luaload.script(#"""
        task(function(self)
          self.n = (self.n or 0) + 1
          http.get("/status/500")
          http.get("/drop")
          http.get("/slow?ms=2000", { name = "/slow", timeout = 0.3 })
          http.get("/ok")
          if self.n == 3 then stop() end
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "2", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 1, "failures give exit code 1")
        XCTAssertEqual(r.failures("/status/500"), 6)
        XCTAssertEqual(r.failures("/drop"), 6)
        XCTAssertEqual(r.failures("/slow"), 6)
        XCTAssertEqual(r.failures("/ok"), 0)
        XCTAssertEqual(r.requests("/ok"), 6)
        let errors = r.failureErrors()
        XCTAssertTrue(errors.contains("HTTP 500 Internal Server Error"), "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("closed by the server") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.hasPrefix("timeout") }, "\(errors)")
        let slowMax = r.row("/slow")?["max_ms"] as? Double ?? 0
        XCTAssertGreaterThan(slowMax, 250)
        XCTAssertLessThan(slowMax, 1500)
    }

    func testConnectionRefusedIsAFailureAndTheRunGoesOn() throws {
        let deadPort = try freePort()   // a port nobody listens on (bound, then closed)
        let script = Luaload.script(#"""
        task(function(self)
          self.n = (self.n or 0) + 1
          local res = http.get("http://127.0.0.1:\#(deadPort)/x", { name = "dead" })
          assert(res.status == 0 and res.error:find("refused"), "expected a refused connection, got " .. tostring(res.error))
          http.get("/ok")
          if self.n == 5 then stop() end
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "1", "-H", server.url], script: script)
        XCTAssertEqual(r.failures("dead"), 5)
        XCTAssertEqual(r.requests("/ok"), 5)
        XCTAssertTrue(r.errors.isEmpty, "\(r.errors)")
        XCTAssertTrue(r.failureErrors().contains { $0.contains("Connection refused") }, "\(r.failureErrors())")
    }

    func testLuaErrorInATaskIsRecordedAndTheRunGoesOn() throws {
        let script = Luaload.script(#"""
        task(function(self)
          self.n = (self.n or 0) + 1
          http.get("/ok")
          if self.n == 10 then stop() end
          if self.n % 2 == 0 then
            local t = nil
            return t.field
          end
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "3", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(r.requests, 30)
        XCTAssertEqual(server.count("/ok"), 30)
        XCTAssertEqual(r.errors.count, 1)
        let e = r.errors.first ?? [:]
        XCTAssertEqual(e["count"] as? Int, 12, "runs 2, 4, 6, 8 of each of 3 VUs")
        let message = e["message"] as? String ?? ""
        XCTAssertTrue(message.contains(".lua:7:") && message.contains("attempt to index"), message)
        XCTAssertTrue((e["traceback"] as? String ?? "").contains("stack traceback"))
    }

    func testStaleKeptAliveConnectionsAreResentNotFailed() throws {
        // The server answers keep-alive, then closes anyway: each next request meets a dead connection.
        let script = Luaload.script(#"""
        task(function(self)
          self.n = (self.n or 0) + 1
          http.get("/silent-close")
          if self.n == 30 then stop() end
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "2", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, "\(r.failureErrors())")
        XCTAssertEqual(r.requests, 60)
        XCTAssertEqual(r.failuresCount, 0)
        XCTAssertEqual(server.count("/silent-close"), 60)
    }

    func testConnectionCloseChunkedHeadAndNoContent() throws {
        let script = Luaload.script(#"""
        task(function(self)
          self.n = (self.n or 0) + 1
          local r = http.get("/close"); assert(r.body == "bye" and r.headers.connection == "close")
          r = http.get("/chunked"); assert(r.body == "hello world", r.body)
          r = http.head("/ok"); assert(r.status == 200 and r.body == "" and r.headers["Content-Length"] == "2")
          r = http.get("/nocontent"); assert(r.status == 204 and r.body == "")
          r = http.get("/ok"); assert(r.body == "ok")
          if self.n == 5 then stop() end
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "2", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, "\(r.errors) \(r.failureErrors())")
        XCTAssertEqual(r.requests, 50)
        XCTAssertEqual(server.total, 50)
        XCTAssertEqual(r.requests("/ok", method: "HEAD"), 10)
    }

    /// A request's timeout stays armed after its response; the next request with a later deadline leaves it
    /// (`armUnlessSooner`). When it fires during that request, the timer is set again for the request's own
    /// deadline: the slow request must time out after its 0.5 s, not at the 0.2 s left from the first.
    func testATimeoutLeftFromAnEarlierRequestDoesNotCutTheNextOneShort() throws {
        let script = Luaload.script(#"""
        task(function(self)
          self.n = (self.n or 0) + 1
          http.get("/ok", { timeout = 0.2 })
          http.get("/slow?ms=900", { name = "/slow", timeout = 0.5 })
          if self.n == 2 then stop() end
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "1", "-H", server.url], script: script)
        XCTAssertEqual(r.failures("/ok"), 0)
        XCTAssertEqual(r.failures("/slow"), 2)
        XCTAssertTrue(r.failureErrors().allSatisfy { $0.hasPrefix("timeout") }, "\(r.failureErrors())")
        let slow = r.row("/slow")
        XCTAssertGreaterThanOrEqual(slow?["min_ms"] as? Double ?? 0, 480, "timed out at its own deadline")
        XCTAssertLessThan(slow?["max_ms"] as? Double ?? 0, 850)
    }

    /// A VU's repeated head or body is handed over as the same Lua string (ll_push_kept): heads and bodies
    /// of the same length that differ in a byte must still come through as they are, never as the last one.
    func testRepeatedAndChangingHeadsAndBodiesReadAsSent() throws {
        let script = Luaload.script(#"""
        task(function(self)
          self.i = (self.i or 9) + 1   -- 10..99: every head and body the same length as the last
          local i = self.i
          local r = http.get("/set-cookie?c=k%3D" .. i)
          assert(r.headers["set-cookie"] == "k=" .. i, r.headers["set-cookie"])
          r = http.get("/echo?q=" .. i)
          assert(r:json().target == "/echo?q=" .. i, r.body)
          local a, b = http.get("/echo?q=same"), http.get("/echo?q=same")
          assert(a.body == b.body and a:json().target == "/echo?q=same")
          assert(b.headers["content-length"] == tostring(#b.body))
          if i == 99 then stop() end
        end)
        """#)
        // -n bounds the run should a check fail (the task then never reaches its stop()).
        let r = try Luaload.run(["-t", "1", "-u", "2", "-n", "720", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, "\(r.errors) \(r.failureErrors())")
        XCTAssertEqual(r.requests, 2 * 90 * 4)
        XCTAssertEqual(server.total, 2 * 90 * 4)
    }

    func testRequestOptionsReachTheServer() throws {
        let script = Luaload.script(#"""
        task(function()
          local r = http.post("/echo", { json = { a = 1 }, headers = { ["X-Token"] = "t1" }, query = { q = "a b", n = 2 } })
          local e = r:json()
          assert(e.method == "POST", e.method)
          assert(e.target == "/echo?n=2&q=a%20b", e.target)
          assert(e.headers["content-type"] == "application/json")
          assert(e.headers["x-token"] == "t1")
          assert(e.headers["host"] == "127.0.0.1:\#(server.port)", e.headers["host"])
          assert(json.decode(e.body).a == 1)
          r = http.request("PUT", "/echo", { body = "raw", name = "put-echo" })
          assert(r:json().body == "raw" and r:json().headers["content-length"] == "3")
          r = http.delete("/echo")
          assert(r:json().method == "DELETE")
          r = http.get("/json")
          assert(r.headers["X-CUSTOM-THING"] == "abc" and r:json().items[3] == 3)
          assert(r.elapsed > 0 and r.error == nil)
          stop()
        end)
        """#)
        let r = try Luaload.run(["-u", "1", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, "\(r.errors)")
        XCTAssertEqual(r.requests, 4)
        XCTAssertEqual(r.requests("/echo", method: "POST"), 1)
        XCTAssertEqual(r.requests("put-echo", method: "PUT"), 1)
    }

    func testCatchResponseOverridesAndFail() throws {
        let script = Luaload.script(#"""
        task(function(self)
          self.n = (self.n or 0) + 1
          local r = http.get("/status/404", { name = "expected-404" })
          if r.status == 404 then r:success() end
          r = http.get("/json", { name = "bad-content" })
          if not r:json().missing then r:failure("no missing field") end
          http.get("/ok", { name = "failed-by-fail" })
          if self.n == 4 then stop() end
          fail("business rule broken")
        end)
        task(0, function() end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "1", "-H", server.url], script: script)
        XCTAssertEqual(r.failures("expected-404"), 0)
        XCTAssertEqual(r.failures("bad-content"), 4)
        XCTAssertEqual(r.failures("failed-by-fail"), 3, "fail() marks the task's last request; the 4th run stopped first")
        XCTAssertTrue(r.failureErrors().contains("no missing field"))
        XCTAssertTrue(r.failureErrors().contains("business rule broken"))
        XCTAssertTrue(r.errors.isEmpty, "\(r.errors)")
    }

    func testFailureOverrideAfterTheNextRequestIsAScriptError() throws {
        let script = Luaload.script(#"""
        task(function()
          local first = http.get("/ok")
          http.get("/ok")
          first:failure("too late")
        end)
        """#)
        let r = try Luaload.run(["-u", "1", "-d", "1s", "-H", server.url], script: script)
        XCTAssertEqual(r.failuresCount, 0)
        XCTAssertTrue((r.errors.first?["message"] as? String ?? "").contains("too late"), "\(r.errors)")
    }

    func testUserClassWeightsSplitUsersAndOnStartRuns() throws {
        let script = Luaload.script(#"""
        local a = user { weight = 3 }
        function a:on_start() http.get("/ok", { name = "start-a" }) end
        a:task(function() stop() end)
        local b = user { weight = 1, wait = constant(0) }
        function b:on_start() http.get("/ok", { name = "start-b" }) end
        b:task(function() http.get("/ok", { name = "task-b" }); stop() end)
        """#)
        let r = try Luaload.run(["-t", "2", "-u", "8", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual(r.requests("start-a"), 6)
        XCTAssertEqual(r.requests("start-b"), 2)
        XCTAssertEqual(r.requests("task-b"), 2)
    }

    func testTaskWeightsAndSleep() throws {
        let script = Luaload.script(#"""
        task(3, function() http.get("/ok", { name = "heavy" }) end)
        task(1, function() http.get("/ok", { name = "light" }) end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "4", "-d", "2s", "-H", server.url], script: script)
        let heavy = Double(r.requests("heavy")), light = Double(r.requests("light"))
        XCTAssertGreaterThan(heavy + light, 400)
        // 6 standard deviations of the share of n picks (0.13 at n = 400, 0.026 at 10,000; 0.05 flat failed 2 % of
        // runs at n = 400, on a loaded machine): still far from 0.5 (weights ignored) and 0.25 (swapped).
        let n = heavy + light
        XCTAssertEqual(heavy / n, 0.75, accuracy: 6 * (0.75 * 0.25 / n).squareRoot(), "\(heavy) heavy of \(n)")
    }

    func testWaitsPaceTaskRuns() throws {
        // constant_throughput(10) per VU: 5 VUs × 10/s × 5 s = 250 task runs (255 at most: one at 0 s). A loaded
        // machine's late timers can only lose runs: 200 allows 20 % of them; no wait at all would be thousands,
        // constant(10) 5 × 1 and a rate shared by the VUs 50.
        let script = Luaload.script(#"""
        wait = constant_throughput(10)
        task(function() http.get("/ok") end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "5", "-d", "5s", "-H", server.url], script: script)
        XCTAssertTrue((200...262).contains(r.requests), "\(r.requests) task runs")
        // between(0.2, 0.4): each VU runs about 1 / 0.3 tasks a second.
        let s2 = Luaload.script(#"""
        wait = between(0.2, 0.4)
        task(function() http.get("/ok") end)
        """#)
        let r2 = try Luaload.run(["-t", "1", "-u", "6", "-d", "3s", "-H", server.url], script: s2)
        XCTAssertGreaterThan(r2.requests, 40)
        XCTAssertLessThan(r2.requests, 100)
        // sleep() suspends one VU only.
        let s3 = Luaload.script(#"""
        local a = user {}
        a:task(function() sleep(0.5); http.get("/ok", { name = "sleepy" }) end)
        local b = user {}
        b:task(function() http.get("/ok", { name = "busy" }) end)
        """#)
        let r3 = try Luaload.run(["-t", "1", "-u", "2", "-d", "2s", "-H", server.url], script: s3)
        XCTAssertLessThanOrEqual(r3.requests("sleepy"), 4)
        XCTAssertGreaterThan(r3.requests("busy"), 100)
    }

    func testOnStopRunsAtTheEnd() throws {
        let script = Luaload.script(#"""
        local u = user { wait = constant(0.05) }
        u:task(function() http.get("/ok") end)
        function u:on_stop() http.get("/ok", { name = "bye" }) end
        """#)
        let r = try Luaload.run(["-t", "2", "-u", "3", "-d", "1s", "-H", server.url], script: script)
        XCTAssertEqual(r.requests("bye"), 3)
        XCTAssertEqual(r.requests + r.abandoned, settledCount(r.requests + r.abandoned) { server.total })
    }

    func testBadRequestArgumentsAreScriptErrorsAtTheCallersLine() throws {
        let script = Luaload.script("task(function(self)\n  self.n = (self.n or 0) + 1\n  if self.n > 2 then stop() end\n  if self.n == 1 then http.request(\"GET\", 42) end\n  http.post(\"/ok\", { body = 5 })\nend)\n")
        let r = try Luaload.run(["-u", "1", "-H", server.url], script: script)
        let messages = r.errors.compactMap { $0["message"] as? String }
        XCTAssertTrue(messages.contains { $0.hasSuffix(".lua:4: http.get: expected a path string, got number") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.hasSuffix(".lua:5: http.post: opts.body must be a string, got number") }, "\(messages)")
        XCTAssertEqual(server.total, 0)
    }
}
