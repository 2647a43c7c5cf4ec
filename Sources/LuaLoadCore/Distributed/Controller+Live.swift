import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// The controller's live view: the Runner's own structures (RunHistory, RunProgress), fed by the agents'
/// seconds instead of the workers' mailboxes.
struct LiveMerge {
    var start: UInt64 = 0
    var history = RunHistory()
    var tick = 0
    var nextTick: UInt64 = 0
    var stopSent = false
    var stopAnnounced = false
    var abortedBy: String?
    /// The open model's global schedule once a rate change was sent (what every agent follows).
    var schedule: ArrivalSchedule?
    var interrupts = 0
    /// A second Ctrl-C or SIGTERM: the reports were made without waiting for the agents' own.
    var stoppedNow = false
    /// The breakdown by `options.by` (region), added from the agents' seconds.
    var groups = GroupLedger()
}

extension Controller {
    /// From the start until every agent has sent its report or is lost. The controller's second comes a
    /// quarter second after the agents' (theirs are at +1 s, +2 s, … from the common start), so it merges
    /// the same second of every agent; a late one counts in the next.
    func follow(log: (String) -> Void, signals: ControllerSignals?, observer: (RunEvent) -> Void) {
        live.nextTick = live.start + 1_250_000
        let hangAt = run.duration.map { live.start + UInt64(($0 + run.stopTimeout + 60) * 1e6) } ?? .max
        while agents.contains(where: { $0.isActive }) {
            waitForInput(until: min(live.nextTick, monotonicMicros() + 200_000))
            acceptNewcomers(log: log, open: false)
            for agent in agents where agent.isActive { read(agent, log: log) }
            let now = monotonicMicros()
            for agent in agents where agent.isActive {
                if now - agent.lastHeard > UInt64(options.silenceTimeout * 1e6) { lose(agent, "silent for \(Format.fixed(options.silenceTimeout, 1)) s (--agent-silence)", log: log) }
                if now > hangAt { lose(agent, "still running 60 s after the end of the test", log: log) }
            }
            if signals?.pending() == true { interrupt(log: log) }
            applyControls(log: log)
            if live.stopSent && !live.stopAnnounced { live.stopAnnounced = true; observer(.stopSent) }
            if monotonicMicros() >= live.nextTick {
                live.nextTick += 1_000_000
                tick(log: log, observer: observer)
            }
        }
    }

    /// Seconds since the agents' common start (0 before it).
    var secondsIn: Double { Double(monotonicMicros() - min(live.start, monotonicMicros())) / 1e6 }

    /// Reads an agent's seconds, pings and final report; the link closing before the report loses it.
    private func read(_ agent: ControlledAgent, log: (String) -> Void) {
        let open = agent.connection.pump()
        do {
            while let frame = try agent.connection.nextFrame() {
                agent.lastHeard = monotonicMicros()
                if let document = LinkMessage.finalDocument(frame) {
                    agent.document = document   // checked when it is read for the merge (Controller+Final)
                    agent.report.state = .done
                    if !live.stopSent { agent.reportedBeforeStop = secondsIn }
                    agent.connection.close()
                    log("\(agent.name) done")
                    return
                }
                let m = try LinkMessage.decode(frame)
                switch m.type {
                case "second":
                    try agent.ledger.apply(m.body)
                    agent.report.users = agent.ledger.users
                case "stopping" where agent.stoppingAt == nil && !live.stopSent:
                    agent.stoppingAt = secondsIn
                    log("\(agent.name) is stopping on its own at \(Format.fixed(agent.stoppingAt ?? 0, 1)) s (SIGTERM or Ctrl-C on its box): its report follows, the others go on")
                default:
                    break   // ping
                }
            }
        } catch {
            return lose(agent, "\(error)", log: log)
        }
        if !open { lose(agent, "the link closed", log: log) }
    }

    func lose(_ agent: ControlledAgent, _ reason: String, log: (String) -> Void) {
        guard agent.isActive else { return }
        agent.connection.close()
        agent.report.state = .lost
        agent.report.lostAt = secondsIn
        agent.report.lostReason = reason
        agent.report.users = 0
        agent.ledger.pending.activeUsers = 0
        log("\(agent.name) lost at \(Format.fixed(agent.report.lostAt ?? 0, 1)) s: \(reason); its data up to its last second is kept")
    }

    /// What `controls` brought since the last look: users to every agent (each runs its segment's share of
    /// them), a stop; anything the agents cannot follow is logged, never silently dropped.
    private func applyControls(log: (String) -> Void) {
        for control in controls.take() {
            switch control {
            case .setUsers(let n, let rate), .start(let n?, let rate):
                guard case .users(let most) = controlModel else {
                    if case .fixed(let why) = controlModel { log("users \(n) ignored: \(why)") }
                    continue
                }
                guard n <= most else {
                    log("users \(n) refused: above the pool of \(most) VUs (raise --max-vus)")
                    continue
                }
                let users = max(n, 0)
                for a in agents where a.isActive {
                    _ = a.send(LinkMessage.encode("users") { w in
                        w.key("users"); w.int(users)
                        if let rate { w.key("spawn_rate"); w.number(rate) }
                    })
                }
            case .stop: stopAll(.stopped, note: nil, log: log)
            case .stopFor(let reason, let note): stopAll(reason, note: note, log: log)
            case .setRate(let rate, _): sendRate(rate, log: log)
            case .start, .resetStats: log("\(control) ignored: not sent to agents")
            }
        }
    }

    /// The open model's rate, for the whole test from this second of it: every agent switches its global
    /// schedule at the same `at` and keeps its segment's arrivals of it, so the split stays exact.
    private func sendRate(_ rate: Double, log: (String) -> Void) {
        guard case .open(let original) = profile else { return log("rate \(Format.fixed(rate, 1))/s ignored: the test runs users, not a rate (the open model: --rate)") }
        guard !live.stopSent, rate >= 0, rate.isFinite else { return log("rate \(Format.fixed(rate, 1))/s ignored: the test is stopping") }
        let at = secondsIn
        live.schedule = (live.schedule ?? original).changingRate(to: rate, at: at, runEnd: run.duration)
        for a in agents where a.isActive {
            _ = a.send(LinkMessage.encode("rate") { w in
                w.key("rate"); w.number(rate)
                w.key("at"); w.number(at)
            })
        }
        log("rate \(Format.fixed(rate, 1))/s from \(Format.fixed(at, 3)) s sent to every agent")
    }

    /// Ctrl-C or SIGTERM: the first stops every agent (their reports follow within a second or two); a second
    /// stops waiting for them: each still running is lost with its data up to its last second, and the reports
    /// are written from that at once (exit 130, as a plain run's second Ctrl-C).
    func interrupt(log: (String) -> Void) {
        live.interrupts += 1
        guard live.interrupts > 1 else { return stopAll(.interrupted, note: nil, log: log) }
        live.stoppedNow = true
        for agent in agents where agent.isActive { lose(agent, "the controller was stopped at once (a second Ctrl-C or SIGTERM)", log: log) }
    }

    /// Sends every running agent the stop.
    func stopAll(_ reason: StopReason, note: String?, log: (String) -> Void) {
        guard !live.stopSent else { return }
        live.stopSent = true
        if reason == .thresholdCrossed { live.abortedBy = note }
        for a in agents where a.isActive {
            _ = a.send(LinkMessage.encode("stop") { w in
                w.key("reason"); w.string(reason.rawValue)
                w.optional("note", note)
            })
        }
        log("stop sent to every agent" + (note.map { ": threshold \($0) crossed" } ?? ""))
    }

    /// One merged second: the history, abort_on_fail on the whole test, the observer.
    private func tick(log: (String) -> Void, observer: (RunEvent) -> Void) {
        var second = IntervalSnapshot()
        for a in agents {
            second.add(a.ledger.pending)
            live.groups.add(a.ledger.pending, value: GroupLedger.value(of: a, tag: options.by))
            a.ledger.pending.resetCounts()
        }
        live.tick += 1
        let elapsed = Double(monotonicMicros() - live.start) / 1e6
        live.history.append(second, elapsed: elapsed)
        let agents = self.agents
        // The agents' stats as values, taken here once a second: the tick's RunProgress may be read on any thread
        // (the web page's downloads, on its server's), while this thread goes on adding seconds into the ledgers.
        let stats = agents.map(\.ledger.stats)
        let summary = { Controller.summary(stats, elapsed: elapsed, users: second.activeUsers) }
        checkAbort(summary, elapsed: elapsed, log: log)
        if let d = run.duration, elapsed >= d, !live.stopAnnounced {
            live.stopAnnounced = true
            observer(.stopSent)
        }
        let recent = live.history.recentCounts
        var p = RunProgress(elapsed: elapsed, tick: live.tick, activeUsers: second.activeUsers,
                            targetUsers: agents.map(\.ledger.target).max() ?? 0, requests: second.requests, failures: second.failures,
                            recentRequests: recent.requests, recentFailures: recent.failures,
                            stopping: live.stopSent || run.duration.map { elapsed >= $0 } == true,
                            recentLatencies: live.history.recent, statsNow: summary)
        var arrivals = ArrivalCounts()
        for agent in agents { if let c = agent.ledger.stats.arrivals { arrivals.add(c) } }
        p.point = live.history.points.last   // the page's chart and header read this second's percentiles here
        profile.describe(&p, elapsed: elapsed, arrivals: arrivals, live: live.schedule)
        p.agents = agents.map(\.report)
        p.groups = live.groups.snapshot(tag: options.by, agents: agents, tick: live.tick)
        let byTag = agentsSnapshot(elapsed: elapsed)
        p.agentsNow = { byTag }   // Prometheus' series by region (Controller+Export)
        p.workersNow = { stats }  // the page's live table and checks (without it: empty)
        observer(.tick(p))
    }

    /// The whole test's merge (`summary`) is made only when an abort_on_fail threshold is watched: without one
    /// the controller's second costs no merge of every agent's stats (an 8 s test of 2 agents, 1 row: the
    /// controller's 300-301 M instructions became 289-293 M, callgrind, release; it grows with agents and rows).
    private func checkAbort(_ summary: () -> Summary, elapsed: Double, log: (String) -> Void) {
        let watched = thresholds.filter { $0.abortOnFail && elapsed >= $0.delaySeconds }
        guard !watched.isEmpty, !live.stopSent else { return }
        let now = summary()
        let part = tagPart(elapsed: elapsed)
        for t in watched where !(t.evaluateTagged(now, part: part) ?? t.evaluate(now)).ok && t.watchable(now, part: part) {
            return stopAll(.thresholdCrossed, note: t.name + ": " + t.text, log: log)
        }
    }

    /// The whole test so far, from every agent's seconds (lost agents' up to their last).
    static func summary(_ stats: [WorkerStats], elapsed: Double, users: Int) -> Summary {
        Summary(workers: stats, durationSeconds: elapsed, users: users, threads: stats.count, stopReason: .duration, history: [])
    }

    /// The agents with a tag, merged (thresholds per tag, live): nil when none has it.
    func tagPart(elapsed: Double) -> TagPart {
        let agents = self.agents
        return { tag in
            let part = agents.filter { a in a.report.tags.contains { $0.key == tag.key && $0.value == tag.value } }
            return part.isEmpty ? nil : Controller.summary(part.map(\.ledger.stats), elapsed: elapsed, users: part.reduce(0) { $0 + $1.report.users })
        }
    }

    /// A threshold on a tag no agent carries would never be judged: the run is called off before the start.
    func checkTaggedThresholds() throws {
        for t in thresholds {
            guard let (_, tag) = try? Threshold.splitTag(t.name), tag.key != "lost" else { continue }
            if agents.contains(where: { a in a.report.tags.contains { $0.key == tag.key && $0.value == tag.value } }) { continue }
            callOff("threshold on \"\(t.name)\": no agent is tagged \(tag)")
            let have = Set(agents.flatMap { $0.report.tags.filter { $0.key == tag.key }.map { "\($0.key)=\($0.value)" } }).sorted()
            throw UsageError("threshold on \"\(t.name)\": no agent is tagged \(tag)" + (have.isEmpty ? " (no agent has the tag \(tag.key))" : " (the agents have " + have.joined(separator: ", ") + ")"))
        }
    }

    /// The test so far broken down by `options.by` (region), each value's agents merged: for a live view.
    public func liveGroups(elapsed: Double) -> [(value: String, summary: Summary)] {
        var out: [(value: String, agents: [ControlledAgent])] = []
        for a in agents {
            let v = a.report.tags.first { $0.key == options.by }?.value ?? "(none)"
            if let k = out.firstIndex(where: { $0.value == v }) { out[k].agents.append(a) } else { out.append((v, [a])) }
        }
        return out.map { ($0.value, Controller.summary($0.agents.map(\.ledger.stats), elapsed: elapsed, users: $0.agents.reduce(0) { $0 + $1.report.users })) }
    }
}
