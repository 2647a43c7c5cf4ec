import CHTTPParser

/// `luaload wrk`: how many whole HTTP requests a request() string holds (its pipelining depth), checked with
/// http_parser as wrk checks its first request: bytes that are not whole requests are reported with where
/// the parser stopped.
enum RequestCounter {
    enum Result: Equatable {
        case requests(Int)
        /// http_parser's description and the 1-based line and column where it stopped.
        case invalid(String, line: Int, column: Int)
    }

    static func count(_ bytes: UnsafeRawPointer, _ length: Int) -> Result {
        var parser = http_parser()
        http_parser_init(&parser, HTTP_REQUEST)
        var count = 0
        let parsed = withUnsafeMutablePointer(to: &count) { counter -> Int in
            parser.data = UnsafeMutableRawPointer(counter)
            return http_parser_execute(&parser, &counterSettings, bytes.assumingMemoryBound(to: CChar.self), length)
        }
        if parsed == length && count > 0 && parser.http_errno == HPE_OK.rawValue { return .requests(count) }
        let errno = http_errno(rawValue: parser.http_errno)
        let what = errno == HPE_OK ? "incomplete request" : String(cString: http_errno_description(errno))
        var line = 1, column = 1
        let b = bytes.assumingMemoryBound(to: UInt8.self)
        for k in 0..<parsed {
            if b[k] == 10 { line += 1; column = 1 } else { column += 1 }
        }
        return .invalid(what, line: line, column: column)
    }
}

nonisolated(unsafe) private var counterSettings: http_parser_settings = {
    var s = http_parser_settings()
    s.on_message_complete = { p in
        p!.pointee.data.assumingMemoryBound(to: Int.self).pointee += 1
        return 0
    }
    return s
}()
