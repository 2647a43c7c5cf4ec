import Foundation
import LuaLoadCore
import LuaLoadServe
import XCTest

/// Thresholds per tag on the controller: `GET /health{region:r1}` is judged on region r1's agents merged,
/// live (abort_on_fail stops every agent) and at the end (as `luaload merge` judges it).
final class DistributedThresholdTests: DistributedTestCase {
    func testAThresholdPerRegionCrossesInTheSlowRegionOnlyAndItsAbortStopsEveryAgent() throws {
        let targets = try [5, 60].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let script = Self.regionScript + """

            thresholds = {
              ["GET /health{region:r0}"] = { "p50 < 40" },
              ["GET /health{region:r1}"] = { { "p50 < 40", abort_on_fail = true } },
              ["Aggregated{region:r0}"] = { "requests > 0" },
            }
            """
        let c = try makeController(agents: 2, script: Luaload.script(script)) { $0.users = 4; $0.usersGiven = true; $0.duration = 30 }
        let procs = try agents(c, targets)
        var stopNote = ""
        let result = try c.run(log: { if $0.hasPrefix("stop sent") { stopNote = $0 } }, observer: { _ in })
        XCTAssertEqual(procs[0].wait(), 0, "the fast region's own verdicts hold: " + procs[0].stderr)
        XCTAssertEqual(procs[1].wait(), 3, "the slow region's own verdict: crossed: " + procs[1].stderr)
        XCTAssertTrue(stopNote.contains("GET /health{region:r1}: p50 < 40"), stopNote)
        let t = result.total
        XCTAssertEqual(t.stopReason, .thresholdCrossed)
        XCTAssertLessThan(t.durationSeconds, 6, "stopped long before -d 30")
        let verdicts = Dictionary(uniqueKeysWithValues: t.thresholdResults.map { ($0.name, $0) })
        let fast = try XCTUnwrap(verdicts["GET /health{region:r0}"]), slow = try XCTUnwrap(verdicts["GET /health{region:r1}"])
        XCTAssertTrue(fast.ok, "\(fast)")
        XCTAssertLessThan(try XCTUnwrap(fast.value), 40)
        XCTAssertFalse(slow.ok, "\(slow)")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(slow.value), 60)
        // On the region's requests only: its count is region r0's group's.
        let r0 = try XCTUnwrap(result.groups?.groups.first { $0.value == "r0" }?.summary)
        XCTAssertEqual(verdicts["Aggregated{region:r0}"]?.value, Double(r0.total.requests))
        XCTAssertLessThan(r0.total.requests, t.total.requests)
        // `luaload merge` of the agents' own files judges them the same way.
        let merged = Luaload.temporaryDirectory + "merged-\(UUID().uuidString).json"
        let m = try AgentProcess(["merge", "--json", merged] + procs.map(\.json))
        XCTAssertEqual(m.wait(), 3, m.stderr)
        let theirs = (parse(try String(contentsOfFile: merged, encoding: .utf8))["thresholds"] as? [[String: Any]] ?? [])
        XCTAssertEqual(theirs.map { $0["ok"] as? Bool }, t.thresholdResults.map(\.ok))
        // Each agent's own report leaves the other region's threshold to the controller, and says so.
        let own = parse(try String(contentsOfFile: procs[0].json, encoding: .utf8))["thresholds"] as? [[String: Any]] ?? []
        let other = try XCTUnwrap(own.first { $0["name"] as? String == "GET /health{region:r1}" })
        XCTAssertTrue((other["note"] as? String ?? "").contains("not judged on this run"), "\(other)")
    }

    func testAThresholdOnATagNoAgentHasCallsTheRunOffAndAMalformedOneIsAUsageError() throws {
        let target = try startDelayedTarget(latencyMs: 1)
        defer { target.stop() }
        let script = Self.regionScript + "\nthresholds = { [\"GET /health{region:nowhere}\"] = { \"p95 < 100\" } }\n"
        let c = try makeController(agents: 1, script: Luaload.script(script)) { $0.users = 1; $0.usersGiven = true; $0.duration = 3 }
        let procs = try agents(c, [target])
        XCTAssertThrowsError(try c.run(log: { _ in }, observer: { _ in })) { e in
            XCTAssertTrue("\(e)".contains("no agent is tagged region=nowhere (the agents have region=r0)"), "\(e)")
        }
        XCTAssertEqual(procs[0].wait(), 2, procs[0].stderr)
        XCTAssertEqual(targetTotal(target), 0, "called off before any traffic")
        for bad in ["GET /health{region:}: p95<100", "GET /health{:ams}: p95<100", "{region:ams}: p95<100"] {
            XCTAssertThrowsError(try Threshold(option: bad), bad) { XCTAssertTrue("\($0)".contains("a tag filter is NAME{key:value}"), "\($0)") }
        }
        // A name's own braces and k6's filters stay what they were.
        XCTAssertNoThrow(try Threshold(option: "GET /users/{id}: p95<100"))
        XCTAssertNoThrow(try Threshold(option: "http_req_duration{name:GET /health}: p95<100"))
        XCTAssertNoThrow(try Threshold(option: "http_req_duration{region:ams}: p95<100"))
    }

    /// A plain run judges a tagged threshold by its own tags (--tag): its own region's, not another's; a key it
    /// does not have crosses it; k6's request metrics on a tag it lacks are an error before any traffic.
    func testAPlainRunJudgesTaggedThresholdsByItsOwnTags() throws {
        let target = try startDelayedTarget(latencyMs: 1)
        defer { target.stop() }
        let script = try Luaload.script(Self.regionScript)
        func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            let p = try AgentProcess(["-q", "-t", "1", "-u", "1", "-n", "20", "-H", "http://127.0.0.1:\(target.port)"] + args + [script])
            return (p.wait(), p.stdout, p.stderr)
        }
        let k6 = try run(["--threshold", "http_req_duration{status:200}: p95<100"])
        XCTAssertEqual(k6.status, 2, k6.stderr)
        XCTAssertTrue(k6.stderr.contains("this run has no tag status"), k6.stderr)
        XCTAssertEqual(targetTotal(target), 0, "refused before any traffic")
        let own = try run(["--tag", "region=ams", "--threshold", "GET /health{region:ams}: p95<0.001"])
        XCTAssertEqual(own.status, 3, "its own region's threshold is judged, and crossed: " + own.stdout)
        let other = try run(["--tag", "region=iad", "--threshold", "GET /health{region:ams}: p95<0.001"])
        XCTAssertEqual(other.status, 0, other.stdout)
        XCTAssertTrue(other.stdout.contains("not judged on this run (no region=ams)"), other.stdout)
        let typo = try run(["--tag", "region=ams", "--threshold", "GET /health{regoin:ams}: p95<100"])
        XCTAssertEqual(typo.status, 3, typo.stdout)
        XCTAssertTrue(typo.stdout.contains("(runs tagged regoin=ams)"), typo.stdout)
        XCTAssertEqual(targetTotal(target), 60)
    }
}
