import LuaLoadLoop

/// How a Worker stops: at once (in-flight requests abandoned and counted), or first letting running task
/// runs finish (--stop-timeout); then each stopped VU's on_stop hook, bounded in time.
extension SessionWorker {
    /// Stopping with a grace (--stop-timeout): VUs between task runs stop now; the others go on until
    /// their task run ends (`park`) or the grace is over.
    func beginDrain() {
        phase = .draining(until: monotonicMicros() + config.stopGraceMicros)
        for i in 0..<vuCount {
            switch vus[i].state {
            case .notStarted:
                timers.cancel(i)
                move(i, to: .done)
            case .sleeping where vus[i].inWait, .runningLua where vus[i].inWait, .idle:   // between task runs
                park(i)
            default:
                break   // ended, or inside a task run (counted in inTask)
            }
        }
    }

    /// The VU's task run ended during the grace: it stays here until the stop.
    func park(_ i: Int) {
        timers.cancel(i)
        move(i, to: .parked)
    }

    /// In-flight requests are abandoned (not recorded) and counted; settled outcomes are recorded;
    /// then on_stop hooks run, each in a fresh coroutine, until they end or the stop timeout passes.
    func beginStop() {
        phase = .stopping(until: monotonicMicros() + config.hookTimeoutMicros)
        ready.removeAll()
        var hooks: [Int] = []
        for i in 0..<vuCount {
            if vus[i].role == .stopHook { continue }   // already in its on_stop (a ramp-down): it goes on
            countIfAbandoned(i)
            recordUnsettled(i)
            let started = vus[i].state != .notStarted && vus[i].state != .done && vus[i].state != .retired
            closeConnection(i)
            timers.cancel(i)
            releaseCoroutine(i)
            move(i, to: .done)
            if started && vus[i].role == .user && config.classes[Int(vus[i].classIndex)].hasOnStop { hooks.append(i) }
        }
        assert(active == stopHooks, "after the stop only on_stop hooks of ramp-downs are active")
        for i in hooks { startVU(i, function: script.vuStopRef) }
    }

    /// A response the script has not settled yet counts with the default rule.
    func recordUnsettled(_ i: Int) {
        guard vus[i].pending.stat >= 0 else { return }
        if stats.uncorrected != nil { recordUncorrected(vus[i].pending) }
        recordByDefault(vus[i].pending)
        vus[i].pending.stat = -1
    }

    /// A request with bytes on the wire and no complete response yet: the server may have it, so it is
    /// counted as abandoned (recorded + abandoned = what the server received).
    func countIfAbandoned(_ i: Int) {
        guard vus[i].state == .inRequest else { return }
        let n = Session.abandon(self, i)   // a wrk batch, an http.batch: its unanswered requests
        stats.abandoned += n
        countAbandonedInRow(i, n)
    }

    /// The abandoned request's row counts it too, so each scenario's recorded + abandoned is what the server saw.
    func countAbandonedInRow(_ i: Int, _ n: Int) {
        let stat = Int(vus[i].request.stat)
        if stat >= 0 && stat < stats.rows.count { stats.rows[stat].abandoned += n }
    }

    func stopNow() {
        if phase == .running || phase == .stopAsked { closeArrivals(at: monotonicMicros()) }
        phase = .stopping(until: 0)
    }

    /// At the very end (after on_stop hooks or their timeout): abandon what is still in flight.
    func finishAll() {
        for i in 0..<vuCount {
            countIfAbandoned(i)
            recordUnsettled(i)
            closeConnection(i)
        }
    }
}
