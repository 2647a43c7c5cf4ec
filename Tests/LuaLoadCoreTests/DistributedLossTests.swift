import Foundation
@testable import LuaLoadCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// An agent lost before it sent anything: nothing of it is kept, and the merge is the survivors' test.
final class DistributedLossTests: DistributedTestCase {
    /// Stopped (SIGSTOP) once it said ready, the agent never sends a second. Its ledger used to stand in the merge
    /// with a start of 0 (1970): the whole test's duration_s was 1,796,318,081 s and every rate 0.000.
    func testAnAgentLostBeforeItsFirstSecondLeavesTheTimelineAlone() throws {
        let targets = try [3, 3].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 2, script: Luaload.script(Self.regionScript), silence: 2) {
            ($0.users, $0.usersGiven, $0.duration) = (4, true, 4)
        }
        let procs = try agents(c, targets)
        let sleeper = procs[0].process.processIdentifier
        defer { kill(sleeper, SIGCONT); procs[0].killNow(); procs[0].wait() }
        var log: [String] = []
        let before = Date().timeIntervalSince1970
        let result = try c.run(log: { line in
            log.append(line)
            if line.contains("region=r0"), line.hasSuffix(" ready") { kill(sleeper, SIGSTOP) }   // before the start: no second
        }, observer: { _ in })
        XCTAssertEqual(procs[1].wait(), 0, procs[1].stderr)
        XCTAssertEqual(result.lost.map(\.lostReason), ["silent for 2.0 s (--agent-silence)"], log.joined(separator: "\n"))
        let json = parse(result.json())
        let start = Double(json["start_unix_ms"] as? Int ?? 0) / 1000
        XCTAssertTrue((before...before + 60).contains(start), "the test's start, not 1970: \(start)")
        XCTAssertLessThan(json["duration_s"] as? Double ?? .infinity, 30, "the survivor's -d 4 s, not since 1970")
        let groups = json["groups"] as? [String: [String: Any]] ?? [:]
        XCTAssertEqual(groups["r0"].flatMap { ($0["total"] as? [String: Any])?["requests"] as? Int }, 0, "its region, empty: \(groups.keys)")
        let survivor = (groups["r1"]?["total"] as? [String: Any])?["requests"] as? Int ?? 0
        XCTAssertGreaterThan(survivor, 20)
        XCTAssertEqual((json["total"] as? [String: Any])?["requests"] as? Int, survivor)
        XCTAssertGreaterThan((json["total"] as? [String: Any])?["rps"] as? Double ?? 0, 1, "its rate over -d 4 s")
    }
}
