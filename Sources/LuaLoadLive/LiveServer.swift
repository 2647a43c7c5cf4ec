import Synchronization
import CPosix
import LuaLoadHTTP
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server for live features (the --web page and API, /metrics): routes as closures, run on
/// its own thread with its own epoll loop, never on a worker's. Bound to loopback by default; elsewhere
/// every route needs the token (LiveAuth). Heads and bodies are bounded; a malformed request gets 400 and
/// its connection closes; nothing a client does reaches the load but through what a route hands on.
///
///     let server = try LiveServer(host: "127.0.0.1", port: 8089, token: nil)
///     server.route(.get, "/stats") { _ in .json(latest.value) }
///     server.route(.get, "/events") { _ in .eventStream(channel: "tick") }
///     server.start()                               // its thread; returns at once
///     server.broadcast("tick", LiveHTTP.event(nil, data: json))   // from any thread, e.g. once a second
///     server.stop()
public final class LiveServer: @unchecked Sendable {
    public typealias Handler = (LiveRequest) -> LiveResponse

    public struct Limits: Sendable {
        public var request = RequestLimits(maxHead: 16 * 1024, maxHeaders: 64, maxBody: 64 * 1024)
        public var maxConnections = 64
        /// An event-stream client that lets this much pile up unread is dropped (a stalled or hostile browser).
        public var maxStreamBacklog = 4 << 20
        /// A connection with no complete request for this long is closed (seconds).
        public var idleSeconds: UInt64 = 30
        public init() {}
    }

    public let host: String
    /// The bound port (the kernel's choice for port 0).
    public let port: UInt16
    public let auth: LiveAuth
    let limits: Limits
    let listenFD: Int32
    let loop = EventLoop(capacity: 64)
    /// Filled before `start`, read only by the server thread after. A flat array searched in order: a few dozen
    /// routes, and a nested dictionary's generic metadata cost ~0.5 M instructions to instantiate at start-up.
    var routes: [Route] = []

    struct Route {
        let method: HTTPMethod
        let path: String
        let handler: Handler
    }
    var conns: [Int32: LiveConnection] = [:]
    var nextGen: UInt32 = 0
    private let pending = Mutex<[(channel: String, bytes: [UInt8])]>([])
    private let stopping = Atomic<Bool>(false)
    private var thread: pthread_t?

    /// Binds now, so a taken port or a bad address is a usage error before any traffic. `token`: see LiveAuth.
    public init(host: String = "127.0.0.1", port: UInt16, token: String? = nil, limits: Limits = Limits()) throws {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let (fd, bound, error) = ServerSys.listenTCP(host: bare, port: port, backlog: 64)
        if let error { throw LiveServerError(description: error) }
        self.host = bare
        self.port = bound
        self.listenFD = fd
        self.limits = limits
        auth = LiveAuth(host: bare, token: token)
    }

    deinit { Sys.close(listenFD) }

    /// "http://127.0.0.1:8089" (what to open; with a token, add `/?token=…`).
    public var url: String { "http://" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }

    /// Registers a handler; call before `start`. It runs on the server's thread: keep it short.
    public func route(_ method: HTTPMethod, _ path: String, _ handler: @escaping Handler) {
        routes.removeAll { $0.method == method && $0.path == path }
        routes.append(Route(method: method, path: path, handler: handler))
    }

    public func start() {
        precondition(thread == nil, "LiveServer.start called twice")
        _ = loop.add(listenFD, events: EPOLLIN.rawValue, token: LiveServer.listenToken)
        var tid = pthread_t()
        let box = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&tid, nil, { arg in
            let server = Unmanaged<LiveServer>.fromOpaque(arg!).takeRetainedValue()
            // Signals stay with the main thread (the Runner waits for them with sigtimedwait).
            var all = sigset_t()
            sigfillset(&all)
            pthread_sigmask(SIG_BLOCK, &all, nil)
            server.run()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        thread = tid
    }

    /// Closes every connection and joins the thread.
    public func stop() {
        guard let tid = thread else { return }
        stopping.store(true, ordering: .releasing)
        loop.wake()
        pthread_join(tid, nil)
        thread = nil
    }

    /// Sends `bytes` (one or more SSE events, see `LiveHTTP.event`) to every stream open on `channel`.
    /// Safe from any thread: one lock and one eventfd write.
    public func broadcast(_ channel: String, _ bytes: [UInt8]) {
        pending.withLock { $0.append((channel, bytes)) }
        loop.wake()
    }

    static let listenToken: UInt64 = .max - 1

    private func run() {
        while !stopping.load(ordering: .acquiring) {
            let n = loop.wait(timeoutMs: 1000)
            for i in 0..<n {
                let token = loop.events[i].data.u64
                if token == EventLoop.wakeToken { loop.drainWake(); deliverBroadcasts(); continue }
                if token == LiveServer.listenToken { acceptAll(); continue }
                let fd = Int32(truncatingIfNeeded: token & 0xFFFF_FFFF)
                guard let c = conns[fd], c.gen == UInt32(truncatingIfNeeded: token >> 32) else { continue }
                service(c, events: loop.events[i].events)
            }
            closeIdle()
        }
        for c in Array(conns.values) { close(c) }
    }

    private func deliverBroadcasts() {
        let items = pending.withLock { p -> [(channel: String, bytes: [UInt8])] in
            defer { p.removeAll() }
            return p
        }
        guard !items.isEmpty else { return }
        for c in Array(conns.values) where c.channel != nil {
            for item in items where item.channel == c.channel { c.out.append(contentsOf: item.bytes) }
            if c.out.count - c.outSent > limits.maxStreamBacklog { close(c); continue }
            flush(c)
        }
    }
}

public struct LiveServerError: Error, CustomStringConvertible {
    public var description: String
}
