import CHTTPParser

/// `luaload wrk`: responses read one after another from a stream that may hold several (pipelining).
/// http_parser pauses at the end of each response, so `feed` says where it ended and the next one begins.
/// Head and body are kept only when the script has response() (wrk parses them only then, too).
public struct PipelinedResponseParser {
    public var parser = http_parser()
    /// The raw head ("HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n"), when kept.
    public var head = ByteBuffer()
    public var body = ByteBuffer()
    /// Body bytes of the current response (counted even when the body is not kept).
    public var bodyBytes = 0
    public fileprivate(set) var complete = false
    /// Keep head and body for response().
    public var keep = false
    fileprivate var headCut = false
    fileprivate var chunkInHead: UnsafeRawPointer?
    fileprivate var chunkOffset = 0

    public init() {}

    /// Starts the next response; points the C parser back at this struct (its address is stable).
    @inline(__always)
    public mutating func reset(_ selfPointer: UnsafeMutablePointer<PipelinedResponseParser>, keep: Bool) {
        http_parser_init(&parser, HTTP_RESPONSE)
        parser.data = UnsafeMutableRawPointer(selfPointer)
        head.clear()
        body.clear()
        bodyBytes = 0
        complete = false
        headCut = false
        self.keep = keep
    }

    public var status: Int { Int(parser.status_code) }
    public var keepAlive: Bool { withUnsafePointer(to: parser) { http_should_keep_alive($0) != 0 } }

    /// Parses `bytes` until the response completes or they run out: returns how many it used, or -errno.
    @inline(__always)
    public mutating func feed(_ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        if keep && !headCut {
            chunkOffset = head.count
            chunkInHead = bytes
            head.append(bytes, count)
        }
        let used = http_parser_execute(&parser, &pipelinedSettings, bytes.assumingMemoryBound(to: CChar.self), count)
        chunkInHead = nil
        let errno = parser.http_errno
        if complete {
            http_parser_pause(&parser, 0)
            // A response with no body ends with its head: the bytes after it belong to the next one.
            if keep && !headCut { head.count = chunkOffset + used }
            return used
        }
        return errno == HPE_OK.rawValue ? used : -Int(errno)
    }

    /// The peer closed: completes a response delimited by the end of the stream.
    public mutating func feedEOF() {
        _ = http_parser_execute(&parser, &pipelinedSettings, nil, 0)
    }
}

@inline(__always)
private func state(_ p: UnsafeMutablePointer<http_parser>?) -> UnsafeMutablePointer<PipelinedResponseParser> {
    p!.pointee.data.assumingMemoryBound(to: PipelinedResponseParser.self)
}

nonisolated(unsafe) var pipelinedSettings: http_parser_settings = {
    var s = http_parser_settings()
    s.on_body = { p, at, len in
        let r = state(p)
        r.pointee.bodyBytes &+= len
        guard r.pointee.keep else { return 0 }
        if let chunk = r.pointee.chunkInHead {
            // The body begins in the chunk copied into `head`: cut the head where the body starts.
            r.pointee.head.count = r.pointee.chunkOffset + (UnsafeRawPointer(at!) - chunk)
            r.pointee.chunkInHead = nil
        }
        r.pointee.headCut = true
        r.pointee.body.append(UnsafeRawPointer(at!), len)
        return 0
    }
    s.on_message_complete = { p in
        state(p).pointee.complete = true
        http_parser_pause(p, 1)   // stop here: what follows is the next response
        return 0
    }
    return s
}()
