import Foundation
import XCTest

/// Issue #18: nothing a user asked for is lost, nothing they wrote is silently ignored. Mistakes found
/// before any traffic (the server's count stays 0), reports written each on its own, signals.
final class TrustTests: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    /// Starts luaload with `args` (no -q/--json added); returns it running, with its stderr collected.
    func start(_ args: [String]) throws -> (Process, DataBox, DispatchGroup) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Luaload.binary)
        p.arguments = args
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let box = DataBox(), group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { box.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        return (p, box, group)
    }

    /// Runs luaload to its end (at most 30 s): exit code and stderr.
    func runToEnd(_ args: [String]) throws -> (Int32, String) {
        let (p, box, group) = try start(args)
        let started = Date()
        while p.isRunning && Date().timeIntervalSince(started) < 30 { usleep(20_000) }
        if p.isRunning { p.terminate(); XCTFail("luaload did not finish") }
        p.waitUntilExit()
        group.wait()
        return (p.terminationStatus, String(decoding: box.data, as: UTF8.self))
    }

    func json(_ path: String) -> [String: Any] {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    let okTask = #"task(function() http.get("/ok") end)"#

    // MARK: before any traffic

    func testMissingReportFoldersAreCreatedBeforeTheRun() throws {
        let dir = Luaload.temporaryDirectory + "out-\(UUID().uuidString)/a/b"
        let (code, err) = try runToEnd(["-q", "-u", "1", "-n", "5", "-H", server.url, "--json", dir + "/r.json",
                                        "--csv", dir + "/csv/run", "--html", dir + "/r.html", "--junit", dir + "/j.xml",
                                        "--hdr-log", dir + "/h.hlog", Luaload.script(okTask)])
        XCTAssertEqual(code, 0, err)
        for file in ["r.json", "csv/run_stats.csv", "r.html", "j.xml", "h.hlog"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + file), file)
        }
        XCTAssertEqual(json(dir + "/r.json")["abandoned"] as? Int, 0)
        XCTAssertEqual(server.total, 5)
    }

    func testUnwritableReportPathIsRefusedBeforeAnyTraffic() throws {
        let file = Luaload.temporaryDirectory + "plain-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        let cases: [([String], String)] = [
            (["--json", file + "/r.json"], "--json \(file)/r.json: \(file) is not a folder"),
            (["--html", Luaload.temporaryDirectory], "--html \(Luaload.temporaryDirectory): a folder, not a file"),
            (["--csv", "/proc/nope/run"], "--csv /proc/nope/run_stats.csv: cannot create folder /proc/nope"),
            (["--hdr-log", "/proc/x.hlog"], "--hdr-log /proc/x.hlog:"),
        ]
        for (args, message) in cases {
            let (code, err) = try runToEnd(["-q", "-d", "2s", "-H", server.url] + args + [Luaload.script(okTask)])
            XCTAssertEqual(code, 2, err)
            XCTAssertTrue(err.contains(message), "\(args): \(err)")
        }
        XCTAssertEqual(server.total, 0, "no traffic for a pre-flight error")
    }

    func testBadHostURLIsRefusedBeforeAnyTraffic() throws {
        for (host, message) in [("\(server.url)/api v1", "it has a space"), ("\(server.url)/a\u{1}b", "a control character"),
                                ("\(server.url)/api?x=1", "no query or fragment"), ("ftp://127.0.0.1", "expected http://")] {
            let (code, err) = try runToEnd(["-q", "-d", "2s", "-H", host, Luaload.script(okTask)])
            XCTAssertEqual(code, 2, err)
            XCTAssertTrue(err.contains("-H: bad host URL") && err.contains(message), "\(host): \(err)")
        }
        for args in [["wrk", "-d", "1s", server.url + "/a b"], ["wrk", "-d", "1s", "-H", "X-A: b\u{1}", server.url]] {
            let (code, err) = try runToEnd(args)
            XCTAssertEqual(code, 2, err)
            XCTAssertTrue(err.contains("bad"), err)
        }
        let classHost = Luaload.script(#"""
        local u = user { host = "http://127.0.0.1:1/a b" }
        u:task(function() http.get("/ok") end)
        """#)
        let (code, err) = try runToEnd(["-q", "-d", "2s", "-H", server.url, classHost])
        XCTAssertEqual(code, 2)
        XCTAssertTrue(err.contains("user class #1: host: bad host URL"), err)
        XCTAssertEqual(server.total, 0)
    }

    /// Each mistake is an exit 2 at the script's line, with the accepted keys where it is a key.
    func testScriptDeclarationsAreCheckedAtTheirLine() throws {
        let cases: [(String, String)] = [
            ("local u = user{ wieght = 2 }\nu:task(function() end)",
             ":1: user{...}: unknown key wieght (accepted: fixed_count, host, on_start, on_stop, sequential, wait, wait_time, weight)"),
            ("local u = user{ weight = \"2\" }\nu:task(function() end)", ":1: user{...}: weight must be a number, got string"),
            ("local u = user{ wait = \"1s\" }\nu:task(function() end)", ":1: user{...}: wait must be a function like between(1, 3)"),
            ("\ntask{ function() end, wieght = 2 }", ":2: task{...}: unknown key wieght (accepted: the function first, fn, weight, tags)"),
            ("task(function() end)\n\nstages = { {duration = \"1s\", users = 2, rate = 1} }", ":3: stages[1]: unknown key rate (accepted: duration, users)"),
            ("task(function() end)\nthresholds = { Aggregated = { { \"p95 < 9\", abort = true } } }",
             ":2: thresholds[\"Aggregated\"][1]: unknown key abort (accepted: the expression first, abort_on_fail, delay)"),
            ("task(function() end)\nthresholds = { Aggregated = { \"p95 < soon\" } }", ":2: threshold on \"Aggregated\": "),
            ("host = 8080\ntask(function() end)", ":1: global host must be a string, got number"),
            ("task(function() end)\nsequential = 1", ":2: global sequential must be a boolean, got number"),
            ("local u = user{}\nu:task(function() end)\nwait = between(1, 2)", ":3: global wait applies to tasks declared with task()"),
            ("local u = user{}\nu:task(function() end)\nu.weight = -1", ":1: user class #1: weight must be a whole number >= 0"),
        ]
        for (source, message) in cases {
            let script = Luaload.script(source)
            let (code, err) = try runToEnd(["-q", "-d", "2s", "-H", server.url, script])
            XCTAssertEqual(code, 2, source)
            XCTAssertTrue(err.contains(script + message), "\(source)\n→ \(err)")
        }
        XCTAssertEqual(server.total, 0)
    }

    func testSpacesInARequestPathAreAScriptErrorAtItsLine() throws {
        let script = Luaload.script("task(function()\n  http.get(\"/a b\")\nend)")
        let r = try Luaload.run(["-t", "1", "-n", "3", "-H", server.url], script: script)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue((r.errors.first?["message"] as? String ?? "").contains(script + ":2: http.get: \"/a b\" has a space"), "\(r.errors)")
        XCTAssertEqual(server.total, 0)
    }

    // MARK: base URL (Locust's)

    func testAPathInTheHostPrefixesRelativePaths() throws {
        let script = Luaload.script(#"""
        task(function()
          http.get("/ok?x=1")
          http.get("/ok", { query = { y = 2 } })
          http.get("\#(server.url)/ok")
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "1", "-n", "1", "-H", server.url + "/api/v1"], script: script)
        XCTAssertEqual(server.received().map(\.target), ["/api/v1/ok?x=1", "/api/v1/ok?y=2", "/ok"])
        XCTAssertEqual(r.requests("/ok"), 2, "stats names stay the paths the script wrote")
        let classHost = Luaload.script(#"""
        local u = user { host = "\#(server.url)/v2/" }
        u:task(function() http.get("/ok") end)
        """#)
        _ = try Luaload.run(["-t", "1", "-u", "1", "-n", "1"], script: classHost)
        XCTAssertEqual(server.received().last?.target, "/v2/ok", "a class's host, with its trailing slash")
    }

    // MARK: each report on its own

    func testAReportThatFailsDoesNotStopTheOthers() throws {
        let base = Luaload.temporaryDirectory + "rm-\(UUID().uuidString)"
        let (p, box, group) = try start(["-q", "-u", "1", "-d", "1.5s", "-H", server.url, "--csv", base + "/gone/run",
                                         "--json", base + "/kept/r.json", "--html", base + "/kept/r.html", Luaload.script(okTask)])
        usleep(700_000)
        try FileManager.default.removeItem(atPath: base + "/gone")   // a folder removed mid-run
        p.waitUntilExit()
        group.wait()
        let err = String(decoding: box.data, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 4, err)
        XCTAssertTrue(err.contains("report not written: --csv \(base)/gone/run_stats.csv: No such file or directory"), err)
        let j = json(base + "/kept/r.json")
        let recorded = (j["total"] as? [String: Any])?["requests"] as? Int ?? -1
        XCTAssertEqual(recorded + (j["abandoned"] as? Int ?? -1), server.total)
        XCTAssertTrue(FileManager.default.fileExists(atPath: base + "/kept/r.html"))
    }

    // MARK: signals

    /// Task runs of 10 requests of 300 ms: at the second signal every VU has one in flight.
    let slowTask = #"task(function() for i = 1, 10 do http.get("/slow?ms=300") end end)"#

    func testFirstSignalSaysStoppingAndReportsTheTrueTime() throws {
        let out = Luaload.temporaryDirectory + "sig-\(UUID().uuidString).json"
        let (p, box, group) = try start(["-q", "-t", "1", "-u", "4", "--stop-timeout", "20", "-H", server.url,
                                         "--json", out, Luaload.script(slowTask)])
        usleep(1_000_000)
        let signalled = Date()
        p.interrupt()   // the task runs that started go on for up to 2.7 s
        p.waitUntilExit()
        group.wait()
        let ranAfter = Date().timeIntervalSince(signalled)   // ~2 s: the runs end at 3 s
        let err = String(decoding: box.data, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, err)
        XCTAssertTrue(err.contains("stopping… (again to stop now)"), err)
        let j = json(out)
        let duration = j["duration_s"] as? Double ?? 0
        XCTAssertGreaterThan(ranAfter, 1.5)
        XCTAssertGreaterThan(duration, 2.7, "the grace is part of the run's time (not 1 s)")
        XCTAssertEqual((j["total"] as? [String: Any])?["requests"] as? Int, 40, "4 whole task runs of 10")
        XCTAssertEqual(server.total, 40)
    }

    func testSecondSIGINTStopsAtOnceAndStillWritesEveryReport() throws { try stopTwice(with: SIGINT) }
    func testSecondSIGTERMStopsAtOnceAndStillWritesEveryReport() throws { try stopTwice(with: SIGTERM) }

    func stopTwice(with signal: Int32) throws {
        do {
            let dir = Luaload.temporaryDirectory + "sig2-\(UUID().uuidString)"
            let (p, box, group) = try start(["-q", "-t", "2", "-u", "6", "--stop-timeout", "20", "-H", server.url,
                                             "--json", dir + "/r.json", "--csv", dir + "/run", "--html", dir + "/r.html",
                                             "--junit", dir + "/j.xml", Luaload.script(slowTask + "\nfunction on_stop() sleep(30) end")])
            usleep(1_000_000)
            kill(p.processIdentifier, signal)
            usleep(500_000)
            let second = Date()
            kill(p.processIdentifier, signal)
            p.waitUntilExit()
            group.wait()
            XCTAssertLessThan(Date().timeIntervalSince(second), 1.5, "at once")
            let err = String(decoding: box.data, as: UTF8.self)
            XCTAssertEqual(p.terminationStatus, 130, err)
            XCTAssertTrue(err.contains("stopping now"), err)
            let j = json(dir + "/r.json")
            let recorded = (j["total"] as? [String: Any])?["requests"] as? Int ?? -1
            let abandoned = j["abandoned"] as? Int ?? -1
            XCTAssertEqual(abandoned, 6, "each VU had a request in flight")
            usleep(300_000)
            XCTAssertEqual(recorded + abandoned, server.total, "recorded + abandoned = what the server received")
            for file in ["run_stats.csv", "r.html", "j.xml"] { XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + file), file) }
        }
    }

    func testWrkSecondSignalStillReports() throws {
        let out = Luaload.temporaryDirectory + "wrk-\(UUID().uuidString).json"
        let (p, box, group) = try start(["wrk", "-t", "1", "-c", "3", "-d", "20s", "--json", out, server.url + "/slow?ms=300"])
        usleep(800_000)
        p.interrupt()
        usleep(100_000)
        p.interrupt()
        p.waitUntilExit()
        group.wait()
        let j = json(out)
        let recorded = (j["total"] as? [String: Any])?["requests"] as? Int ?? -1
        XCTAssertTrue([0, 130].contains(p.terminationStatus), String(decoding: box.data, as: UTF8.self))
        usleep(300_000)
        XCTAssertEqual(recorded + (j["abandoned"] as? Int ?? -1), server.total)
    }

    /// `kubectl logs -f … | luaload merge -` never ends by itself: Ctrl-C merges what was read.
    func testMergeSignalMergesWhatWasRead() throws {
        let run = Luaload.temporaryDirectory + "m-\(UUID().uuidString).json"
        let r = try Luaload.run(["-t", "1", "-n", "7", "-H", server.url], script: Luaload.script(okTask))
        let data = try JSONSerialization.data(withJSONObject: r.json)
        try data.write(to: URL(fileURLWithPath: run))
        let out = Luaload.temporaryDirectory + "merged-\(UUID().uuidString).json"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Luaload.binary)
        p.arguments = ["merge", "--json", out, "-"]
        let input = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        input.fileHandleForWriting.write(data + Data("\n".utf8))   // and the pipe stays open
        usleep(500_000)
        p.interrupt()
        let started = Date()
        while p.isRunning && Date().timeIntervalSince(started) < 5 { usleep(10_000) }
        XCTAssertFalse(p.isRunning)
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertTrue(String(decoding: err.fileHandleForReading.availableData, as: UTF8.self).contains("stopping… merging the 1 runs"))
        XCTAssertEqual((json(out)["total"] as? [String: Any])?["requests"] as? Int, 7)
    }

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
        let sh = Process()
        sh.executableURL = URL(fileURLWithPath: "/bin/sh")
        sh.arguments = ["-c", command]
        let err = Pipe()
        sh.standardError = err
        sh.standardOutput = FileHandle.nullDevice
        try sh.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        sh.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
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
