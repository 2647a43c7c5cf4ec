import CHTTPParser

/// One response being read, parsed incrementally by http_parser (as wrk does).
/// Headers are kept raw ("Name: value\r\n" lines) and split into a Lua table only if a script reads them.
public struct ResponseParser {
    public var parser = http_parser()
    public var headers = ByteBuffer()
    public var body = ByteBuffer()
    public fileprivate(set) var complete = false
    /// HEAD responses carry a Content-Length but no body.
    public var bodyless = false
    fileprivate var inValue = false

    public init() {}

    /// Must be called once the struct has its final address (it points the C parser back at itself).
    public mutating func bind(_ selfPointer: UnsafeMutablePointer<ResponseParser>) {
        parser.data = UnsafeMutableRawPointer(selfPointer)
    }

    @inline(__always)
    public mutating func reset(bodyless: Bool) {
        http_parser_init(&parser, HTTP_RESPONSE)
        headers.clear()
        body.clear()
        complete = false
        inValue = false
        self.bodyless = bodyless
    }

    public var status: Int { Int(parser.status_code) }
    public var keepAlive: Bool { withUnsafePointer(to: parser) { http_should_keep_alive($0) != 0 } }

    /// Feeds bytes; returns 0, or http_parser's error number.
    @inline(__always)
    public mutating func feed(_ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        _ = http_parser_execute(&parser, &responseParserSettings, bytes.assumingMemoryBound(to: CChar.self), count)
        let errno = parser.http_errno
        if errno != HPE_OK.rawValue, !(complete && errno == HPE_CLOSED_CONNECTION.rawValue) { return Int(errno) }
        return 0
    }

    /// Tells the parser the peer closed: completes a response delimited by end of stream.
    public mutating func feedEOF() {
        _ = http_parser_execute(&parser, &responseParserSettings, nil, 0)
    }

}

@inline(__always)
private func state(_ p: UnsafeMutablePointer<http_parser>?) -> UnsafeMutablePointer<ResponseParser> {
    p!.pointee.data.assumingMemoryBound(to: ResponseParser.self)
}

nonisolated(unsafe) var responseParserSettings: http_parser_settings = {
    var s = http_parser_settings()
    s.on_header_field = { p, at, len in
        let r = state(p)
        if r.pointee.inValue { r.pointee.headers.append("\r\n"); r.pointee.inValue = false }
        r.pointee.headers.append(UnsafeRawPointer(at!), len)
        return 0
    }
    s.on_header_value = { p, at, len in
        let r = state(p)
        if !r.pointee.inValue { r.pointee.headers.append(": "); r.pointee.inValue = true }
        r.pointee.headers.append(UnsafeRawPointer(at!), len)
        return 0
    }
    s.on_headers_complete = { p in
        let r = state(p)
        if r.pointee.inValue { r.pointee.headers.append("\r\n"); r.pointee.inValue = false }
        return r.pointee.bodyless ? 1 : 0
    }
    s.on_body = { p, at, len in
        state(p).pointee.body.append(UnsafeRawPointer(at!), len)
        return 0
    }
    s.on_message_complete = { p in
        state(p).pointee.complete = true
        return 0
    }
    return s
}()
