import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// What one transport call did — wrk's `sock` results (OK / RETRY / ERROR), with the retry's readiness and
/// the error's cause named.
enum IOResult: Equatable {
    /// Bytes moved (a finished handshake: 1).
    case done(Int)
    /// Not now: call again when the socket is readable.
    case wantRead
    /// Not now: call again when the socket is writable.
    case wantWrite
    /// The peer ended the stream (read: 0 bytes, or TLS close_notify; write: the peer's close_notify).
    case closed
    /// A socket error: errno.
    case failed(Int32)
    /// A TLS protocol failure (verification, alert, bad record): `TLS.failureMessage` says which.
    case tlsFailed

    /// A failure after which a TLS connection may send no close_notify.
    var isFatal: Bool {
        switch self {
        case .failed, .tlsFailed: return true
        default: return false
        }
    }
}

/// The byte stream under a connection: plain TCP, or TLS over it. Every call has the same shape and
/// returns an `IOResult`, so the request path is one code path for both (wrk's `sock` interface).
enum Transport {
    case plain
    /// SSL*, owned by the connection.
    case tls(OpaquePointer)

    @inline(__always)
    func read(_ fd: Int32, _ buf: UnsafeMutableRawPointer, _ capacity: Int) -> IOResult {
        switch self {
        case .plain:
            let n = Sys.read(fd, buf, capacity)
            if n > 0 { return .done(n) }
            if n == 0 { return .closed }
            return n == -Int(EAGAIN) ? .wantRead : .failed(Int32(-n))
        case .tls(let ssl):
            return TLS.read(ssl, buf, capacity)
        }
    }

    @inline(__always)
    func write(_ fd: Int32, _ buf: UnsafeRawPointer, _ count: Int) -> IOResult {
        switch self {
        case .plain:
            let n = Sys.send(fd, buf, count)
            if n >= 0 { return .done(n) }
            return n == -Int(EAGAIN) ? .wantWrite : .failed(Int32(-n))
        case .tls(let ssl):
            return TLS.write(ssl, buf, count)
        }
    }

    /// Bytes already read from the socket and held by the transport (TLS read-ahead), which epoll cannot see.
    @inline(__always)
    var hasBufferedBytes: Bool {
        if case .tls(let ssl) = self { return TLS.hasPending(ssl) }
        return false
    }
}
