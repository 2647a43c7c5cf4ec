#if canImport(Glibc)
import Glibc
#endif

/// A way into a running test from another thread — the agent link (a controller's stop or user change),
/// later the web page's controls: commands posted by any thread, taken by the Runner's main thread at its
/// next wake-up, which the post brings forward (SIGUSR1 to that thread, as a worker's end does). A few
/// posts a run, never one per request.
public final class RunControl: @unchecked Sendable {
    public enum Command {
        /// Stop the run now, for `reason`; `note` (e.g. the threshold that was crossed) goes into the summary.
        case stop(StopReason, note: String?)
        /// The whole test's target users from now on: each worker runs its VUs whose global index is below
        /// it, so every segment takes its exact share. Replaces a ramp's target (stages, shape()).
        case users(Int)
    }

    /// Whether the Runner stops the run itself on a crossed abort_on_fail threshold. An agent runs one
    /// segment: the controller judges the whole test and sends the stop.
    public var abortsLocally = true

    private var mutex = pthread_mutex_t()
    private var commands: [Command] = []
    private var runnerThread: pthread_t?

    public init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    /// Any thread: queues `command` and wakes the Runner if a run is under way (else it waits for the run).
    public func post(_ command: Command) {
        locked {
            commands.append(command)
            if let t = runnerThread { pthread_kill(t, SIGUSR1) }
        }
    }

    /// Runner: its main thread, which has SIGUSR1 blocked and waits for it, may now be woken.
    func attach(_ thread: pthread_t) { locked { runnerThread = thread } }
    /// Runner, before it unblocks SIGUSR1: no more wake-ups.
    func detach() { locked { runnerThread = nil } }

    /// Runner: the commands posted since the last take, in order.
    func take() -> [Command] {
        locked {
            defer { commands.removeAll() }
            return commands
        }
    }
}
