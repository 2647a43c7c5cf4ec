import CPosix
#if canImport(Glibc)
import Glibc
#endif

/// One epoll instance per thread, plus an eventfd so other threads can wake it (stop, shutdown).
/// Interest is registered once per socket and kept; callers change it only when what they wait for changes.
/// Knows nothing of HTTP or Lua: callers attach a 64-bit token to each fd and dispatch on it.
public final class EventLoop {
    public static let wakeToken: UInt64 = .max

    public let epfd: Int32
    private let wakeFD: Int32
    public let events: UnsafeMutablePointer<epoll_event>
    public let capacity: Int32

    public init(capacity: Int32 = 1024) {
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epfd >= 0, "epoll_create1 failed: \(Sys.describe(errno: errno))")
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        precondition(wakeFD >= 0, "eventfd failed: \(Sys.describe(errno: errno))")
        self.capacity = capacity
        events = .allocate(capacity: Int(capacity))
        _ = Sys.epollCtl(epfd, EPOLL_CTL_ADD, wakeFD, EPOLLIN.rawValue, EventLoop.wakeToken)
    }

    deinit {
        Sys.close(wakeFD)
        Sys.close(epfd)
        events.deallocate()
    }

    @inline(__always)
    public func add(_ fd: Int32, events: UInt32, token: UInt64) -> Int32 {
        Sys.epollCtl(epfd, EPOLL_CTL_ADD, fd, events, token)
    }

    @inline(__always)
    public func modify(_ fd: Int32, events: UInt32, token: UInt64) -> Int32 {
        Sys.epollCtl(epfd, EPOLL_CTL_MOD, fd, events, token)
    }

    /// Waits for readiness; returns how many entries of `events` are filled (0 on timeout or EINTR).
    @inline(__always)
    public func wait(timeoutMs: Int32) -> Int {
        let n = Sys.epollWait(epfd, events, capacity, timeoutMs)
        return n > 0 ? Int(n) : 0
    }

    /// Like `wait(timeoutMs:)` with a µs timeout (epoll_pwait2, Linux 5.11+), for deadlines that must not
    /// be rounded up to the next ms (the open model's arrivals); falls back to ms where it is missing.
    public func wait(timeoutMicros: UInt64?) -> Int {
        if !Self.noPwait2, let micros = timeoutMicros {
            var ts = timespec(tv_sec: Int(micros / 1_000_000), tv_nsec: Int(micros % 1_000_000) * 1000)
            let n = epoll_pwait2(epfd, events, capacity, &ts, nil)
            if n >= 0 { return Int(n) }
            if errno != ENOSYS { return 0 }
            Self.noPwait2 = true
        }
        let ms = timeoutMicros.map { Int32(min(($0 + 999) / 1000, 60_000)) } ?? -1
        return wait(timeoutMs: ms)
    }
    nonisolated(unsafe) static var noPwait2 = false

    /// Safe from any thread.
    public func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    /// Called by the loop's owner when it sees `wakeToken`.
    public func drainWake() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
    }

    /// Milliseconds for epoll_wait until `deadline` (µs), rounded up so a timer never fires early.
    @inline(__always)
    public static func timeoutMs(until deadline: UInt64?, now: UInt64) -> Int32 {
        guard let deadline else { return -1 }
        if deadline <= now { return 0 }
        let ms = (deadline - now + 999) / 1000
        return Int32(min(ms, 60_000))
    }
}
