import Foundation
import XCTest

/// Each arrival-rate scenario's own arrivals (scheduled, started, dropped, late) in the JSON, console, CSV and
/// HTML reports, exact against the schedule and what the server saw, across 2 threads and across segments merged.
final class ScenarioArrivalsTests: ScenarioTestCase {
    /// Scenario name → its "arrivals" object's (scheduled, started, dropped).
    func arrivals(_ doc: [String: Any]) -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for s in doc["scenarios"] as? [[String: Any]] ?? [] {
            guard let a = s["arrivals"] as? [String: Any] else { continue }
            out[s["name"] as? String ?? ""] = ["scheduled", "started", "dropped"].map { a[$0] as? Int ?? -1 }
        }
        return out
    }

    /// fast: 40/s for 1 s on 20 VUs (40 arrivals, all started: dropping one takes a 0.5 s stall); slow: 20/s
    /// for 1 s of 300 ms task runs on 2 VUs with --late drop (most dropped); browse: closed, no arrivals.
    static let script = #"""
    local Fast = user{}
    Fast:task(function() http.get("/ok") end)
    local Slow = user{}
    Slow:task(function() http.get("/slow?ms=300") end)
    local Browse = user{ wait = constant(0.1) }
    Browse:task(function() http.get("/status/200") end)
    scenarios = {
      fast = { class = Fast, rate = "40/s", max_vus = 20, duration = "1s" },
      slow = { class = Slow, rate = "20/s", max_vus = 2, duration = "1s" },
      browse = { class = Browse, users = 1, duration = "1s" },
    }
    """#

    func testEachArrivalRateScenarioReportsItsOwnArrivals() throws {
        let out = tmp("run.json"), csv = tmp("csv"), html = tmp("run.html")
        let r = try luaload(["-t", "2", "--late", "drop", "-H", server.url, "--json", out, "--csv", csv, "--html", html, Luaload.script(Self.script)])
        XCTAssertEqual(r.code, 0, r.stderr)
        let doc = json(out), a = arrivals(doc)
        settle(doc)
        XCTAssertEqual(a["fast"], [40, 40, 0], "40/s for 1 s, every arrival found a VU")
        XCTAssertEqual(server.count("/ok"), 40)
        let slow = a["slow"] ?? []
        XCTAssertEqual(slow.first, 20, "20/s for 1 s")
        XCTAssertEqual(slow.count == 3 ? slow[1] + slow[2] : -1, 20, "scheduled = started + dropped")
        XCTAssertEqual(slow.count == 3 ? slow[1] : -1, server.count("/slow"), "each started arrival made its one request")
        XCTAssertGreaterThan(slow.count == 3 ? slow[2] : 0, 5, "2 VUs of 300 ms task runs take ~7 of 20 arrivals")
        XCTAssertNil(a["browse"], "a closed scenario has no arrivals")
        let whole = doc["arrivals"] as? [String: Any] ?? [:]
        XCTAssertEqual(whole["scheduled"] as? Int, 60, "the run's arrivals are the scenarios' sum")
        XCTAssertEqual(whole["started"] as? Int, 40 + (slow.count == 3 ? slow[1] : 0))
        XCTAssertTrue(r.stdout.contains("fast arrivals: 40 scheduled, 40 started, 0 dropped"), r.stdout)
        XCTAssertTrue(r.stdout.contains("slow arrivals: 20 scheduled, \(slow.count == 3 ? slow[1] : -1) started"), r.stdout)
        let csvText = (try? String(contentsOfFile: csv + "_scenarios.csv", encoding: .utf8)) ?? ""
        XCTAssertTrue(csvText.hasPrefix("Type,Name,") && csvText.contains(",Scheduled,Started,Dropped,Late\r\n"), csvText)
        XCTAssertTrue(csvText.contains(",40,40,0,0\r\n") && csvText.contains("scenario,browse,") && csvText.contains(",,,,\r\n"), csvText)
        let page = (try? String(contentsOfFile: html, encoding: .utf8)) ?? ""
        XCTAssertTrue(page.contains("<th>Scheduled</th><th>Started</th><th>Dropped</th>") && page.contains("<td>40</td><td>40</td><td>0</td>"))
    }

    /// `--segment i/2`: each segment schedules its share of each scenario's arrivals (k ≡ i); `luaload merge`
    /// adds them back to the whole run's, per scenario.
    func testSegmentsMergeEachScenariosArrivalsExactly() throws {
        let script = Luaload.script(Self.script)
        var parts: [String] = []
        for k in 0..<2 {
            let out = tmp("s\(k).json")
            let r = try luaload(["-t", "2", "-q", "--late", "drop", "-H", server.url, "--segment", "\(k)/2", "--json", out, script])
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertEqual(arrivals(json(out))["fast"], [20, 20, 0], "segment \(k)/2: half of fast's 40")
            XCTAssertEqual(arrivals(json(out))["slow"]?.first, 10)
            parts.append(out)
        }
        let merged = tmp("merged.json")
        let m = try luaload(["merge", parts[0], parts[1], "--json", merged])
        XCTAssertEqual(m.code, 0, m.stderr)
        let a = arrivals(json(merged)), p = parts.map { arrivals(json($0))["slow"] ?? [] }
        XCTAssertEqual(a["fast"], [40, 40, 0])
        XCTAssertEqual(a["slow"], p.count == 2 && p[0].count == 3 && p[1].count == 3 ? zip(p[0], p[1]).map(+) : [], "the segments' sums")
        XCTAssertEqual(a["slow"]?.first, 20)
    }
}
