/// A protocol session (h2load's Session): what a VU's connection carries — HTTP requests for Locust's model
/// (`HTTPSession`), wrk's pipelined raw batches for `luaload wrk` (`RawSession`). It turns the VU's frame into
/// bytes (in `request.bytes`, which the connection driver writes) and the bytes read into responses, and settles
/// each exchange with the worker (stats, the reply to Lua). It knows nothing of sockets: the driver
/// (Engine/Worker+Connection, Worker+TLS) connects, handshakes, writes and reads over `Transport` and calls these
/// as its events happen.
///
/// Each VU holds one value of its worker's session type: only its mode's state. The worker is generic over
/// the type (`SessionWorker<Session>`), so these calls are specialised and inlined, never dispatched at run time.
protocol VUSession {
    init()
    /// Frees the session's buffers (the worker's end).
    mutating func free()
    /// LL_OP_HTTP or LL_OP_RAW: encodes the frame's request(s) and sends them. False when the frame was no
    /// request the session can send (a script error was recorded): the VU ends. `carried`: µs of redirect hops.
    static func start(_ w: SessionWorker<Self>, _ i: Int, _ frame: Frame, carried: UInt64) -> Bool
    /// Response bytes were read. False when the exchange is over (settled or failed): read no more for it.
    static func received(_ w: SessionWorker<Self>, _ i: Int, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Bool
    /// The server closed the connection while a response was due.
    static func peerClosed(_ w: SessionWorker<Self>, _ i: Int)
    /// The exchange failed: connect, TLS, write, read, timeout, or no address.
    static func fail(_ w: SessionWorker<Self>, _ i: Int, _ failure: Failure)
    /// The request goes out again on a new connection (the kept-alive one was stale): parse afresh.
    static func restart(_ w: SessionWorker<Self>, _ i: Int)
    /// Requests on the wire and unanswered, counted as abandoned when the run stops.
    static func unanswered(_ w: SessionWorker<Self>, _ i: Int) -> Int
    /// The connection is up (TCP, or TLS; `alpnH2`: ALPN picked h2), before the first write: the session may
    /// change what it carries (HTTP/2). False when the exchange failed there.
    static func connected(_ w: SessionWorker<Self>, _ i: Int, alpnH2: Bool) -> Bool
    /// The VU's connection was closed (by anyone): state tied to it goes.
    static func connectionClosed(_ w: SessionWorker<Self>, _ i: Int)
    /// The VU's kept-alive connection became readable between requests. True when the session took the bytes
    /// (HTTP/2's PING, SETTINGS, GOAWAY); false: the driver reads and closes it (the server closed it).
    static func idleReadable(_ w: SessionWorker<Self>, _ i: Int) -> Bool
    /// LL_OP_BATCH (`http.batch`): the frame's requests at once. False: the VU ends (no batch in this mode).
    static func startBatch(_ w: SessionWorker<Self>, _ i: Int, _ frame: Frame) -> Bool
    /// The run stops with the VU's exchange out: what to count as abandoned (the server may have it).
    static func abandon(_ w: SessionWorker<Self>, _ i: Int) -> Int
    /// The VU has no connection for its exchange: true when the session sends it on a shared one instead
    /// (HTTP/2's `--h2-pool`); false: the driver connects the VU's own.
    static func connectsElsewhere(_ w: SessionWorker<Self>, _ i: Int) -> Bool
    /// The VU whose kept TLS session a handshake on connection `i` offers first (a batch's extra connection
    /// offers its VU's, as a browser's connections to one host share its session cache): `i` by default.
    static func tlsSessionOwner(_ w: SessionWorker<Self>, _ i: Int) -> Int
}

extension VUSession {
    static func connected(_ w: SessionWorker<Self>, _ i: Int, alpnH2: Bool) -> Bool { true }
    static func connectionClosed(_ w: SessionWorker<Self>, _ i: Int) {}
    static func idleReadable(_ w: SessionWorker<Self>, _ i: Int) -> Bool { false }
    @inline(__always)
    static func connectsElsewhere(_ w: SessionWorker<Self>, _ i: Int) -> Bool { false }
    static func startBatch(_ w: SessionWorker<Self>, _ i: Int, _ frame: Frame) -> Bool {
        w.stats.countScriptError(message: "http.batch is not available here", traceback: "")
        frame.pop()
        return false
    }
    static func tlsSessionOwner(_ w: SessionWorker<Self>, _ i: Int) -> Int { i }
    /// Bytes on the wire: the exchange's unanswered requests.
    static func abandon(_ w: SessionWorker<Self>, _ i: Int) -> Int {
        w.vus[i].request.written > 0 ? unanswered(w, i) : 0
    }
}
