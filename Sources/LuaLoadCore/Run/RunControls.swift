import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What a live surface (the web page, Locust's API, a controller) asks of a running test.
public enum RunControl: Sendable, Equatable {
    /// --wait: begin the test; with a user count and spawn rate (closed model) when given (Locust's start form).
    case start(users: Int?, spawnRate: Double?)
    /// Closed model: move to this many users at this rate (users per second; nil: at once).
    case setUsers(Int, spawnRate: Double?)
    /// Open model: arrivals per second from now on, or from `at` seconds into the run (a controller's change,
    /// the same second on every agent).
    case setRate(Double, at: Double? = nil)
    /// Stop the run as Ctrl-C does: in-flight work is ended and counted, the reports are written.
    case stop
    /// Stop the run now for `reason` (an agent: the controller's stop, e.g. a crossed abort_on_fail threshold
    /// of the whole test); `note` (the threshold) goes into the summary as what aborted it.
    case stopFor(StopReason, note: String?)
    /// The live views start over from now. The run's reports keep the whole run (see docs/web.md): their
    /// counts stay equal to what the server saw, and they note when the live stats were reset.
    case resetStats
}

/// The inbox of controls the Runner reads in its monitor loop. Any thread may post; posting wakes the
/// Runner's thread (SIGUSR1, which it already waits for), so a control takes effect within milliseconds.
/// Nothing here is on a request's path: controls are a few per minute.
public final class RunControls: Sendable {
    private let queue = Mutex<[RunControl]>([])
    private let runner = Mutex<pthread_t?>(nil)
    /// Whether the Runner stops the run itself on a crossed abort_on_fail threshold. An agent runs one
    /// segment: the controller judges the whole test and posts `.stopFor(.thresholdCrossed, note:)`.
    public let abortsLocally: Bool

    /// `.setUsers(n)` is always the whole test's users: the ramp posts n to every worker, which runs its VUs
    /// whose global index is below n, so a segment (an agent) takes its exact share by itself.
    public init(abortsLocally: Bool = true) { self.abortsLocally = abortsLocally }

    public func post(_ control: RunControl) {
        queue.withLock { $0.append(control) }
        // Under the lock: once `attach(nil)` returns, no signal is on its way.
        runner.withLock { if let t = $0 { pthread_kill(t, SIGUSR1) } }
    }

    /// Runner side: everything posted since the last take, oldest first.
    func take() -> [RunControl] {
        queue.withLock { q in
            defer { q.removeAll() }
            return q
        }
    }

    /// Runner side: the thread to wake (nil: none waits).
    func attach(_ thread: pthread_t?) { runner.withLock { $0 = thread } }
}
