import LuaLoadHTTP

/// A request as a route sees it: decoded path, query and (for forms) body. Built on the live server's thread
/// for the few requests a dashboard or a scraper makes; nothing here is on a load request's path.
public struct LiveRequest: Sendable {
    public var method: HTTPMethod
    /// The path before any "?", percent-decoded.
    public var path: String
    /// The query's parameters in order, percent-decoded ("+" is a space).
    public var query: [(name: String, value: String)]
    public var body: [UInt8]
    /// The Content-Type header's value ("" when absent).
    public var contentType: String

    public init(method: HTTPMethod, path: String, query: [(name: String, value: String)] = [], body: [UInt8] = [], contentType: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.contentType = contentType
    }

    /// The first query parameter called `name`.
    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// An application/x-www-form-urlencoded body's fields (Locust's POST /swarm), then the query's.
    public var form: [(name: String, value: String)] { LiveHTTP.parsePairs(body[...]) + query }

    public func formValue(_ name: String) -> String? { form.first { $0.name == name }?.value }
}

/// What a route answers: a whole response, or the start of a Server-Sent Events stream on `channel` (its
/// `initial` bytes first, e.g. the history so far; then every `LiveServer.broadcast` to that channel).
public struct LiveResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// More headers, as whole lines without the CR LF ("Content-Disposition: attachment; filename=x.csv").
    public var headers: [String]
    /// Set: the connection stays open as an event stream on this channel.
    public var eventChannel: String?

    public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: [UInt8], headers: [String] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    public static func text(_ s: String, status: Int = 200) -> LiveResponse {
        LiveResponse(status: status, body: Array((s.hasSuffix("\n") ? s : s + "\n").utf8))
    }

    public static func json(_ s: String, status: Int = 200) -> LiveResponse {
        LiveResponse(status: status, contentType: "application/json", body: Array(s.utf8))
    }

    public static func html(_ bytes: [UInt8]) -> LiveResponse {
        LiveResponse(contentType: "text/html; charset=utf-8", body: bytes)
    }

    /// An SSE stream on `channel`, starting with `initial` (already in SSE form, see `LiveHTTP.event`).
    public static func eventStream(channel: String, initial: [UInt8] = []) -> LiveResponse {
        var r = LiveResponse(contentType: "text/event-stream", body: initial, headers: ["Cache-Control: no-store"])
        r.eventChannel = channel
        return r
    }
}

public enum LiveHTTP {
    /// One Server-Sent Event: `event: NAME` (when given) and `data: …` lines, then a blank line.
    public static func event(_ name: String?, data: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.utf8.count + 32)
        if let name { out += "event: ".utf8; out += name.utf8; out.append(0x0A) }
        out += "data: ".utf8
        for b in data.utf8 {
            if b == 0x0A { out += "\ndata: ".utf8 } else if b != 0x0D { out.append(b) }
        }
        out += "\n\n".utf8
        return out
    }

    /// `a=1&b=x+y` into decoded pairs.
    public static func parsePairs(_ bytes: ArraySlice<UInt8>) -> [(name: String, value: String)] {
        bytes.split(separator: UInt8(ascii: "&")).map { pair in
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Percent-decoding ("+" is a space); bad escapes are kept as they are.
    public static func decode(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool = true) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == UInt8(ascii: "%"), i + 2 < bytes.endIndex, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) {
                out.append(hi << 4 | lo); i += 3
            } else {
                out.append(plusIsSpace && c == UInt8(ascii: "+") ? 0x20 : c); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}
