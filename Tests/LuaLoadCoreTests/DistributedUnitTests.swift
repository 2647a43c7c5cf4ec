@testable import LuaLoadCore
import XCTest

/// The agent link's pieces without processes: the deltas' encoding, frames, addresses, the run package.
final class DistributedUnitTests: XCTestCase {
    func testDeltaEncodingIsTheCodecsBytesOfTheDifference() throws {
        var rng = SystemRandomNumberGenerator()
        var before = makeLatencyHistogram()
        for _ in 0..<500 { _ = before.record(UInt64.random(in: 1...200_000, using: &rng)) }
        var now = before
        for _ in 0..<700 { _ = now.record(UInt64.random(in: 1...3_000_000, using: &rng)) }
        XCTAssertEqual(HdrDelta.encode(HdrDelta.counts(now), minus: nil, compressed: true), HdrCodec.encodeBase64(now))
        XCTAssertEqual(HdrDelta.encode(HdrDelta.counts(now), minus: nil), Base64.encode(HdrCodec.encode(now)), "the link's: uncompressed")
        let delta = HdrDelta.encode(HdrDelta.counts(now), minus: HdrDelta.counts(before), compressed: true)
        XCTAssertEqual(delta, HdrCodec.encodeBase64(HdrLogRecorder.difference(now, minus: before)))
        XCTAssertEqual(try HdrCodec.decodeBase64(HdrDelta.encode(HdrDelta.counts(now), minus: HdrDelta.counts(before))).histogram().totalCount, 700)
        let empty = makeLatencyHistogram()
        XCTAssertEqual(HdrDelta.encode(HdrDelta.counts(empty), minus: nil, compressed: true), HdrCodec.encodeBase64(empty))
        XCTAssertEqual(HdrDelta.encode(HdrDelta.counts(now), minus: HdrDelta.counts(now), compressed: true), HdrCodec.encodeBase64(empty), "nothing new")
        var sum = HdrDelta.counts(before)
        HdrDelta.add(HdrDelta.counts(now), into: &sum)
        var both = before
        both.add(now)
        XCTAssertEqual(sum, HdrDelta.counts(both))
    }

    func testLedgerAddsSecondsBackToTheAgentsTotals() throws {
        let builder = SecondDeltaBuilder()
        var row = RequestStats(method: "GET", name: "/a")
        for v in [100, 200, 300] { row.record(micros: UInt64(v), failed: v == 300) }
        var stats = WorkerStats()
        stats.rows = [row]
        stats.custom[FailureKey(method: "GET", name: "/a", error: "boom")] = 1
        func progress(_ s: WorkerStats, tick: Int) -> RunProgress {
            RunProgress(elapsed: Double(tick), tick: tick, activeUsers: 2, targetUsers: 2, requests: 3, failures: 1,
                        recentRequests: 3, recentFailures: 1, stopping: false, recentLatencies: [row.histogram],
                        statsNow: { Summary(workers: [s], durationSeconds: Double(tick), users: 2, threads: 1, stopReason: .duration, history: []) },
                        workersNow: { [s] })
        }
        var ledger = AgentLedger()
        try ledger.apply(LinkMessage.decode(builder.message(progress(stats, tick: 1))).body)
        for v in [400, 500] { stats.rows[0].record(micros: UInt64(v), failed: false) }
        try ledger.apply(LinkMessage.decode(builder.message(progress(stats, tick: 2))).body)
        let merged = Summary(workers: [ledger.stats], durationSeconds: 2, users: 2, threads: 1, stopReason: .duration, history: [])
        let original = Summary(workers: [stats], durationSeconds: 2, users: 2, threads: 1, stopReason: .duration, history: [])
        XCTAssertEqual(merged.total.requests, 5)
        XCTAssertEqual(merged.total.failures, 1)
        XCTAssertEqual(merged.total.sumMicros, original.total.sumMicros)
        XCTAssertEqual(HdrCodec.encodeBase64(merged.total.histogram), HdrCodec.encodeBase64(original.total.histogram))
        XCTAssertEqual(merged.failures.map(\.occurrences), [1], "a failure is counted once, not once a second")
        XCTAssertEqual(ledger.history.count, 2)
        XCTAssertEqual(ledger.users, 2)
    }

    func testFramesAddressesAndTokens() throws {
        XCTAssertEqual(LinkAddress("7400")?.description, "127.0.0.1:7400")
        XCTAssertEqual(LinkAddress("[::]:7400")?.host, "::")
        XCTAssertEqual(LinkAddress("ctl.example:80")?.isLoopback, false)
        XCTAssertNil(LinkAddress("ctl.example"))
        XCTAssertNil(LinkAddress("x:99999"))
        XCTAssertTrue(Controller.sameToken("abc", "abc"))
        XCTAssertFalse(Controller.sameToken("abd", "abc"))
        XCTAssertFalse(Controller.sameToken("ab", "abc"))
        XCTAssertFalse(Controller.sameToken("", ""), "an empty token never matches")
        // A frame split across reads, then one over the cap.
        let (fd, port) = try Link.listen(LinkAddress("127.0.0.1:0")!)
        defer { close(fd) }
        let client = try Link.connect(LinkAddress("127.0.0.1:\(port)")!, timeout: 2)
        usleep(50_000)
        let server = try XCTUnwrap(Link.accept(fd, maxFrame: 100))
        try client.send(LinkMessage.encode("hello") { w in w.key("n"); w.int(7) })
        let m = try LinkMessage.decode(try XCTUnwrap(try server.receive(timeout: 2)))
        XCTAssertEqual(m.type, "hello")
        XCTAssertEqual(m.body["n"]?.int, 7)
        try client.send([UInt8](repeating: 65, count: 101))
        XCTAssertThrowsError(try server.receive(timeout: 2)) { XCTAssertTrue("\($0)".contains("limit is 100"), "\($0)") }
        client.close()
    }

    func testThePackageRefusesFilesOutsideTheScriptsFolderAndUnpacksOnlyPlainPaths() throws {
        let dir = Luaload.temporaryDirectory + "pkg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
        try "name\nx\n".write(toFile: dir + "/data/users.csv", atomically: true, encoding: .utf8)
        try "return { k = 1 }\n".write(toFile: dir + "/helper.lua", atomically: true, encoding: .utf8)
        try "s\n".write(toFile: Luaload.temporaryDirectory + "outside.txt", atomically: true, encoding: .utf8)
        try "local u = data.csv('data/users.csv')\nlocal h = require('helper')\ntask(function() end)\n"
            .write(toFile: dir + "/s.lua", atomically: true, encoding: .utf8)
        let package = try RunPackage.collect(RunOptions(scriptPath: dir + "/s.lua", threads: 1))
        XCTAssertEqual(package.files.map(\.path), ["s.lua", "data/users.csv", "helper.lua"])
        try "local f = io.open('\(Luaload.temporaryDirectory)outside.txt')\ntask(function() end)\n"
            .write(toFile: dir + "/bad.lua", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunPackage.collect(RunOptions(scriptPath: dir + "/bad.lua", threads: 1))) {
            XCTAssertTrue("\($0)".contains("outside its folder"), "\($0)")
        }
        let out = try Agent.makeFolder()
        defer { Agent.remove(package, from: out) }
        let options = try package.unpack(into: out)
        XCTAssertEqual(options.scriptPath, out + "/s.lua")
        XCTAssertEqual(try String(contentsOfFile: out + "/data/users.csv", encoding: .utf8), "name\nx\n")
        for evil in ["../x", "/etc/x", "a/../../x", "a//b", ""] {
            var p = package
            p.files.append((evil, [1]))
            XCTAssertThrowsError(try p.unpack(into: out), evil)
        }
    }

    /// abort_on_fail on the controller judges a check or a custom metric once the agents' seconds brought it, not before.
    func testThresholdsOnChecksAndMetricsAreWatchedOnceTheyRan() throws {
        var s = Summary(workers: [], durationSeconds: 1, users: 0, threads: 0, stopReason: .duration, history: [])
        let none: TagPart = { _ in nil }
        let one = try Threshold(name: "checks{check:login ok}", text: "rate > 0.9", abortOnFail: true, delaySeconds: 0, origin: "test")
        let all = try Threshold(name: "checks", text: "rate > 0.9", abortOnFail: true, delaySeconds: 0, origin: "test")
        let metric = try Threshold(name: "calls", text: "count < 10", abortOnFail: true, delaySeconds: 0, origin: "test")
        XCTAssertFalse(one.watchable(s, part: none) || all.watchable(s, part: none) || metric.watchable(s, part: none))
        s.script.checks["status is 200"] = CheckCounts(passes: 3)
        XCTAssertTrue(all.watchable(s, part: none))
        XCTAssertFalse(one.watchable(s, part: none), "another check ran, not this one")
        s.script.checks["login ok"] = CheckCounts(passes: 1)
        XCTAssertTrue(one.watchable(s, part: none))
        s.script.metrics["calls"] = CustomMetric(kind: .counter)
        XCTAssertTrue(metric.watchable(s, part: none))
    }
}
