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
    /// Requests of one worker in one second, for each worker and second it had any (wrk's Req/Sec).
    var threadRates: [UInt64] = []

    init(start: UInt64, duration: Double?) {
        self.start = start
        stopAt = duration.map { start + UInt64($0 * 1_000_000) }
        nextTick = start + 1_050_000
    }
}

extension Runner {
    /// The main thread's loop while the workers run: it wakes at each tick, at the deadline and on a signal,
    /// and returns once every worker has ended. Ctrl-C (or SIGTERM) stops the run and it is reported; a
    /// second one exits at once. A worker that ends sends SIGUSR1, so the loop notices without waiting.
    func monitor(_ workers: [Worker], _ state: inout RunState, _ signals: RunSignals, observer: (RunEvent) -> Void) {
        while !workers.allSatisfy({ $0.mailbox.finalStats != nil }) {
            // After the stop only the workers' ends matter: poll for them.
            let wakeAt = state.stopSent ? monotonicMicros() + 50_000 : min(state.nextTick, state.stopAt ?? .max)
            let sig = signals.wait(until: wakeAt)
            if sig == SIGINT || sig == SIGTERM {
                if state.stopSent { _exit(130) }
                state.reason = .interrupted
                state.stopAt = monotonicMicros()
            }
            let t = monotonicMicros()
            if let s = state.stopAt, t >= s, !state.stopSent {
                if state.reason != .interrupted { state.reason = .duration }
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

    /// Merges the second the workers posted into the history and reports it.
    private func tick(_ workers: [Worker], at t: UInt64, _ state: inout RunState, observer: (RunEvent) -> Void) {
        var second = IntervalSnapshot()
        for w in workers {
            let s = w.mailbox.take()
            second.add(s)
            if s.requests > 0 { state.threadRates.append(UInt64(s.requests)) }
        }
        let elapsed = Double(t - state.start) / 1e6
        state.history.append(second, elapsed: elapsed)
        if options.historyByName { state.history.appendByName(workers.flatMap { $0.mailbox.takeRows() }) }
        let recent = state.history.recentCounts
        let threads = workers.count, users = second.activeUsers
        observer(.tick(RunProgress(elapsed: elapsed, tick: state.history.points.count, activeUsers: users,
                                   targetUsers: options.users, requests: second.requests, failures: second.failures,
                                   recentRequests: recent.requests, recentFailures: recent.failures,
                                   stopping: state.stopSent, recentLatencies: state.history.recent,
                                   statsNow: { Runner.statsNow(workers, elapsed: elapsed, users: users, threads: threads) })))
    }

    /// The cumulative per-row stats as of the workers' last posts.
    private static func statsNow(_ workers: [Worker], elapsed: Double, users: Int, threads: Int) -> Summary {
        var snapshot = WorkerStats()
        snapshot.rows = workers.flatMap { $0.mailbox.takeRows() }
        return Summary(workers: [snapshot], durationSeconds: elapsed, users: users, threads: threads,
                       stopReason: .duration, history: [])
    }
}
