import Foundation
import XCTest

/// Issue #18: nothing a user asked for is lost, nothing they wrote is silently ignored. Mistakes found
/// before any traffic (the server's count stays 0), Locust's base URL, reports written each on its own,
/// signals (recorded + abandoned = what the server received).
final class TrustTests: TrustTestCase {
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
            ("task(function() end)\nthresholds = {\n  Aggregated = { \"p95 < 9\" },\n  [\"GET /\"] = { \"fail_rate < x\" },\n}",
             ":2: threshold on \"GET /\": \"x\" is not a ratio"),   // the statement's line, not its last
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
        // Once the run is under way (luaload made the folders at its start): 1.5 s of run still ahead.
        XCTAssertTrue(eventually { server.total > 0 && FileManager.default.fileExists(atPath: base + "/gone") })
        usleep(200_000)
        try FileManager.default.removeItem(atPath: base + "/gone")   // a folder removed mid-run
        p.waitUntilExit()
        group.wait()
        let err = String(decoding: box.data, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 4, err)
        XCTAssertTrue(err.contains("report not written: --csv \(base)/gone/run_stats.csv: No such file or directory"), err)
        let j = json(base + "/kept/r.json")
        let recorded = (j["total"] as? [String: Any])?["requests"] as? Int ?? -1
        let sent = recorded + (j["abandoned"] as? Int ?? -1)
        XCTAssertEqual(sent, settledCount(sent) { server.total })
        XCTAssertTrue(FileManager.default.fileExists(atPath: base + "/kept/r.html"))
    }

    // MARK: signals

    /// Task runs of 10 requests of 300 ms: at the second signal every VU has one in flight.
    let slowTask = #"task(function() for i = 1, 10 do http.get("/slow?ms=300") end end)"#

    func testFirstSignalSaysStoppingAndReportsTheTrueTime() throws {
        let out = Luaload.temporaryDirectory + "sig-\(UUID().uuidString).json"
        let (p, box, group) = try start(["-q", "-t", "1", "-u", "4", "--stop-timeout", "20", "-H", server.url,
                                         "--json", out, Luaload.script(slowTask)])
        // Each VU's first request reached the server: its 3 s task run under way, however slow the start.
        XCTAssertTrue(eventually { server.total >= 4 })
        usleep(500_000)
        let signalled = Date()
        p.interrupt()   // the task runs that started go on for up to 2.5 s
        p.waitUntilExit()
        group.wait()
        let ranAfter = Date().timeIntervalSince(signalled)   // ~2.5 s: the runs end at 3 s
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
            XCTAssertTrue(eventually { server.total >= 6 })   // every VU is in its first task run
            usleep(300_000)
            kill(p.processIdentifier, signal)
            usleep(500_000)
            let second = Date()
            kill(p.processIdentifier, signal)
            p.waitUntilExit()
            group.wait()
            XCTAssertLessThan(Date().timeIntervalSince(second), 5, "at once (~0.1 s): not the 10 s on_stop nor the 20 s --stop-timeout")
            let err = String(decoding: box.data, as: UTF8.self)
            XCTAssertEqual(p.terminationStatus, 130, err)
            XCTAssertTrue(err.contains("stopping now"), err)
            let j = json(dir + "/r.json")
            let recorded = (j["total"] as? [String: Any])?["requests"] as? Int ?? -1
            let abandoned = j["abandoned"] as? Int ?? -1
            XCTAssertEqual(abandoned, 6, "each VU had a request in flight")
            XCTAssertEqual(recorded + abandoned, settledCount(recorded + abandoned) { server.total }, "recorded + abandoned = what the server received")
            for file in ["run_stats.csv", "r.html", "j.xml"] { XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + file), file) }
        }
    }

    func testWrkSecondSignalStillReports() throws {
        let out = Luaload.temporaryDirectory + "wrk-\(UUID().uuidString).json"
        let (p, box, group) = try start(["wrk", "-t", "1", "-c", "3", "-d", "20s", "--json", out, server.url + "/slow?ms=300"])
        XCTAssertTrue(eventually { server.total >= 3 })   // each connection's first request is in
        usleep(300_000)
        p.interrupt()
        usleep(100_000)
        p.interrupt()
        p.waitUntilExit()
        group.wait()
        let j = json(out)
        let recorded = (j["total"] as? [String: Any])?["requests"] as? Int ?? -1
        XCTAssertTrue([0, 130].contains(p.terminationStatus), String(decoding: box.data, as: UTF8.self))
        let abandoned = j["abandoned"] as? Int ?? -1
        XCTAssertEqual(recorded + abandoned, settledCount(recorded + abandoned) { server.total })
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
}
