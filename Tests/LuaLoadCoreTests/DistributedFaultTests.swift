import Foundation
@testable import LuaLoadCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Faults and timing details of a controlled test: a lost agent's phase timings, the silence after which an
/// agent is lost (--agent-silence), user changes the agents cannot follow, stages split by segment, and
/// agents refused for their version.
final class DistributedFaultTests: DistributedTestCase {
    func group(_ json: [String: Any], _ value: String) -> [String: Any] {
        (json["groups"] as? [String: Any])?[value] as? [String: Any] ?? [:]
    }

    func timings(_ doc: [String: Any], _ phase: String) -> Int {
        let row = (doc["stats"] as? [[String: Any]])?.first
        return ((row?["timings_ms"] as? [String: Any])?[phase] as? [String: Any])?["count"] as? Int ?? -1
    }

    /// An agent stopped (SIGSTOP: the link stays open, nothing comes) is lost after --agent-silence; its part
    /// up to its last second keeps its phase timings (connect; every wait), which only its own report used to carry.
    /// Woken once lost (SIGCONT), it finds its link closed: what it sends late never reaches the result, and it
    /// ends its segment on its own with its own exact report.
    func testASilentAgentIsLostAfterTheSilenceAndKeepsItsPhaseTimings() throws {
        let targets = try [3, 3].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        var run = RunOptions(scriptPath: Luaload.script(Self.regionScript), threads: 1)
        (run.users, run.usersGiven, run.duration) = (4, true, 6)
        var o = ControllerOptions(address: LinkAddress("127.0.0.1:0")!, agents: 2, token: token)
        o.agentsTimeout = 30
        o.silenceTimeout = 2
        let c = try Controller(options: o, run: run)
        let procs = try agents(c, targets)
        let sleeper = procs[0].process.processIdentifier
        defer { if procs[0].process.isRunning { kill(sleeper, SIGCONT); procs[0].killNow(); procs[0].wait() } }
        var log: [String] = []
        var firstSecond = Date()
        var stopped = false
        let result = try c.run(log: { log.append($0); if $0.contains(" lost at ") { kill(sleeper, SIGCONT) } }, observer: { e in
            if case .tick(let p) = e, p.tick == 1 { firstSecond = Date() }
            // Once the controller holds 2 of its seconds (tick 2 when it runs on time): a starved agent still
            // starting at tick 2 was stopped with none, and its region's part was empty (failed once, load ~6).
            if case .tick = e, !stopped, self.secondsHeld(c, region: "r0") >= 2 {
                kill(procs[0].process.processIdentifier, SIGSTOP)
                stopped = true
            }
        })
        // From the first second (1.25 s in), not from before the agents came (measured so, the test took 10.8 s > 9.5
        // once under 4 CPU hogs): pass value ~5 s, 8.2-9.1 s under 4 CPU hogs (the controller's ticks and merge in
        // this debug process starved); bug value ~65 s (the silent agent waited for until 60 s after the test's end).
        XCTAssertLessThan(Date().timeIntervalSince(firstSecond), 15, "the run ends on time")
        XCTAssertEqual(procs[1].wait(), 0, procs[1].stderr)
        XCTAssertEqual(result.lost.count, 1, log.joined(separator: "\n"))
        XCTAssertEqual(result.lost.first?.lostReason, "silent for 2.0 s (--agent-silence)")
        // Lost 2.0-2.2 s after its last word (pass value; the loop looks every 0.2 s; up to 6: a starved controller,
        // whose merge took 1.4 s once under 8 CPU hogs).
        // Bug values: below 2 (lost without its silence), ~60 s (never: the hang bound).
        let lostAt = result.lost.first?.lostAt ?? 0, heard = elapsed(c, at: controlled(c, region: "r0")?.lastHeard ?? 0)
        XCTAssertTrue((2.0...6).contains(lostAt - heard), "lost at \(lostAt) s, last heard at \(heard) s")
        let json = parse(result.json())
        let lost = group(json, "r0")
        let requests = (lost["total"] as? [String: Any])?["requests"] as? Int ?? 0
        XCTAssertGreaterThan(requests, 20)
        XCTAssertEqual(timings(lost, "connect"), 2, "its 2 users' connections")
        XCTAssertEqual(timings(lost, "wait"), requests, "a wait per response")
        let r1 = group(json, "r1")
        XCTAssertEqual(timings(r1, "wait"), (r1["total"] as? [String: Any])?["requests"] as? Int)
        // The woken agent: its own report is whole and exact, and more than the controller kept (its part until
        // its last second): its late seconds and report were not taken in.
        XCTAssertEqual(procs[0].wait(timeout: 20), 0, procs[0].stderr)
        XCTAssertTrue(procs[0].stderr.contains("lost the controller"), procs[0].stderr)
        let own = parse((try? String(contentsOfFile: procs[0].json, encoding: .utf8)) ?? "")
        XCTAssertEqual(own["stop_reason"] as? String, "duration")
        let ownRequests = (own["total"] as? [String: Any])?["requests"] as? Int ?? 0
        XCTAssertGreaterThan(ownRequests, requests, "the controller kept r0 as of its loss")
        XCTAssertEqual((json["total"] as? [String: Any])?["requests"] as? Int, requests + ((r1["total"] as? [String: Any])?["requests"] as? Int ?? -1))
        let ownCount = ownRequests + (own["abandoned"] as? Int ?? 0)
        XCTAssertEqual(settledCount(ownCount) { targetTotal(targets[0]) }, ownCount)
        // The flag: below 2 s an agent speaking every second could be lost for a late ping.
        let bad = try AgentProcess(["--controller", "127.0.0.1:0", "--agents", "1", "--agent-silence", "1s", "-d", "1s", Luaload.script(Self.regionScript)])
        XCTAssertEqual(bad.wait(), 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("bad --agent-silence \"1s\": a duration of 2s or more"), bad.stderr)
    }

    /// --stages on the controller: every agent ramps through the same global stages and runs its segment's
    /// share of the users (6 over 2 agents: 3 each, then 2: 1 each); a user change is then refused, said.
    func testStagesAreDividedAcrossAgentsBySegmentAndUserChangesTheyCannotFollowAreSaid() throws {
        let targets = try [2, 2].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 2, script: Luaload.script(Self.regionScript)) {
            $0.stages = [Stage(seconds: 0.5, target: 6), Stage(seconds: 2.5, target: 6), Stage(seconds: 0.5, target: 2), Stage(seconds: 2.5, target: 2)]
        }
        let procs = try agents(c, targets)
        // Each tick's users per agent (and the whole): an agent's second may reach a tick late on a loaded box
        // (once [0, 3] at tick 2, load 7), so the split is looked for in the hold of each stage (ticks 1-3 at
        // 6 users, 4-6 at 2), not at one tick; a wrong split never shows it.
        var seen: [(tick: Int, users: [Int], total: Int)] = []
        var log: [String] = []
        _ = try c.run(log: { log.append($0) }, observer: { e in
            guard case .tick(let p) = e else { return }
            seen.append((p.tick, c.agentReports.map(\.users), p.activeUsers))
            if p.tick == 2 { c.controls.post(.setUsers(10, spawnRate: nil)) }
        })
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }
        XCTAssertTrue(seen.contains { (1...3).contains($0.tick) && $0.users == [3, 3] && $0.total == 6 }, "\(seen)")
        XCTAssertTrue(seen.contains { (4...6).contains($0.tick) && $0.users == [1, 1] && $0.total == 2 }, "\(seen)")
        XCTAssertFalse(seen.contains { $0.users.contains { $0 > 3 } }, "users 10 never reached an agent: \(seen)")
        XCTAssertTrue(log.contains("users 10 ignored: the stages set the users"), "\(log)")
        // Above the pool of a fixed test: refused and said, never clamped unseen.
        let c2 = try makeController(agents: 1, script: Luaload.script(Self.regionScript)) { $0.users = 2; $0.usersGiven = true; $0.duration = 4 }
        let one = try AgentProcess(port: c2.port, token: token, tags: ["region=r0"], env: ["TARGET": "http://127.0.0.1:\(targets[0].port)"])
        var log2: [String] = []
        var users = 0
        _ = try c2.run(log: { log2.append($0) }, observer: { e in
            guard case .tick(let p) = e else { return }
            if p.tick == 1 { c2.controls.post(.setUsers(2000, spawnRate: nil)) }
            // Its users once 2 of its seconds came, the most of any second (was: at tick 2, when a starved agent had
            // sent none: 0, 1 of 3 sweeps under 4 CPU hogs). Bug value 1000 (clamped to the pool).
            if self.secondsHeld(c2, region: "r0") >= 2 { users = max(users, p.activeUsers) }
        })
        XCTAssertEqual(one.wait(), 0, one.stderr)
        XCTAssertTrue(log2.contains("users 2000 refused: above the pool of 1000 VUs (raise --max-vus)"), "\(log2)")
        XCTAssertEqual(users, 2)
    }

    /// An agent of another luaload version is refused with both versions named (a raw hello on the link).
    func testAnAgentOfAnotherVersionIsRefusedNamingBoth() throws {
        let c = try makeController(agents: 1, script: Luaload.script(Self.regionScript), timeout: 2) { $0.duration = 1 }
        let queue = DispatchQueue(label: "hello")
        nonisolated(unsafe) var answer = ""
        queue.async {
            guard let link = try? Link.connect(LinkAddress("127.0.0.1:\(c.port)")!, timeout: 2) else { return }
            try? link.send(LinkMessage.encode("hello") { w in
                w.key("version"); w.string("0.0.1-other"); w.key("token"); w.string(self.token); w.key("tags"); w.object {}
            })
            if let frame = try? link.receive(timeout: 5), let m = try? LinkMessage.decode(frame) { answer = m.type + ": " + (m.body["message"]?.string ?? "") }
        }
        var log: [String] = []
        XCTAssertThrowsError(try c.run(log: { log.append($0) }, observer: { _ in })) { XCTAssertTrue("\($0)".contains("0 of 1 agents ready"), "\($0)") }
        queue.sync {}
        XCTAssertEqual(answer, "refused: agent version 0.0.1-other, controller version \(lualoadVersion): run the same luaload on both")
        XCTAssertTrue(log.contains { $0.hasSuffix("agent version 0.0.1-other, controller version \(lualoadVersion): run the same luaload on both") }, "\(log)")
    }

    /// `luaload agent --script-sha256`: an agent pinned to another script is refused naming both digests; one
    /// pinned to this script (sha256sum's digest) runs it.
    func testAnAgentPinnedToAnotherScriptIsRefused() throws {
        let target = try startDelayedTarget(latencyMs: 1)
        defer { target.stop() }
        let script = Luaload.script(Self.regionScript)
        let sum = try AgentProcess([script], executable: "/usr/bin/sha256sum")
        XCTAssertEqual(sum.wait(), 0)
        let digest = String(sum.stdout.prefix(64))
        let c = try makeController(agents: 1, script: script) { $0.users = 1; $0.usersGiven = true; $0.duration = 1 }
        XCTAssertEqual(c.scriptSHA256, digest)
        let other = String(repeating: "ab", count: 32)
        let env = ["TARGET": "http://127.0.0.1:\(target.port)"]
        let wrong = try AgentProcess(port: c.port, token: token, tags: ["region=a"], env: env, extra: ["--script-sha256", other])
        let pinned = try AgentProcess(port: c.port, token: token, tags: ["region=b"], env: env, extra: ["--script-sha256", digest.uppercased()])
        var log: [String] = []
        let result = try c.run(log: { log.append($0) }, observer: { _ in })
        XCTAssertEqual(pinned.wait(), 0, pinned.stderr)
        XCTAssertEqual(wrong.wait(), 2, wrong.stderr)
        XCTAssertEqual(result.agents.map(\.state), [.done])
        let refusal = "the agent runs only the script of sha256 \(other) (--script-sha256); the controller's \((script as NSString).lastPathComponent) has sha256 \(digest)"
        XCTAssertTrue(wrong.stderr.contains("refused this agent: " + refusal), wrong.stderr)
        XCTAssertTrue(log.contains { $0.hasSuffix(refusal) }, "\(log)")
        let bad = try AgentProcess(["agent", "127.0.0.1:1", "--token", "x", "--script-sha256", "xyz"])
        XCTAssertEqual(bad.wait(), 2)
        XCTAssertTrue(bad.stderr.contains("bad --script-sha256 \"xyz\""), bad.stderr)
    }

    /// A script's shape() on the controller: each agent calls it in its own state and runs its segment's share of
    /// the global users (8 over 2 agents: 4 each, then 2: 1 each); nil ends the test on every agent (shape_ended).
    func testAShapeIsDividedAcrossAgentsBySegment() throws {
        let targets = try [2, 2].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let script = Self.regionScript + """

            function shape(t)
              if t < 3 then return 8, 100 elseif t < 6 then return 2, 100 end
              return nil
            end
            """
        let c = try makeController(agents: 2, script: Luaload.script(script)) { _ in }
        let procs = try agents(c, targets)
        // The split is looked for in each step's hold (ticks 1-3 at 8 users, 4-6 at 2), not at one tick: an
        // agent's second may reach a tick late on a loaded box (as in the stages test above).
        var seen: [(tick: Int, users: [Int])] = []
        let result = try c.run(log: { _ in }, observer: { e in
            guard case .tick(let p) = e else { return }
            seen.append((p.tick, c.agentReports.map(\.users)))
        })
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }
        XCTAssertTrue(seen.contains { (1...3).contains($0.tick) && $0.users == [4, 4] }, "\(seen)")
        XCTAssertTrue(seen.contains { (4...6).contains($0.tick) && $0.users == [1, 1] }, "\(seen)")
        XCTAssertFalse(seen.contains { $0.users.contains { $0 > 4 } }, "\(seen)")
        XCTAssertEqual(result.total.stopReason, .shapeEnded)
        XCTAssertLessThan(result.total.durationSeconds, 8)
    }
}
