import LuaLoadLoop
/// Where a connection is in its life. One request at a time travels on it (HTTP/1.1, no pipelining):
///
///     closed ─(new host name)→ resolving ─┐
///       └─────────────connect──────────────┴→ connecting ─(https)→ handshaking ─→ writing ─→ reading ─→ idle
///                                                 └──────────(http)──────────────↗    (next request) ↙  └─(server closed)→ closed
enum ConnectionState: UInt8 {
    case closed       // no socket
    case resolving    // no socket yet: waiting for the resolver thread to find the host's address
    case connecting   // non-blocking TCP connect under way; EPOLLOUT tells its outcome
    case handshaking  // TCP up, TLS handshake under way
    case writing      // sending the request
    case reading      // awaiting and parsing the response
    case idle         // kept alive between requests; readable means the server closed it
}

/// One virtual user's connection: its socket, its transport, and the TLS session kept to resume the next
/// one with. Lives inside the VU (one connection per VU, as Locust's and k6's users), at a stable address:
/// OpenSSL's new-session callback writes `session` through a pointer to it.
struct Connection {
    var state = ConnectionState.closed
    var fd: Int32 = -1
    /// Bumped at every connect and close, and carried in the epoll token, so a stale event is ignored.
    var generation: UInt32 = 0
    /// The endpoint `fd` is connected to (-1: none).
    var endpoint: Int32 = -1
    var transport = Transport.plain
    /// EPOLLOUT is in the interest set.
    var wantsWrite = false
    /// The connection has carried a response before (a failure on it may be a stale keep-alive).
    var reused = false
    /// A fatal error happened on the transport: close without close_notify.
    var broken = false
    /// When the TCP connect began, and the TLS handshake (µs): the request's connect and tls phases.
    var connectStarted: UInt64 = 0
    var handshakeStarted: UInt64 = 0
    /// SSL_SESSION*: the last session the server gave, to resume with at `sessionEndpoint`.
    var session: OpaquePointer? = nil
    var sessionEndpoint: Int32 = -1

    @inline(__always)
    mutating func read(_ buf: UnsafeMutableRawPointer, _ capacity: Int) -> IOResult {
        let r = transport.read(fd, buf, capacity)
        if r.isFatal { broken = true }
        return r
    }

    @inline(__always)
    mutating func write(_ buf: UnsafeRawPointer, _ count: Int) -> IOResult {
        let r = transport.write(fd, buf, count)
        if r.isFatal { broken = true }
        return r
    }

    /// Closes the socket (which also drops it from the epoll set), after a close_notify on a healthy TLS one.
    mutating func close() {
        guard fd >= 0 else {
            state = .closed   // (a wait for the resolver ends too: its answer finds the state changed)
            return
        }
        if case .tls(let ssl) = transport { TLS.close(ssl, cleanly: !broken) }
        transport = .plain
        Sys.close(fd)
        fd = -1
        endpoint = -1
        state = .closed
        reused = false
        generation &+= 1
    }

    /// At the VU's end: the connection and the session kept for resumption.
    mutating func release() {
        close()
        if let session { TLS.free(session: session) }
        session = nil
    }
}
