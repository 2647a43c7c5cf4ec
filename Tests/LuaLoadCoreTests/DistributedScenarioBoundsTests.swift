import Foundation
import LuaLoadCore
import XCTest

/// A scenario of iterations and an arrival-rate scenario across two agents: each agent runs its segment's share
/// of the iterations (in proportion to its users of the scenario) and of the arrivals; the controller's result
/// (the agents' reports merged) has exactly the scenario's iterations and each scenario's arrivals.
final class DistributedScenarioBoundsTests: DistributedTestCase {
    func testIterationsAndArrivalsPerScenarioAreExactOverTwoAgents() throws {
        let script = Luaload.script("""
            host = os.getenv("TARGET") or "http://127.0.0.1:9"
            local Batch = user{}
            Batch:task(function() http.get("/health?from=batch") end)
            local Ingest = user{}
            Ingest:task(function() http.get("/health?from=ingest") end)
            scenarios = {
              batch = { class = Batch, users = 3, iterations = 51 },
              ingest = { class = Ingest, rate = "40/s", max_vus = 20, duration = "1s" },
            }
            """)
        let targets = try [startDelayedTarget(latencyMs: 1), startDelayedTarget(latencyMs: 1)]
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 2, script: script) { _ in }
        let procs = try agents(c, targets)
        let result = try c.run(log: { _ in }, observer: { _ in })
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }
        let t = result.total
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: t.scenarioRows.map { ($0.name, $0.requests) }), ["batch": 51, "ingest": 40])
        let ingest = t.scenarioArrivals["ingest"]
        XCTAssertEqual([ingest?.scheduled, ingest?.started, ingest?.dropped], [40, 40, 0], "the agents' arrivals added")
        XCTAssertNil(t.scenarioArrivals["batch"])
        XCTAssertEqual(targets.map(targetTotal).reduce(0, +), t.total.requests + t.abandoned + t.total.redirects)
    }
}
