import LuaLoadCore
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// Where remote write pushes: http://host[:port]/path (parsed once, before any traffic).
public struct PushURL: Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    public var path: String
    public var description: String

    /// nil with the reason when `text` is not an http URL luaload can push to.
    public static func parse(_ text: String, option: String = "--out prometheus-rw=") -> Result<PushURL, UsageError> {
        if text.hasPrefix("https://") {
            return .failure(UsageError("\(option)\(text): https is not supported yet; push over http (e.g. to a Prometheus agent or the receiver's in-cluster address)"))
        }
        guard text.hasPrefix("http://") else { return .failure(UsageError("bad \(option)\(text): expected http://host[:port]/path")) }
        let rest = text.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        var host = String(authority), port: UInt16 = 80
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {   // [::1]:9090
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { guard let p = UInt16(after.dropFirst()), p > 0 else { return .failure(badPort(text)) }; port = p }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = UInt16(authority[authority.index(after: colon)...]), p > 0 else { return .failure(badPort(text)) }
            port = p
        }
        guard !host.isEmpty, !path.contains(" ") else { return .failure(UsageError("bad \(option)\(text): expected http://host[:port]/path")) }
        return .success(PushURL(host: host, port: port, path: path, description: text))
    }

    private static func badPort(_ text: String) -> UsageError { UsageError("bad --out \(text): the port must be 1 to 65535") }

    var hostHeader: String { (host.contains(":") ? "[" + host + "]" : host) + (port == 80 ? "" : ":\(port)") }
}

/// One HTTP/1.1 POST on a blocking socket of the pusher's own thread, every step bounded by `timeout`.
/// A connection a push (they come seconds apart); never on a worker's loop.
enum HTTPPost {
    enum Outcome: Equatable {
        /// A 2xx.
        case accepted
        /// A status: 5xx and 429 are worth a retry, other 4xx are not (the receiver refuses the data).
        case status(Int, String)
        /// No answer: the reason (connect refused, timeout…).
        case failed(String)
    }

    private enum Connected { case socket(Int32), failed(String) }

    static func post(_ url: PushURL, path: String? = nil, headers: [(String, String)], body: [UInt8], timeout: Double) -> Outcome {
        let fd: Int32
        switch connect(url, timeout: timeout) {
        case .socket(let s): fd = s
        case .failed(let reason): return .failed(reason)
        }
        defer { close(fd) }
        var head = "POST " + (path ?? url.path) + " HTTP/1.1\r\nHost: " + url.hostHeader + "\r\nUser-Agent: luaload/" + lualoadVersion
            + "\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (k, v) in headers { head += k + ": " + v + "\r\n" }
        head += "\r\n"
        guard sendAll(fd, Array(head.utf8) + body) else { return .failed("send: " + Sys.describe(errno: errno)) }
        return readStatus(fd)
    }

    private static func connect(_ url: PushURL, timeout: Double) -> Connected {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(url.host, String(url.port), &hints, &list)
        guard rc == 0, let first = list else { return .failed("cannot resolve \(url.host): " + String(cString: gai_strerror(rc))) }
        defer { freeaddrinfo(list) }
        var reason = "connect failed"
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { reason = "socket: " + Sys.describe(errno: errno); continue }
            if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
                reason = "connect: " + Sys.describe(errno: errno); close(fd); continue
            }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            if poll(&p, 1, Int32(timeout * 1000)) != 1 { reason = "connect: timed out"; close(fd); continue }
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
            if soError != 0 { reason = "connect: " + Sys.describe(errno: soError); close(fd); continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            return .socket(fd)
        }
        return .failed(reason)
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    /// The status line's code, and the start of the body of a refusal (the receiver's reason).
    private static func readStatus(_ fd: Int32) -> Outcome {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while data.count < 65536 {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return data.isEmpty ? .failed("receive: " + Sys.describe(errno: errno)) : parse(data) }
            if n == 0 { break }
            data += buf[0..<n]
            // A 2xx needs no body: done at the end of the head, whatever the receiver does with the connection.
            if data.count >= 12 && data[9] == UInt8(ascii: "2") && headEnd(data) != nil { break }
        }
        return parse(data)
    }

    /// Just past the head's blank line, once it has come.
    private static func headEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for i in 0...(data.count - 4) where data[i] == 13 && data[i + 1] == 10 && data[i + 2] == 13 && data[i + 3] == 10 { return i + 4 }
        return nil
    }

    private static func parse(_ data: [UInt8]) -> Outcome {
        let text = String(decoding: data, as: UTF8.self)
        let parts = text.prefix(while: { $0 != "\r" && $0 != "\n" }).split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else {
            return .failed(data.isEmpty ? "connection closed without a response" : "not an HTTP response")
        }
        if (200..<300).contains(code) { return .accepted }
        var body = ""
        if let end = headEnd(data) { body = String(decoding: data[end...].prefix(200), as: UTF8.self) }
        return .status(code, body.trimmingCharacters())
    }
}

extension String {
    func trimmingCharacters() -> String {
        String(self.drop(while: { $0 == " " || $0 == "\n" || $0 == "\r" }).reversed().drop(while: { $0 == " " || $0 == "\n" || $0 == "\r" }).reversed())
    }
}
