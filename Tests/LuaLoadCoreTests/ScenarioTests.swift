import Foundation
import XCTest

/// `scenarios` (issue #23): several load models in one run, each with its own start, pool and tag; per-scenario
/// stats exact against what a test server saw (its own arrival times for the start times), thresholds on a
/// scenario's tag, errors at the script's file:line, and segments that merge to the whole.
final class ScenarioTests: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    func luaload(_ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) {
        try runProcess(Luaload.binary, args, timeLimit: 60)
    }

    func json(_ path: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))) as? [String: Any] ?? [:]
    }

    func tmp(_ name: String) -> String { Luaload.temporaryDirectory + "scen-\(UUID().uuidString)-" + name }

    /// Requests per scenario in a run's JSON ("scenarios").
    func scenarioRequests(_ doc: [String: Any]) -> [String: Int] {
        var out: [String: Int] = [:]
        for s in doc["scenarios"] as? [[String: Any]] ?? [] { out[s["name"] as? String ?? ""] = s["requests"] as? Int ?? -1 }
        return out
    }

    /// Browsing users (each exactly 5 task runs, then stop()) from the start; event ingestion at 40/s for 1 s
    /// from 0.5 s on its own pool: 40 arrivals exactly.
    static let twoScenarios = #"""
    local Browser = user{ wait = constant(0.02) }
    Browser:task(function(self)
      self.n = (self.n or 0) + 1
      if self.n > 5 then stop() end
      http.get("/status/200")
    end)
    local Ingest = user{}
    Ingest:task(function() http.post("/status/202", { body = "e", tags = { kind = "write" } }) end)

    scenarios = {
      browse = { class = Browser, users = 4, duration = "1.5s" },
      ingest = { class = Ingest, rate = "40/s", max_vus = 4, start_time = "0.5s", duration = "1s" },
    }
    """#

    /// Two scenarios at once on 2 threads: the request split is exact per scenario (recorded + abandoned = what
    /// the server saw), the delayed scenario's first request reached the server after its start_time, its last
    /// before its end, and the rows carry their tags (the scenario's, then opts.tags).
    func testTwoScenariosRunAtOnceWithTheirSplitAndStartTimes() throws {
        let script = Luaload.script(Self.twoScenarios)
        let out = tmp("run.json"), csv = tmp("csv")
        let r = try luaload(["-t", "2", "-H", server.url, "--json", out, "--csv", csv, script])
        XCTAssertEqual(r.code, 0, r.stderr)
        let doc = json(out)
        XCTAssertEqual(doc["abandoned"] as? Int, 0, r.stdout)
        XCTAssertEqual(server.count("/status/200"), 20, "4 users × 5 task runs")
        XCTAssertEqual(server.count("/status/202"), 40, "40/s for 1 s, exactly")
        XCTAssertEqual(scenarioRequests(doc), ["browse": 20, "ingest": 40], r.stdout)
        let rows = doc["stats"] as? [[String: Any]] ?? []
        let tags = rows.map { ($0["name"] as? String ?? "", $0["tags"] as? [String: String] ?? [:], $0["requests"] as? Int ?? 0) }
        XCTAssertEqual(tags.count, 2)
        XCTAssertTrue(tags.contains { $0.0 == "/status/200" && $0.1 == ["scenario": "browse"] && $0.2 == 20 }, "\(tags)")
        XCTAssertTrue(tags.contains { $0.0 == "/status/202" && $0.1 == ["scenario": "ingest", "kind": "write"] && $0.2 == 40 }, "\(tags)")
        // Server-side times: browsing starts at once; ingestion 0.5 s later, for 1 s.
        let first = server.received().map(\.at).min()!
        let ingest = server.received("/status/202").map(\.at)
        let start = ingest.min()!.timeIntervalSince(first), end = ingest.max()!.timeIntervalSince(first)
        // Due at 0.5 s and from 0.5 to 1.475 s; the bounds leave a loaded machine 0.2-0.4 s either way (a start_time
        // ignored would start at 0, a 1 s late one at 1.5 s; a duration twice too long would end at 2.5 s).
        XCTAssertGreaterThanOrEqual(start, 0.3, "the ingest scenario's first request came \(start) s after the first request")
        XCTAssertLessThan(start, 0.9)
        XCTAssertLessThan(end, 1.9, "its last arrival is due before 1.5 s")
        XCTAssertLessThan(server.received("/status/200").map(\.at).max()!.timeIntervalSince(first), 0.5, "browsing (5 × 20 ms) ended before ingestion began")
        XCTAssertTrue(r.stdout.contains("Scenarios"), r.stdout)
        let csvText = (try? String(contentsOfFile: csv + "_scenarios.csv", encoding: .utf8)) ?? ""
        XCTAssertTrue(csvText.contains("scenario,browse,20,0,") && csvText.contains("scenario,ingest,40,0,"), csvText)
        XCTAssertTrue(((try? String(contentsOfFile: csv + "_stats.csv", encoding: .utf8)) ?? "").contains("/status/202 {kind:write,scenario:ingest}"))
    }

    /// A threshold on one scenario's tag crosses (k6's syntax: name and scenario) and exits 3; the other
    /// scenario's holds, and a request tag (opts.tags) selects its rows too.
    func testAThresholdOnOneScenariosTagCrossesAndExits3() throws {
        let script = Luaload.script(#"""
        local Fast = user{ wait = constant(0.05) }
        Fast:task(function() http.get("/ok", { tags = { kind = "probe" } }) end)
        local Slow = user{}
        Slow:task(function() http.get("/slow?ms=30") end)
        scenarios = {
          fast = { class = Fast, users = 2, duration = "1s" },
          slow = { class = Slow, rate = "10/s", max_vus = 4, duration = "1s" },
        }
        thresholds = {
          ["http_req_duration{name:/slow,scenario:slow}"] = { "p(95) < 30" },   -- the server waits 30 ms
          ["http_req_duration{scenario:fast}"] = { "p(95) < 1000" },
          ["/ok{kind:probe}"] = { "requests > 5" },
          ["Aggregated{scenario:slow}"] = { "requests == 10" },
        }
        """#)
        let out = tmp("run.json")
        let r = try luaload(["-t", "1", "-H", server.url, "--json", out, script])
        XCTAssertEqual(r.code, 3, r.stdout + r.stderr)
        let results = (json(out)["thresholds"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["ok"] as? Bool) }
        XCTAssertEqual(results.first { $0.0 == "http_req_duration{name:/slow,scenario:slow}" }?.1, false, "\(results)")
        XCTAssertEqual(results.first { $0.0 == "http_req_duration{scenario:fast}" }?.1, true, "\(results)")
        XCTAssertEqual(results.first { $0.0 == "/ok{kind:probe}" }?.1, true, "\(results)")
        XCTAssertEqual(results.first { $0.0 == "Aggregated{scenario:slow}" }?.1, true, "10/s for 1 s: \(results)")
        XCTAssertEqual(server.count("/slow"), 10)
    }

    /// A run that stops with requests in flight: each scenario's recorded + abandoned is what the server saw of it.
    func testEachScenariosAbandonedRequestsAreItsOwn() throws {
        let script = Luaload.script(#"""
        local Browser = user{ wait = constant(0.05) }
        Browser:task(function() http.get("/ok") end)
        local Ingest = user{}
        Ingest:task(function() http.get("/slow?ms=400") end)
        scenarios = {
          browse = { class = Browser, users = 2, duration = "1s" },
          ingest = { class = Ingest, rate = "10/s", max_vus = 10, duration = "1s" },
        }
        """#)
        let out = tmp("run.json")
        let r = try luaload(["-t", "2", "-H", server.url, "--json", out, script])
        XCTAssertEqual(r.code, 0, r.stderr)
        let doc = json(out)
        let sent = (doc["total"] as? [String: Any])?["requests"] as? Int ?? 0
        settledCount(sent + (doc["abandoned"] as? Int ?? 0)) { server.total }   // the server counts a request when it has read it
        var byScenario: [String: (Int, Int)] = [:]
        for s in doc["scenarios"] as? [[String: Any]] ?? [] {
            byScenario[s["name"] as? String ?? ""] = (s["requests"] as? Int ?? -1, s["abandoned"] as? Int ?? -1)
        }
        let ingest = byScenario["ingest"] ?? (-1, -1), browse = byScenario["browse"] ?? (-1, -1)
        XCTAssertGreaterThan(ingest.1, 0, "the last arrivals' 400 ms requests were in flight at the stop")
        XCTAssertEqual(ingest.0 + ingest.1, server.count("/slow"))
        XCTAssertEqual(browse.0 + browse.1, server.count("/ok"))
        XCTAssertEqual(doc["abandoned"] as? Int, ingest.1 + browse.1)
    }

    /// A scenario with a key it does not take (a typo) is an error at its file:line before any traffic; so are
    /// a missing max_vus and a bad duration; -u replaces the scenarios (k6's shortcut flags do), said in the summary.
    func testScenarioErrorsNameTheScriptLineBeforeAnyTraffic() throws {
        let script = Luaload.script(#"""
        local Ingest = user{}
        Ingest:task(function() http.get("/ok") end)

        scenarios = {
          ingest = {
            class = Ingest, rate = "10/s", max_vus = 2,
            strat_time = "1s",
          },
        }
        """#)
        let name = URL(fileURLWithPath: script).lastPathComponent
        let r = try luaload(["-H", server.url, script])
        XCTAssertEqual(r.code, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(name):5: scenarios.ingest: unknown key strat_time (accepted: class, duration, max_vus"), r.stderr)
        for (body, message) in [("ingest = { class = Ingest, rate = \"10/s\" }", "max_vus (the VU pool arrivals run on"),
                                ("ingest = { class = Ingest, users = 2, duration = \"soon\" }", "scenarios.ingest: duration \"soon\" is not a duration"),
                                ("ingest = { class = Ingest, users = 2, stages = {} }", "give one of users"),
                                ("ingest = { class = {}, users = 2 }", "class must be a user class")] {
            let bad = Luaload.script("local Ingest = user{}\nIngest:task(function() http.get(\"/ok\") end)\nscenarios = {\n  \(body),\n}\n")
            let b = try luaload(["-H", server.url, bad])
            XCTAssertEqual(b.code, 2, body + ": " + b.stderr)
            XCTAssertTrue(b.stderr.contains(URL(fileURLWithPath: bad).lastPathComponent + ":4: ") && b.stderr.contains(message), body + ": " + b.stderr)
        }
        XCTAssertEqual(server.total, 0, "nothing was sent")
        let n = try luaload(["-H", server.url, "-n", "5", Luaload.script("task(function() http.get('/ok') end)\nscenarios = { a = { users = 1 } }\n")])
        XCTAssertEqual(n.code, 2, n.stderr)
        XCTAssertTrue(n.stderr.contains("-n with scenarios"), n.stderr)
        // -u replaces them (k6's shortcut flags do): one model of every class, untagged rows, and a note.
        let out = tmp("replaced.json")
        let u = try luaload(["-H", server.url, "-u", "1", "-n", "3", "--json", out,
                             Luaload.script("task(function() http.get('/ok') end)\nscenarios = { a = { users = 5, start_time = '10s' } }\n")])
        XCTAssertEqual(u.code, 0, u.stderr)
        XCTAssertTrue(u.stderr.contains("the script's scenarios were replaced by the command line's load model"), u.stderr)
        XCTAssertEqual(server.count("/ok"), 3)
        XCTAssertNil(json(out)["scenarios"], "no scenario tags on its rows")
    }

    /// `--segment i/2` of a two-scenario run: each segment runs its share of each scenario's users and arrivals;
    /// `luaload merge` of the two equals the whole run per scenario and per row, and what the server saw.
    func testSegmentsOfATwoScenarioRunMergeToTheWhole() throws {
        let script = Luaload.script(Self.twoScenarios)
        let whole = tmp("whole.json"), s0 = tmp("s0.json"), s1 = tmp("s1.json"), merged = tmp("merged.json")
        XCTAssertEqual(try luaload(["-t", "2", "-q", "-H", server.url, "--json", whole, script]).code, 0)
        let seenWhole = (server.count("/status/200"), server.count("/status/202"))
        for (k, out) in [s0, s1].enumerated() {
            let r = try luaload(["-t", "2", "-q", "-H", server.url, "--segment", "\(k)/2", "--json", out, script])
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertEqual(scenarioRequests(json(out)), ["browse": 10, "ingest": 20], "segment \(k)/2: half of each")
        }
        let m = try luaload(["merge", s0, s1, "--json", merged])
        XCTAssertEqual(m.code, 0, m.stderr)
        XCTAssertEqual(seenWhole.0, 20)
        XCTAssertEqual(seenWhole.1, 40)
        XCTAssertEqual(scenarioRequests(json(merged)), scenarioRequests(json(whole)))
        XCTAssertEqual(scenarioRequests(json(merged)), ["browse": 20, "ingest": 40])
        XCTAssertEqual(server.count("/status/200") - seenWhole.0, 20, "the segments together: the whole run's requests")
        XCTAssertEqual(server.count("/status/202") - seenWhole.1, 40)
        func rows(_ doc: [String: Any]) -> [String] {
            (doc["stats"] as? [[String: Any]] ?? []).map { row in
                let tags = (row["tags"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { $0.key + ":" + $0.value }
                return "\(row["name"] ?? "") \(tags) \(row["requests"] ?? "")"
            }.sorted()
        }
        XCTAssertEqual(rows(json(merged)), rows(json(whole)))
    }
}
