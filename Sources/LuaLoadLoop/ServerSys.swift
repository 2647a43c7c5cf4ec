import CPosix
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// Syscall wrappers only servers need (the built-in target, the live server; same rules as `Sys`: small, out of
/// line, -errno read at once). Its own type, not an extension of `Sys`: a client's loop needs none of it.
public enum ServerSys {
    /// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC: the new fd, or -errno.
    @inline(never)
    public static func accept(_ listenFD: Int32) -> Int32 {
        let fd = cposix_accept4(listenFD, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
        return fd >= 0 ? fd : -errno
    }

    /// Nagle off: responses are written whole.
    @inline(never)
    public static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Half-closes the write side (FIN): the peer sees the end of our responses, we may still read.
    @inline(never)
    public static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// A non-blocking, close-on-exec listening TCP socket bound to host:port (port 0: the kernel picks one).
    /// Returns the fd and the bound port, or an error message ("cannot listen on 127.0.0.1:8080: Address already in use").
    public static func listenTCP(host: String, port: UInt16, backlog: Int32) -> (fd: Int32, port: UInt16, error: String?) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let shown = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let rc = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            return (-1, 0, "cannot listen on \(shown): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        // IPv4 first: "localhost" then means 127.0.0.1, which is what clients usually dial.
        var candidates: [UnsafeMutablePointer<addrinfo>] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p { candidates.append(ai); p = ai.pointee.ai_next }
        candidates.sort { ($0.pointee.ai_family == AF_INET ? 0 : 1) < ($1.pointee.ai_family == AF_INET ? 0 : 1) }
        var lastError: Int32 = EADDRNOTAVAIL
        for ai in candidates {
            let fd = Glibc.socket(ai.pointee.ai_family,
                                  Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { lastError = errno; continue }
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 || Glibc.listen(fd, backlog) != 0 {
                lastError = errno
                Glibc.close(fd)
                continue
            }
            var storage = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let bound: UInt16 = withUnsafeMutablePointer(to: &storage) { sp in
                sp.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    guard getsockname(fd, sa, &len) == 0 else { return port }
                    if sa.pointee.sa_family == sa_family_t(AF_INET) {
                        return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
                    }
                    return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
                }
            }
            return (fd, bound, nil)
        }
        return (-1, 0, "cannot listen on \(shown): \(Sys.describe(errno: lastError))")
    }
}
