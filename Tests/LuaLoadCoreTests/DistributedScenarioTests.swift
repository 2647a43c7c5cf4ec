import Foundation
import LuaLoadCore
import XCTest

/// `scenarios` across agents: each agent runs its segment of every scenario; the scenario tags cross the agent
/// link (live) and the controller's result per scenario is the whole test's, exactly what the targets saw.
final class DistributedScenarioTests: DistributedTestCase {
    func testTwoScenariosOverTwoAgentsAreExactPerScenarioLiveAndAtTheEnd() throws {
        let script = Luaload.script("""
            host = os.getenv("TARGET") or "http://127.0.0.1:9"
            local Browser = user{ wait = constant(0.02) }
            Browser:task(function(self)
              self.n = (self.n or 0) + 1
              if self.n > 5 then stop() end
              http.get("/health")
            end)
            local Ingest = user{}
            Ingest:task(function() http.get("/health?from=ingest") end)
            scenarios = {
              browse = { class = Browser, users = 4, duration = "2s" },
              ingest = { class = Ingest, rate = "40/s", max_vus = 4, start_time = "0.5s", duration = "1s" },
            }
            """)
        let targets = try [startDelayedTarget(latencyMs: 1), startDelayedTarget(latencyMs: 1)]
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 2, script: script) { _ in }
        let procs = try agents(c, targets)
        var liveScenarios: Set<String> = []
        let result = try c.run(log: { _ in }, observer: { e in
            guard case .tick(let p) = e else { return }
            for r in p.currentStats().scenarioRows { liveScenarios.insert(r.name) }
        })
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }
        XCTAssertEqual(liveScenarios, ["browse", "ingest"], "the scenario tags crossed the agent link live")
        let t = result.total
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: t.scenarioRows.map { ($0.name, $0.requests) }), ["browse": 20, "ingest": 40])
        let sent = t.total.requests + t.abandoned + t.total.redirects
        XCTAssertEqual(settledCount(sent) { targets.map(targetTotal).reduce(0, +) }, sent)
        XCTAssertEqual(Set(result.agents.map(\.segment.description)), ["0/2", "1/2"])
    }
}
