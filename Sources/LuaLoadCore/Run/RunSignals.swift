import LuaLoadLoop
import CPosix
#if canImport(Glibc)
import Glibc
#endif

/// The signals the main thread waits for while workers run. They are blocked before the workers start
/// (threads inherit the mask), so they reach this thread alone, through sigtimedwait.
struct RunSignals {
    private var watched = sigset_t()
    private var previousMask = sigset_t()

    /// Blocks SIGINT, SIGTERM and SIGUSR1 (a worker ended) on the calling thread.
    static func block() -> RunSignals {
        var s = RunSignals()
        sigemptyset(&s.watched)
        sigaddset(&s.watched, SIGINT)
        sigaddset(&s.watched, SIGTERM)
        sigaddset(&s.watched, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &s.watched, &s.previousMask)
        return s
    }

    /// Waits until `deadline` (monotonic µs) or a watched signal; returns the signal, or -1 at the deadline.
    func wait(until deadline: UInt64) -> Int32 {
        let now = monotonicMicros()
        let micros = deadline > now ? deadline - now : 0
        var ts = timespec(tv_sec: Int(micros / 1_000_000), tv_nsec: Int(micros % 1_000_000) * 1000)
        var set = watched
        return sigtimedwait(&set, nil, &ts)
    }

    /// Consumes the workers' pending SIGUSR1s: once the mask is restored, its default action would kill us.
    func drainWorkerWakeups() {
        var usr1 = sigset_t()
        sigemptyset(&usr1)
        sigaddset(&usr1, SIGUSR1)
        var zero = timespec()
        while sigtimedwait(&usr1, nil, &zero) == SIGUSR1 {}
    }

    /// The run is over: a SIGINT / SIGTERM still pending, or coming while the reports are written, is
    /// ignored rather than killing the process before they are (the run already stopped).
    func restore() {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        var mask = previousMask
        pthread_sigmask(SIG_SETMASK, &mask, nil)
    }
}
