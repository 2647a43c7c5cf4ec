/// One response to a request this client sent, read incrementally (bytes may arrive in any split, down to one
/// at a time). Made for a client that knows what it asked for: it understands only the status line and the
/// headers that frame the body or the connection (Content-Length, Transfer-Encoding: chunked, Connection),
/// notes Set-Cookie and Content-Encoding for the client's cookie jar and decoder, and keeps the raw head
/// whole for Lua. Its rejections and keep-alive decision are http_parser's (strict mode), checked by the
/// differential fuzzer in Tests/Fuzz, except where http_parser is wrong for a client (see `ResponsePhase`'s
/// notes on 1xx, 204 and 304, and `keepAlive`).
///
/// The head bytes are appended to `head` as they come and parsed there, so a header name cut between two
/// reads is whole when it is classified; body bytes are copied once, from the read buffer into `body`.
public struct ClientResponseParser {
    /// The raw head: "HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n", nothing before or after it (once complete).
    public var head = ByteBuffer()
    /// The body, de-chunked.
    public var body = ByteBuffer()
    /// The whole response is in.
    public internal(set) var complete = false
    /// A response to HEAD: any Content-Length announces no body.
    public var bodyless = false
    /// The head has a Set-Cookie header.
    public internal(set) var setsCookie = false
    /// The head has a Content-Encoding header, which `HeadScan` reads.
    public internal(set) var needsScan = false
    /// The status code (0 until the status line is read).
    public internal(set) var status = 0
    /// Why the response was rejected; nil while it is valid.
    public internal(set) var error: ResponseError?

    var phase = ResponsePhase.start
    /// The header-value machine's state for the header being read (what kind of header, how far its value matched).
    var valueState = HeaderValueState.general
    /// How many letters of the word being matched (keep-alive, close, upgrade, chunked) matched.
    var index = 0
    var major: UInt8 = 0
    var minor: UInt8 = 0
    var contentLength: UInt64 = 0
    /// Body bytes still to come: of the Content-Length body, or of the current chunk.
    var remaining: UInt64 = 0
    var hasContentLength = false
    /// A Transfer-Encoding header was seen (chunked or not).
    var hasTransferEncoding = false
    /// The last Transfer-Encoding header's final coding is chunked.
    var chunked = false
    var connectionClose = false
    var connectionKeepAlive = false
    /// The response has no body whatever its headers say: a HEAD response, 1xx, 204, 304.
    var skipsBody = false
    /// Reading a chunked body's trailer section (header lines, checked but not kept).
    var trailing = false
    /// Bytes other than CR/LF came after the response in the same read: the connection is not reused.
    var strayBytes = false
    /// The response was 101 Switching Protocols: the connection now speaks another protocol.
    var switched = false
    /// Where the head machine resumes in `head`.
    var pos = 0
    /// Where the header name being read starts in `head`.
    var nameStart = 0
    /// CR/LF bytes skipped before the status line (they count toward the head's size limit).
    var skipped = 0
    /// The head's length once it ended (`head.count` returns to it after the trailers).
    var headLength = 0
    /// Bytes of the chunk-size line read so far (limited like the head).
    var lineBytes = 0

    /// http_parser's HTTP_MAX_HEADER_SIZE: the head, a chunk-size line, or the trailers may not exceed it.
    static let maxHeadSize = 80 * 1024

    public init() {}

    /// Kept for the Worker's interface: this parser holds no pointer to itself.
    public mutating func bind(_ selfPointer: UnsafeMutablePointer<ClientResponseParser>) {}

    @inline(__always)
    public mutating func reset(bodyless: Bool) {
        let (h, b) = (head, body)
        self = ClientResponseParser()
        head = h
        body = b
        head.clear()
        body.clear()
        self.bodyless = bodyless
    }

    /// Whether the connection may carry the next request: http_parser's http_should_keep_alive (HTTP/1.1 unless
    /// "Connection: close", HTTP/1.0 only with "Connection: keep-alive", never when the body ran to EOF), and
    /// not after a 101 or stray bytes after the response, which would be read as the next response.
    public var keepAlive: Bool {
        if major > 0 && minor > 0 {
            if connectionClose { return false }
        } else if !connectionKeepAlive {
            return false
        }
        return !needsEOF && !switched && !strayBytes
    }

    /// Whether the body ends when the server closes the connection: http_message_needs_eof, asked (as http_parser
    /// does) once the response is read, so a trailer can still change it.
    var needsEOF: Bool {
        if skipsBody { return false }
        if hasTransferEncoding && !chunked { return true }
        return !chunked && !hasContentLength
    }

    /// Feeds bytes; returns 0, or a `ResponseError`'s raw value. Bytes after a complete response are not parsed.
    @inline(__always)
    public mutating func feed(_ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        var p = bytes.assumingMemoryBound(to: UInt8.self)
        var left = count
        while left > 0 && error == nil {
            if complete {
                noteStray(p, left)
                break
            }
            let used = phase.isHead ? feedHead(p, left) : feedBody(p, left)
            p += used
            left -= used
        }
        return Int(error?.rawValue ?? 0)
    }

    /// Tells the parser the peer closed: completes a body delimited by the end of the stream.
    public mutating func feedEOF() {
        if error == nil && phase == .untilEOF { finish() }
    }

    /// The response is whole: the head returns to its own bytes (trailers were read after it).
    @inline(__always)
    mutating func finish() {
        complete = true
        phase = .done
        head.count = headLength
    }

    /// After a complete response only blank lines may follow before the connection's next response.
    mutating func noteStray(_ p: UnsafePointer<UInt8>, _ count: Int) {
        for k in 0..<count where p[k] != 0x0D && p[k] != 0x0A {
            strayBytes = true
            return
        }
    }

    @inline(__always)
    mutating func fail(_ e: ResponseError) { error = e }
}
