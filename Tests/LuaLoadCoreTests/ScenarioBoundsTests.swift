import Foundation
import XCTest

/// `scenarios` bounded by task runs and shaped by a function (issue #23): `iterations` (k6's shared-iterations),
/// `iterations_per_user` (per-vu-iterations), `max_duration`, a scenario's own `shape`. Exact against what a
/// test server saw, across threads and segments; times from the server's own arrival times, with wide margins.
final class ScenarioBoundsTests: ScenarioTestCase {
    /// Seconds from the server's first request to the last request of `path`.
    func lastAt(_ path: String) -> Double {
        let first = server.received().map(\.at).min()!
        return server.received(path).map(\.at).max()!.timeIntervalSince(first)
    }

    /// 3 users share 50 task runs on 2 threads: the server sees exactly 50; that scenario ends early (its
    /// requests long before the run's end) while the other goes on to its duration.
    static let sharedIterations = #"""
    local Batch = user{}
    Batch:task(function() http.get("/status/201") end)
    local Steady = user{ wait = constant(0.1) }
    Steady:task(function() http.get("/status/202") end)
    scenarios = {
      batch = { class = Batch, users = 3, iterations = 51 },
      steady = { class = Steady, users = 1, duration = "2s" },
    }
    """#

    func testSharedIterationsAreExactAcrossThreadsAndTheOtherScenarioGoesOn() throws {
        let out = tmp("run.json")
        let r = try luaload(["-t", "2", "-H", server.url, "--json", out, Luaload.script(Self.sharedIterations)])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(server.count("/status/201"), 51, "51 task runs shared by the scenario's 3 users")
        XCTAssertLessThan(lastAt("/status/201"), 1.0, "51 loopback requests end long before the run's 2 s")
        XCTAssertGreaterThan(lastAt("/status/202"), 1.3, "the steady scenario went on after the batch ended (~0.05 s) to ~1.9 s")
        let doc = json(out)
        XCTAssertEqual(doc["abandoned"] as? Int, 0)
        let batch = (doc["scenarios"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "batch" }
        XCTAssertEqual(batch?["requests"] as? Int, 51)
        XCTAssertEqual(doc["stop_reason"] as? String, "iterations", "every scenario ended, one of them by its iterations")
        XCTAssertTrue((doc["profile"] as? String ?? "").contains("batch: 3 users, 51 iterations within 600s"), "\(doc["profile"] ?? "")")
    }

    /// iterations_per_user: each VU runs exactly its own count; the run ends by itself once every scenario
    /// has (well before the 10-minute max_duration), with stop reason "iterations"; no wait after a user's
    /// last task run (the `once` users' 10 s wait would hold the run that long).
    func testIterationsPerUserEndTheRunWhenDone() throws {
        let out = tmp("run.json")
        let script = Luaload.script(#"""
        local A = user{}
        A:task(function(self) http.get("/ok?u=" .. self.id) end)
        local W = user{ wait = constant(10) }
        W:task(function() http.get("/status/201") end)
        scenarios = {
          each = { class = A, users = 4, iterations_per_user = 5, start_time = "0.2s" },
          once = { class = W, users = 2, iterations_per_user = 1 },
        }
        """#)
        let started = Date()
        let r = try luaload(["-t", "2", "-H", server.url, "--json", out, script])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 8, "the run ended when the iterations did, with no wait after the last")
        let ids = server.received("/ok").map { $0.target.split(separator: "=").last.map(String.init) ?? "" }
        XCTAssertEqual(Dictionary(grouping: ids, by: { $0 }).mapValues(\.count).values.sorted(), [5, 5, 5, 5], "each user exactly 5: \(ids)")
        XCTAssertEqual(server.count("/status/201"), 2)
        let doc = json(out)
        XCTAssertEqual(doc["stop_reason"] as? String, "iterations")
        XCTAssertEqual(doc["iterations"] as? Int, 22)
    }

    /// max_duration ends a scenario of iterations that has not done them: its in-flight requests are
    /// abandoned and counted, so recorded + abandoned = what the server saw, and far fewer than asked.
    func testMaxDurationEndsAScenarioOfIterations() throws {
        let out = tmp("run.json")
        let script = Luaload.script(#"""
        local A = user{}
        A:task(function() http.get("/slow?ms=100") end)
        scenarios = { long = { class = A, users = 2, iterations = 100000, max_duration = "1s" } }
        """#)
        let r = try luaload(["-t", "2", "-H", server.url, "--json", out, script])
        XCTAssertEqual(r.code, 0, r.stderr)
        let doc = json(out)
        settle(doc)
        let recorded = (doc["total"] as? [String: Any])?["requests"] as? Int ?? -1, abandoned = doc["abandoned"] as? Int ?? -1
        XCTAssertEqual(recorded + abandoned, server.count("/slow"))
        XCTAssertLessThan(server.count("/slow"), 200, "2 users × 100 ms for 1 s: ~20, far from 100000")
        XCTAssertLessThan(doc["duration_s"] as? Double ?? 99, 10)
    }

    /// `--segment i/2` of a scenario of 51 iterations on 3 users: 34 + 17 (in proportion to the segments'
    /// VUs), exactly 51 at the server, and `luaload merge` equals the whole run per scenario.
    func testSegmentsSplitAScenariosIterationsExactly() throws {
        let script = Luaload.script(Self.sharedIterations)
        var parts: [String] = []
        for k in 0..<2 {
            let out = tmp("s\(k).json")
            let r = try luaload(["-t", "2", "-q", "-H", server.url, "--segment", "\(k)/2", "--json", out, script])
            XCTAssertEqual(r.code, 0, r.stderr)
            parts.append(out)
        }
        XCTAssertEqual(server.count("/status/201"), 51, "the two segments together: the scenario's 51")
        let counts = parts.map { p in (json(p)["scenarios"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "batch" }?["requests"] as? Int }
        XCTAssertEqual(counts, [34, 17], "segment 0 has 2 of the 3 users, segment 1 one")
        let merged = tmp("merged.json")
        XCTAssertEqual(try luaload(["merge", parts[0], parts[1], "--json", merged]).code, 0)
        let batch = (json(merged)["scenarios"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "batch" }
        XCTAssertEqual(batch?["requests"] as? Int, 51)
    }

    /// A scenario's own shape(run_time), from its start (0.5 s): run_time counts from the scenario's start
    /// (its first call gets 0, else a shape that ends at 0.3 s would run nothing), users as it returns, and
    /// nil ends that scenario while the other goes on.
    func testAScenariosShapeDrivesItsUsersFromItsStart() throws {
        let out = tmp("run.json")
        let script = Luaload.script(#"""
        local S = user{ wait = constant(0.1) }
        S:task(function() http.get("/status/203") end)
        local O = user{ wait = constant(0.1) }
        O:task(function() http.get("/status/204") end)
        scenarios = {
          shaped = { class = S, start_time = "0.5s", max_vus = 10,
                     shape = function(t) if t < 0.3 then return 3, 100 end end },
          other = { class = O, users = 1, duration = "3s" },
        }
        """#)
        let r = try luaload(["-t", "2", "-H", server.url, "--json", out, script])
        XCTAssertEqual(r.code, 0, r.stderr)
        settle(json(out))
        let first = server.received().map(\.at).min()!
        let shaped = server.received("/status/203").map { $0.at.timeIntervalSince(first) }
        XCTAssertGreaterThan(shaped.count, 5, "3 users for ~1 s at 10/s each: ~30")
        // The first request trails the run's start (the worker loads the script first), the scenario's start does not.
        XCTAssertGreaterThanOrEqual(shaped.min() ?? 0, 0.25, "not before its start_time (0.5 s)")
        XCTAssertLessThan(shaped.max() ?? 99, 2.4, "its shape returned nil at its second call (1 s after its start)")
        XCTAssertGreaterThan(lastAt("/status/204"), 2.2, "the other scenario went on to ~2.9 s")
        let doc = json(out)
        let rows = doc["scenarios"] as? [[String: Any]] ?? []
        let s = rows.first { $0["name"] as? String == "shaped" }
        XCTAssertEqual((s?["requests"] as? Int ?? -1) + (s?["abandoned"] as? Int ?? -1), server.count("/status/203"))
        XCTAssertTrue((doc["profile"] as? String ?? "").contains("shaped: shape(), max 10 VUs from 0.5s"), "\(doc["profile"] ?? "")")
    }

    /// A scenario's shape() that raises stops the run (as the run's shape() does), its error counted with the
    /// script's file:line; the summary's users are the most the shape ran (2 + 1), not its pool of 1000.
    func testAScenariosShapeErrorStopsTheRunNamingTheLine() throws {
        let out = tmp("run.json")
        let script = Luaload.script(#"""
        local S = user{ wait = constant(0.1) }
        S:task(function() http.get("/ok") end)
        scenarios = {
          shaped = { class = S, shape = function(t) if t > 0.5 then error("boom") end return 2, 10 end },
          other = { class = S, users = 1, duration = "20s" },
        }
        """#)
        let r = try luaload(["-t", "2", "-H", server.url, "--json", out, script])
        XCTAssertEqual(r.code, 1, r.stderr)
        let doc = json(out)
        let name = URL(fileURLWithPath: script).lastPathComponent
        let messages = (doc["errors"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
        XCTAssertEqual(messages.count, 1, "\(messages)")
        XCTAssertTrue(messages.first?.hasSuffix(name + ":4: boom") ?? false, "\(messages)")
        XCTAssertEqual(doc["stop_reason"] as? String, "shape_ended")
        XCTAssertLessThan(doc["duration_s"] as? Double ?? 99, 10, "stopped at shape()'s second call (~1 s), not at 20 s")
        XCTAssertEqual(doc["users"] as? Int, 3)
    }

    /// Bad iterations, max_duration and shape keys, and k6's spellings, are errors at the scenario's
    /// file:line before any traffic.
    func testBadIterationAndShapeKeysNameTheScriptLine() throws {
        let cases: [(String, String)] = [
            ("a = { class = A, users = 2, iterations = 0 }", "iterations must be a whole number >= 1"),
            ("a = { class = A, users = 2, iterations = \"5\" }", "iterations must be a whole number >= 1"),
            ("a = { class = A, rate = \"5/s\", max_vus = 2, iterations = 5 }", "iterations counts the task runs of users = N"),
            ("a = { class = A, users = 2, iterations = 5, iterations_per_user = 2 }", "not both"),
            ("a = { class = A, users = 2, iterations = 5, duration = \"1s\" }", "bound it with max_duration, not duration"),
            ("a = { class = A, users = 2, max_duration = \"1s\" }", "max_duration bounds a scenario of iterations"),
            ("a = { class = A, users = 2, iterations = 5, max_duration = \"soon\" }", "max_duration \"soon\" is not a duration"),
            ("a = { class = A, users = 2, maxDuration = \"1s\" }", "unknown key maxDuration (write it max_duration"),
            ("a = { class = A, executor = \"shared-iterations\", users = 2 }", "users with iterations (shared) or iterations_per_user"),
            ("a = { class = A, shape = 5 }", "shape must be a function(run_time)"),
            ("a = { class = A, users = 2, shape = function() end }", "give one of users"),
            ("a = { class = A, shape = function() end, max_vus = 0 }", "max_vus must be a whole number >= 1"),
        ]
        for (body, message) in cases {
            let bad = Luaload.script("local A = user{}\nA:task(function() http.get(\"/ok\") end)\nscenarios = {\n  \(body),\n}\n")
            let r = try luaload(["-H", server.url, bad])
            XCTAssertEqual(r.code, 2, body + ": " + r.stderr)
            XCTAssertTrue(r.stderr.contains(URL(fileURLWithPath: bad).lastPathComponent + ":4: ") && r.stderr.contains(message), body + ": " + r.stderr)
        }
        let n = try luaload(["-H", server.url, "-n", "5", Luaload.script("task(function() http.get('/ok') end)\nscenarios = { a = { users = 1 } }\n")])
        XCTAssertEqual(n.code, 2)
        XCTAssertTrue(n.stderr.contains("give a scenario iterations = N"), n.stderr)
        XCTAssertEqual(server.total, 0, "nothing was sent")
    }
}
