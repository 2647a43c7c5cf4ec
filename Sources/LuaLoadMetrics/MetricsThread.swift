import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// A thread of the metrics' own (the pusher), never a worker's. It blocks the signals the Runner waits
/// for (SIGINT, SIGTERM, SIGUSR1) so they reach the main thread's sigtimedwait and not this one: it may
/// start before the Runner blocks them for its workers.
func spawnMetricsThread(_ body: @escaping () -> Void) -> pthread_t {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
    var tid = pthread_t()
    let rc = pthread_create(&tid, nil, { arg in
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM, SIGUSR1, SIGHUP, SIGPIPE] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
        return nil
    }, Unmanaged.passRetained(Box(body)).toOpaque())
    precondition(rc == 0, "pthread_create failed: \(rc)")
    return tid
}

/// A mutex and a condition on the monotonic clock: the pusher sleeps on it until its next push, and the
/// main thread wakes it for the final one.
final class Signal: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()

    init() {
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }

    func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    /// Waits (the lock held by the caller, inside `locked`) until woken or `deadline` (monotonic µs).
    func wait(until deadline: UInt64) {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000), tv_nsec: Int(deadline % 1_000_000) * 1000)
        pthread_cond_timedwait(&cond, &mutex, &ts)
    }

    func wake() { pthread_cond_broadcast(&cond) }
}
