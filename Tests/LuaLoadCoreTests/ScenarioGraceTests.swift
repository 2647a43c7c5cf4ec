import Foundation
import XCTest

/// A scenario's `graceful_stop` (k6's gracefulStop): at its end, task runs under way finish within the grace
/// (no new one starts), then the rest are stopped, their requests abandoned and counted; recorded + abandoned
/// is what the server saw, per scenario. Server-side times; margins of several hundred ms either side.
final class ScenarioGraceTests: ScenarioTestCase {
    func run(_ script: String) throws -> [String: Any] {
        let out = tmp("run.json")
        let r = try luaload(["-t", "2", "-q", "-H", server.url, "--json", out, Luaload.script(script)])
        XCTAssertEqual(r.code, 0, r.stderr)
        settle(json(out))
        return json(out)
    }

    /// (requests, abandoned) of scenario `name` in a run's JSON.
    func scenario(_ doc: [String: Any], _ name: String) -> (Int, Int) {
        let row = (doc["scenarios"] as? [[String: Any]] ?? []).first { $0["name"] as? String == name }
        return (row?["requests"] as? Int ?? -1, row?["abandoned"] as? Int ?? 0)
    }

    /// Each of 2 users makes 1 s requests: at the scenario's end (1.5 s) each is inside its second (begun at
    /// 1.0 s plus the worker's start, which may be up to 0.5 s late before this fails). The end reaches the
    /// workers from the main thread's tick: it may come up to 0.5 s late (a third run would begin at 2.0 s)
    /// before this fails. With 700 ms and 1.2 s (a 0.2 s margin) a third run began once on a box at load 12.
    static func closed(grace: String) -> String {
        #"""
        local Slow = user{}
        Slow:task(function() http.get("/slow?ms=1000") end)
        local Steady = user{ wait = constant(0.1) }
        Steady:task(function() http.get("/ok") end)
        scenarios = {
          slow = { class = Slow, users = 2, duration = "1.5s"\#(grace) },
          steady = { class = Steady, users = 1, duration = "3s" },
        }
        """#
    }

    /// graceful_stop = 3s: the two task runs under way at 1.5 s finish (recorded, none abandoned), no third
    /// starts (it would at 2.0 s), and the other scenario goes on to its end.
    func testTaskRunsUnderWayFinishWithinTheGrace() throws {
        let doc = try run(Self.closed(grace: ", graceful_stop = \"3s\""))
        XCTAssertEqual(server.count("/slow"), 4, "2 users × 2 task runs (0 s and 1.0 s); none began after 1.5 s")
        XCTAssertEqual(scenario(doc, "slow").0, 4, "both runs under way at the end finished: recorded")
        XCTAssertEqual(scenario(doc, "slow").1, 0)
        let first = server.received().map(\.at).min()!
        XCTAssertLessThan(server.received("/slow").map(\.at).max()!.timeIntervalSince(first), 1.75, "the last began at ~1.0 s (a third: 2.0 s)")
        XCTAssertGreaterThan(server.received("/ok").map(\.at).max()!.timeIntervalSince(first), 2.3, "steady went on to ~2.9 s (slow ended at 1.5 s)")
        XCTAssertEqual(doc["abandoned"] as? Int, 0)
    }

    /// Without graceful_stop (default: --stop-timeout, 0) the runs under way at 1.5 s are stopped at once;
    /// with one shorter than what is left (0.1 s), at its end: abandoned and counted either way.
    func testRunsUnderWayAreAbandonedAtTheGracesEnd() throws {
        for grace in ["", ", graceful_stop = \"0.1s\""] {
            let before = server.count("/slow")
            let doc = try run(Self.closed(grace: grace))
            let (recorded, abandoned) = scenario(doc, "slow")
            XCTAssertEqual(server.count("/slow") - before, 4, grace)
            XCTAssertEqual(abandoned, 2, "each user's second 1 s request was in flight at 1.5 s (+0.1 s): \(grace)")
            XCTAssertEqual(recorded + abandoned, 4, grace)
        }
    }

    /// An arrival-rate scenario: arrivals at 0, 0.25, 0.5, 0.75 s of 700 ms task runs; at its end (1 s) those
    /// under way finish within the grace, and the run ends when they have (not at 1 s + 5 s).
    func testAnArrivalRateScenariosRunsFinishWithinItsGrace() throws {
        let started = Date()
        let doc = try run(#"""
        local Slow = user{}
        Slow:task(function() http.get("/slow?ms=700") end)
        scenarios = { ingest = { class = Slow, rate = "4/s", max_vus = 4, duration = "1s", graceful_stop = "5s" } }
        """#)
        XCTAssertEqual(server.count("/slow"), 4)
        XCTAssertEqual(scenario(doc, "ingest").0, 4, "all four finished within the grace")
        XCTAssertEqual(doc["abandoned"] as? Int, 0)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5.5, "the run ended once they had, before the grace's end (6 s)")
        XCTAssertLessThan(doc["duration_s"] as? Double ?? 99, 4.0)
    }

    /// graceful_stop must be a duration; k6's spelling gets a hint; both before any traffic, at file:line.
    func testBadGracefulStopNamesTheScriptLine() throws {
        for (body, message) in [("a = { class = A, users = 1, duration = \"1s\", graceful_stop = \"later\" }", "graceful_stop \"later\" is not a duration"),
                                ("a = { class = A, users = 1, gracefulStop = \"1s\" }", "unknown key gracefulStop (write it graceful_stop")] {
            let bad = Luaload.script("local A = user{}\nA:task(function() http.get(\"/ok\") end)\nscenarios = {\n  \(body),\n}\n")
            let r = try luaload(["-H", server.url, bad])
            XCTAssertEqual(r.code, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains(URL(fileURLWithPath: bad).lastPathComponent + ":4: ") && r.stderr.contains(message), r.stderr)
        }
        XCTAssertEqual(server.total, 0)
    }
}
