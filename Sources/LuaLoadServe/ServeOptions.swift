/// Settings of the built-in target server (`luaload serve`, `luaload --serve`).
public struct ServeOptions: Sendable {
    /// Address to bind: "127.0.0.1", "0.0.0.0", "::", "localhost".
    public var host = "127.0.0.1"
    /// TCP port; 0 lets the kernel pick a free one (read it back from `TargetServer.port`).
    public var port: UInt16 = 8080
    /// Event-loop threads, each with its own epoll instance, all accepting on one listening socket.
    public var threads = 1
    /// Added to every response (except /__stats), drawn uniformly from latency ± jitter, never below 0.
    public var latencyMicros: UInt64 = 0
    /// The spread of that delay: each response waits latency ± up to this much.
    public var jitterMicros: UInt64 = 0
    /// Share of requests (0...1) answered 500 instead of their normal response.
    public var errorRate: Double = 0
    /// A connection with no request under way (fresh and silent, or kept alive after its last answer), or one
    /// whose client has moved no byte for this long (a stalled body, answers left unread), is closed — so idle or
    /// vanished clients do not hold a descriptor forever. 0: never.
    public var idleTimeoutMicros: UInt64 = 60_000_000
    /// A request head that has started but is not complete this long after its first byte is answered 408 and the
    /// connection closed — so a client trickling a head (slowloris) cannot hold a connection. 0: never.
    public var headerTimeoutMicros: UInt64 = 10_000_000

    public init() {}
}

/// Why the server could not start (the message is meant for the user as is).
public struct ServeError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

