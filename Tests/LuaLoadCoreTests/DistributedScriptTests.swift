import Foundation
import LuaLoadCore
import XCTest

/// check() counts and custom metrics (issue #23) across agents: each agent's second carries its script's
/// figures, the controller adds them live (so a threshold on a counter sees the whole test), and the final
/// JSON's "checks" and "metrics" are `luaload merge`'s of the agents' own files.
final class DistributedScriptTests: DistributedTestCase {
    static let script = """
        host = os.getenv("TARGET") or "http://127.0.0.1:9"
        wait = constant(tonumber(os.getenv("PAUSE") or "0.01"))
        local calls = metrics.counter("calls")
        local took = metrics.trend("took", { unit = "ms" })
        local ok = metrics.rate("ok")
        local last = metrics.gauge("last_status")
        task(function()
          local res = http.get("/health", { name = "GET /health" })
          check(res, { ["status is 200"] = function(r) return r.status == 200 end, ["never"] = function() return false end })
          calls:add(1)
          took:add(math.random(1, 5000) / 10)
          ok:add(res.status == 200)
          last:add(res.status)
        end)
        """

    func testChecksAndMetricsAreAddedLiveAndMergedExactly() throws {
        let targets = try [2, 2].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 2, script: Luaload.script(Self.script)) { $0.users = 4; $0.usersGiven = true; $0.duration = 3 }
        let procs = try agents(c, targets)
        var midway: ScriptMetrics?, lastLive: ScriptMetrics?
        let result = try c.run(log: { _ in }, observer: { e in
            guard case .tick(let p) = e else { return }
            let s = p.currentStats().script
            if p.tick == 2 { midway = s }
            lastLive = s
        })
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }
        // Live: both agents' checks and metrics, added.
        let mid = try XCTUnwrap(midway)
        let passes = try XCTUnwrap(mid.checks["status is 200"]?.passes)
        XCTAssertGreaterThan(passes, 20)
        XCTAssertEqual(mid.checks["never"]?.fails, passes)
        XCTAssertEqual(mid.metrics["calls"]?.sum, Double(passes))
        XCTAssertEqual(mid.metrics["took"]?.count, passes)
        XCTAssertEqual(mid.metrics["took"]?.histogram?.totalCount, UInt64(passes), "the trend's histogram deltas added")
        XCTAssertEqual(mid.metrics["ok"]?.passes, passes)
        XCTAssertEqual(mid.metrics["last_status"]?.last, 200)
        // The final figures: the agents' reports merged; the live view's last second is within what came after it.
        let total = result.total.script
        let perAgent = try procs.map { p -> [String: Any] in parse(try String(contentsOfFile: p.json, encoding: .utf8)) }
        let agentPasses = perAgent.map { (($0["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "status is 200" }?["passes"] as? Int) ?? 0 }
        XCTAssertEqual(total.checks["status is 200"]?.passes, agentPasses.reduce(0, +))
        XCTAssertTrue(agentPasses.allSatisfy { $0 > 0 }, "\(agentPasses)")
        XCTAssertEqual(total.metrics["calls"]?.sum, Double(agentPasses.reduce(0, +)))
        XCTAssertEqual(total.metrics["took"]?.histogram?.totalCount, UInt64(agentPasses.reduce(0, +)))
        XCTAssertLessThanOrEqual(lastLive?.checks["status is 200"]?.passes ?? .max, agentPasses.reduce(0, +))
        // The controller's JSON (checks and metrics included) is `luaload merge --by region` of the agents' files.
        let merged = Luaload.temporaryDirectory + "merged-\(UUID().uuidString).json"
        let files = result.agents.map { a in procs[Int(a.tags.first { $0.key == "region" }!.value.dropFirst())!].json }
        let m = try AgentProcess(["merge", "--by", "region", "--json", merged] + files)
        XCTAssertEqual(m.wait(), 0, m.stderr)
        var mine = withoutRunIDs(parse(result.json()))
        mine["agents"] = nil
        let theirs = withoutRunIDs(parse(try String(contentsOfFile: merged, encoding: .utf8)))
        XCTAssertNotNil(theirs["checks"]); XCTAssertNotNil(theirs["metrics"])
        XCTAssertEqual(NSDictionary(dictionary: mine), NSDictionary(dictionary: theirs))
    }

    /// A threshold on a counter is judged on the whole test live: each agent alone would take ~7.5 s to cross
    /// `calls < 150` (a call every 0.1 s for 2 users), both together ~3.75 s; abort_on_fail stops them both then.
    func testAThresholdOnACounterSeesEveryAgentLive() throws {
        let targets = try [1, 1].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let script = Self.script + "\nthresholds = { calls = { { \"count < 150\", abort_on_fail = true } } }\n"
        let c = try makeController(agents: 2, script: Luaload.script(script)) { $0.users = 4; $0.usersGiven = true; $0.duration = 20 }
        let procs = try targets.enumerated().map { k, t in
            try AgentProcess(port: c.port, token: token, tags: ["region=r\(k)"], env: ["TARGET": "http://127.0.0.1:\(t.port)", "PAUSE": "0.1"])
        }
        var log: [String] = []
        let result = try c.run(log: { log.append($0) }, observer: { _ in })
        for a in procs { _ = a.wait() }
        XCTAssertEqual(result.total.stopReason, .thresholdCrossed, log.joined(separator: "\n"))
        XCTAssertTrue(log.contains { $0.contains("threshold calls: count < 150 crossed") }, "\(log)")
        // ~4.3 s (the sum crosses at ~3.75 s, judged at the controller's next second, 4.25 s); the proof is below:
        // the test stopped while no agent alone reached 150 (~85 calls each when the stop lands). With `count < 60`
        // (one agent alone at 3 s, stop due at 2.25 s) an agent reached 60-72 before the stop in 2 of 15 runs under
        // 4 CPU hogs (its second came after the controller's tick: judged a second later, and starved): now 3.25 s
        // (65 calls) of margin, twice the worst lag seen.
        XCTAssertLessThan(result.total.durationSeconds, 10, "stopped by the threshold, long before -d 20")
        XCTAssertFalse(result.total.notes.contains { $0.contains("decided at the end") }, "\(result.total.notes)")
        let perAgent = try procs.map { p in parse(try String(contentsOfFile: p.json, encoding: .utf8)) }
        for doc in perAgent {
            let calls = (doc["metrics"] as? [[String: Any]])?.first { $0["name"] as? String == "calls" }?["value"] as? Double ?? 0
            XCTAssertLessThan(calls, 150, "no agent alone crossed it")
        }
    }
}
