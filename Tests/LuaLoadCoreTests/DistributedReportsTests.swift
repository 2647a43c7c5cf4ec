import Foundation
import LuaLoadCore
import LuaLoadServe
import XCTest

/// Every final report of a controller run (console, JSON, CSV, HTML, JUnit, --hdr-log) is `luaload merge
/// --by region` of the agents' own --json files with the same report flags, file by file (docs/distributed.md).
final class DistributedReportsTests: DistributedTestCase {
    /// The report flags, both sides.
    static func reportFlags(_ base: String) -> [String] {
        ["--json", base + ".json", "--csv", base, "--csv-full-history", "--html", base + ".html",
         "--junit", base + ".xml", "--hdr-log", base + ".hlog"]
    }

    /// A holding and a crossed threshold, so the JUnit has a pass and a failure (merge judges again those
    /// the agents' files carry).
    static let thresholds = ["--threshold", "GET /health: p95<5000", "--threshold", "Aggregated: p50<1"]

    static let csvFiles = ["_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv"]

    func testEveryReportOfTheControllerIsLuaLoadMergeByRegionOfTheAgentsFiles() throws {
        let targets = try [5, 30].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let dir = Luaload.temporaryDirectory + "reports-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = Luaload.script(Self.regionScript)
        let controller = try AgentProcess(["--controller", "127.0.0.1:0", "--agents", "2", "--token", token, "-u", "4", "-d", "3s",
                                           "-t", "1", "-q"] + Self.thresholds + Self.reportFlags(dir + "c") + [script])
        var port: UInt16 = 0
        XCTAssertTrue(eventually { port = Self.listeningPort(controller.stderr) ?? 0; return port != 0 }, controller.stderr)
        let procs = try targets.enumerated().map { k, t in
            try AgentProcess(port: port, token: token, tags: ["region=r\(k)"], env: ["TARGET": "http://127.0.0.1:\(t.port)"])
        }
        XCTAssertEqual(controller.wait(timeout: 40), 3, controller.stderr)   // "Aggregated: p50<1" crossed
        for a in procs { XCTAssertEqual(a.wait(), 3, a.stderr) }
        // The agents' files in the other order than the regions: the reports do not depend on it.
        let merge = try AgentProcess(["merge", "--by", "region"] + Self.reportFlags(dir + "m") + procs.reversed().map(\.json))
        XCTAssertEqual(merge.wait(), 3, merge.stderr)

        func read(_ path: String) -> String { (try? String(contentsOfFile: dir + path, encoding: .utf8)) ?? "(\(path) missing)" }
        assertSameText(ReportNormaliser.console(controller.stdout), ReportNormaliser.console(merge.stdout), "console")
        assertSameText(ReportNormaliser.json(read("c.json"), agents: 2), ReportNormaliser.json(read("m.json"), agents: 0), "--json")
        for suffix in Self.csvFiles { assertSameText(read("c" + suffix), read("m" + suffix), "--csv " + suffix) }
        assertSameText(ReportNormaliser.html(read("c.html")), ReportNormaliser.html(read("m.html")), "--html")
        assertSameText(read("c.xml"), read("m.xml"), "--junit")
        assertSameText(read("c.hlog"), read("m.hlog"), "--hdr-log")

        // Not empty alike: what each holds, and what the targets saw.
        let doc = parse(read("c.json"))
        let total = doc["total"] as? [String: Any] ?? [:]
        let requests = total["requests"] as? Int ?? 0, abandoned = doc["abandoned"] as? Int ?? 0
        XCTAssertGreaterThan(requests, 100)
        XCTAssertEqual(settledCount(requests + abandoned) { targets.map(targetTotal).reduce(0, +) }, requests + abandoned)
        XCTAssertEqual(Set((doc["groups"] as? [String: Any] ?? [:]).keys), ["r0", "r1"])
        XCTAssertTrue(read("c.xml").contains("tests=\"2\" failures=\"1\""), read("c.xml"))
        try assertSecondsPerName(doc, in: dir)
        XCTAssertTrue(read("c.html").contains("id=\"chart-by-region-data\""))
        XCTAssertFalse(read("c.html").contains("\"values\":[null,null"), "a region's line on the HTML chart has no points")
    }

    /// Seconds per name (the agents kept them, asked by the controller): a Tag= line a second in the
    /// --hdr-log, a row per name a second in the CSV history, the HTML's chart per name, each row's seconds.
    func assertSecondsPerName(_ doc: [String: Any], in dir: String) throws {
        func read(_ path: String) -> String { (try? String(contentsOfFile: dir + path, encoding: .utf8)) ?? "(\(path) missing)" }
        let log = read("c.hlog").split(separator: "\n")
        // (At least 2 seconds of a 3 s test: a tick may come late on a loaded box, never twice in one second.)
        XCTAssertGreaterThanOrEqual(log.filter { $0.first?.isNumber == true }.count, 2, "a line a second")
        XCTAssertTrue(log.contains { $0.hasPrefix("Tag=GET_/health,") && !$0.hasPrefix("Tag=GET_/health,0.000,") }, read("c.hlog"))
        XCTAssertGreaterThanOrEqual(read("c_stats_history.csv").components(separatedBy: ",GET /health,").count - 1, 2)
        XCTAssertTrue(read("c.html").contains("]},{\"p50\":["), "the HTML's latency per name has its seconds")
        // Another reader: hdrh's HistogramLogReader adds the log's intervals up to the JSON's rows, tag by tag.
        let check = try runProcess(PythonHelper.root.appendingPathComponent(".venv-test/bin/python").path,
                                   [PythonHelper.root.appendingPathComponent("Tests/helpers/check-merge.py").path, "--log", dir + "c.hlog", dir + "c.json"])
        XCTAssertEqual(check.code, 0, check.stdout + check.stderr)
        for row in doc["stats"] as? [[String: Any]] ?? [] {
            let seconds = row["history"] as? [[String: Any]] ?? []
            XCTAssertEqual(seconds.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }, row["requests"] as? Int, "a name's seconds add up to its row")
        }
    }

    /// A lost agent has no file to merge: the controller's report is the survivors' files merged plus the
    /// lost agent's ledger (its seconds up to the last), labelled in "agents" and its region's tags.
    func testALostAgentsReportIsTheSurvivorsMergedPlusItsLedger() throws {
        let targets = try [5, 5].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 2, script: Luaload.script(Self.regionScript)) {
            $0.users = 4; $0.usersGiven = true; $0.duration = 4
            $0.historyByName = true   // as with --html: the lost agent's seconds per name come from its ledger
        }
        let procs = try agents(c, targets)
        var killed = false
        let result = try c.run(log: { _ in }, observer: { e in
            // Once the controller holds 2 of its seconds (tick 2 when on time): killed at tick 2, a starved agent had
            // sent none, and "its seconds are kept" had nothing to keep (as the silent agent's test, once at load ~6).
            if case .tick = e, !killed, self.secondsHeld(c, region: "r0") >= 2 { procs[0].killNow(); killed = true }
        })
        XCTAssertEqual(procs[1].wait(), 0, procs[1].stderr)
        procs[0].wait()
        let doc = parse(result.json())
        let agents = doc["agents"] as? [[String: Any]] ?? []
        let lost = agents.first { $0["state"] as? String == "lost" }
        XCTAssertEqual((lost?["tags"] as? [String: String])?["region"], "r0", "\(agents)")
        XCTAssertNotNil(lost?["lost_at_s"] as? Double)
        XCTAssertNotNil(lost?["lost_reason"] as? String)
        let groups = doc["groups"] as? [String: [String: Any]] ?? [:]
        XCTAssertEqual((groups["r0"]?["tags"] as? [String: String])?["lost"], "true")
        // The survivor's region is `luaload merge` of its file, row for row and bucket for bucket.
        let merged = Luaload.temporaryDirectory + "survivor-\(UUID().uuidString).json"
        let m = try AgentProcess(["merge", "--json", merged, procs[1].json])
        XCTAssertEqual(m.wait(), 0, m.stderr)
        let survivor = parse((try? String(contentsOfFile: merged, encoding: .utf8)) ?? "")
        XCTAssertNotNil(survivor["stats"])
        // (A group's seconds are on the whole test's grid, the file's on its own: its rows' "history" apart.)
        func rows(_ d: [String: Any]?) -> [[String: Any]] { (d?["stats"] as? [[String: Any]] ?? []).map { $0.filter { $0.key != "history" } } }
        XCTAssertEqual(rows(groups["r1"]) as NSArray, rows(survivor) as NSArray)
        for key in ["total", "failures", "errors"] {
            XCTAssertEqual(groups["r1"]?[key] as? NSObject, survivor[key] as? NSObject, key)
        }
        // Every part has its seconds per name, adding up to its rows: the survivor's file, the lost one's ledger, the whole.
        for (what, d) in [("survivor", survivor), ("lost", groups["r0"] ?? [:]), ("total", doc)] {
            let row = (d["stats"] as? [[String: Any]])?.first ?? [:]
            let seconds = row["history"] as? [[String: Any]] ?? []
            XCTAssertGreaterThanOrEqual(seconds.count, 2, what)   // the lost one: killed once 2 of its seconds came
            XCTAssertEqual(seconds.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }, row["requests"] as? Int, what)
        }
        func requests(_ d: [String: Any]?) -> Int { (d?["total"] as? [String: Any])?["requests"] as? Int ?? -1 }
        XCTAssertGreaterThan(requests(groups["r0"]), 20, "the lost agent's seconds are kept")
        XCTAssertEqual(requests(doc), requests(survivor) + requests(groups["r0"]))
        // The survivor's target saw its file's requests; the lost one's at least what its ledger holds.
        let done = requests(survivor) + (survivor["abandoned"] as? Int ?? 0)
        XCTAssertEqual(settledCount(done) { targetTotal(targets[1]) }, done)
        XCTAssertGreaterThanOrEqual(targetTotal(targets[0]), requests(groups["r0"]))
    }

    /// `luaload merge` adds runs' seconds per name (each stats row's "history") when every run kept them; one
    /// run without them leaves the merge with the total's seconds only, not a part passed off as the whole.
    func testMergeAddsSecondsPerNameOnlyWhenEveryRunKeptThem() throws {
        let target = try startDelayedTarget(latencyMs: 2)
        defer { target.stop() }
        let script = Luaload.script("wait = constant(0.002)\ntask(function() http.get('/health', { name = 'GET /health' }) end)\n")
        let base = Luaload.temporaryDirectory + "names-\(UUID().uuidString)"
        var docs: [[String: Any]] = []
        for region in ["r0", "r1"] {
            let r = try Luaload.run(["-t", "1", "-u", "2", "-d", "2500ms", "-H", "http://127.0.0.1:\(target.port)", "--tag", "region=" + region,
                                     "--html", base + region + ".html"], script: script)
            XCTAssertEqual(r.exitCode, 0, r.stderr)
            docs.append(r.json)
        }
        func write(_ doc: [String: Any], _ path: String) throws -> String {
            try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: path))
            return path
        }
        func rows(_ d: [String: Any]) -> [[String: Any]] { d["stats"] as? [[String: Any]] ?? [] }
        func seconds(_ row: [String: Any]) -> [[String: Any]]? { row["history"] as? [[String: Any]] }
        var stripped = docs[1]
        stripped["stats"] = rows(docs[1]).map { $0.filter { $0.key != "history" } }
        let files = try [write(docs[0], base + "0.json"), write(docs[1], base + "1.json"), write(stripped, base + "1s.json")]
        func merge(_ inputs: [String]) throws -> [String: Any] {
            let m = try runProcess(Luaload.binary, ["merge", "--json", base + "m.json"] + inputs)
            XCTAssertEqual(m.code, 0, m.stderr)
            return parse((try? String(contentsOfFile: base + "m.json", encoding: .utf8)) ?? "")
        }
        XCTAssertGreaterThanOrEqual(seconds(rows(docs[0]).first ?? [:])?.count ?? 0, 2, "a run with --html keeps its seconds per name")
        let whole = try merge([files[0], files[1]])
        let row = rows(whole).first ?? [:]
        XCTAssertGreaterThan(row["requests"] as? Int ?? 0, 100)
        XCTAssertEqual(seconds(row)?.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }, row["requests"] as? Int)
        let busy = (whole["history"] as? [[String: Any]] ?? []).filter { ($0["requests"] as? Int ?? 0) > 0 }
        XCTAssertEqual(seconds(row)?.count, busy.count, "a second per merged second with requests (one name)")
        let part = try merge([files[0], files[2]])
        XCTAssertEqual(rows(part).first?["requests"] as? Int, row["requests"] as? Int)
        XCTAssertNil(seconds(rows(part).first ?? [:]), "one run without seconds per name: none in the merge")
    }

    /// The normaliser leaves out only what differs by design: a changed count, bucket or row shows.
    func testTheNormaliserSeesADifference() {
        let doc = #"{"duration_s":3.0,"run_id":"aaaa","total":{"requests":12,"hdr":"HISTFAAAAB"},"groups":{"r0":{"run_id":"bbbb","x":1}}"#
        let agents = #","agents":[{"id":1,"state":"done"}]}"#
        XCTAssertEqual(ReportNormaliser.json(doc + agents + "\n", agents: 1),
                       ReportNormaliser.json(doc.replacingOccurrences(of: "aaaa", with: "cccc") + "}\n", agents: 0))
        XCTAssertNotEqual(ReportNormaliser.json(doc + agents, agents: 1), ReportNormaliser.json(doc.replacingOccurrences(of: "12", with: "13") + "}", agents: 0))
        XCTAssertNotEqual(ReportNormaliser.json(doc + agents, agents: 1), ReportNormaliser.json(doc.replacingOccurrences(of: "AAB", with: "AAC") + "}", agents: 0))
        XCTAssertNotEqual(ReportNormaliser.json(doc + agents, agents: 1), ReportNormaliser.json(doc + "}", agents: 1), "agents count checked")
        let page = "<title>luaload: s.lua (2 agents)</title>\n<h1>luaload: s.lua (2 agents)</h1>\n<td>12</td>\n"
        XCTAssertEqual(ReportNormaliser.html(page), ReportNormaliser.html(page.replacingOccurrences(of: "luaload: s.lua (2 agents)", with: "luaload merge: 2 runs")))
        XCTAssertNotEqual(ReportNormaliser.html(page), ReportNormaliser.html(page.replacingOccurrences(of: "12", with: "13")))
        let console = "Controller: 2 agents\nGET /health 12\n"
        XCTAssertEqual(ReportNormaliser.console(console), ReportNormaliser.console("Merged 2 runs\nGET /health 12\n"))
        XCTAssertNotEqual(ReportNormaliser.console(console), ReportNormaliser.console("Merged 2 runs\nGET /health 13\n"))
    }

    /// Equal texts, else the first line that differs (an HTML report embeds Chart.js: not the whole of it).
    func assertSameText(_ mine: String, _ theirs: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard mine != theirs else { return }
        let a = mine.components(separatedBy: "\n"), b = theirs.components(separatedBy: "\n")
        let k = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        func at(_ lines: [String]) -> String { k < lines.count ? String(lines[k].prefix(600)) : "(ends)" }
        XCTFail("\(what): line \(k + 1) differs:\ncontroller: \(at(a))\nmerge:      \(at(b))", file: file, line: line)
    }

    /// "listening on 127.0.0.1:PORT for" in the controller's log.
    static func listeningPort(_ log: String) -> UInt16? {
        guard let at = log.range(of: "listening on 127.0.0.1:") else { return nil }
        return UInt16(log[at.upperBound...].prefix { $0.isNumber })
    }
}

/// What differs by design between a controller's reports and `luaload merge`'s of the agents' files, taken
/// out; nothing else is touched.
enum ReportNormaliser {
    /// The JSON: each merge makes a fresh "run_id" (the total's and each group's: RunID.make), and the
    /// controller adds "agents" (who ran which segment) as the document's last key — checked to hold
    /// `agents` entries, then cut.
    static func json(_ text: String, agents: Int) -> String {
        var out = text.replacingOccurrences(of: #""run_id":"[0-9a-f]+""#, with: #""run_id":"-""#, options: .regularExpression)
        if let at = out.range(of: #","agents":["#, options: .backwards) {
            let list = out[at.upperBound...]
            let count = list.components(separatedBy: #"{"id":"#).count - 1
            out = String(out[..<at.lowerBound]) + (count == agents ? "}" : "} (\(count) agents, not \(agents))")
        } else if agents > 0 {
            out += " (no \"agents\")"
        }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The HTML: its title names the script and the agents on a controller, the runs in a merge.
    static func html(_ text: String) -> String {
        text.replacingOccurrences(of: "<title>[^<]*</title>", with: "<title>-</title>", options: .regularExpression)
            .replacingOccurrences(of: "<h1>[^<]*</h1>", with: "<h1>-</h1>", options: .regularExpression)
    }

    /// The console: its first line says "Controller: N agents" or "Merged N runs".
    static func console(_ text: String) -> String {
        String(text.drop { $0 != "\n" })
    }
}
