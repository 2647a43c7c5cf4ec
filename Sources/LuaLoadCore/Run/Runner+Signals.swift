import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM (Ctrl-C; Kubernetes stops a pod with SIGTERM) during a run. The first stops the run
/// as the end of --duration would (running tasks get --stop-timeout's grace, on_stop hooks run); a second
/// stops it at once: in-flight requests are abandoned and counted, no more on_stop or teardown. Either way
/// the run ends with its Summary, so every report is still written.
extension Runner {
    /// How long the workers have to end after a stop-now before the Runner reports without them (a task
    /// stuck in a Lua loop never yields to its worker's loop).
    static let stopNowPatienceMicros: UInt64 = 2_000_000

    func onTerminationSignal(_ workers: [Worker], _ state: inout RunState, observer: (RunEvent) -> Void) {
        state.signalCount += 1
        if state.signalCount == 1 && !state.stopSent {
            state.reason = .interrupted
            state.stopAt = monotonicMicros()
            observer(.interrupted(now: false))
            return
        }
        guard state.stopNowAt == nil else { return }
        if !state.stopSent { state.reason = .interrupted; state.stopAt = monotonicMicros() }
        state.stopNowAt = monotonicMicros()
        stoppedNow = true
        for w in workers { w.requestStopNow() }
        observer(.interrupted(now: true))
    }

    /// After a stop-now, whether the Runner stops waiting for workers that did not end in time.
    func givesUpWaiting(_ state: RunState) -> Bool {
        guard let at = state.stopNowAt else { return false }
        return monotonicMicros() >= at + Runner.stopNowPatienceMicros
    }

    /// A worker's stats at the end: its final ones, or (a worker that did not end after a stop-now) its
    /// rows as of its last second, its in-flight requests unknown.
    static func endStats(_ worker: Worker) -> WorkerStats {
        if let final = worker.mailbox.finalStats { return final }
        var stats = WorkerStats()
        stats.rows = worker.mailbox.takeRows()
        return stats
    }

    func noteStopNow(_ summary: inout Summary, _ workers: [Worker]) {
        guard stoppedNow else { return }
        summary.notes.append("stopped at once by a second signal: requests in flight were abandoned (\(summary.abandoned)), no on_stop or teardown ran")
        let stuck = workers.filter { $0.mailbox.finalStats == nil }.count
        if stuck > 0 {
            summary.notes.append("\(stuck) thread(s) did not stop within 2 s (a task in a Lua loop?): their results are those of their last second")
        }
    }
}
