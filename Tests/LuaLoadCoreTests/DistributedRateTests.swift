import Foundation
import LuaLoadCore
import LuaLoadServe
import XCTest

/// The open model on the controller: a rate change goes to every agent as the whole test's rate from one
/// second of it, and each agent keeps its segment's arrivals of that global schedule.
final class DistributedRateTests: DistributedTestCase {
    func testARateChangeReachesEveryAgentAndTheSplitStaysExact() throws {
        let targets = try [1, 1].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 2, script: Luaload.script(Self.regionScript)) { $0.rate = 20; $0.duration = 4; $0.maxVUs = 40 }
        XCTAssertEqual(c.controlModel, .rate)
        let procs = try agents(c, targets)
        var at: Double?
        var liveRates: [Double] = []
        var atChange: [Int] = []
        let result = try c.run(log: { line in
            // "rate 100.0/s from 1.253 s sent to every agent"
            if line.hasPrefix("rate 100.0/s from ") { at = Double(line.dropFirst(18).split(separator: " ")[0]) }
        }, observer: { e in
            guard case .tick(let p) = e else { return }
            if p.tick == 1 { atChange = targets.map(targetTotal); c.controls.post(.setRate(100)) }
            if p.tick == 3 { liveRates.append(p.targetRate ?? -1) }
        })
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }
        let from = try XCTUnwrap(at, "the controller said when the new rate began")
        XCTAssertEqual(liveRates, [100], "the controller's live rate is the new one")
        // Server side: each agent's target went from 20/s shared (10/s each) to 100/s shared (50/s each).
        settledCount(result.total.total.requests + result.total.abandoned + result.total.total.redirects) { targets.map(targetTotal).reduce(0, +) }
        let seen = targets.map(targetTotal)
        for k in 0..<2 {
            let after = Double(seen[k] - atChange[k]) / (4 - from)
            XCTAssertGreaterThan(after, 35, "agent \(k): \(after)/s after the change")
            XCTAssertLessThan(after, 65, "agent \(k): \(after)/s after the change")
        }
        // Exactly the global schedule's arrivals, split without overlap or gap.
        let schedule = ArrivalSchedule(ramp: .constant(20, seconds: .infinity), end: 4).changingRate(to: 100, at: from, runEnd: 4)
        let arrivals = try XCTUnwrap(result.total.arrivals)
        XCTAssertEqual(arrivals.scheduled, schedule.count(before: 4))
        XCTAssertEqual(seen.reduce(0, +), result.total.total.requests + result.total.abandoned + result.total.total.redirects)
    }

    func testARateChangeInTheClosedModelIsLoggedAndNotSent() throws {
        let target = try startDelayedTarget(latencyMs: 1)
        defer { target.stop() }
        let c = try makeController(agents: 1, script: Luaload.script(Self.regionScript)) { $0.users = 2; $0.usersGiven = true; $0.duration = 2 }
        XCTAssertEqual(c.controlModel, .users(max: 1000))
        let procs = try agents(c, [target])
        var lines: [String] = []
        let result = try c.run(log: { lines.append($0) }, observer: { e in
            if case .tick(let p) = e, p.tick == 1 { c.controls.post(.setRate(50)) }
        })
        XCTAssertEqual(procs[0].wait(), 0, procs[0].stderr)
        XCTAssertTrue(lines.contains("rate 50.0/s ignored: the test runs users, not a rate (the open model: --rate)"), "\(lines)")
        XCTAssertNil(result.total.arrivals)
        XCTAssertEqual(settledCount(result.total.total.requests + result.total.abandoned) { targetTotal(target) },
                       result.total.total.requests + result.total.abandoned)
    }
}
