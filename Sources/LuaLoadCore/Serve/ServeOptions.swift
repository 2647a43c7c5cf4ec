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
    public var jitterMicros: UInt64 = 0
    /// Share of requests (0...1) answered 500 instead of their normal response.
    public var errorRate: Double = 0

    public init() {}
}

/// Why the server could not start (the message is meant for the user as is).
public struct ServeError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Parses "--latency 20ms"-style durations: "20ms", "1.5s", "500us" (or "µs"), "2m", "1h";
/// a bare number is seconds. Returns seconds, or nil for anything else (negative, empty, "inf", "10 parsecs").
public func parseDuration(_ s: String) -> Double? {
    var text = Substring(s.trimmingSpaces())
    guard !text.isEmpty else { return nil }
    var scale = 1.0
    let suffixes: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1), ("m", 60), ("h", 3600)]
    for (suffix, factor) in suffixes where text.hasSuffix(suffix) {
        text = text.dropLast(suffix.count)
        scale = factor
        break
    }
    // Digits with at most one dot: no signs, exponents, "inf" or "nan".
    var dots = 0
    var digits = 0
    for u in text.utf8 {
        if u == UInt8(ascii: ".") { dots += 1 } else if u >= 48 && u <= 57 { digits += 1 } else { return nil }
    }
    guard digits > 0, dots <= 1, let value = Double(String(text)), value.isFinite else { return nil }
    return value * scale
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        let u = Array(utf8)
        var a = 0, b = u.count
        while a < b, u[a] == 32 || u[a] == 9 { a += 1 }
        while b > a, u[b - 1] == 32 || u[b - 1] == 9 { b -= 1 }
        return String(decoding: u[a..<b], as: UTF8.self)
    }
}
