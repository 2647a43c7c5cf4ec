import Foundation
import LuaLoadCore
import LuaLoadServe
import XCTest

/// Past one box: segments add up to the one run, --start-at, tags, `luaload merge` checked with Python's
/// hdrh, the two-region simulation, the Kubernetes manifests.
final class ScaleTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = root.appendingPathComponent(".venv-test/bin/python").path

    struct Result { var code: Int32; var stdout: String; var stderr: String }

    /// Runs luaload with `args` (and `stdin`, `env` added to ours), within 60 s.
    @discardableResult
    func luaload(_ args: [String], stdin: String? = nil, env: [String: String] = [:], executable: String = Luaload.binary) throws -> Result {
        let r = try runProcess(executable, args, stdin: stdin, env: env)
        return Result(code: r.code, stdout: r.stdout, stderr: r.stderr)
    }

    /// Runs `count` segments of the same command at once, each writing its JSON; returns the files.
    func segments(_ count: Int, _ args: [String], script: String, exitCode: Int32 = 0, extra: (Int) -> [String] = { _ in [] }) throws -> [String] {
        let files = (0..<count).map { Luaload.temporaryDirectory + "seg-\(UUID().uuidString)-\($0).json" }
        let results = ResultBox(count)
        DispatchQueue.concurrentPerform(iterations: count) { i in
            results.set(i, try? luaload(args + extra(i) + ["-q", "--segment", "\(i)/\(count)", "--json", files[i], script]))
        }
        for (i, r) in results.all.enumerated() { XCTAssertNotNil(r, "segment \(i)"); XCTAssertEqual(r?.code, exitCode, r?.stderr ?? "") }
        return files
    }

    func json(_ path: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))) as? [String: Any] ?? [:]
    }

    func total(_ j: [String: Any]) -> Int { (j["total"] as? [String: Any])?["requests"] as? Int ?? -1 }

    func testFourSegmentsOfIterationsRunExactlyTheTotal() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let s = Luaload.script("wait = constant(0)\ntask(function() http.get('/ok') end)\n")
        let files = try segments(4, ["-t", "2", "-u", "10", "-n", "1000", "-H", server.url], script: s)
        let runs = files.map(json)
        XCTAssertEqual(runs.map { $0["iterations"] as? Int ?? 0 }.reduce(0, +), 1000)
        XCTAssertEqual(runs.map { $0["users"] as? Int ?? 0 }, [3, 3, 2, 2])
        let abandoned = runs.map { $0["abandoned"] as? Int ?? 0 }.reduce(0, +)
        let sent = runs.map(total).reduce(0, +) + abandoned
        XCTAssertEqual(settledCount(sent) { server.count("/ok") }, sent)
    }

    func testSegmentsKeepTheSingleRunClassSplit() throws {
        let s = Luaload.script("""
            local a = user { weight = 3 }
            a:task(function() http.get('/status/200'); stop() end)
            local b = user { weight = 1 }
            b:task(function() http.get('/status/201'); stop() end)
            local c = user { fixed_count = 1 }
            c:task(function() http.get('/status/202'); stop() end)
            """)
        let one = try TestHTTPServer(), four = try TestHTTPServer()
        defer { one.stop(); four.stop() }
        try luaload(["-q", "-u", "10", "-H", one.url, s])
        _ = try segments(4, ["-u", "10", "-H", four.url], script: s)
        XCTAssertEqual([one.count("/status/200"), one.count("/status/201"), one.count("/status/202")], [7, 2, 1])
        XCTAssertEqual([four.count("/status/200"), four.count("/status/201"), four.count("/status/202")], [7, 2, 1])
    }

    func testOpenModelSegmentsFireTheOneSchedule() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let s = Luaload.script("task(function() http.get('/ok') end)\n")
        let runs = try segments(3, ["--rate", "60/s", "-d", "2s", "--max-vus", "6", "-H", server.url], script: s).map(json)
        let scheduled = runs.map { ($0["arrivals"] as? [String: Any])?["scheduled"] as? Int ?? 0 }
        XCTAssertEqual(scheduled.reduce(0, +), 120)
        XCTAssertEqual(scheduled, [40, 40, 40])
        let sent = runs.map(total).reduce(0, +) + runs.map { $0["abandoned"] as? Int ?? 0 }.reduce(0, +)
        XCTAssertEqual(settledCount(sent) { server.count("/ok") }, sent)
    }

    func testMergeIsExactCheckedWithHdrh() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let s = Luaload.script("""
            wait = constant(0)
            task(3, function() http.get('/ok', { name = 'a' }) end)
            task(1, function() http.get('/slow?ms=2', { name = 'slow' }) end)
            task(1, function() http.get('/status/500', { name = 'bad' }) end)
            """)
        let files = try segments(4, ["-t", "1", "-u", "4", "-n", "800", "-H", server.url], script: s, exitCode: 1) { ["--tag", "region=r\($0 % 2)"] }
        let merged = Luaload.temporaryDirectory + "merged-\(UUID().uuidString).json"
        let r = try luaload(["merge"] + files + ["--json", merged])
        XCTAssertEqual(r.code, 1, r.stderr)   // the /status 500s are failures, as in a run
        let m = json(merged)
        XCTAssertEqual(total(m), files.map { total(json($0)) }.reduce(0, +))
        XCTAssertEqual(m["iterations"] as? Int, 800)
        let sent = total(m) + (m["abandoned"] as? Int ?? -1) + (m["redirects"] as? Int ?? -1)
        XCTAssertEqual(settledCount(sent) { server.total }, sent)
        XCTAssertEqual((m["tags"] as? [String: String])?["region"], nil, "region differs between runs: not a common tag")
        XCTAssertTrue(r.stdout.contains("Merged 4 runs"), r.stdout)
        let check = try luaload([Self.root.appendingPathComponent("Tests/helpers/check-merge.py").path, merged] + files, executable: Self.python)
        XCTAssertEqual(check.code, 0, check.stdout + check.stderr)
        // The check can fail: three of the four parts do not add up to the merged result.
        let partial = try luaload([Self.root.appendingPathComponent("Tests/helpers/check-merge.py").path, merged] + files.dropLast(), executable: Self.python)
        XCTAssertEqual(partial.code, 1, partial.stdout)
    }

    func testMergeReadsDocumentsAmongLogLinesOnStdin() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let s = Luaload.script("wait = constant(0)\ntask(function() http.get('/ok') end)\n")
        var logs = ""
        for i in 0..<2 {
            let r = try luaload(["-u", "2", "-n", "50", "--segment", "\(i)/2", "--json", "-", "-H", server.url, s])
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertTrue(r.stderr.contains("Requests (times in ms)"), "with --json -, the tables go to stderr")
            logs += r.stderr + r.stdout   // as kubectl logs interleaves a pod's two streams
        }
        let r = try luaload(["merge", "-", "--json", "-"], stdin: logs)
        XCTAssertEqual(r.code, 0, r.stderr)
        let m = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        XCTAssertEqual(m["iterations"] as? Int, 50)
        let sent = total(m) + (m["abandoned"] as? Int ?? -1)
        XCTAssertEqual(settledCount(sent) { server.count("/ok") }, sent)
        let cut = try luaload(["merge", "-"], stdin: String(logs.dropLast(20)))
        XCTAssertEqual(cut.code, 2)
        XCTAssertTrue(cut.stderr.contains("never ends"), cut.stderr)
    }

    func testByRegionShowsEachRegionsInjectedLatency() throws {
        let out = Luaload.temporaryDirectory + "regions-\(UUID().uuidString)"
        let r = try luaload(["2", "60"], env: ["LUALOAD": Luaload.binary, "OUT": out],
                            executable: Self.root.appendingPathComponent("benchmarks/regions.sh").path)
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("By region"), r.stdout)
        let m = json(out + "/merged.json")
        XCTAssertEqual(m["by"] as? String, "region")
        let groups = m["groups"] as? [String: [String: Any]] ?? [:]
        func p50(_ g: String) -> Double { ((groups[g]?["total"] as? [String: Any])?["percentiles_ms"] as? [String: Any])?["50"] as? Double ?? -1 }
        XCTAssertTrue((80...95).contains(p50("far")), "far p50 \(p50("far"))")
        XCTAssertTrue((10...25).contains(p50("near")), "near p50 \(p50("near"))")
        XCTAssertEqual(total(m), 120)
        // "the targets saw X requests; merged recorded … = Y": the targets' own count is the merged one.
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("the targets saw") }.map(String.init) ?? ""
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        XCTAssertEqual(numbers.first, numbers.last, line)
        XCTAssertTrue(try String(contentsOfFile: out + "/merged.html", encoding: .utf8).contains("Response times by region"))
    }

    func testHdrLogReadsBackInHdrh() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let s = Luaload.script("wait = constant(0.01)\ntask(function() http.get('/ok', { name = 'GET /a' }) end)\ntask(function() http.get('/status/200') end)\n")
        let log = Luaload.temporaryDirectory + "run-\(UUID().uuidString).hlog", file = log + ".json"
        let r = try luaload(["-q", "-u", "4", "-d", "2500ms", "-H", server.url, "--hdr-log", log, "--json", file, s])
        XCTAssertEqual(r.code, 0, r.stderr)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        XCTAssertTrue(text.contains("Tag=GET_/a,") && text.contains("Tag=GET_/status/200,"), text)
        let check = try luaload([Self.root.appendingPathComponent("Tests/helpers/check-merge.py").path, "--log", log, file], executable: Self.python)
        XCTAssertEqual(check.code, 0, check.stdout + check.stderr)
    }

    func testStartAtTagsAndSegmentsFromTheEnvironment() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let s = Luaload.script("task(function() http.get('/ok') end)\n")
        let now = Date().timeIntervalSince1970
        let past = try luaload(["-n", "1", "-H", server.url, "--start-at", String(Int(now) - 5), s])
        XCTAssertEqual(past.code, 2)
        XCTAssertTrue(past.stderr.contains("--start-late-ok"), past.stderr)
        XCTAssertEqual(server.total, 0)
        let file = Luaload.temporaryDirectory + "start-\(UUID().uuidString).json"
        let at = Double(Int(Date().timeIntervalSince1970) + 2)   // 1 to 2 s ahead when luaload reads it
        let r = try luaload(["-q", "-n", "4", "-u", "4", "-H", server.url, "--start-at", String(Int(at)), "--segments", "4",
                             "--tag", "team=core", "--json", file, s], env: ["JOB_COMPLETION_INDEX": "1", "FLY_REGION": "ams"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let j = json(file)
        XCTAssertGreaterThanOrEqual(Double(j["start_unix_ms"] as? Int ?? 0) / 1000, at)
        let tags = j["tags"] as? [String: String] ?? [:]
        XCTAssertEqual(tags["segment"], "1/4")
        XCTAssertEqual(tags["region"], "ams")
        XCTAssertEqual(tags["team"], "core")
        XCTAssertEqual(j["iterations"] as? Int, 1)
        XCTAssertEqual((j["history"] as? [[String: Any]])?.allSatisfy { $0["t_ms"] is Int && $0["hdr"] is String }, true)
        let late = try luaload(["-q", "-n", "1", "-H", server.url, "--start-at", "2020-01-01T00:00:00Z", "--start-late-ok", s],
                               env: ["LUALOAD_SEGMENT": "0/1"])
        XCTAssertEqual(late.code, 0, late.stderr)
        for (args, env, message) in [(["--segments", "4"], [String: String](), "JOB_COMPLETION_INDEX"),
                                     (["--segment", "4/4"], [:], "bad --segment"),
                                     ([], ["LUALOAD_SEGMENT": "x"], "bad LUALOAD_SEGMENT"),
                                     (["-u", "2", "--segment", "3/4"], [:], "has none of the run's 2 users"),
                                     (["-u", "4", "-n", "3", "--segment", "0/4"], [:], "none of the -n 3"),
                                     (["--tag", "novalue"], [:], "bad --tag"),
                                     (["--start-at", "tomorrow"], [:], "bad --start-at")] {
            let bad = try luaload(["-H", server.url] + args + [s], env: env)
            XCTAssertEqual(bad.code, 2, "\(args)")
            XCTAssertTrue(bad.stderr.contains(message), "\(args): \(bad.stderr)")
        }
    }

    func testKubernetesManifestsValidateOfflineAndLaunchersParse() throws {
        let validate = Self.root.appendingPathComponent(".venv-test/bin/kubernetes-validate").path
        guard FileManager.default.isExecutableFile(atPath: validate) else {
            return XCTFail("no \(validate): run scripts/install-deps.sh --test (scripts/test.sh does)")
        }
        let dir = Self.root.appendingPathComponent("deploy/k8s").path
        let manifests = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }.sorted().map { dir + "/" + $0 }
        XCTAssertEqual(manifests.count, 2)
        let r = try luaload(["--strict"] + manifests, executable: validate)
        XCTAssertEqual(r.code, 0, r.stdout + r.stderr)
        // A manifest with a mistake does not pass.
        let broken = Luaload.temporaryDirectory + "broken-\(UUID().uuidString).yaml"
        try String(contentsOfFile: manifests[1], encoding: .utf8).replacingOccurrences(of: "completionMode:", with: "completionMod:")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try luaload(["--strict", broken], executable: validate).code, 0)
        // The launchers at least parse (they need a cluster or a Fly account to run).
        for launcher in ["deploy/k8s/run.sh", "deploy/fly/run.sh", "benchmarks/regions.sh"] {
            let r = try luaload(["-n", Self.root.appendingPathComponent(launcher).path], executable: "/bin/bash")
            XCTAssertEqual(r.code, 0, launcher + ": " + r.stderr)
        }
    }

    func testSegmentSharesAddUp() {
        for count in 1...7 {
            for pool in [1, 2, 7, 10, 1000] where pool >= count {
                let segs = (0..<count).map { Segment(index: $0, count: count)! }
                XCTAssertEqual(segs.map { $0.share(of: pool) }.reduce(0, +), pool)
                for n in [count, 10, 999, 1000] {
                    XCTAssertEqual(segs.map { $0.iterations(n, pool: pool) }.reduce(0, +), n, "n \(n) pool \(pool) of \(count)")
                }
            }
        }
        XCTAssertNil(Segment("4/4"))
        XCTAssertNil(Segment("-1/4"))
        XCTAssertEqual(Segment("2/4"), Segment(index: 2, count: 4))
    }

    func testStartTimeParsing() {
        XCTAssertEqual(StartTime.parse("1764288000"), 1764288000)
        XCTAssertEqual(StartTime.parse("1764288000.5"), 1764288000.5)
        XCTAssertEqual(StartTime.parse("2025-11-28T00:00:00Z"), 1764288000)
        XCTAssertEqual(StartTime.parse("2025-11-28T01:30:00.25+01:30"), 1764288000.25)
        XCTAssertEqual(StartTime.parse("2025-11-27 23:00:00-01:00"), 1764288000)
        for bad in ["2025-02-30T00:00:00Z", "2025-11-28T00:00:00", "2025-11-28", "soon", "-5", "2025-11-28T24:00:00Z"] {
            XCTAssertNil(StartTime.parse(bad), bad)
        }
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [ScaleTests.Result?]
    init(_ n: Int) { items = Array(repeating: nil, count: n) }
    func set(_ i: Int, _ r: ScaleTests.Result?) { lock.withLock { items[i] = r } }
    var all: [ScaleTests.Result?] { lock.withLock { items } }
}
