import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// The main thread's view of a running test: the clock, the stop, the history so far.
struct RunState {
    let start: UInt64
    /// When to send the stop: the end of --duration, or now after Ctrl-C.
    var stopAt: UInt64?
    /// Just after the workers post their second (they post at +1 s, +2 s, …).
    var nextTick: UInt64
    var stopSent = false
    var stoppedAt: UInt64 = 0
    var reason = StopReason.usersFinished
    var history = RunHistory()
    /// --stages, shape(): the target user count.
    var ramp = RampState()
    /// The open model's arrivals so far, from the workers' seconds (for the live line and abort_on_fail).
    var arrivalsSoFar = ArrivalCounts()
    /// When the live stats were reset (seconds into the run), for the reports' note.
    var statsResets: [Double] = []
    /// The open model's schedule since a live rate change (nil: the profile's).
    var schedule: ArrivalSchedule?
    /// The abort_on_fail threshold that stopped the run, as "name: expression".
    var abortedBy: String?
    /// Requests of one worker in one second, for each worker and second it had any (wrk's Req/Sec).
    var threadRates: [UInt64] = []
    /// SIGINT / SIGTERM received, and when the second one stopped the run at once (Runner+Signals).
    var signalCount = 0
    var stopNowAt: UInt64?
    /// Script errors and connection failures as of the last tick (LiveErrors).
    var errorsSoFar = LiveErrors()

    init(start: UInt64, duration: Double?) {
        self.start = start
        stopAt = duration.map { start + UInt64($0 * 1_000_000) }
        nextTick = start + 1_050_000
    }
}

extension Runner {
    /// The main thread's loop while the workers run: it wakes at each tick, at the deadline and on a signal,
    /// and returns once every worker has ended. Ctrl-C (or SIGTERM) stops the run and it is reported; a
    /// second one stops it at once, reported too (Runner+Signals). A worker that ends sends SIGUSR1, so the loop notices without waiting.
    func monitor(_ workers: [Worker], _ state: inout RunState, _ signals: RunSignals, observer: (RunEvent) -> Void) {
        while !workers.allSatisfy({ $0.mailbox.finalStats != nil }) {
            // After the stop only the workers' ends matter: poll for them.
            let wakeAt = state.stopSent ? monotonicMicros() + 50_000 : min(state.nextTick, state.stopAt ?? .max, state.ramp.next)
            let sig = signals.wait(until: wakeAt)
            if sig == SIGINT || sig == SIGTERM { onTerminationSignal(workers, &state, observer: observer) }
            if givesUpWaiting(state) { break }
            let t = monotonicMicros()
            applyControls(workers, at: t, &state)
            if !state.stopSent && everyControlledUserEnded(workers, state) {
                state.stopSent = true   // (reason: .usersFinished, as when a run's VUs all end without controls)
                state.stoppedAt = t
                for w in workers { w.requestStop() }
                observer(.stopSent)
            }
            if !state.stopSent && t >= state.ramp.next { stepProfile(workers, at: t, &state) }
            if let s = state.stopAt, t >= s, !state.stopSent {
                if state.reason == .usersFinished { state.reason = .duration }
                state.stopSent = true
                state.stoppedAt = t
                for w in workers { w.requestStop() }
                observer(.stopSent)
            }
            if t >= state.nextTick {
                state.nextTick += 1_000_000
                tick(workers, at: t, &state, observer: observer)
            }
        }
    }

    /// A controlled run (--web, an agent) whose users all ended by themselves (stop(), their iterations) ends as
    /// the same run without controls does: an agent's segment that waited for a stop kept its controller
    /// waiting too, without -d for ever. Not while the users move, nor for a box whose share is 0 users.
    func everyControlledUserEnded(_ workers: [Worker], _ state: RunState) -> Bool {
        guard isControlled, state.ramp.posted == state.ramp.shape.users else { return false }
        let share = segmentShare(ofUsers: state.ramp.posted)
        return share > 0 && workers.reduce(0) { $0 + $1.mailbox.endedVUs(scenario: 0) } >= share
    }

    /// Merges the second the workers posted into the history and reports it.
    private func tick(_ workers: [Worker], at t: UInt64, _ state: inout RunState, observer: (RunEvent) -> Void) {
        var second = IntervalSnapshot(), errors = LiveErrors()
        for w in workers {
            let s = w.mailbox.take()
            second.add(s)
            errors.add(s.errorsSoFar)
            if s.requests > 0 { state.threadRates.append(UInt64(s.requests)) }
        }
        let elapsed = Double(t - state.start) / 1e6
        state.history.append(second, elapsed: elapsed)
        state.arrivalsSoFar.started += second.arrivalsStarted
        state.arrivalsSoFar.droppedNoVU += second.arrivalsDropped
        state.arrivalsSoFar.late += second.arrivalsLate
        checkAbortThresholds(workers, elapsed: elapsed, &state)
        if options.historyByName { state.history.appendByName(workers.flatMap { $0.mailbox.takeRows() }) }
        let recent = state.history.recentCounts
        let threads = workers.count, users = second.activeUsers
        var progress = RunProgress(elapsed: elapsed, tick: state.history.points.count, activeUsers: users,
                                   targetUsers: state.ramp.posted >= 0 ? state.ramp.posted : poolSize, requests: second.requests, failures: second.failures,
                                   recentRequests: recent.requests, recentFailures: recent.failures,
                                   stopping: state.stopSent, recentLatencies: state.history.recent,
                                   statsNow: { Runner.statsNow(workers, elapsed: elapsed, users: users, threads: threads) })
        progress.workersNow = { workers.map { $0.mailbox.takeStats() } }
        progress.point = state.history.points.last
        profile.describe(&progress, elapsed: elapsed, arrivals: state.arrivalsSoFar, live: state.schedule)
        Runner.describeErrors(errors, since: &state.errorsSoFar, into: &progress)
        observer(.tick(progress))
    }

    /// The cumulative stats (rows, failures, script errors, arrivals) as of the workers' last posts.
    static func statsNow(_ workers: [Worker], elapsed: Double, users: Int, threads: Int) -> Summary {
        Summary(workers: workers.map { $0.mailbox.takeStats() }, durationSeconds: elapsed, users: users, threads: threads,
                stopReason: .duration, history: [])
    }
}
