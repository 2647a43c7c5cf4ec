import Foundation
import XCTest

/// Issue #18, continued: merge's run ids and exact figures, the live view, the command line's messages,
/// the descriptor warning.
final class TrustMoreTests: TrustTestCase {
    // MARK: merge

    /// A run's JSON (written to a file) against the test server: a mix of latencies, two names.
    func runJSON(_ extra: [String] = []) throws -> (path: String, json: [String: Any]) {
        let path = Luaload.temporaryDirectory + "run-\(UUID().uuidString).json"
        let script = Luaload.script(#"""
        task(function() http.get("/slow?ms=3") end)
        task(function() http.get("/ok") end)
        """#)
        _ = try runToEnd(["-q", "-t", "2", "-u", "4", "-d", "1.3s", "-H", server.url, "--json", path] + extra + [script])
        return (path, json(path))
    }

    func merge(_ args: [String]) throws -> (Int32, String, [String: Any]) {
        let out = Luaload.temporaryDirectory + "merged-\(UUID().uuidString).json"
        let (code, err) = try runToEnd(["merge", "--json", out] + args)
        return (code, err, json(out))
    }

    func testMergingOneRunGivesBackEveryFigure() throws {
        let (path, original) = try runJSON()
        let (code, err, merged) = try merge([path])
        XCTAssertEqual(code, 0, err)
        var a = original, b = merged
        for key in ["run_id", "merged_run_ids"] { a[key] = nil; b[key] = nil }
        XCTAssertEqual(merged["merged_run_ids"] as? [String], [original["run_id"] as! String])
        XCTAssertEqual(NSDictionary(dictionary: a), NSDictionary(dictionary: b), "every figure, history included")
    }

    func testTheHighestValueHasOneRule() throws {
        let (path, j) = try runJSON()
        let (_, _, merged) = try merge([path])
        for doc in [j, merged] {
            for row in (doc["stats"] as? [[String: Any]] ?? []) + [doc["total"] as? [String: Any] ?? [:]] {
                let p100 = (row["percentiles_ms"] as? [String: Any])?["100"] as? Double
                XCTAssertEqual(p100, row["max_ms"] as? Double, "\(row["name"] ?? "")")
                XCTAssertEqual(row["max_us"] as? Int, Int(((row["max_ms"] as? Double ?? -1) * 1000).rounded()))
            }
        }
        XCTAssertEqual((merged["total"] as? [String: Any])?["max_ms"] as? Double, (j["total"] as? [String: Any])?["max_ms"] as? Double)
    }

    func testTheSameRunTwiceIsAnError() throws {
        let (one, j1) = try runJSON(["--segment", "0/2"])
        let (two, j2) = try runJSON(["--segment", "1/2"])
        let id1 = j1["run_id"] as? String ?? "", id2 = j2["run_id"] as? String ?? ""
        XCTAssertTrue(id1.hasSuffix("-s0of2") && id2.hasSuffix("-s1of2") && id1.count == 22, "\(id1) \(id2)")
        var (code, err, _) = try merge([one, one])
        XCTAssertEqual(code, 2)
        XCTAssertTrue(err.contains("holds run \(id1), already read from \(one)"), err)
        let (okCode, _, both) = try merge([one, two])
        XCTAssertEqual(okCode, 0)
        let mergedFile = Luaload.temporaryDirectory + "both-\(UUID().uuidString).json"
        try JSONSerialization.data(withJSONObject: both).write(to: URL(fileURLWithPath: mergedFile))
        (code, err, _) = try merge([mergedFile, two])
        XCTAssertEqual(code, 2, "a merge holding a run, and that run again")
        XCTAssertTrue(err.contains("holds run \(id2)"), err)
    }

    func testByATagNoRunHasIsAnError() throws {
        let (one, _) = try runJSON(["--tag", "region=eu"])
        let (code, err, _) = try merge(["--by", "regoin", one])
        XCTAssertEqual(code, 2)
        XCTAssertTrue(err.contains("--by regoin: no run has this tag (tags present: host, region, segment)"), err)
    }

    // MARK: the live view

    func testATaskFailingBeforeAnyRequestBacksOff() throws {
        let script = Luaload.script("task(function()\n  local x = nil\n  return x.field\nend)")
        let r = try Luaload.run(["-t", "1", "-u", "2", "-d", "2.5s", "-H", server.url], script: script)
        let count = r.errors.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
        XCTAssertTrue((4...8).contains(count), "2 VUs, a run a second each: \(count)")
        XCTAssertEqual(server.total, 0)
    }

    /// Runs luaload on a pseudo-terminal of 80 columns (util-linux `script`); returns what it drew on stderr.
    func onTerminal(_ args: [String]) throws -> String {
        let command = "stty cols 80; exec " + ([Luaload.binary] + args).map { "'\($0)'" }.joined(separator: " ") + " >/dev/null"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", command, "/dev/null"]
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = Pipe()
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func testTheLiveLineTellsScriptErrorsAndFitsTheTerminal() throws {
        let script = Luaload.script("task(function()\n  local x = nil\n  return x.field\nend)")
        let drawn = try onTerminal(["-t", "1", "-u", "2", "-d", "2.5s", "-H", server.url, script])
        XCTAssertTrue(drawn.contains("script errors "), drawn)
        XCTAssertTrue(drawn.contains("/s), first: "), drawn)
        XCTAssertTrue(drawn.contains("users 2/2  0 req/s"), drawn)
        // Every piece drawn between carriage returns and escape sequences fits in 79 columns.
        let pieces = drawn.split(whereSeparator: { $0.isNewline || $0 == "\u{1B}" })   // "\r\n" is one Character
        let live = pieces.filter { $0.contains("req/s  fail") || $0.contains("script errors") }
        XCTAssertFalse(live.isEmpty)
        for piece in live {
            var text = String(piece)   // less its escape sequence's tail ("[2K", "[J")
            if text.hasPrefix("["), let end = text.firstIndex(where: { $0.isLetter }) { text = String(text[text.index(after: end)...]) }
            XCTAssertLessThanOrEqual(text.count, 79, text)
        }
        let conn = try onTerminal(["-t", "1", "-d", "1.5s", "-H", "http://127.0.0.1:1", Luaload.script(okTask)])
        XCTAssertTrue(conn.contains("fail 100.00% (conn "), conn)
    }

    func testPrintStatsOnATerminalRedrawsATableInPlace() throws {
        let drawn = try onTerminal(["-t", "1", "-u", "1", "-d", "2.5s", "--print-stats", "-H", server.url, Luaload.script(okTask)])
        XCTAssertGreaterThanOrEqual(drawn.components(separatedBy: "Name ").count - 1, 2, drawn)
        XCTAssertTrue(drawn.contains("\r\u{1B}[5A\u{1B}[J"), "moves up over its 5 lines and redraws")
        XCTAssertTrue(drawn.contains("GET /ok"), drawn)
    }

    // MARK: the command line

    func testHelpListsTheSubcommandsAndHelpTakesOne() throws {
        for args in [["--help"], ["help"]] {
            let (p, box, group) = try startCapturingStdout(args)
            p.waitUntilExit(); group.wait()
            let out = String(decoding: box.data, as: UTF8.self)
            XCTAssertEqual(p.terminationStatus, 0)
            for line in ["  wrk     ", "  merge   ", "  serve   ", "  help    ", "top-level code runs once per Lua state"] {
                XCTAssertTrue(out.contains(line), "\(args): \(line)")
            }
        }
        for (topic, overview) in [("merge", "Merge runs' --json summaries"), ("serve", "The built-in target"), ("wrk", "Run like wrk")] {
            let (p, box, group) = try startCapturingStdout(["help", topic])
            p.waitUntilExit(); group.wait()
            XCTAssertTrue(String(decoding: box.data, as: UTF8.self).contains("OVERVIEW: " + overview), topic)
        }
        let (code, err) = try runToEnd(["help", "nope"])
        XCTAssertEqual(code, 2)
        XCTAssertTrue(err.contains("no command \"nope\""), err)
    }

    func startCapturingStdout(_ args: [String]) throws -> (Process, DataBox, DispatchGroup) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Luaload.binary)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let box = DataBox(), group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { box.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        return (p, box, group)
    }

    func testClearMessagesForNumbersAndThresholds() throws {
        let script = Luaload.script(okTask)
        let cases: [([String], String)] = [
            (["-u", "-5"], "-u -5: a negative number makes no sense here"),
            (["-t", "-1"], "-t -1: a negative number"),
            (["--rate", "0/s"], "--rate 0/s: the rate must be above 0"),
            (["--threshold", "Aggregated: fail_rate<1x"], "\"1x\" is not a ratio: fail_rate is failures / requests, e.g. 0.01 or 1%"),
            (["--threshold", "Aggregated: rps>fast"], "\"fast\" is not a rate: rps is requests per second"),
            (["--threshold", "Aggregated: failures<some"], "\"some\" is not a count: failures is a whole number"),
            (["--threshold", "Aggregated: p95<soon"], "\"soon\" is not a number (times are in ms"),
        ]
        for (args, message) in cases {
            let (code, err) = try runToEnd(["-q", "-d", "2s", "-H", server.url] + args + [script])
            XCTAssertEqual(code, 2, "\(args)")
            XCTAssertTrue(err.contains(message), "\(args): \(err)")
        }
        XCTAssertEqual(server.total, 0)
        // "1%" is a fail_rate, "/s" an rps: both hold here.
        let r = try Luaload.run(["-t", "1", "-n", "20", "-H", server.url, "--threshold", "Aggregated: fail_rate<1%",
                                 "--threshold", "Aggregated: rps>1/s"], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
    }

    // MARK: descriptors

    /// Runs luaload under `ulimit -n limit` (soft and hard); returns its stderr.
    func underLimit(_ limit: Int, _ args: [String]) throws -> String {
        let command = "ulimit -Sn \(limit) && ulimit -Hn \(limit) && exec " + ([Luaload.binary] + args).map { "'\($0)'" }.joined(separator: " ")
        return try runProcess("/bin/sh", ["-c", command]).stderr
    }

    func testTooFewDescriptorsForTheUsersIsSaidOnceAtTheStart() throws {
        let script = Luaload.script(okTask)
        let err = try underLimit(256, ["-q", "-t", "1", "-u", "300", "-n", "1", "-H", server.url, script])
        XCTAssertEqual(err.components(separatedBy: "warning: 300 users can need 364 open files; the limit is 256").count, 2, err)
        XCTAssertTrue(err.contains("ulimit -n 364"), err)
        let serving = try underLimit(256, ["-q", "-t", "1", "-u", "150", "-n", "1", "--serve", script])
        XCTAssertTrue(serving.contains("150 users and the --serve target can need 364 open files"), serving)
        let fits = try underLimit(256, ["-q", "-t", "1", "-u", "150", "-n", "1", "-H", server.url, script])
        XCTAssertFalse(fits.contains("warning"), fits)
    }
}
