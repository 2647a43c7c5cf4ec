/// Whole lines in one pass, for the common case of a head that is all in `head` already: the status line
/// "HTTP/d.d ddd ", an ordinary header line, a plain Content-Length, "Connection: keep-alive" or "close". Anything unusual (a fold, a bare LF, a blank
/// before the colon, a value the byte machine must match) returns nil with nothing changed but the name's
/// classification, which the byte machine then repeats alike.
extension ClientResponseParser {
    /// "HTTP/1.1 200 " (the letters after H only counted, as the byte machine does): the reason phrase follows.
    @inline(__always)
    mutating func fastStatusLine(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
        guard end - p >= 13, p[0] == 0x48, p[5] &- 0x30 < 10, p[6] == 0x2E, p[7] &- 0x30 < 10, p[8] == 0x20,
              p[9] &- 0x30 < 10, p[10] &- 0x30 < 10, p[11] &- 0x30 < 10, p[12] == 0x20 else { return nil }
        major = p[5] - 0x30
        minor = p[7] - 0x30
        status = Int(p[9] - 0x30) * 100 + Int(p[10] - 0x30) * 10 + Int(p[11] - 0x30)
        phase = .reason
        return p + 13
    }

    /// A header line up to its CRLF, when the next line does not fold into it. Stays at `.lineStart`.
    @inline(__always)
    mutating func fastHeaderLine(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
        var p = start
        let tokens = tokenTable.utf8Start
        while p < end && p[0] < 0x80 && tokens[Int(p[0])] == 0x31 { p += 1 }
        guard p < end, p[0] == 0x3A, p > start else { return nil }
        classify(start, p - start)
        p += 1
        while p < end && (p[0] == 0x20 || p[0] == 0x09) { p += 1 }
        guard p < end, p[0] != 0x0D, p[0] != 0x0A else { return nil }
        var length: UInt64 = 0
        switch valueState {
        case .general:
            p += 1   // a value's first byte is not checked (http_parser)
            p = skipValueBytes(p, end)
        case .contentLength:
            guard !hasContentLength else { return nil }
            while p < end && p[0] &- 0x30 < 10 {
                guard (UInt64.max - 10) / 10 >= length else { return nil }
                length = length * 10 + UInt64(p[0] - 0x30)
                p += 1
            }
        case .connection:   // exactly "keep-alive" or "close": the byte machine would match them alike
            if end - p >= 10 && p[4] == 0x2D && matches(p, "keep-alive") {   // '-' exactly: CR|0x20 is '-' too
                valueState = .keepAlive
                p += 10
            } else if end - p >= 5 && matches(p, "close") {
                valueState = .close
                p += 5
            } else {
                return nil
            }
        default:
            return nil
        }
        guard end - p > 2, p[0] == 0x0D, p[1] == 0x0A, p[2] != 0x20, p[2] != 0x09 else { return nil }
        switch valueState {
        case .contentLength:
            hasContentLength = true
            contentLength = length
        case .keepAlive: connectionKeepAlive = true
        case .close: connectionClose = true
        default: break
        }
        return p + 2
    }
}

/// `isToken` as a table for the fast path's name loop ('1': a tchar), indexed by the byte (below 0x80).
let tokenTable: StaticString = "00000000000000000000000000000000010111110011011011111111110000000111111111111111111111111110001111111111111111111111111111101010"

/// Skips the bytes a header value may hold (anything but controls other than tab, and DEL), eight at a time
/// while no byte in the word is below 0x20 or equal to 0x7F, then one at a time.
@inline(__always)
func skipValueBytes(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
    var p = start
    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
    while end - p >= 8 {
        let x = UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)
        let below20 = (x &- 0x20 &* ones) & ~x & highs   // a byte below 0x20 (bytes from 0x80 are masked by ~x)
        let y = x ^ (0x7F &* ones)
        let del = (y &- ones) & ~y & highs                // a byte equal to 0x7F
        if below20 | del != 0 { break }
        p += 8
    }
    while p < end && (p[0] > 0x1F && p[0] != 0x7F || p[0] == 0x09) { p += 1 }
    return p
}
