import LuaLoadHTTP
#if canImport(Glibc)
import Glibc
#endif

/// A parsed request as seen by the handlers: views into the connection's read buffer, valid during the call.
struct ServeRequest {
    let b: UnsafePointer<UInt8>
    let head: RequestHead
    let path: Range<Int>
    /// After the "?" (empty when there is none).
    let query: Range<Int>
    let body: Range<Int>

    /// The raw (still percent-encoded) value of the first `name=` query parameter.
    func queryValue(_ name: StaticString) -> Range<Int>? {
        var i = query.lowerBound
        while i < query.upperBound {
            var amp = i
            while amp < query.upperBound, b[amp] != UInt8(ascii: "&") { amp += 1 }
            var eq = i
            while eq < amp, b[eq] != UInt8(ascii: "=") { eq += 1 }
            if bytesEqual(b, i..<eq, name) { return (eq < amp ? eq + 1 : amp)..<amp }
            i = amp + 1
        }
        return nil
    }

    /// Percent-decoded bytes ("+" is a space).
    func decoded(_ r: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(r.count)
        var i = r.lowerBound
        while i < r.upperBound {
            let c = b[i]
            if c == UInt8(ascii: "%"), i + 2 < r.upperBound,
               let hi = hexValue(b[i + 1]), let lo = hexValue(b[i + 2]) {
                out.append(hi << 4 | lo); i += 3
            } else {
                out.append(c == UInt8(ascii: "+") ? 0x20 : c); i += 1
            }
        }
        return out
    }

    /// A query parameter that is all digits (at most 9): its value; nil when absent; -1 when malformed.
    func queryInt(_ name: StaticString) -> Int? {
        guard let r = queryValue(name) else { return nil }
        guard !r.isEmpty, r.count <= 9 else { return -1 }
        var n = 0
        for i in r {
            guard b[i] >= 48, b[i] <= 57 else { return -1 }
            n = n * 10 + Int(b[i] - 48)
        }
        return n
    }

    var bodyBuffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: b + body.lowerBound, count: body.count) }

    /// The token of "Authorization: Bearer <token>" (scheme case-insensitive).
    var bearerToken: Range<Int>? {
        let a = head.authorization
        guard a.count > 7, lowerEqual(b, a.lowerBound..<(a.lowerBound + 7), "bearer ") else { return nil }
        var s = a.lowerBound + 7
        while s < a.upperBound, b[s] == 0x20 { s += 1 }
        return s < a.upperBound ? s..<a.upperBound : nil
    }
}

/// What a handler answers; the body is in the worker's scratch buffer.
struct ServeReply {
    var status: Int
    var contentType: StaticString = "application/json"
    /// Whole extra header lines, each ending in CRLF.
    var extraHeaders: StaticString = ""
}

/// Routes: which pattern a path matches and whether the method is allowed.
enum ServeRouter {
    /// The route for a path, and whether it takes GET (and HEAD) rather than POST. nil: no such path.
    static func match(_ b: UnsafePointer<UInt8>, _ path: Range<Int>) -> (ServeRoute, isGet: Bool)? {
        switch path.count {
        case 1 where b[path.lowerBound] == UInt8(ascii: "/"): return (.root, true)
        case 7 where bytesEqual(b, path, "/health"): return (.health, true)
        case 10 where bytesEqual(b, path, "/api/v1/me"): return (.me, true)
        case 15 where bytesEqual(b, path, "/api/v1/uploads"): return (.uploads, true)
        case 16 where bytesEqual(b, path, "/api/v1/projects"): return (.projects, true)
        case 18 where bytesEqual(b, path, "/api/v1/auth/login"): return (.login, false)
        case 21 where bytesEqual(b, path, "/api/v1/events/ingest"): return (.ingest, false)
        case 23 where bytesEqual(b, path, "/api/v1/uploads/presign"): return (.presign, false)
        default: break
        }
        if metricsProjectID(b, path) != nil { return (.metrics, true) }
        return nil
    }

    /// For "/api/v1/projects/{id}/metrics": the range of {id} (one non-empty segment).
    static func metricsProjectID(_ b: UnsafePointer<UInt8>, _ path: Range<Int>) -> Range<Int>? {
        let prefix: StaticString = "/api/v1/projects/", suffix: StaticString = "/metrics"
        guard path.count > prefix.utf8CodeUnitCount + suffix.utf8CodeUnitCount,
              bytesHavePrefix(b, path, prefix),
              bytesEqual(b, (path.upperBound - suffix.utf8CodeUnitCount)..<path.upperBound, suffix) else { return nil }
        let id = (path.lowerBound + prefix.utf8CodeUnitCount)..<(path.upperBound - suffix.utf8CodeUnitCount)
        for i in id where b[i] == UInt8(ascii: "/") { return nil }
        return id
    }
}

