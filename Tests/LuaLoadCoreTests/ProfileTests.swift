import Foundation
import XCTest

/// Ramps, shape() and the open model against a loopback server that counts what it received.
final class ProfileTests: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    var history: (LualoadRun) -> [(elapsed: Double, users: Int)] = { r in
        (r.json["history"] as? [[String: Any]] ?? []).map { ($0["elapsed_s"] as? Double ?? -1, $0["users"] as? Int ?? -1) }
    }

    /// Each second's users lie between the target's lowest and highest over that second (rounded as the
    /// Runner rounds): the users follow within one second.
    func assertFollows(_ r: LualoadRun, _ target: (Double) -> Double, file: StaticString = #filePath, line: UInt = #line) {
        let points = history(r)
        XCTAssertGreaterThanOrEqual(points.count, 3, file: file, line: line)
        for p in points {
            let samples = stride(from: p.elapsed - 1, through: p.elapsed, by: 0.05).map { Int(target(max(0, $0)).rounded()) }
            XCTAssertTrue((samples.min()!...samples.max()!).contains(p.users),
                          "at \(p.elapsed) s: \(p.users) users, the target over the last second was \(samples.min()!)...\(samples.max()!)",
                          file: file, line: line)
        }
    }

    func testStagesRampUsersAndRampDownIsCountedExactly() throws {
        let script = Luaload.script(#"""
        wait = constant(0.05)
        task(function() http.get("/slow?ms=80", { name = "/slow" }) end)
        function on_stop() http.get("/ok", { name = "on_stop" }) end
        """#)
        let r = try Luaload.run(["-t", "2", "--stages", "2s:8,1s:8,2s:0", "-H", server.url], script: script)
        settledCount(r.requests + r.abandoned) { server.total }   // the server counts a request when it has read it
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual(r.json["stop_reason"] as? String, "duration")
        XCTAssertEqual(r.json["profile"] as? String, "stages 2s:8,1s:8,2s:0")
        assertFollows(r) { t in t < 2 ? 4 * t : (t < 3 ? 8 : max(0, 8 - 4 * (t - 3))) }
        XCTAssertEqual(r.requests("on_stop"), 8, "each VU retired by the ramp-down ran its on_stop")
        XCTAssertGreaterThan(r.abandoned, 0, "ramp-down cut requests in flight")
        XCTAssertEqual(r.requests + r.abandoned, server.total, "recorded \(r.requests) + abandoned \(r.abandoned) vs server \(server.total)")
    }

    func testScriptStagesAndTheCommandLineWins() throws {
        let script = Luaload.script(#"""
        stages = { { duration = "1s", users = 4 }, { duration = 2.5, users = 4 } }
        wait = constant(0.1)
        task(function() http.get("/ok") end)
        """#)
        let r = try Luaload.run(["-t", "1", "-H", server.url], script: script)
        XCTAssertEqual(r.json["profile"] as? String, "stages 1s:4,2.5s:4")
        assertFollows(r) { t in t < 1 ? 4 * t : 4 }
        let cli = try Luaload.run(["-t", "1", "--stages", "1s:2,1s:2", "-H", server.url], script: script)
        XCTAssertEqual(cli.json["profile"] as? String, "stages 1s:2,1s:2")
        XCTAssertEqual(history(cli).last?.users, 2)
        let bad = try Luaload.run(["-t", "1", "-H", server.url], script: Luaload.script(#"""
        stages = { { duration = "soon", users = 4 } }
        task(function() http.get("/ok") end)
        """#))
        XCTAssertEqual(bad.exitCode, 2)
        XCTAssertTrue(bad.stderr.contains("stages[1].duration \"soon\""), bad.stderr)
    }

    func testShapeSetsUsersAndEndsTheRun() throws {
        let script = Luaload.script(#"""
        wait = constant(0.1)
        task(function() http.get("/ok") end)
        function shape(t)
          if t < 1.5 then return 3, 100 elseif t < 3.5 then return 6, 100 end
          return nil
        end
        """#)
        let started = Date()
        let r = try Luaload.run(["-t", "2", "-H", server.url], script: script)
        settledCount(r.requests + r.abandoned) { server.total }
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        XCTAssertEqual(r.json["stop_reason"] as? String, "shape_ended")
        XCTAssertEqual(r.json["users"] as? Int, 6)
        // shape() is asked once a second (at 0, 1, 2, ...), so it may take a second for an answer to show.
        assertFollows(r) { t in t < 2 ? 3 : 6 }
        XCTAssertEqual(r.requests + r.abandoned, server.total)
    }

    func testOpenModelSchedulesExactly() throws {
        let script = Luaload.script(#"task(function() http.get("/ok") end)"#)
        let r = try Luaload.run(["-t", "2", "--rate", "200/s", "-d", "5s", "--max-vus", "10", "-H", server.url], script: script)
        settledCount(r.requests + r.abandoned) { server.total }
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        let a = r.json["arrivals"] as? [String: Any] ?? [:]
        let scheduled = a["scheduled"] as? Int ?? -1, started = a["started"] as? Int ?? -1, dropped = a["dropped"] as? Int ?? -1
        XCTAssertEqual(scheduled, 1000)
        XCTAssertEqual(started + dropped, 1000)
        XCTAssertGreaterThanOrEqual(started, 950, "a fast server keeps up: unstarted at the stop only what a loaded machine lags (250 ms)")
        XCTAssertEqual(r.requests + r.abandoned, server.total, "recorded \(r.requests) + abandoned \(r.abandoned) vs server \(server.total)")
        XCTAssertEqual(r.requests + r.abandoned, started, "one request per task run")
    }

    /// A server of fixed capacity (one request at a time, 20 ms: 50/s) asked for 100/s for 4 s.
    func capacityRun(_ extra: [String]) throws -> LualoadRun {
        let script = Luaload.script(#"task(function() http.get("/serial?ms=20", { name = "/serial", timeout = 20 }) end)"#)
        return try Luaload.run(["-t", "1", "-d", "4s", "-H", server.url] + extra, script: script)
    }

    func p99(_ row: [String: Any]) -> Double { (row["percentiles_ms"] as? [String: Any])?["99"] as? Double ?? -1 }

    func testOpenModelQueueShowsTheSlowServerAsLatency() throws {
        let r = try capacityRun(["--rate", "100/s", "--max-vus", "20"])
        let a = r.json["arrivals"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["late_mode"] as? String, "queue")
        XCTAssertEqual(a["scheduled"] as? Int, 400)
        XCTAssertGreaterThan(a["late"] as? Int ?? 0, 100, "arrivals waited for a VU")
        let corrected = p99(r.total), uncorrected = p99(a["uncorrected"] as? [String: Any] ?? [:])
        XCTAssertGreaterThan(corrected, 1000, "p99 from when each arrival was due is in seconds")
        XCTAssertLessThan(uncorrected, corrected / 2, "timed from the first byte it hides the queue (\(uncorrected) ms)")
    }

    func testOpenModelDropCountsTheArrivalsItCouldNotStart() throws {
        let r = try capacityRun(["--rate", "100/s", "--max-vus", "20", "--late", "drop"])
        let a = r.json["arrivals"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["scheduled"] as? Int, 400)
        let dropped = a["dropped"] as? Int ?? -1
        XCTAssertGreaterThan(dropped, 120, "about half the arrivals found no free VU")
        // ~180 (50/s served for 4 s, 20 VUs); a loaded machine only slows the server's 20 ms turns: 320 takes 66 ms ones.
        XCTAssertLessThan(dropped, 320)
        XCTAssertEqual((a["started"] as? Int ?? 0) + dropped, 400)
    }

    func testClosedModelAgainstTheSameServerOnlySlowsDown() throws {
        // The contrast: 20 users without a wait settle at the server's 50/s; their latency is the server's
        // queue (~20 × 20 ms), and nothing says 100/s was wanted.
        let r = try capacityRun(["-u", "20"])
        XCTAssertNil(r.json["arrivals"])
        XCTAssertLessThan(r.requests, 4 * 50 + 25)
        XCTAssertLessThan(p99(r.total), 1000)
        XCTAssertGreaterThan(p99(r.total), 200)
    }

    func testProfileUsageErrors() throws {
        let script = Luaload.script(#"task(function() http.get("/ok") end)"#)
        for args in [["--stages", "1s:2", "-u", "3"], ["--stages", "1s:2", "--rate", "5/s"], ["--rate", "5/x"],
                     ["--rate", "5/s", "--late", "later"], ["--late", "drop"], ["--stages", "1s:0"], ["--rate", "5/s", "-r", "2"]] {
            let r = try Luaload.run(args + ["-H", server.url], script: script)
            XCTAssertEqual(r.exitCode, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("luaload: ") || r.stderr.contains("Error"), "\(args): \(r.stderr)")
        }
        XCTAssertEqual(server.total, 0, "no traffic")
    }
}
