import Foundation
import XCTest
@testable import LuaLoadCore
import CPosix

/// The history (a row a second) adds up to the run exactly: the last part-second is a row, setup()'s and
/// teardown()'s requests are in it, a ramp to 0 ends at 0, and `luaload merge` keeps all of that.
final class HistoryTests: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    func history(_ j: [String: Any]) -> [[String: Any]] { j["history"] as? [[String: Any]] ?? [] }
    func sum(_ rows: [[String: Any]], _ key: String) -> Int { rows.reduce(0) { $0 + ($1[key] as? Int ?? -1_000_000) } }

    func testRampToZeroHistoryAddsUpToTheTotalAndEndsAtZero() throws {
        let script = Luaload.script(#"""
        wait = constant(0.1)
        task(function() http.get("/ok") end)
        """#)
        let r = try Luaload.run(["-t", "1", "--stages", "2s:20,2s:20,2s:0", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        let rows = history(r.json)
        XCTAssertEqual(rows.count, 6, "five whole seconds and the last part-second: \(rows.map { $0["elapsed_s"] ?? "?" })")
        XCTAssertEqual(sum(rows, "requests"), r.requests, "the history's requests are the run's")
        XCTAssertEqual(sum(rows, "failures"), r.failuresCount)
        XCTAssertEqual(r.requests + r.abandoned, settledCount(r.requests + r.abandoned) { server.total })
        XCTAssertEqual(rows.last?["users"] as? Int, 0, "the ramp to 0 ends at 0")
        XCTAssertEqual(rows.last?["elapsed_s"] as? Double ?? -1, r.json["duration_s"] as? Double ?? -2, accuracy: 0.001)
        XCTAssertGreaterThan(rows.last?["requests"] as? Int ?? 0, 0, "the last part-second had requests")
        let elapsed = rows.map { $0["elapsed_s"] as? Double ?? 0 }
        XCTAssertEqual(elapsed, elapsed.sorted())
        XCTAssertEqual(Set(elapsed).count, elapsed.count)

        // Merging the run alone keeps every second's count and the last row's users.
        let merged = try merge([r.json])
        XCTAssertEqual(sum(history(merged), "requests"), r.requests)
        XCTAssertEqual(history(merged).map { $0["requests"] as? Int ?? -1 }, rows.map { $0["requests"] as? Int ?? -2 })
        XCTAssertEqual(history(merged).last?["users"] as? Int, 0)
    }

    func testSetupTeardownAndFailuresAreInTheLastRow() throws {
        let script = Luaload.script(#"""
        function setup() for i = 1, 3 do http.get("/ok", { name = "setup" }) end end
        function teardown() http.get("/status/500", { name = "teardown" }) end
        wait = constant(0.05)
        task(function() http.get("/ok") end)
        """#)
        let r = try Luaload.run(["-t", "2", "-u", "3", "-d", "1.5s", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 1, r.stderr)   // the teardown's 500
        let rows = history(r.json)
        XCTAssertEqual(rows.count, 2, "one whole second and the last half")
        XCTAssertEqual(sum(rows, "requests"), r.requests)
        XCTAssertEqual(sum(rows, "failures"), 1)
        XCTAssertEqual(r.requests + r.abandoned, settledCount(r.requests + r.abandoned) { server.total })
        XCTAssertEqual(rows.last?["users"] as? Int, 3, "a fixed run's last row has its users, not the 0 after the stop")
    }

    func testARunUnderASecondHasOneRow() throws {
        let script = Luaload.script(#"""
        task(function() http.get("/ok") end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "2", "-n", "50", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        let rows = history(r.json)
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows.first?["requests"] as? Int, 50)
        XCTAssertEqual(rows.first?["users"] as? Int, 2)
    }

    /// A run whose last part-second (2.05 → 2.4 s) rounds to the second before it: merged, it keeps a
    /// second of its own, so no merged second holds two of the run's rows (and twice its users).
    func testMergeKeepsThePartSecondApart() throws {
        let script = Luaload.script(#"""
        wait = constant(0.05)
        task(function() http.get("/ok") end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "2", "-d", "2.4s", "-H", server.url], script: script)
        let rows = history(r.json)
        XCTAssertEqual(rows.count, 3)
        let merged = history(try merge([r.json]))
        XCTAssertEqual(merged.map { $0["requests"] as? Int ?? -1 }, rows.map { $0["requests"] as? Int ?? -2 })
        XCTAssertEqual(merged.map { $0["users"] as? Int ?? -1 }, [2, 2, 2])
    }

    /// `luaload merge` of `docs` (written back as files); the merged JSON.
    func merge(_ docs: [[String: Any]]) throws -> [String: Any] {
        let dir = Luaload.temporaryDirectory
        var files: [String] = []
        for d in docs {
            let path = dir + "history-\(UUID().uuidString).json"
            try JSONSerialization.data(withJSONObject: d).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let out = dir + "history-merged-\(UUID().uuidString).json"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Luaload.binary)
        p.arguments = ["merge"] + files + ["--json", out]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }
}

/// What the history keeps per second, measured on the heap (glibc's mallinfo2, cposix_heap_in_use): a day-long run must fit in
/// ~100 MB, so a second may keep a few hundred bytes, not the ~30 KB its histogram's buckets would take.
final class HistoryMemoryTests: XCTestCase {
    func testASecondOfHistoryKeepsAFewHundredBytes() {
        var second = IntervalSnapshot()
        for v in 0..<1500 { _ = second.histogram.record(UInt64(100 + v * 3), count: UInt64(1 + v % 40)) }   // ~1,500 buckets, as at 60k req/s
        second.requests = Int(second.histogram.totalCount)
        second.activeUsers = 50
        var history = RunHistory()
        for k in 1...20 { history.append(second, elapsed: Double(k)) }   // the arrays' and the spool's first steps
        let seconds = 600
        let before = cposix_heap_in_use()
        for k in 0..<seconds { history.append(second, elapsed: Double(21 + k)) }
        let perSecond = Double(Int(cposix_heap_in_use()) - Int(before)) / Double(seconds)
        print("history: \(perSecond) bytes a second on the heap")
        XCTAssertLessThan(perSecond, 400, "\(perSecond) bytes a second kept: \(perSecond * 86400 / 1e6) MB a day")
        XCTAssertGreaterThan(history.spool.bytesSpooled, Int64(seconds) * 100, "the histograms went to the spool's file")
        XCTAssertEqual(history.points.last?.latency?.histogram().totalCount, second.histogram.totalCount, "and come back whole")
    }
}
