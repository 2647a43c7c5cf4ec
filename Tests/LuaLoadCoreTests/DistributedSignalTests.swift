import Foundation
@testable import LuaLoadCore
import LuaLoadServe
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Signals in a controlled test: Ctrl-C on the command-line controller (once: every agent stops and the
/// reports count exactly; twice: it exits at once with reports), SIGTERM to an agent (a pod evicted: it
/// stops, its report counts, the others go on), and a controller whose link port is taken.
final class DistributedSignalTests: DistributedTestCase {
    /// A free loopback port for a command-line controller (bound then closed, as the other controller tests).
    func freePort() throws -> UInt16 {
        let probe = try Link.listen(LinkAddress("127.0.0.1:0")!)
        close(probe.fd)
        return probe.port
    }

    /// --agent-silence 60s: a controller that waited for a silent agent would take a minute, far from any pass value.
    func controllerProcess(port: UInt16, agents: Int, json: String, duration: String, users: Int) throws -> AgentProcess {
        try AgentProcess(["--controller", "127.0.0.1:\(port)", "--agents", String(agents), "--token", token, "-q", "--agent-silence", "60s",
                          "-u", String(users), "-d", duration, "--json", json, Luaload.script(Self.regionScript)])
    }

    func agentProcesses(port: UInt16, _ targets: [TargetServer]) throws -> [AgentProcess] {
        try targets.enumerated().map { k, t in
            try AgentProcess(port: port, token: token, tags: ["region=r\(k)"], env: ["TARGET": "http://127.0.0.1:\(t.port)"])
        }
    }

    func counted(_ doc: [String: Any]) -> Int {
        ((doc["total"] as? [String: Any])?["requests"] as? Int ?? -1) + (doc["abandoned"] as? Int ?? 0)
    }

    func document(_ path: String) -> [String: Any] {
        parse((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }

    /// Ctrl-C once on `luaload --controller`: every agent stops within a second or two, the controller's JSON is
    /// written, and recorded + abandoned = what the targets saw, exactly.
    func testCtrlCOnTheControllerStopsEveryAgentAndItsReportCountsExactly() throws {
        let targets = try [3, 3].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let port = try freePort()
        let json = Luaload.temporaryDirectory + "ctl-\(UUID().uuidString).json"
        let controller = try controllerProcess(port: port, agents: 2, json: json, duration: "60s", users: 4)
        let procs = try agentProcesses(port: port, targets)
        XCTAssertTrue(eventually(within: 30) { targets.allSatisfy { targetTotal($0) > 50 } }, controller.stderr)
        kill(controller.process.processIdentifier, SIGINT)
        let sent = Date()
        // Pass value: both agents end 0.2-0.45 s after the signal (measured by hand, same command lines); bug value:
        // the 60 s of -d (the stop never sent).
        for a in procs { XCTAssertEqual(a.wait(timeout: 40), 0, a.stderr) }
        XCTAssertLessThan(Date().timeIntervalSince(sent), 20, "every agent stopped within seconds of the Ctrl-C")
        XCTAssertEqual(controller.wait(), 0, controller.stderr)
        XCTAssertTrue(controller.stderr.contains("stop sent to every agent"), controller.stderr)
        let doc = document(json)
        XCTAssertEqual(doc["stop_reason"] as? String, "interrupted")
        XCTAssertEqual((doc["agents"] as? [[String: Any]])?.compactMap { $0["state"] as? String }, ["done", "done"])
        for a in procs { XCTAssertEqual(document(a.json)["stop_reason"] as? String, "interrupted") }
        let n = counted(doc)
        XCTAssertGreaterThan(n, 100)
        XCTAssertEqual(settledCount(n) { targets.map(targetTotal).reduce(0, +) }, n)
    }

    /// A second Ctrl-C while an agent cannot answer (SIGSTOP): the controller exits at once (130), its JSON
    /// written with that agent lost; the agent, woken, ends its stopped segment on its own and writes its JSON.
    func testASecondCtrlCExitsAtOnceWithReportsAndTheAgentEndsOnItsOwn() throws {
        let target = try startDelayedTarget(latencyMs: 3)
        defer { target.stop() }
        let port = try freePort()
        let json = Luaload.temporaryDirectory + "ctl-\(UUID().uuidString).json"
        let controller = try controllerProcess(port: port, agents: 1, json: json, duration: "60s", users: 2)
        let agent = try agentProcesses(port: port, [target])[0]
        let pid = agent.process.processIdentifier
        defer { if agent.process.isRunning { kill(pid, SIGCONT); agent.killNow(); agent.wait() } }
        XCTAssertTrue(eventually(within: 30) { targetTotal(target) > 50 }, controller.stderr)
        usleep(2_000_000)   // a second or more of it reaches the controller
        kill(pid, SIGSTOP)
        kill(controller.process.processIdentifier, SIGINT)
        // Two signals before the controller looks would be one (they do not queue): the second after the first's stop.
        XCTAssertTrue(eventually { controller.stderr.contains("stop sent to every agent") }, controller.stderr)
        kill(controller.process.processIdentifier, SIGINT)
        let second = Date()
        // Pass value: exits ~0.1 s after; bug values: 60 s (waiting for --agent-silence), or 130 without a report.
        XCTAssertEqual(controller.wait(timeout: 40), 130, controller.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(second), 20)
        let doc = document(json)
        let agents = doc["agents"] as? [[String: Any]] ?? []
        XCTAssertEqual(agents.first?["state"] as? String, "lost", controller.stderr)
        XCTAssertEqual(agents.first?["lost_reason"] as? String, "the controller was stopped at once (a second Ctrl-C or SIGTERM)")
        XCTAssertGreaterThan((doc["total"] as? [String: Any])?["requests"] as? Int ?? 0, 0, "its seconds so far are kept")
        XCTAssertTrue(controller.stderr.contains("stopped at once by a second signal"), controller.stderr)
        kill(pid, SIGCONT)
        XCTAssertEqual(agent.wait(timeout: 20), 0, agent.stderr)
        XCTAssertTrue(agent.stderr.contains("lost the controller"), agent.stderr)
        let own = document(agent.json)
        XCTAssertEqual(own["stop_reason"] as? String, "interrupted", "the first Ctrl-C's stop reached it")
        XCTAssertEqual(settledCount(counted(own)) { targetTotal(target) }, counted(own))
    }

    /// SIGTERM to an agent (Kubernetes evicting its pod): it stops as on Ctrl-C and sends its report, so none of
    /// its data is lost; the controller says it stopped early, the other agent goes on to the end.
    func testSIGTERMToAnAgentStopsItWithItsReportCountedAndTheOthersGoOn() throws {
        let targets = try [3, 3].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 2, script: Luaload.script(Self.regionScript)) { $0.users = 4; $0.usersGiven = true; $0.duration = 8 }
        let procs = try agents(c, targets)
        var log: [String] = []
        let result = try c.run(log: { log.append($0) }, observer: { e in
            if case .tick(let p) = e, p.tick == 2 { kill(procs[0].process.processIdentifier, SIGTERM) }
        })
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }
        XCTAssertEqual(result.agents.map(\.state), [.done, .done], log.joined(separator: "\n"))
        XCTAssertTrue(result.lost.isEmpty)
        let early = try XCTUnwrap(result.stoppedEarly.first, log.joined(separator: "\n"))
        XCTAssertEqual(result.stoppedEarly.count, 1)
        XCTAssertEqual(early.tags.first { $0.key == "region" }?.value, "r0")
        // SIGTERM at the second tick (2.25 s): pass value ~2.3 s; bug value 8 s (dated by the end of the test).
        XCTAssertTrue((1.5...6.5).contains(early.stoppedAt ?? 0), "stopped at \(early.stoppedAt ?? 0)")
        XCTAssertTrue(result.incomplete, "the command line exits 1")
        XCTAssertTrue(log.contains { $0.contains("region=r0") && $0.contains("is stopping on its own at") }, "said at once: \(log)")
        XCTAssertTrue(result.total.notes.contains { $0.contains("stopped on its own at") && $0.contains("region=r0") }, "\(result.total.notes)")
        XCTAssertEqual(document(procs[0].json)["stop_reason"] as? String, "interrupted")
        XCTAssertEqual(document(procs[1].json)["stop_reason"] as? String, "duration", "the other agent went on")
        let json = parse(result.json())
        let entry = (json["agents"] as? [[String: Any]])?.first { ($0["tags"] as? [String: Any])?["region"] as? String == "r0" }
        XCTAssertEqual(entry?["stop_reason"] as? String, "interrupted")
        XCTAssertNotNil(entry?["stopped_at_s"])
        // Nothing is lost: both agents' whole reports, exactly what the targets saw.
        let n = result.total.total.requests + result.total.abandoned
        XCTAssertEqual(settledCount(n) { targets.map(targetTotal).reduce(0, +) }, n)
        XCTAssertEqual(n, procs.map { counted(document($0.json)) }.reduce(0, +))
    }

    /// Garbage on the link port mid-run (an HTTP request, bytes that are not JSON, a 4 GiB length, JSON without a
    /// type, a hello without the token, a connection that closes or says nothing): each is dropped and logged, the
    /// run ends with its agent done and its counts exact.
    func testGarbageOnTheLinkMidRunIsDroppedAndLoggedAndTheRunCountsExactly() throws {
        let target = try startDelayedTarget(latencyMs: 2)
        defer { target.stop() }
        let c = try makeController(agents: 1, script: Luaload.script(Self.regionScript)) { $0.users = 2; $0.usersGiven = true; $0.duration = 4 }
        let agent = try agents(c, [target])[0]
        func frame(_ text: String) -> [UInt8] { let b = Array(text.utf8); return [0, 0, 0, UInt8(b.count)] + b }
        let garbage: [[UInt8]] = [
            Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8),
            [0, 0, 0, 8, 0x9c, 0x01, 0xfe, 0x33, 0x00, 0x7f, 0x80, 0xc3],
            [0xff, 0xff, 0xff, 0xff] + Array(repeating: 0x41, count: 64),
            frame("{\"a\":1}"),
            frame("{\"type\":\"hello\",\"version\":\"\(lualoadVersion)\",\"tags\":{}}"),
            [],   // connects and closes
        ]
        var open: [LinkConnection] = []
        var log: [String] = []
        let result = try c.run(log: { log.append($0) }, observer: { e in
            guard case .tick(let p) = e, p.tick == 1 else { return }
            for bytes in garbage {
                guard let link = try? Link.connect(LinkAddress("127.0.0.1:\(c.port)")!, timeout: 2) else { continue }
                _ = bytes.withUnsafeBytes { send(link.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if bytes.isEmpty { link.close() } else { open.append(link) }
            }
            if let silent = try? Link.connect(LinkAddress("127.0.0.1:\(c.port)")!, timeout: 2) { open.append(silent) }
        })
        open.forEach { $0.close() }
        XCTAssertEqual(agent.wait(), 0, agent.stderr)
        XCTAssertEqual(open.count, garbage.count, "every connection was made")
        XCTAssertEqual(result.agents.map(\.state), [.done], log.joined(separator: "\n"))
        let said = log.joined(separator: "\n")
        for expected in ["a message of \(0x47455420) bytes (the limit is 65536)", "a message that is not JSON",
                         "a message of \(0xffffffff) bytes (the limit is 65536)", "a message without a \"type\"",
                         "wrong token", "closed before its hello"] {
            XCTAssertTrue(said.contains(expected), "\(expected) in \(said)")
        }
        // (The silent one is dropped too, "no hello in 10 s", when a starved run outlasts that.)
        XCTAssertGreaterThanOrEqual(log.filter { $0.hasPrefix("dropped 127.0.0.1:") || $0.hasPrefix("refused 127.0.0.1:") }.count, garbage.count, said)
        let n = result.total.total.requests + result.total.abandoned
        XCTAssertGreaterThan(n, 100)
        XCTAssertEqual(settledCount(n) { targetTotal(target) }, n)
        XCTAssertEqual(n, counted(document(agent.json)), "the controller's count is the agent's own")
    }

    /// A stop followed at once by the end of the link (a controller's second Ctrl-C) is obeyed, also over TLS,
    /// where the agent reads the stop and the end in one go: the agent was asleep (SIGSTOP) while both came.
    func testAStopRightBeforeTheLinkEndsIsObeyedOverTLS() throws {
        let dir = Luaload.temporaryDirectory + "stoptls-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let o = try AgentProcess(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                  "-keyout", dir + "c.key", "-out", dir + "c.crt", "-days", "2", "-subj", "/CN=luaload",
                                  "-addext", "subjectAltName=IP:127.0.0.1"], executable: "/usr/bin/openssl")
        XCTAssertEqual(o.wait(), 0, o.stderr)
        let target = try startDelayedTarget(latencyMs: 2)
        defer { target.stop() }
        var run = RunOptions(scriptPath: Luaload.script(Self.regionScript), threads: 1)
        (run.users, run.usersGiven, run.duration) = (2, true, 60)
        var options = ControllerOptions(address: LinkAddress("127.0.0.1:0")!, agents: 1, token: token)
        options.tls = try LinkTLS(certificate: dir + "c.crt", key: dir + "c.key")
        options.handleSignals = true
        let c = try Controller(options: options, run: run)
        let agent = try AgentProcess(port: c.port, token: token, tags: ["region=tls"], env: ["TARGET": "http://127.0.0.1:\(target.port)"],
                                     extra: ["--cacert", dir + "c.crt"])
        let pid = agent.process.processIdentifier
        defer { if agent.process.isRunning { kill(pid, SIGCONT); agent.killNow(); agent.wait() } }
        let me = pthread_self()
        let result = try c.run(log: { _ in }, observer: { e in
            if case .tick(let p) = e, p.tick == 2 { kill(pid, SIGSTOP); pthread_kill(me, SIGINT) }   // blocked here: taken by the loop
            if case .stopSent = e { pthread_kill(me, SIGINT) }   // the second, once the stop went out
        })
        signal(SIGINT, SIG_DFL)   // the controller ignores them after its run (its reports); this process must not
        XCTAssertTrue(result.stoppedNow)
        XCTAssertEqual(result.lost.first?.lostReason, "the controller was stopped at once (a second Ctrl-C or SIGTERM)")
        kill(pid, SIGCONT)
        let woke = Date()
        // Pass value: it stops ~0.1 s after waking; bug value: the rest of its 60 s (the stop dropped with the link's end).
        XCTAssertEqual(agent.wait(timeout: 40), 0, agent.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(woke), 20)
        let own = document(agent.json)
        XCTAssertEqual(own["stop_reason"] as? String, "interrupted", agent.stderr)
        XCTAssertEqual(settledCount(counted(own)) { targetTotal(target) }, counted(own))
    }

    /// A controller frozen (SIGSTOP: its box gone or cut off, the link left open) while an agent waits for the
    /// start (the controller waits for a second agent): the agent gives up once it has heard nothing for 3 × the
    /// controller's --agent-silence (2 s here: 6 s), and says so; before, it waited for the 24 h cap. The
    /// controller's pings a second keep a waiting agent in past that silence while the controller runs.
    func testAnAgentWaitingForTheStartGivesUpOnAFrozenController() throws {
        let port = try freePort()
        let target = try startDelayedTarget(latencyMs: 1)
        defer { target.stop() }
        let controller = try AgentProcess(["--controller", "127.0.0.1:\(port)", "--agents", "2", "--token", token, "-q",
                                           "--agent-silence", "2s", "-u", "2", "-d", "2s", Luaload.script(Self.regionScript)])
        let pid = controller.process.processIdentifier
        defer { if controller.process.isRunning { kill(pid, SIGCONT); controller.killNow(); _ = controller.wait() } }
        let agent = try agentProcesses(port: port, [target])[0]
        defer { if agent.process.isRunning { agent.killNow(); _ = agent.wait() } }
        XCTAssertTrue(eventually(within: 20) { controller.stderr.contains(") ready") }, controller.stderr)
        sleep(8)   // pinged: still waiting 8 s on, past the 6 s silence
        XCTAssertTrue(agent.process.isRunning, agent.stderr)
        let frozen = Date()
        kill(pid, SIGSTOP)
        XCTAssertNotEqual(agent.wait(timeout: 40), 0, agent.stderr)
        // Pass: 5-7 s (the last ping up to 1 s before the freeze); the bug: the 24 h cap (killed at 40 s here).
        let took = Date().timeIntervalSince(frozen)
        XCTAssertGreaterThan(took, 4, agent.stderr)
        XCTAssertLessThan(took, 25, agent.stderr)
        XCTAssertTrue(agent.stderr.contains("nothing from the controller for 6.0 s while waiting for the start"), agent.stderr)
        XCTAssertEqual(targetTotal(target), 0)
    }

    /// A controller whose link port is taken: a clear error naming it, exit 2, before any agent is awaited.
    func testAControllerWhosePortIsTakenExits2NamingIt() throws {
        let taken = try Link.listen(LinkAddress("127.0.0.1:0")!)
        defer { close(taken.fd) }
        let c = try AgentProcess(["--controller", "127.0.0.1:\(taken.port)", "--agents", "1", "--token", token,
                                  "-d", "1s", Luaload.script(Self.regionScript)])
        XCTAssertEqual(c.wait(), 2, c.stderr)
        XCTAssertTrue(c.stderr.contains("luaload: --controller: cannot listen on 127.0.0.1:\(taken.port): Address already in use"), c.stderr)
    }
}
