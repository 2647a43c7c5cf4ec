import Foundation
import LuaLoadCore
import LuaLoadServe
import XCTest

/// One test across many boxes: a controller (in this process, for its live view) and `luaload agent`
/// processes on loopback, each region's agent against a built-in target with its own added latency.
final class DistributedTests: DistributedTestCase {
    func testFourRegionsMergedLiveAndExactlyAsLuaLoadMerge() throws {
        // 25 ms apart at least: a region's live p50 is its own delay plus < 25 ms of a loaded machine's overhead
        // (15 ms with 5/20/40/80 left a slow box little room), and another region's would be out of its range.
        let delays = [5, 30, 60, 120]
        let targets = try delays.map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 4, script: Luaload.script(Self.regionScript)) { $0.users = 8; $0.usersGiven = true; $0.duration = 4 }
        let procs = try agents(c, targets)
        var liveP50: [String: Double] = [:]
        var liveUsers = 0
        let result = try c.run(log: { _ in }, observer: { e in
            guard case .tick(let p) = e, p.tick >= 2, !p.stopping else { return }
            liveUsers = p.activeUsers
            for g in c.liveGroups(elapsed: p.elapsed) { liveP50[g.value] = g.summary.total.percentileMs(50) }
        })
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }
        XCTAssertEqual(liveUsers, 8)
        for (k, d) in delays.enumerated() {
            let p = liveP50["r\(k)"] ?? -1
            XCTAssertTrue(p >= Double(d) && p < Double(d) + 25, "live p50 of r\(k): \(p) ms for \(d) ms added")
        }
        XCTAssertEqual(result.agents.map(\.state), Array(repeating: .done, count: 4))
        XCTAssertEqual(Set(result.agents.map(\.segment.description)), ["0/4", "1/4", "2/4", "3/4"])
        // The controller's JSON is `luaload merge --by region` of the agents' own files, bucket for bucket.
        try assertJSONIsTheMerge(result, procs)
        // What the targets saw is what the test counted.
        let t = result.total
        XCTAssertGreaterThan(t.total.requests, 100)
        let sent = t.total.requests + t.abandoned + t.total.redirects
        XCTAssertEqual(settledCount(sent) { targets.map(targetTotal).reduce(0, +) }, sent)
    }

    func testAnAgentKilledMidRunIsMarkedLostAndTheOthersGoOn() throws {
        let targets = try [10, 10].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 2, script: Luaload.script(Self.regionScript), silence: 60) { $0.users = 4; $0.usersGiven = true; $0.duration = 4 }
        let procs = try agents(c, targets)
        var log: [String] = []
        var firstSecond = Date()
        let result = try c.run(log: { log.append($0) }, observer: { e in
            if case .tick(let p) = e, p.tick == 1 { firstSecond = Date() }
            if case .tick(let p) = e, p.tick == 2 { procs[0].killNow() }
        })
        let took = Date().timeIntervalSince(firstSecond)
        XCTAssertEqual(procs[1].wait(), 0, procs[1].stderr)
        procs[0].wait()
        // From the first second (1.25 s in; the agents' start-up before it varies on a loaded box) to the merged
        // result: pass value 3.2 s, 4.5-6.3 s under 4 CPU hogs, 11 s under 8 (the controller's merge in this debug
        // process starved: 1.4 s of it); bug value 61 s and more (the killed agent waited for until --agent-silence 60 s).
        XCTAssertLessThan(took, 30, "the run ends on time")
        XCTAssertEqual(result.lost.count, 1, log.joined(separator: "\n"))
        let lost = result.lost[0]
        XCTAssertEqual(lost.tags.first { $0.key == "region" }?.value, "r0")
        // Killed at the second tick (2.25 s): lost at once, its link closed; bug value ~62 s (waited for the silence).
        XCTAssertTrue((1.5...10).contains(lost.lostAt ?? 0), "lost at \(lost.lostAt ?? 0)")
        XCTAssertTrue(result.total.notes.contains { $0.contains("lost at") && $0.contains("region=r0") }, "\(result.total.notes)")
        // Its data up to its last second is kept beside the survivor's whole report.
        let survivor = parse(try String(contentsOfFile: procs[1].json, encoding: .utf8))
        let survivorRequests = (survivor["total"] as? [String: Any])?["requests"] as? Int ?? 0
        XCTAssertGreaterThan(result.total.total.requests, survivorRequests, "the lost agent's seconds are in (231 vs 251 + 20 once under 8 CPU hogs: it had sent fewer than 20)")
        let json = parse(result.json())
        let states = (json["agents"] as? [[String: Any]] ?? []).map { $0["state"] as? String ?? "" }
        XCTAssertEqual(states.sorted(), ["done", "lost"])
        XCTAssertNotNil((json["groups"] as? [String: Any])?["r0"], "the lost region keeps its column")
    }

    func testAbortOnFailStopsEveryAgentWithinTwoSeconds() throws {
        let targets = try [20, 20, 20].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let script = Self.regionScript + "\nthresholds = { [\"GET /health\"] = { { \"p50 < 1\", abort_on_fail = true } } }\n"
        let c = try makeController(agents: 3, script: Luaload.script(script)) { $0.users = 3; $0.usersGiven = true; $0.duration = 30 }
        let procs = try agents(c, targets)
        var stopAt: Date?
        let result = try c.run(log: { if $0.hasPrefix("stop sent") { stopAt = Date() } }, observer: { _ in })
        let end = Date()
        for a in procs { XCTAssertEqual(a.wait(), 3, a.stderr) }   // each agent's own verdict: crossed
        let stop = try XCTUnwrap(stopAt)
        XCTAssertLessThanOrEqual(end.timeIntervalSince(stop), 2, "every agent stopped and reported within 2 s")
        XCTAssertEqual(result.total.stopReason, .thresholdCrossed)
        XCTAssertTrue(result.total.anyThresholdCrossed)
        XCTAssertLessThan(result.total.durationSeconds, 5)
        for a in procs { XCTAssertEqual(parse(try String(contentsOfFile: a.json, encoding: .utf8))["stop_reason"] as? String, "threshold_crossed") }
    }

    func testAUserChangeReachesEveryAgentByItsSegmentAndLateAgentsAreRefused() throws {
        let targets = try [5, 5, 5, 5].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 4, script: Luaload.script(Self.regionScript)) { $0.users = 8; $0.usersGiven = true; $0.duration = 5 }
        let procs = try agents(c, targets)
        var late: AgentProcess?
        var before: [Int] = [], after: [Int] = [], afterTotal = 0
        _ = try c.run(log: { _ in }, observer: { e in
            guard case .tick(let p) = e else { return }
            if p.tick == 1 { late = try? AgentProcess(port: c.port, token: self.token, tags: ["region=late"]) }
            if p.tick == 2 { before = c.agentReports.map(\.users); c.controls.post(.setUsers(4, spawnRate: nil)) }
            if p.tick == 4 { after = c.agentReports.map(\.users); afterTotal = p.activeUsers }
        })
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }
        XCTAssertEqual(before, [2, 2, 2, 2])
        XCTAssertEqual(after, [1, 1, 1, 1], "users 4 = the global VUs 0-3: one in each segment")
        XCTAssertEqual(afterTotal, 4)
        let refused = try XCTUnwrap(late)
        XCTAssertEqual(refused.wait(), 2)
        XCTAssertTrue(refused.stderr.contains("late agent"), refused.stderr)
    }

    func testAWrongTokenIsRefusedAndTheWaitEndsNamingHowManyCame() throws {
        let c = try makeController(agents: 1, script: Luaload.script(Self.regionScript), timeout: 3) { $0.duration = 1 }
        let intruder = try AgentProcess(port: c.port, token: "wrong", tags: [])
        var log: [String] = []
        XCTAssertThrowsError(try c.run(log: { log.append($0) }, observer: { _ in })) { error in
            XCTAssertTrue("\(error)".contains("0 of 1 agents ready"), "\(error)")
        }
        XCTAssertEqual(intruder.wait(), 2)
        XCTAssertTrue(intruder.stderr.contains("refused this agent: wrong token"), intruder.stderr)
        XCTAssertTrue(log.contains { $0.hasPrefix("refused 127.0.0.1:") && $0.hasSuffix("wrong token") }, "\(log)")
        // A garbage frame (a length over the hello limit) is dropped, never a crash.
        let c2 = try makeController(agents: 1, script: Luaload.script(Self.regionScript), timeout: 2) { $0.duration = 1 }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = c2.port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        _ = [UInt8]([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var log2: [String] = []
        XCTAssertThrowsError(try c2.run(log: { log2.append($0) }, observer: { _ in }))
        close(fd)
        XCTAssertTrue(log2.contains { $0.contains("the limit is 65536") }, "\(log2)")
    }

    func testTLSOnTheLinkVerifiesTheControllerBeforeTheToken() throws {
        let dir = Luaload.temporaryDirectory + "linktls-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["ctl", "other"] {
            let o = try AgentProcess(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                      "-keyout", dir + name + ".key", "-out", dir + name + ".crt", "-days", "2", "-subj", "/CN=luaload \(name)",
                                      "-addext", "subjectAltName=IP:127.0.0.1"], executable: "/usr/bin/openssl")
            XCTAssertEqual(o.wait(), 0, o.stderr)
        }
        let target = try startDelayedTarget(latencyMs: 1)
        defer { target.stop() }
        var run = RunOptions(scriptPath: Luaload.script(Self.regionScript), threads: 1)
        run.duration = 1
        var o = ControllerOptions(address: LinkAddress("127.0.0.1:0")!, agents: 1, token: token)
        o.agentsTimeout = 15
        o.tls = try LinkTLS(certificate: dir + "ctl.crt", key: dir + "ctl.key")
        let c = try Controller(options: o, run: run)
        let env = ["TARGET": "http://127.0.0.1:\(target.port)"]
        let wrongCA = try AgentProcess(port: c.port, token: token, tags: [], env: env, extra: ["--cacert", dir + "other.crt"])
        let plain = try AgentProcess(port: c.port, token: token, tags: [], env: env)
        // Over TLS the refusal and the close come in one read: the refusal is what the agent says, not "closed".
        let wrongToken = try AgentProcess(port: c.port, token: "wrong", tags: [], env: env, extra: ["--cacert", dir + "ctl.crt"])
        let good = try AgentProcess(port: c.port, token: token, tags: ["region=tls"], env: env, extra: ["--cacert", dir + "ctl.crt"])
        var log: [String] = []
        let result = try c.run(log: { log.append($0) }, observer: { _ in })
        XCTAssertNotEqual(wrongCA.wait(), 0)
        XCTAssertTrue(wrongCA.stderr.contains("certificate verify failed"), wrongCA.stderr)
        XCTAssertEqual(good.wait(), 0, good.stderr)
        XCTAssertNotEqual(plain.wait(), 0)
        XCTAssertEqual(wrongToken.wait(), 2, wrongToken.stderr)
        XCTAssertTrue(wrongToken.stderr.contains("refused this agent: wrong token"), wrongToken.stderr)
        XCTAssertEqual(result.agents.map(\.state), [.done])
        XCTAssertGreaterThan(result.total.total.requests, 0)
        XCTAssertTrue(log.contains { $0.contains("TLS handshake") }, "the plain agent is dropped at the handshake: \(log)")
    }

    func testAgentsFinishOnTheirOwnWhenTheControllerDies() throws {
        let target = try startDelayedTarget(latencyMs: 2)
        defer { target.stop() }
        let link = try Link.listen(LinkAddress("127.0.0.1:0")!)
        close(link.fd)
        let controller = try AgentProcess(["--controller", "127.0.0.1:\(link.port)", "--agents", "1", "--token", token, "-q",
                                           "-u", "2", "-d", "3s", Luaload.script(Self.regionScript)])
        let agent = try AgentProcess(port: link.port, token: token, tags: ["region=alone"], env: ["TARGET": "http://127.0.0.1:\(target.port)"])
        let began = Date()
        while !agent.stderr.contains("segment 0/1") && Date().timeIntervalSince(began) < 20 { usleep(50_000) }
        usleep(1_500_000)
        controller.killNow()
        controller.wait()
        XCTAssertEqual(agent.wait(), 0, agent.stderr)
        XCTAssertTrue(agent.stderr.contains("lost the controller"), agent.stderr)
        let doc = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: agent.json)))) as? [String: Any] ?? [:]
        XCTAssertEqual(doc["stop_reason"] as? String, "duration", "the segment ran to its end")
        // 3 s by the agent's own clock (RunState.stopAt = its start + 3 s; its main thread only queues for the link's
        // thread, it never waits on the socket), not the ~1.5 s at which the controller died, nor 13 s and more (a stop
        // that waited on the link: its 10 s send timeout). Pass value 3.000-3.015 s (70 runs: idle, 2-8 CPU hogs, a disk
        // writer, other distributed tests alongside); 6.1 s once in a full suite at load 4-6, not reproduced: the stop
        // needs nothing from the link, so those 3 s are time the agent process did not run (a stalled box), hence room
        // up to 8 s. Never early: the stop is at 3 s at the soonest.
        let duration = doc["duration_s"] as? Double ?? 0
        XCTAssertTrue(duration >= 2.99 && duration < 8, "duration_s \(duration)")
        let sent = ((doc["total"] as? [String: Any])?["requests"] as? Int ?? -1) + (doc["abandoned"] as? Int ?? 0)
        XCTAssertEqual(settledCount(sent) { targetTotal(target) }, sent)
    }

    func testTheCommandLineControllerWaitsThenExits2NamingHowManyCame() throws {
        let s = Luaload.script(Self.regionScript)
        let free = try Link.listen(LinkAddress("127.0.0.1:0")!)
        close(free.fd)
        let agent = try AgentProcess(port: free.port, token: token, tags: ["region=x"])
        let r = try AgentProcess(["--controller", "127.0.0.1:\(free.port)", "--agents", "2", "--agents-timeout", "3s",
                                  "--token", token, "-u", "2", "-d", "2s", s])
        XCTAssertEqual(r.wait(), 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("1 of 2 agents ready after 3 s"), r.stderr)
        XCTAssertEqual(agent.wait(), 2, agent.stderr)
        XCTAssertTrue(agent.stderr.contains("called the run off"), agent.stderr)
    }
}

/// deploy/: the controller's Kubernetes manifests validate offline, the launchers parse, and the compose
/// file's own command lines (its hosts and ports put on loopback, its 30 s cut to 3 s) run a test.
final class DistributedDeployTests: XCTestCase {
    static let root = ScaleTests.root

    func testControllerManifestsValidateAndTheComposeCommandsRunOnLoopback() throws {
        let validate = Self.root.appendingPathComponent(".venv-test/bin/kubernetes-validate").path
        guard FileManager.default.isExecutableFile(atPath: validate) else {
            return XCTFail("no \(validate): run scripts/install-deps.sh --test (scripts/test.sh does)")
        }
        let dir = Self.root.appendingPathComponent("deploy/k8s/controller").path
        let manifests = ["controller.yaml", "agents.yaml"].map { dir + "/" + $0 }
        let k = try AgentProcess(["--strict"] + manifests, executable: validate)
        XCTAssertEqual(k.wait(), 0, k.stdout + k.stderr)
        for launcher in ["deploy/k8s/controller/run.sh", "deploy/fly/controller.sh"] {
            let b = try AgentProcess(["-n", Self.root.appendingPathComponent(launcher).path], executable: "/bin/bash")
            XCTAssertEqual(b.wait(), 0, launcher + ": " + b.stderr)
        }
        // The compose file: each service's command, read by PyYAML.
        let compose = Self.root.appendingPathComponent("deploy/compose.yaml").path
        let py = try AgentProcess(["-c", "import json, sys, yaml; d = yaml.safe_load(open(sys.argv[1])); "
                                   + "print(json.dumps({k: [v['command'], v.get('deploy', {}).get('replicas', 1)] for k, v in d['services'].items()}))", compose],
                                  executable: ScaleTests.python)
        XCTAssertEqual(py.wait(), 0, py.stderr)
        let services = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(py.stdout.utf8)) as? [String: [Any]])
        XCTAssertEqual(Set(services.keys), ["target", "controller", "agent"])
        let target = try startDelayedTarget(latencyMs: 1)
        defer { target.stop() }
        let link = try Link.listen(LinkAddress("127.0.0.1:0")!)
        close(link.fd)
        let (web, metrics) = (try freePort(), try freePort())
        func onLoopback(_ service: String) -> [String] {
            (services[service]?[0] as? [String] ?? []).map {
                $0.replacingOccurrences(of: "http://target:8080", with: "http://127.0.0.1:\(target.port)")
                    .replacingOccurrences(of: "controller:7400", with: "127.0.0.1:\(link.port)")
                    .replacingOccurrences(of: "0.0.0.0:7400", with: "127.0.0.1:\(link.port)")
                    .replacingOccurrences(of: "0.0.0.0:8089", with: "127.0.0.1:\(web)")
                    .replacingOccurrences(of: "0.0.0.0:9464", with: "127.0.0.1:\(metrics)")
                    .replacingOccurrences(of: "${LUALOAD_TOKEN}", with: "compose-test")   // compose's interpolation
                    .replacingOccurrences(of: "/scripts/", with: Self.root.appendingPathComponent("scripts").path + "/")
                    .replacingOccurrences(of: "30s", with: "3s")
            }
        }
        let env = ["LUALOAD_TOKEN": "compose-test"]
        let controller = try AgentProcess(onLoopback("controller") + ["--json", "-"], env: env)
        let replicas = services["agent"]?[1] as? Int ?? 0
        XCTAssertEqual(replicas, 3)
        let agents = try (0..<replicas).map { _ in try AgentProcess(onLoopback("agent"), env: env) }
        Self.assertDashboardAndMetricsServeTheTest(web: web, metrics: metrics, controller: controller)
        XCTAssertEqual(controller.wait(timeout: 40), 0, controller.stderr)
        for a in agents { XCTAssertEqual(a.wait(), 0, a.stderr) }
        let merged = (try? JSONSerialization.jsonObject(with: Data(controller.stdout.utf8))) as? [String: Any] ?? [:]
        XCTAssertEqual((merged["agents"] as? [Any])?.count, 3)
        XCTAssertEqual(merged["by"] as? String, "region")
        XCTAssertNotNil((merged["groups"] as? [String: Any])?["compose"])
        let sent = ((merged["total"] as? [String: Any])?["requests"] as? Int ?? -1) + (merged["abandoned"] as? Int ?? 0)
        XCTAssertEqual(settledCount(sent) { targetTotal(target) }, sent)
    }

    /// The compose file's controller while it runs: its dashboard and /metrics answer with the token (401 without).
    static func assertDashboardAndMetricsServeTheTest(web: Int, metrics: Int, controller: AgentProcess) {
        func get(_ port: Int, _ path: String, token: String?) -> String {
            loopbackExchange(port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
                             + (token.map { "Authorization: Bearer \($0)\r\n" } ?? "") + "\r\n") ?? ""
        }
        var page = "", series = "", refused: [String] = []
        let served = eventually(within: 30) {
            page = get(web, "/stats/requests", token: "compose-test")
            series = get(metrics, "/metrics", token: "compose-test")
            refused = [get(web, "/stats/requests", token: nil), get(metrics, "/metrics", token: nil)].map { String($0.prefix(12)) }
            return page.contains("\"num_requests\"") && series.contains("luaload_requests_total{") && refused == ["HTTP/1.1 401", "HTTP/1.1 401"]
        }
        XCTAssertTrue(served, "page: \(page.prefix(300))\nmetrics: \(series.prefix(300))\nno token: \(refused)\n\(controller.stderr)")
    }
}
