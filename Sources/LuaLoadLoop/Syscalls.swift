import CPosix
#if canImport(Glibc)
import Glibc
#endif

/// Thin syscall wrappers: each returns the result, or -errno read at once, so no caller reads a stale errno.
/// Kept small and out of line (swift-nio's style) so the hot path stays readable and profiles stay legible.
public enum Sys {
    @inline(never)
    public static func send(_ fd: Int32, _ buf: UnsafeRawPointer, _ count: Int) -> Int {
        let n = cposix_send(fd, buf, count, Int32(MSG_NOSIGNAL))
        return n >= 0 ? n : -Int(errno)
    }

    @inline(never)
    public static func read(_ fd: Int32, _ buf: UnsafeMutableRawPointer, _ count: Int) -> Int {
        let n = cposix_read(fd, buf, count)
        return n >= 0 ? n : -Int(errno)
    }

    @inline(never)
    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// A non-blocking, close-on-exec TCP socket with Nagle off (requests are written whole).
    @inline(never)
    public static func tcpSocket(family: Int32) -> Int32 {
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { return -errno }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    /// Starts a non-blocking connect: 0 when connected at once, -EINPROGRESS while under way, else -errno.
    @inline(never)
    public static func connect(_ fd: Int32, _ addr: UnsafePointer<sockaddr>, _ len: socklen_t) -> Int32 {
        return Glibc.connect(fd, addr, len) == 0 ? 0 : -errno
    }

    /// The pending error of a socket (the outcome of a non-blocking connect).
    @inline(never)
    public static func socketError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 { return errno }
        return err
    }

    @inline(never)
    public static func epollCtl(_ epfd: Int32, _ op: Int32, _ fd: Int32, _ events: UInt32, _ token: UInt64) -> Int32 {
        var ev = epoll_event()
        ev.events = events
        ev.data.u64 = token
        return epoll_ctl(epfd, op, fd, &ev) == 0 ? 0 : -errno
    }

    @inline(never)
    public static func epollWait(_ epfd: Int32, _ events: UnsafeMutablePointer<epoll_event>, _ max: Int32, _ timeoutMs: Int32) -> Int32 {
        let n = cposix_epoll_wait(epfd, events, max, timeoutMs)
        return n >= 0 ? n : -errno
    }

    public static func describe(errno code: Int32) -> String {
        guard let s = strerror(code) else { return "errno \(code)" }
        return String(cString: s)
    }

    /// SIGPIPE would kill the process when a peer closes; sends use MSG_NOSIGNAL, this covers the rest (TLS).
    public static func ignoreSIGPIPE() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Raises the open-files soft limit to the hard limit: one socket per virtual user.
    public static func raiseOpenFilesLimit() {
        var lim = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim) == 0, lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
        }
    }
}
