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
        usleep(600_000)
        XCTAssertEqual(r.abandoned, 6, "every VU is mid-request at 1 s")
        XCTAssertEqual(r.requests + r.abandoned, server.total)
    }

    func testStopTimeoutLetsRunningTasksFinish() throws {
        let started = Date()
        let r = try Luaload.run(["-t", "2", "-u", "6", "-d", "1s", "--stop-timeout", "3s", "-H", server.url], script: Luaload.script(slowTask))
        XCTAssertLessThan(Date().timeIntervalSince(started), 3.5)
        XCTAssertEqual(r.exitCode, 0, "\(r.failureErrors())")
        XCTAssertEqual(r.abandoned, 0)
        XCTAssertEqual(r.requests, server.total)
        XCTAssertEqual(r.requests("first"), r.requests("second"), "every task run that started finished")
        XCTAssertEqual(r.json["iterations"] as? Int, r.requests("second"))
    }

    func testStopTimeoutEndsTasksThatOutlastIt() throws {
        let script = #"""
        task(function() http.get("/slow?ms=3000", { name = "long", timeout = 10 }) end)
        """#
        let started = Date()
        let r = try Luaload.run(["-t", "1", "-u", "3", "-d", "1s", "--stop-timeout", "0.5", "-H", server.url], script: Luaload.script(script))
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.8)
        XCTAssertEqual(r.abandoned, 3)
        XCTAssertEqual(r.requests, 0)
    }
}
