import Foundation
import XCTest

/// The stop: abandoned by default, or running tasks let finish with --stop-timeout.
final class StopTests: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    // Task runs of 0.8 s back to back: at 1 s every VU is inside its second run.
    let slowTask = #"""
    task(function()
      http.get("/slow?ms=400", { name = "first" })
      http.get("/slow?ms=400", { name = "second" })
    end)
    """#

    func testByDefaultRequestsInFlightAreAbandoned() throws {
        let r = try Luaload.run(["-t", "1", "-u", "6", "-d", "1s", "-H", server.url], script: Luaload.script(slowTask))
        XCTAssertEqual(r.abandoned, 6, "every VU is mid-request at 1 s")
        XCTAssertEqual(r.requests + r.abandoned, settledCount(r.requests + r.abandoned) { server.total })
    }

    func testStopTimeoutLetsRunningTasksFinish() throws {
        let started = Date()
        let r = try Luaload.run(["-t", "2", "-u", "6", "-d", "1s", "--stop-timeout", "3s", "-H", server.url], script: Luaload.script(slowTask))
        // ~1.6 s (the runs under way at 1 s end at 1.6 s); waiting out the whole --stop-timeout would take 4 s.
        XCTAssertLessThan(Date().timeIntervalSince(started), 3.7)
        XCTAssertEqual(r.exitCode, 0, "\(r.failureErrors())")
        XCTAssertEqual(r.abandoned, 0)
        XCTAssertEqual(r.requests, server.total)
        XCTAssertEqual(r.requests("first"), r.requests("second"), "every task run that started finished")
        XCTAssertEqual(r.json["iterations"] as? Int, r.requests("second"))
    }

    func testStopTimeoutEndsTasksThatOutlastIt() throws {
        let script = #"""
        task(function() http.get("/slow?ms=5000", { name = "long", timeout = 10 }) end)
        """#
        let started = Date()
        let r = try Luaload.run(["-t", "1", "-u", "3", "-d", "1s", "--stop-timeout", "0.5", "-H", server.url], script: Luaload.script(script))
        // ~1.5 s (1 s and the 0.5 s grace); waiting for the 5 s requests would take 5 s (with 3 s ones, as before,
        // 3 s: too close to a bound that leaves a loaded machine room).
        XCTAssertLessThan(Date().timeIntervalSince(started), 3.3)
        XCTAssertEqual(r.abandoned, 3)
        XCTAssertEqual(r.requests, 0)
    }

    /// Starts luaload, sends SIGINT at the given moments after the server saw its first 20 requests (the run under
    /// way: its signal handlers installed, however slow the start on a loaded machine), returns (exit code, seconds
    /// it ran from then, JSON).
    func interrupt(_ script: String, at moments: [TimeInterval]) throws -> (Int32, TimeInterval, [String: Any]) {
        let json = Luaload.temporaryDirectory + "luaload-int-\(UUID().uuidString).json"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Luaload.binary)
        p.arguments = ["-q", "-u", "4", "-H", server.url, "--json", json, Luaload.script(script)]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        XCTAssertTrue(eventually { server.total >= 20 || !p.isRunning }, "no traffic within 10 s")
        let start = Date()
        for m in moments {
            let wait = m - Date().timeIntervalSince(start)
            if wait > 0 { usleep(useconds_t(wait * 1_000_000)) }
            p.interrupt()
        }
        while p.isRunning && Date().timeIntervalSince(start) < 20 { usleep(10_000) }
        let ran = Date().timeIntervalSince(start)
        if p.isRunning { p.terminate(); XCTFail("still running") }
        p.waitUntilExit()
        let data = FileManager.default.contents(atPath: json) ?? Data()
        let parsed = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (p.terminationStatus, ran, parsed)
    }

    func testCtrlCStopsAndReports() throws {
        let (code, ran, json) = try interrupt(#"task(function() http.get("/ok") end)"#, at: [1.0])
        XCTAssertEqual(code, 0)
        XCTAssertLessThan(ran, 5, "~1.1 s; a run that does not stop goes on for the test's 20 s")
        XCTAssertEqual(json["stop_reason"] as? String, "interrupted")
        XCTAssertGreaterThan((json["total"] as? [String: Any])?["requests"] as? Int ?? 0, 10)
    }

    func testSecondCtrlCExitsAtOnce() throws {
        // on_stop would keep the run alive for its 10 s; the second Ctrl-C cuts it short.
        let script = #"""
        task(function() http.get("/ok") end)
        function on_stop() sleep(30) end
        """#
        let (code, ran, _) = try interrupt(script, at: [1.0, 1.5])
        XCTAssertEqual(code, 130)
        XCTAssertLessThan(ran, 5, "~1.6 s; on_stop's grace alone is 10 s")
    }
}
