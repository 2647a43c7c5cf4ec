/// A request as the engine's RequestEncoder wrote it ("METHOD target HTTP/1.1\r\nHost: h\r\nName: value\r\n…\r\n\r\nbody"),
/// read back into spans for HTTP/2's header fields. Only our own encoder's output comes here, so it is
/// well formed; a line without a colon is skipped.
struct HTTP1Request {
    struct Span {
        var base: UnsafePointer<UInt8>
        var length: Int

        init(_ base: UnsafePointer<UInt8>, _ length: Int) {
            self.base = base
            self.length = length
        }

        init(static s: StaticString) { self.init(s.utf8Start, s.utf8CodeUnitCount) }

        func equalsLowercased(_ s: StaticString) -> Bool {
            guard length == s.utf8CodeUnitCount else { return false }
            for k in 0..<length where base[k] | 0x20 != s.utf8Start[k] | 0x20 { return false }
            return true
        }
    }

    let base: UnsafePointer<UInt8>
    var method: Span
    var target: Span
    var host: Span
    /// Where the header lines begin (after the request line) and end (the blank line), and the body's offset.
    var headersStart = 0
    var headersEnd = 0
    var bodyOffset = 0

    init(_ p: UnsafeMutablePointer<UInt8>, _ count: Int) {
        base = UnsafePointer(p)
        var k = 0
        while k < count && p[k] != 0x20 { k += 1 }
        method = Span(base, k)
        let targetStart = k + 1
        k = targetStart
        while k < count && p[k] != 0x20 { k += 1 }
        target = Span(base + targetStart, k - targetStart)
        while k < count && p[k] != 0x0A { k += 1 }
        headersStart = k + 1
        host = Span(static: "")
        k = headersStart
        // The blank line ends the head.
        while k + 1 < count && !(p[k] == 0x0D && p[k + 1] == 0x0A) {
            while k < count && p[k] != 0x0A { k += 1 }
            k += 1
        }
        headersEnd = k
        bodyOffset = min(k + 2, count)
        forEachLine { name, value in if name.equalsLowercased("host") { host = value } }
    }

    /// Each header line's name and value (the value without leading blanks).
    func forEachLine(_ body: (Span, Span) -> Void) {
        var k = headersStart
        while k < headersEnd {
            let lineStart = k
            while k < headersEnd && base[k] != 0x0D { k += 1 }
            let lineEnd = k
            k += 2
            var colon = lineStart
            while colon < lineEnd && base[colon] != 0x3A { colon += 1 }
            guard colon < lineEnd else { continue }
            var v = colon + 1
            while v < lineEnd && (base[v] == 0x20 || base[v] == 0x09) { v += 1 }
            body(Span(base + lineStart, colon - lineStart), Span(base + v, lineEnd - v))
        }
    }

    func forEachHeader(_ body: (Span, Span) -> Void) { forEachLine(body) }

    /// HTTP/1.1 headers HTTP/2 forbids or replaces (RFC 9113 8.2.2; Host becomes :authority).
    static func isConnectionSpecific(_ name: Span) -> Bool {
        name.equalsLowercased("host") || name.equalsLowercased("connection") || name.equalsLowercased("keep-alive")
            || name.equalsLowercased("proxy-connection") || name.equalsLowercased("transfer-encoding")
            || name.equalsLowercased("upgrade")
    }
}
