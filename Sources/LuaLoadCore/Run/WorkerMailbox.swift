#if canImport(Glibc)
import Glibc
#endif

/// Where a worker thread and the main thread meet: once a second (the interval snapshot), at the stop
/// request, and at the end (the final stats). The lock is taken a few times a second, never per request.
public final class WorkerMailbox: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var pending = IntervalSnapshot()
    private var stop = false
    private var final: WorkerStats?
    private var latest = WorkerStats()

    public init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    /// Worker side: adds its interval to what the main thread has not taken yet, and resets it.
    func post(_ interval: inout IntervalSnapshot, stats current: WorkerStats) {
        locked {
            latest = current   // copy-on-write: the worker copies a row's counts (a table) once, at its next change
            pending.addCounts(interval)
            pending.activeUsers = interval.activeUsers
            pending.errorsSoFar = interval.errorsSoFar
        }
        interval.resetCounts()
    }

    /// Main side: what happened since the last take, latencies included.
    public func take() -> IntervalSnapshot {
        var out = IntervalSnapshot()   // allocated outside the lock; the worker's posts go on into it
        locked { swap(&out, &pending) }
        pending.activeUsers = out.activeUsers   // a level, not a count: it stays
        pending.errorsSoFar = out.errorsSoFar
        return out
    }

    /// Main side: the worker's cumulative per-row stats as of its last post.
    public func takeRows() -> [RequestStats] { locked { latest.rows } }

    /// Main side: the worker's cumulative stats (rows, failures, script errors) as of its last post.
    public func takeStats() -> WorkerStats { locked { latest } }

    /// Main side (a live rate change, open model): the schedule to follow from now on.
    func setSchedule(_ s: ArrivalSchedule) { locked { schedule = s } }

    /// Worker side: the schedule posted since the last take, if any.
    func takeSchedule() -> ArrivalSchedule? {
        locked {
            defer { schedule = nil }
            return schedule
        }
    }
    private var schedule: ArrivalSchedule?

    /// Main side (--stages, shape()): how many users the whole run should have now. Each worker runs those
    /// of its VUs whose global spawn index is below it.
    /// With `scenarios`, one target per scenario (in a single model: one).
    public func setTargets(_ targets: [Int]) { locked { targetUsers = targets } }

    /// Worker side: the targets posted since the last take, if any.
    func takeTargets() -> [Int]? {
        locked {
            defer { targetUsers = nil }
            return targetUsers
        }
    }
    private var targetUsers: [Int]?

    /// Worker side (`scenarios`): a VU of scenario `s` ended by itself (its iterations done, stop()), once per VU.
    func countEnded(scenario s: Int) {
        locked {
            if ended.count <= s { ended += [Int](repeating: 0, count: s + 1 - ended.count) }
            ended[s] += 1
        }
    }

    /// Main side: how many of scenario `s`'s VUs on this worker ended by themselves.
    public func endedVUs(scenario s: Int) -> Int { locked { s < ended.count ? ended[s] : 0 } }
    private var ended: [Int] = []

    /// Worker side: scenario `s` was told to wind down and none of its VUs here is in a task run any more.
    func markWoundDown(scenario s: Int) {
        locked {
            if wound.count <= s { wound += [Bool](repeating: false, count: s + 1 - wound.count) }
            wound[s] = true
        }
    }

    /// Main side: whether this worker's VUs of scenario `s` have all wound down.
    public func woundDown(scenario s: Int) -> Bool { locked { s < wound.count && wound[s] } }
    private var wound: [Bool] = []

    func stopRequested() { locked { stop = true } }
    var isStopRequested: Bool { locked { stop } }
    /// A second SIGINT / SIGTERM: stop at once (no grace, no on_stop).
    func stopNowRequested() { locked { stop = true; stopNow = true } }
    var isStopNowRequested: Bool { locked { stopNow } }
    private var stopNow = false

    /// The thread to wake (SIGUSR1) when the worker ends, so the Runner notices at once.
    public var notify: pthread_t?

    func finish(_ stats: WorkerStats) {
        locked { final = stats }
        if let notify { pthread_kill(notify, SIGUSR1) }
    }
    public var finalStats: WorkerStats? { locked { final } }
}
