import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// Before the start: agents connect, authenticate, get the run and their segment, load it, say ready.
extension Controller {
    func gather(log: (String) -> Void, signals: ControllerSignals?) throws {
        let began = monotonicMicros(), deadline = gatherDeadline()
        while agents.filter({ $0.report.state == .ready }).count < options.agents {
            if signals?.pending() == true {
                callOff("the controller was interrupted")
                throw UsageError("interrupted before the start")
            }
            guard monotonicMicros() < deadline else {
                let ready = agents.filter { $0.report.state == .ready }.count
                callOff("not every agent came in time")
                throw UsageError("--agents \(options.agents): \(ready) of \(options.agents) agents ready after \((deadline - began) / 1_000_000) s (--agents-timeout\(options.startAt == nil ? "" : ", --start-at")); \(agents.count) connected")
            }
            waitForInput(until: min(deadline, monotonicMicros() + 200_000))
            pingWaiting()
            acceptNewcomers(log: log, open: true)
            for agent in agents where agent.report.state == .joined {
                try readBeforeStart(agent, log: log)
            }
            agents.removeAll { $0.report.state == .lost }   // left before the start: its segment is free again
        }
    }

    /// Before the start, a ping a second to every agent that joined: one waiting for the start (for the others,
    /// for --start-at) hears that the controller is there, and gives up once it has heard nothing for
    /// `waitingSilence` (a controller's box gone or cut off without closing the link: no hang until the 24 h cap).
    func pingWaiting() {
        let now = monotonicMicros()
        guard now >= nextWaitingPing else { return }
        nextWaitingPing = now + 1_000_000
        for a in agents where a.report.state == .joined || a.report.state == .ready { _ = a.send(LinkMessage.encode("ping")) }
    }

    /// How long an agent waiting for the start waits for a word from the controller: 3 × --agent-silence (30 s by
    /// default), room for the controller's loop to be busy a while (sending a large package to another agent).
    var waitingSilence: Double { 3 * options.silenceTimeout }

    /// poll(2) on the listener and every connection, up to `deadline`.
    func waitForInput(until deadline: UInt64) {
        var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
        fds += newcomers.map { pollfd(fd: $0.connection.fd, events: Int16(POLLIN), revents: 0) }
        fds += agents.filter { !$0.connection.isClosed }.map { pollfd(fd: $0.connection.fd, events: Int16(POLLIN), revents: 0) }
        let now = monotonicMicros()
        _ = poll(&fds, nfds_t(fds.count), Int32(deadline > now ? (deadline - now) / 1000 : 0))
    }

    /// Takes new connections and reads the hellos. `open`: whether agents may still join (before the start).
    func acceptNewcomers(log: (String) -> Void, open: Bool) {
        while let c = Link.accept(listener) {
            // At most 64 unauthenticated connections at once: more are closed unread (a flood costs nothing).
            guard newcomers.count < 64 else { c.close(); continue }
            if let tls = options.tls {
                do { try c.startTLS(tls, host: nil) } catch { log("dropped \(c.peer): \(error)"); c.close(); continue }
            }
            newcomers.append((c, monotonicMicros() + 10_000_000))
        }
        var waiting: [(connection: LinkConnection, deadline: UInt64)] = []
        for n in newcomers {
            let c = n.connection
            do {
                guard try c.continueHandshake() else {
                    if monotonicMicros() > n.deadline { throw LinkError("no TLS handshake in 10 s") }
                    waiting.append(n)
                    continue
                }
                guard c.pump() else { throw LinkError("closed before its hello") }
                guard let frame = try c.nextFrame() else {
                    if monotonicMicros() > n.deadline { throw LinkError("no hello in 10 s") }
                    waiting.append(n)
                    continue
                }
                let hello = try LinkMessage.decode(frame)
                if let refusal = refusal(hello, open: open) {
                    log("refused \(c.peer): \(refusal)")
                    _ = try? c.send(LinkMessage.encode("refused") { w in w.key("message"); w.string(refusal) }, timeout: 2)
                    c.close()
                    continue
                }
                admit(c, hello.body, log: log)
            } catch {
                log("dropped \(c.peer): \(error)")
                c.close()
            }
        }
        newcomers = waiting
    }

    /// Why this hello is refused, if it is: a wrong token, another version, another script than the agent
    /// pinned, a run already full or started.
    private func refusal(_ hello: (type: String, body: JSONTree), open: Bool) -> String? {
        guard hello.type == "hello" else { return "expected a hello, got \(hello.type)" }
        guard Controller.sameToken(hello.body["token"]?.string ?? "", options.token) else { return "wrong token" }
        let version = hello.body["version"]?.string ?? "?"
        guard version == lualoadVersion else { return "agent version \(version), controller version \(lualoadVersion): run the same luaload on both" }
        if let pinned = hello.body["script_sha256"]?.string, pinned.lowercased() != scriptSHA256 {
            return "the agent runs only the script of sha256 \(pinned) (--script-sha256); the controller's \(package.scriptName) has sha256 \(scriptSHA256)"
        }
        guard open else { return "the test has started: a late agent cannot join it" }
        guard agents.count < options.agents else { return "the test has its \(options.agents) agents already" }
        return nil
    }

    /// Constant time in the token's length, so the time to refuse says nothing about how much matched.
    static func sameToken(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0 && !y.isEmpty
    }

    /// Gives the agent the first free segment, then the run.
    private func admit(_ c: LinkConnection, _ hello: JSONTree, log: (String) -> Void) {
        let taken = Set(agents.map(\.report.segment.index))
        let index = (0..<options.agents).first { !taken.contains($0) }!
        let segment = Segment(index: index, count: options.agents)!
        var tags = hello["tags"]?.object.map { ($0.key, $0.value.string ?? "") }.sorted { $0.0 < $1.0 } ?? []
        tags.removeAll { $0.0 == "segment" }
        let carried = package.withRunTags(tags)   // the controller's --tag, under the agent's own
        tags = carried.tags + [("segment", segment.description)]
        let report = AgentReport(id: nextID, peer: c.peer, segment: segment, tags: tags, state: .joined, users: 0)
        nextID += 1
        c.maxFrame = Link.messageLimit
        let agent = ControlledAgent(connection: c, report: report)
        agent.ledger.keepsNames = run.historyByName   // a lost agent's seconds per name (--html, --csv-full-history, --hdr-log)
        agents.append(agent)
        let sent = agent.send(LinkMessage.encode("welcome") { w in w.key("id"); w.int(report.id); w.key("segment"); w.string(segment.description)
            w.key("silence_ms"); w.int(Int(waitingSilence * 1000))
        })
            && agent.send(LinkMessage.encode("run") { w in package.write(w) })
        if sent { log("\(agent.name) joined: segment \(segment)") } else { agent.report.state = .lost }
        if sent && !carried.overridden.isEmpty {
            log("\(agent.name): its own tags stand over the controller's --tag " + carried.overridden.joined(separator: ", "))
        }
    }

    /// `ready`, or `failed` (the agent cannot run the test: nobody does).
    /// The frames read with the end of the link count first (an agent's "failed" and its exit, in one TLS read).
    private func readBeforeStart(_ agent: ControlledAgent, log: (String) -> Void) throws {
        let open = agent.connection.pump()
        do {
            while let frame = try agent.connection.nextFrame() {
                let m = try LinkMessage.decode(frame)
                if m.type == "ready" { agent.report.state = .ready; log("\(agent.name) ready") }
                if m.type == "failed" {
                    let message = m.body["message"]?.string ?? "no reason given"
                    callOff("\(agent.name) cannot run the test")
                    throw UsageError("\(agent.name) cannot run the test: \(message)")
                }
            }
        } catch let e as LinkError {
            log("\(agent.name) dropped: \(e)")
            agent.connection.close()
            agent.report.state = .lost
            return
        }
        if !open {
            log("\(agent.name) left before the start")
            agent.report.state = .lost
        }
    }

    /// Tells every agent the run is off, and closes.
    func callOff(_ message: String) {
        for a in agents where !a.connection.isClosed {
            _ = a.send(LinkMessage.encode("abort") { w in w.key("message"); w.string(message) })
            a.connection.close()
        }
    }

    /// Every agent starts `startDelay` from now (less half its round trip).
    func start() {
        let delay = Int(options.startDelay * 1000)
        let startMs = Int64(((wallClockSeconds() + options.startDelay) * 1000).rounded())
        for a in agents {
            // An agent lost before its first second spans the start, not 1970 (it made the merge 56 years long).
            (a.ledger.startUnixMs, a.ledger.lastUnixMs) = (startMs, startMs)
            if a.send(LinkMessage.encode("start") { w in w.key("delay_ms"); w.int(delay) }) {
                a.report.state = .running
                a.lastHeard = monotonicMicros()
            } else {
                a.report.state = .lost
                a.report.lostAt = 0
                a.report.lostReason = "the link failed at the start"
            }
        }
        live.start = monotonicMicros() + UInt64(options.startDelay * 1e6)
    }
}
