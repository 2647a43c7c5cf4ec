#if canImport(Glibc)
import Glibc
#endif

/// Limits on what a client may send, per server (the built-in target's, the live server's).
public struct RequestLimits: Sendable {
    /// Request line plus headers.
    public var maxHead: Int
    public var maxHeaders: Int
    /// Content-Length bodies; larger ones get 413 and the connection is closed.
    public var maxBody: Int

    public init(maxHead: Int, maxHeaders: Int, maxBody: Int) {
        self.maxHead = maxHead
        self.maxHeaders = maxHeaders
        self.maxBody = maxBody
    }
}

// Shared by the built-in target (LuaLoadServe) and the live server (LuaLoadLive); public and @inlinable so the
// target's per-request parsing costs what it did inside its own module.
public enum HTTPMethod: UInt8, Sendable {
    case get, head, post, put, delete, patch, options, other
}

/// The parts of a request head the server uses, as absolute offsets into the connection's read buffer.
public struct RequestHead {
    public var method: HTTPMethod = .other
    public var methodRange = 0..<0
    public var target = 0..<0
    public var minor = 1
    public var contentLength = 0
    public var keepAlive = true
    public var authorization = 0..<0
    public var contentType = 0..<0
    /// Cookie, Origin and Host: what the live server's token and same-origin checks read.
    public var cookie = 0..<0
    public var origin = 0..<0
    public var host = 0..<0
    public var expectContinue = false
    /// Offset of the first body byte (just past the blank line).
    public var headEnd = 0

    @inlinable public init() {}

    /// Moves every range by `d` (the buffer's unread bytes moved to its front).
    @inlinable
    public mutating func shift(by d: Int) {
        methodRange = (methodRange.lowerBound + d)..<(methodRange.upperBound + d)
        target = (target.lowerBound + d)..<(target.upperBound + d)
        authorization = (authorization.lowerBound + d)..<(authorization.upperBound + d)
        contentType = (contentType.lowerBound + d)..<(contentType.upperBound + d)
        cookie = (cookie.lowerBound + d)..<(cookie.upperBound + d)
        origin = (origin.lowerBound + d)..<(origin.upperBound + d)
        host = (host.lowerBound + d)..<(host.upperBound + d)
        headEnd += d
    }
}

public enum HeadParseResult {
    case ok(RequestHead)
    /// Malformed: answer this status and close.
    case bad(Int)
}

/// Hand-written HTTP/1.x request-head parsing over raw bytes (no allocation).
public enum HTTPRequestParser {
    /// Where the head starting at `start` ends (the offset just past its blank line), searching from `scanFrom`.
    /// nil when more bytes are needed; `scanFrom` is then moved so the search resumes without rescanning.
    @inlinable
    public static func findHeadEnd(_ b: UnsafePointer<UInt8>, start: Int, scanFrom: inout Int, end: Int) -> Int? {
        var i = max(scanFrom, start)
        while i < end {
            guard let hit = memchr(b + i, 0x0A, end - i) else { scanFrom = end; return nil }
            let nl = b.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if nl + 1 >= end { scanFrom = nl; return nil }
            let next = b[nl + 1]
            if next == 0x0A { return nl + 2 }
            if next == 0x0D {
                if nl + 2 >= end { scanFrom = nl; return nil }
                if b[nl + 2] == 0x0A { return nl + 3 }
            }
            i = nl + 1
        }
        scanFrom = end
        return nil
    }

    /// Parses the head in [start, headEnd) (headEnd as found by `findHeadEnd`).
    @inlinable
    public static func parseHead(_ b: UnsafePointer<UInt8>, start: Int, headEnd: Int, limits: RequestLimits) -> HeadParseResult {
        var head = RequestHead()
        head.headEnd = headEnd
        var lineStart: Int
        switch requestLine(b, start: start, headEnd: headEnd, into: &head) {
        case .bad(let status): return .bad(status)
        case .next(let next): lineStart = next
        }
        var connection = ConnectionTokens()
        var count = 0
        while lineStart < headEnd {
            guard let (end, after) = line(b, from: lineStart, end: headEnd) else { return .bad(400) }
            if end == lineStart { break }  // the blank line
            count += 1
            if count > limits.maxHeaders { return .bad(431) }
            if let status = headerLine(b, lineStart..<end, into: &head, &connection) { return .bad(status) }
            lineStart = after
        }
        // Chunked (or any transfer-coded) request bodies are not supported: the client must send Content-Length.
        if connection.sawTransferEncoding { return .bad(411) }
        if head.contentLength > limits.maxBody { return .bad(413) }
        head.keepAlive = head.minor == 1 ? !connection.sawClose : (connection.sawKeepAlive && !connection.sawClose)
        return .ok(head)
    }

    /// What the headers said about the connection and the body's framing.
    public struct ConnectionTokens {
        public var sawClose = false, sawKeepAlive = false, sawLength = false, sawTransferEncoding = false
        @inlinable public init() {}
    }

    /// Where parsing goes on after a line, or the status to answer.
    public enum LineStep { case next(Int), bad(Int) }

    /// The request line, `method SP target SP HTTP/1.x`.
    @inlinable
    public static func requestLine(_ b: UnsafePointer<UInt8>, start lineStart: Int, headEnd: Int, into head: inout RequestHead) -> LineStep {
        guard let (lineEnd, next) = line(b, from: lineStart, end: headEnd) else { return .bad(400) }
        var i = lineStart
        while i < lineEnd, isTokenChar(b[i]) { i += 1 }
        guard i > lineStart, i - lineStart <= 20, i < lineEnd, b[i] == 0x20 else { return .bad(400) }
        head.methodRange = lineStart..<i
        head.method = method(b, head.methodRange)
        i += 1
        let targetStart = i
        while i < lineEnd, b[i] > 0x20, b[i] < 0x7F { i += 1 }
        guard i > targetStart, i < lineEnd, b[i] == 0x20, b[targetStart] == UInt8(ascii: "/") else { return .bad(400) }
        head.target = targetStart..<i
        i += 1
        guard lineEnd - i == 8, bytesEqual(b, i..<(i + 5), "HTTP/") else { return .bad(400) }
        let major = b[i + 5], dot = b[i + 6], minor = b[i + 7]
        guard major >= 48, major <= 57, dot == UInt8(ascii: "."), minor >= 48, minor <= 57 else { return .bad(400) }
        guard major == UInt8(ascii: "1"), minor <= UInt8(ascii: "1") else { return .bad(505) }
        head.minor = Int(minor - 48)
        return .next(next)
    }

    /// One header line, `name ":" OWS value OWS` (no whitespace before the colon, no obsolete line folding):
    /// the few names the server acts on are kept; nil, or the status to answer.
    @inlinable
    public static func headerLine(_ b: UnsafePointer<UInt8>, _ lineRange: Range<Int>, into head: inout RequestHead,
                           _ connection: inout ConnectionTokens) -> Int? {
        var c = lineRange.lowerBound
        let end = lineRange.upperBound
        while c < end, isTokenChar(b[c]) { c += 1 }
        guard c > lineRange.lowerBound, c < end, b[c] == UInt8(ascii: ":") else { return 400 }
        let name = lineRange.lowerBound..<c
        var vs = c + 1, ve = end
        while vs < ve, b[vs] == 0x20 || b[vs] == 0x09 { vs += 1 }
        while ve > vs, b[ve - 1] == 0x20 || b[ve - 1] == 0x09 { ve -= 1 }
        for k in vs..<ve where (b[k] < 0x20 && b[k] != 0x09) || b[k] == 0x7F { return 400 }
        let value = vs..<ve
        switch name.count {
        case 14 where lowerEqual(b, name, "content-length"):
            guard !value.isEmpty, value.count <= 12 else { return 400 }
            var n = 0
            for k in value {
                guard b[k] >= 48, b[k] <= 57 else { return 400 }
                n = n * 10 + Int(b[k] - 48)
            }
            if connection.sawLength && n != head.contentLength { return 400 }
            connection.sawLength = true
            head.contentLength = n
        case 17 where lowerEqual(b, name, "transfer-encoding"):
            connection.sawTransferEncoding = true
        case 10 where lowerEqual(b, name, "connection"):
            forEachToken(b, value) { t in
                if t.count == 5, lowerEqual(b, t, "close") { connection.sawClose = true }
                if t.count == 10, lowerEqual(b, t, "keep-alive") { connection.sawKeepAlive = true }
            }
        case 13 where lowerEqual(b, name, "authorization"):
            head.authorization = value
        case 12 where lowerEqual(b, name, "content-type"):
            head.contentType = value
        case 6 where lowerEqual(b, name, "expect"):
            if value.count == 12, lowerEqual(b, value, "100-continue") { head.expectContinue = true }
        case 6 where lowerEqual(b, name, "cookie"):
            head.cookie = value
        case 6 where lowerEqual(b, name, "origin"):
            head.origin = value
        case 4 where lowerEqual(b, name, "host"):
            head.host = value
        default:
            break
        }
        return nil
    }

    /// The line starting at `from`: its end (before CR LF or LF) and the start of the next line.
    @inlinable @inline(__always)
    static func line(_ b: UnsafePointer<UInt8>, from: Int, end: Int) -> (Int, Int)? {
        guard from < end, let hit = memchr(b + from, 0x0A, end - from) else { return nil }
        let nl = b.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        let lineEnd = (nl > from && b[nl - 1] == 0x0D) ? nl - 1 : nl
        return (lineEnd, nl + 1)
    }

    @inlinable
    static func forEachToken(_ b: UnsafePointer<UInt8>, _ r: Range<Int>, _ body: (Range<Int>) -> Void) {
        var i = r.lowerBound
        while i < r.upperBound {
            while i < r.upperBound, b[i] == 0x20 || b[i] == 0x09 || b[i] == UInt8(ascii: ",") { i += 1 }
            let s = i
            while i < r.upperBound, b[i] != UInt8(ascii: ","), b[i] != 0x20, b[i] != 0x09 { i += 1 }
            if i > s { body(s..<i) }
        }
    }

    @inlinable
    static func method(_ b: UnsafePointer<UInt8>, _ r: Range<Int>) -> HTTPMethod {
        switch r.count {
        case 3:
            if bytesEqual(b, r, "GET") { return .get }
            if bytesEqual(b, r, "PUT") { return .put }
        case 4:
            if bytesEqual(b, r, "POST") { return .post }
            if bytesEqual(b, r, "HEAD") { return .head }
        case 5: if bytesEqual(b, r, "PATCH") { return .patch }
        case 6: if bytesEqual(b, r, "DELETE") { return .delete }
        case 7: if bytesEqual(b, r, "OPTIONS") { return .options }
        default: break
        }
        return .other
    }

    /// RFC 9110 tchar.
    @inlinable @inline(__always)
    public static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case 48...57, 65...90, 97...122: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }
}

/// Exact comparison of b[r] with a literal.
@inlinable @inline(__always)
public func bytesEqual(_ b: UnsafePointer<UInt8>, _ r: Range<Int>, _ s: StaticString) -> Bool {
    guard r.count == s.utf8CodeUnitCount else { return false }
    return memcmp(b + r.lowerBound, s.utf8Start, r.count) == 0
}

/// ASCII case-insensitive comparison of b[r] with a lowercase literal.
@inlinable @inline(__always)
public func lowerEqual(_ b: UnsafePointer<UInt8>, _ r: Range<Int>, _ s: StaticString) -> Bool {
    guard r.count == s.utf8CodeUnitCount else { return false }
    let p = s.utf8Start
    var k = 0
    for i in r {
        var c = b[i]
        if c >= 65 && c <= 90 { c |= 0x20 }
        if c != p[k] { return false }
        k += 1
    }
    return true
}

/// Whether b[r] starts with the literal (case-sensitive).
@inlinable @inline(__always)
public func bytesHavePrefix(_ b: UnsafePointer<UInt8>, _ r: Range<Int>, _ s: StaticString) -> Bool {
    r.count >= s.utf8CodeUnitCount && memcmp(b + r.lowerBound, s.utf8Start, s.utf8CodeUnitCount) == 0
}
