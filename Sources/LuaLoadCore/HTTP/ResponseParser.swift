import CHTTPParser

/// One response being read, parsed incrementally by http_parser (as wrk does).
/// The response head (status line and headers) is kept as raw bytes, copied whole from the chunks read
/// before the headers ended; a script that reads `res.headers` splits it in Lua. So the parser makes no
/// call per header, only at the end of the head, per body chunk and at the end of the message.
public struct ResponseParser {
    public var parser = http_parser()
    /// The raw head: "HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n" (possibly followed by a chunk-size line).
    public var head = ByteBuffer()
    public var body = ByteBuffer()
    public fileprivate(set) var complete = false
    /// HEAD responses carry a Content-Length but no body.
    public var bodyless = false
    fileprivate var headDone = false
    /// While feeding a chunk that was copied into `head`: its address and where it starts in `head`,
    /// so the first body byte tells where the head ends.
    fileprivate var chunkInHead: UnsafeRawPointer?
    fileprivate var chunkOffset = 0
    /// The end of the chunk being fed: a header name that reaches it may go on in the next chunk.
    fileprivate var chunkEnd: UnsafeRawPointer?
    /// What the head's header names ask of the client, noted as http_parser meets them (one length
    /// comparison per header): a Set-Cookie, a Content-Encoding (whose value `HeadScan` reads), or a name
    /// cut by a chunk boundary, which leaves the answer to a `HeadScan` of the whole head.
    public fileprivate(set) var setsCookie = false
    public fileprivate(set) var needsScan = false

    public init() {}

    /// Must be called once the struct has its final address (it points the C parser back at itself).
    public mutating func bind(_ selfPointer: UnsafeMutablePointer<ResponseParser>) {
        parser.data = UnsafeMutableRawPointer(selfPointer)
    }

    @inline(__always)
    public mutating func reset(bodyless: Bool) {
        http_parser_init(&parser, HTTP_RESPONSE)
        head.clear()
        body.clear()
        complete = false
        headDone = false
        setsCookie = false
        needsScan = false
        self.bodyless = bodyless
    }

    public var status: Int { Int(parser.status_code) }
    public var keepAlive: Bool { withUnsafePointer(to: parser) { http_should_keep_alive($0) != 0 } }

    /// Feeds bytes; returns 0, or http_parser's error number.
    @inline(__always)
    public mutating func feed(_ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        if !headDone {
            chunkOffset = head.count
            chunkInHead = bytes
            chunkEnd = bytes + count
            head.append(bytes, count)
        }
        _ = http_parser_execute(&parser, &responseParserSettings, bytes.assumingMemoryBound(to: CChar.self), count)
        chunkInHead = nil
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

/// Whether the `length` bytes at `p` are `lowered`, ignoring ASCII case (`|0x20` leaves '-' as it is).
@inline(__always)
private func equalsLowered(_ p: UnsafePointer<CChar>, _ length: Int, _ lowered: StaticString) -> Bool {
    guard length == lowered.utf8CodeUnitCount else { return false }
    let s = lowered.utf8Start
    for k in 0..<length where UInt8(bitPattern: p[k]) | 0x20 != s[k] { return false }
    return true
}

nonisolated(unsafe) var responseParserSettings: http_parser_settings = {
    var s = http_parser_settings()
    s.on_header_field = { p, at, length in
        // Only the two names the client acts on, told apart by their length first.
        guard length == 10 || length == 16, let at else { return 0 }
        let r = state(p)
        if UnsafeRawPointer(at) + length == r.pointee.chunkEnd {
            r.pointee.needsScan = true   // the name may go on in the next chunk
        } else if length == 10 {
            if equalsLowered(at, length, "set-cookie") { r.pointee.setsCookie = true }
        } else if equalsLowered(at, length, "content-encoding") {
            r.pointee.needsScan = true
        }
        return 0
    }
    s.on_headers_complete = { p in
        let r = state(p)
        r.pointee.headDone = true
        return r.pointee.bodyless ? 1 : 0
    }
    s.on_body = { p, at, len in
        let r = state(p)
        if let chunk = r.pointee.chunkInHead {
            // The body begins in the chunk copied into `head`: cut the head where the body starts.
            r.pointee.head.count = r.pointee.chunkOffset + (UnsafeRawPointer(at!) - chunk)
            r.pointee.chunkInHead = nil
        }
        r.pointee.body.append(UnsafeRawPointer(at!), len)
        return 0
    }
    s.on_message_complete = { p in
        state(p).pointee.complete = true
        return 0
    }
    return s
}()
