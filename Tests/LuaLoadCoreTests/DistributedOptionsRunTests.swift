@testable import LuaLoadCore
import Foundation
import LuaLoadLoop
import XCTest

/// #20: the controller's -t, --tag, --start-at and --baseline on real runs (a `luaload --controller` process,
/// `luaload agent` processes, the built-in target on loopback), and the options it refuses before any agent.
final class DistributedOptionsRunTests: DistributedTestCase {
    static let script = """
        task(function() http.get("/health", { name = "GET /health" }) end)
        """

    /// A free loopback port for a controller process (taken, then let go).
    func freePort() throws -> UInt16 {
        let link = try Link.listen(LinkAddress("127.0.0.1:0")!)
        close(link.fd)
        return link.port
    }

    func agent(_ port: UInt16, _ extra: [String], env: [String: String] = [:]) throws -> AgentProcess {
        try AgentProcess(["agent", "127.0.0.1:\(port)", "--token", token, "-q", "--connect-timeout", "20s"] + extra,
                         env: env.merging(["FLY_REGION": ""]) { a, _ in a }, json: true)
    }

    func document(_ path: String) -> [String: Any] {
        parse((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }

    func testTheControllersThreadsTagsAndStartTimeReachEveryAgent() throws {
        let target = try startDelayedTarget(latencyMs: 0)
        defer { target.stop() }
        let (port, web) = (try freePort(), try freePort())
        let startAt = wallClockSeconds() + 4   // the agents are ready within ~1 s: far from late on a loaded box
        let merged = Luaload.temporaryDirectory + "m-\(UUID().uuidString).json"
        let controller = try AgentProcess(["--controller", "127.0.0.1:\(port)", "--agents", "2", "--token", token, "-q",
                                           "-t", "3", "--tag", "test=nightly", "--tag", "region=ctl",
                                           "--start-at", String(format: "%.3f", startAt), "-H", "http://127.0.0.1:\(target.port)",
                                           "-u", "6", "-n", "600", "--json", merged, "--web", "127.0.0.1:\(web)", Luaload.script(Self.script)])
        let plain = try agent(port, [])                               // no -t, no region: the controller's
        let own = try agent(port, ["-t", "1", "--tag", "region=ams"])  // its own stand
        // Before the start, the dashboard says what the agents run.
        var facts: [String: Any] = [:]
        eventually(within: 3) {
            facts = parse((try? httpGet(port: Int(web), "/api/snapshot").body) ?? "")["facts"] as? [String: Any] ?? [:]
            return !facts.isEmpty
        }
        XCTAssertEqual(facts["threads"] as? String, "3 per agent (-t)", "\(facts)")
        XCTAssertEqual(facts["tag test"] as? String, "nightly", "\(facts)")
        XCTAssertEqual(controller.wait(), 0, controller.stderr)
        XCTAssertEqual(plain.wait(), 0, plain.stderr)
        XCTAssertEqual(own.wait(), 0, own.stderr)
        let p = document(plain.json), o = document(own.json), m = document(merged)
        XCTAssertEqual(p["threads"] as? Int, 3, "the controller's -t 3 (this box has \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores)")
        XCTAssertEqual(o["threads"] as? Int, 1)
        XCTAssertTrue(own.stderr.contains("runs its own -t 1, not the controller's -t 3"), own.stderr)
        XCTAssertEqual(p["tags"] as? [String: String] ?? [:], ["test": "nightly", "region": "ctl", "host": hostName(), "segment": tagValue(p, "segment")])
        XCTAssertEqual((o["tags"] as? [String: String])?["region"], "ams")
        XCTAssertEqual((o["tags"] as? [String: String])?["test"], "nightly")
        XCTAssertTrue(controller.stderr.contains("its own tags stand over the controller's --tag region=ctl"), controller.stderr)
        XCTAssertEqual((m["tags"] as? [String: String])?["test"], "nightly", "the merged report carries the test's tag")
        // Started on --start-at (not ~0.5 s after the agents were ready, ~3 s before it).
        XCTAssertTrue(controller.stderr.contains("every agent is ready: the test starts at --start-at, in "), controller.stderr)
        for d in [p, o, m] {
            let start = Double(d["start_unix_ms"] as? Int ?? 0) / 1000
            XCTAssertGreaterThan(start, startAt - 0.3, "started \(startAt - start) s before --start-at")
            XCTAssertLessThan(start, startAt + 1.5)
        }
        let total = m["total"] as? [String: Any] ?? [:]
        let requests = total["requests"] as? Int ?? -1
        XCTAssertEqual(requests, requestsOf(p) + requestsOf(o))
        let sent = requests + (m["abandoned"] as? Int ?? 0)
        XCTAssertEqual(settledCount(sent) { targetTotal(target) }, sent, "the target saw every request recorded or abandoned")
    }

    func testARelativeThresholdIsJudgedOnTheWholeTestAndNoAgentFailsForIt() throws {
        let target = try startDelayedTarget(latencyMs: 0)
        defer { target.stop() }
        let script = Luaload.script(Self.script)
        let base = try AgentProcess(["-q", "-H", "http://127.0.0.1:\(target.port)", "-u", "2", "-n", "100", script], json: true)
        XCTAssertEqual(base.wait(), 0, base.stderr)
        let baseRequests = requestsOf(document(base.json))
        XCTAssertGreaterThanOrEqual(baseRequests, 100)
        let port = try freePort()
        let merged = Luaload.temporaryDirectory + "m-\(UUID().uuidString).json"
        // 2 agents of 100 task runs each: each holds requests < 1.5 x the baseline's, the whole test (200) crosses it.
        let controller = try AgentProcess(["--controller", "127.0.0.1:\(port)", "--agents", "2", "--token", token,
                                           "-H", "http://127.0.0.1:\(target.port)", "-u", "4", "-n", "200", "--baseline", base.json,
                                           "--threshold", "GET /health: requests < baseline * 1.5",
                                           "--threshold", "GET /health: failures <= baseline", "--json", merged, script])
        let agents = try (0..<2).map { _ in try agent(port, ["-t", "1"]) }
        XCTAssertEqual(controller.wait(), 3, controller.stderr)
        let m = document(merged)
        let verdicts = (m["thresholds"] as? [[String: Any]] ?? []).map { ($0["expr"] as? String ?? "", $0["ok"] as? Bool) }
        let bound = Format.fixed(Double(baseRequests) * 1.5, 3)
        XCTAssertEqual(verdicts.map(\.0), ["requests < \(bound) (baseline \(Format.fixed(Double(baseRequests), 3)) * 1.5)",
                                           "failures <= 0.000 (baseline 0.000 * 1.0)"], "\(verdicts)")
        XCTAssertEqual(verdicts.map(\.1), [false, true], "crossed on the whole test (\(requestsOf(m)) requests), not on an agent")
        XCTAssertTrue(controller.stdout.contains("✗ GET /health"), controller.stdout)
        var perAgent = 0
        for a in agents {
            XCTAssertEqual(a.wait(), 0, "each agent's own share holds: " + a.stderr)
            let d = document(a.json)
            XCTAssertEqual((d["thresholds"] as? [[String: Any]] ?? []).map { $0["ok"] as? Bool }, [true, true], a.stdout)
            perAgent += requestsOf(d)
        }
        XCTAssertEqual(requestsOf(m), perAgent)
        let sent = baseRequests + (document(base.json)["abandoned"] as? Int ?? 0) + requestsOf(m) + (m["abandoned"] as? Int ?? 0)
        XCTAssertEqual(settledCount(sent) { targetTotal(target) }, sent, "the target saw the baseline's run and the test's, every request")
    }

    /// --exit-code-on-error on the controller is also each agent's (a Job's pods tolerate failures as the test does).
    func testTheControllersExitCodeOnErrorIsEveryAgents() throws {
        let port = try freePort()
        let merged = Luaload.temporaryDirectory + "m-\(UUID().uuidString).json"
        let controller = try AgentProcess(["--controller", "127.0.0.1:\(port)", "--agents", "2", "--token", token, "-q",
                                           "--exit-code-on-error", "5", "-H", "http://127.0.0.1:9", "-u", "2", "-n", "6",
                                           "--json", merged, Luaload.script(Self.script)])   // port 9: refused, each request fails
        let agents = try (0..<2).map { _ in try agent(port, ["-t", "1"], env: ["LUALOAD_SEGMENT": "3/4"]) }
        XCTAssertEqual(controller.wait(), 5, controller.stderr)
        for a in agents {
            XCTAssertEqual(a.wait(), 5, a.stderr)
            XCTAssertTrue(a.stderr.contains("LUALOAD_SEGMENT=3/4 is not used: the controller gives each agent its segment"), a.stderr)
        }
        let total = document(merged)["total"] as? [String: Any] ?? [:]
        XCTAssertEqual(total["failures"] as? Int, 6, "\(total)")
        XCTAssertEqual(total["requests"] as? Int, 6)
    }

    /// Each refused option: exit 2, naming it, before the controller listens (so before any agent is awaited);
    /// every option DistributedOptionsTests.runCommand calls refused is among them.
    func testRefusedOptionsExit2NamingTheFlagBeforeAnyAgentIsAwaited() throws {
        let script = Luaload.script(Self.script)
        let controller = ["--controller", "127.0.0.1:\(try freePort())", "--agents", "1", "--token", token, "-n", "1", "-H", "http://127.0.0.1:9"]
        let cases: [(flag: String, args: [String], env: [String: String], says: String)] = [
            ("serve", controller + ["--serve"], [:], "--serve starts a target on this box"),
            ("segment", controller + ["--segment", "0/2"], [:], "drop --segment/--segments"),
            ("segments", controller + ["--segments", "2"], [:], "drop --segment/--segments"),
            ("wait", controller + ["--web", "127.0.0.1:0", "--wait"], [:], "--wait is not for --controller"),
            ("", controller, ["LUALOAD_SEGMENT": "0/2"], "unset LUALOAD_SEGMENT"),
            ("", controller + ["--tag", "segment=1/2"], [:], "--tag segment=1/2: the controller gives each agent its segment"),
            ("", controller + ["--start-late-ok"], [:], "--start-late-ok needs --start-at"),
            ("", ["-n", "1", "-H", "http://127.0.0.1:9", "--agents", "2", "--by", "zone"], [:], "--agents is an option of --controller"),
            ("", ["agent", "127.0.0.1:9", "--token", "x", "--tag", "segment=0/1"], [:], "--tag segment=0/1: the controller gives"),
        ]
        for c in cases {
            let p = try AgentProcess(c.args + (c.args.first == "agent" ? [] : [script]), env: c.env)
            XCTAssertEqual(p.wait(), 2, "\(c.args): \(p.stderr)")
            XCTAssertTrue(p.stderr.contains(c.says), "\(c.args): \(p.stderr)")
            XCTAssertFalse(p.stderr.contains("listening on") || p.stderr.contains("waiting for the controller"), p.stderr)
        }
        let refused = Set(DistributedOptionsTests.runCommand.filter { $0.value == .refused }.keys)
        XCTAssertEqual(refused, Set(cases.map(\.flag).filter { !$0.isEmpty }), "every refused option has its case here")
    }

    /// --start-at passed more than 1 s before every agent was ready: called off (exit 2 on the command line),
    /// as one box's late start, unless --start-late-ok.
    func testAStartTimeTheAgentsMissedCallsTheRunOff() throws {
        let target = try startDelayedTarget(latencyMs: 0)
        defer { target.stop() }
        var run = RunOptions(scriptPath: Luaload.script(Self.script), threads: 1)
        (run.host, run.iterations) = ("http://127.0.0.1:\(target.port)", 10)
        var o = ControllerOptions(address: LinkAddress("127.0.0.1:0")!, agents: 1, token: token)
        o.startAt = wallClockSeconds() + 0.2
        let c = try Controller(options: o, run: run)
        usleep(1_700_000)
        let late = try agent(c.port, ["-t", "1"])
        XCTAssertThrowsError(try c.run(log: { _ in }, observer: { _ in })) {
            XCTAssertTrue("\($0)".contains("--start-at: every agent was ready only"), "\($0)")
            XCTAssertTrue("\($0)".contains("add --start-late-ok"), "\($0)")
        }
        XCTAssertEqual(late.wait(), 2, late.stderr)
        XCTAssertTrue(late.stderr.contains("called the run off"), late.stderr)
        XCTAssertEqual(targetTotal(target), 0, "no traffic")
    }

    /// An agent that leaves while the controller holds for --start-at frees its segment: the next agent takes it,
    /// and the test still starts on time with the whole of its iterations.
    func testAnAgentLeavingBeforeTheStartTimeIsReplaced() throws {
        let target = try startDelayedTarget(latencyMs: 0)
        defer { target.stop() }
        var run = RunOptions(scriptPath: Luaload.script(Self.script), threads: 1)
        (run.host, run.users, run.iterations) = ("http://127.0.0.1:\(target.port)", 2, 40)
        var o = ControllerOptions(address: LinkAddress("127.0.0.1:0")!, agents: 2, token: token)
        o.startAt = wallClockSeconds() + 4   // the agents are ready within ~1 s, the third within ~2 s
        let c = try Controller(options: o, run: run)
        let first = try [agent(c.port, ["-t", "1"]), agent(c.port, ["-t", "1"])]
        var log: [String] = [], third: AgentProcess?
        let result = try c.run(log: { line in
            log.append(line)
            // Both ready (the hold begins): one goes away, another comes.
            if line.hasSuffix(" ready") && log.filter({ $0.hasSuffix(" ready") }).count == 2 {
                first[0].killNow()
                third = try? self.agent(c.port, ["-t", "1"])
            }
        }, observer: { _ in })
        XCTAssertTrue(log.contains { $0.hasSuffix("left before the start") }, log.joined(separator: "\n"))
        XCTAssertEqual(result.agents.map(\.state), [.done, .done], log.joined(separator: "\n"))
        XCTAssertEqual(first[1].wait(), 0, first[1].stderr)
        XCTAssertEqual(third?.wait(), 0, third?.stderr ?? "no third agent")
        XCTAssertGreaterThan(Double(result.total.placement.startUnixMs) / 1000, o.startAt! - 0.3, "started on --start-at")
        XCTAssertEqual(result.total.total.requests, 40, "every iteration: the segment freed was run")
        let sent = result.total.total.requests + result.total.abandoned
        XCTAssertEqual(settledCount(sent) { targetTotal(target) }, sent)
    }

    func requestsOf(_ d: [String: Any]) -> Int { (d["total"] as? [String: Any])?["requests"] as? Int ?? -1 }
    func tagValue(_ d: [String: Any], _ key: String) -> String { (d["tags"] as? [String: String])?[key] ?? "?" }
    func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        return String(cString: buf)
    }
}
