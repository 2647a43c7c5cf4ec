#if arch(x86_64)
import CHTTPScan
#endif

/// Whole lines in one pass, for the common case of a head that is all in `head` already: the status line
/// "HTTP/d.d ddd reason", an ordinary header line, a plain Content-Length, "Connection: keep-alive" or "close".
/// Anything unusual (a fold, a bare LF, a blank before the colon, a value the byte machine must match) returns
/// nil with nothing changed but the name's classification, which the byte machine then repeats alike.
/// Names and values are scanned 16 bytes at a time on x86_64 (SSE2, CHTTPScan), else eight at a time (SWAR, see
/// `Word`): a byte at a time cost ~8 instructions a byte, most of the parser's cost on a typical response.
extension ClientResponseParser {
    /// "HTTP/1.1 200 " (the letters after H only counted, as the byte machine does), and the reason phrase with
    /// its CRLF when they are in.
    @inline(__always)
    mutating func fastStatusLine(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
        guard end - p >= 13, p[0] == 0x48, p[5] &- 0x30 < 10, p[6] == 0x2E, p[7] &- 0x30 < 10, p[8] == 0x20,
              p[9] &- 0x30 < 10, p[10] &- 0x30 < 10, p[11] &- 0x30 < 10, p[12] == 0x20 else { return nil }
        major = p[5] &- 0x30   // wrapping arithmetic: the digits were checked, so no overflow checks
        minor = p[7] &- 0x30
        status = Int(p[9] &- 0x30) &* 100 &+ Int(p[10] &- 0x30) &* 10 &+ Int(p[11] &- 0x30)
        phase = .reason
        var q = p + 13
        while q < end && q[0] != 0x0D && q[0] != 0x0A { q += 1 }   // a short phrase: a byte loop is cheaper here
        guard end - q >= 2, q[0] == 0x0D, q[1] == 0x0A else { return p + 13 }
        phase = .lineStart
        return q + 2
    }

    /// Header lines while they are common ones: where the first other line (or the head's end) starts.
    /// One loop, so that the lines share the SWAR constants in registers and pay no call each.
    mutating func fastHeaderLines(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
        var p = start
        while p < end && p[0] != 0x0D, let q = fastHeaderLine(p, end) { p = q }
        return p
    }

    /// A header line up to its CRLF, when the next line does not fold into it. Stays at `.lineStart`.
    @inline(__always)
    mutating func fastHeaderLine(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
        guard let colon = nameColon(start, end) else { return nil }
        classify(start, colon - start, trimmed: colon - start)
        let p = colon[1] == 0x20 ? colon + 2 : colon + 1
        guard p[0] > 0x20 else { return nil }   // more blanks, a tab, an empty value, a control byte: the byte machine's
        guard valueState == .general else { return fastFramingValue(p, end) }
        let q = skipValueBytes(p + 1, end)   // a value's first byte is not checked (http_parser)
        return endsLine(q, end) ? q + 2 : nil
    }

    /// A plain Content-Length, "keep-alive" or "close" (the byte machine would match them alike) up to its CRLF.
    @inline(__always)
    mutating func fastFramingValue(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
        var p = start
        switch valueState {
        case .contentLength:
            guard !hasContentLength else { return nil }
            var length: UInt64 = 0
            while p < end && p[0] &- 0x30 < 10 {
                guard (UInt64.max - 10) / 10 >= length else { return nil }
                length = length * 10 + UInt64(p[0] - 0x30)
                p += 1
            }
            guard endsLine(p, end) else { return nil }
            hasContentLength = true
            contentLength = length
        case .connection:
            // '-' compared exactly: CR|0x20 is '-' too.
            if end - p >= 10 && p[4] == 0x2D && Word.lowered(p) == Word.of("keep-ali") && Word.lowered(p + 2) == Word.of("ep-alive") {
                p += 10
                guard endsLine(p, end) else { return nil }
                connectionKeepAlive = true
            } else if end - p >= 5 && matches(p, "close") {
                p += 5
                guard endsLine(p, end) else { return nil }
                connectionClose = true
            } else {
                return nil
            }
        default:
            return nil
        }
        return p + 2
    }
}

/// Whether the value ended at `p` with CRLF and the next line does not fold into it (a blank would start a fold).
@inline(__always)
func endsLine(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> Bool {
    end - p > 2 && Word.load16(p) == 0x0A0D && p[2] != 0x20 && p[2] != 0x09
}

/// The colon after the header name at `start`, when the name is token bytes (at least one) and four bytes at least
/// follow the colon (a value byte, CRLF, the next line's first byte): letters and '-' (most names are only those)
/// 16 at a time (SSE2) while 21 bytes are left, or eight at a time (SWAR) while 16 are, so that a colon found there
/// has enough after it; then other token bytes (a digit, '_', ...) one at a time.
@inline(__always)
func nameColon(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
    var p = start
    #if arch(x86_64)
    while end - p >= 21 {
        let others = ll_scan16_not_letter_or_dash(p)
        if others != 0 {
            p += others.trailingZeroBitCount
            if p[0] == 0x3A { return p > start ? p : nil }
            break
        }
        p += 16
    }
    #else
    while end - p >= 16 {
        let others = Word.notLetterOrDash(Word.load(p))
        if others != 0 {
            p += others.trailingZeroBitCount >> 3
            if p[0] == 0x3A { return p > start ? p : nil }
            break
        }
        p += 8
    }
    #endif
    while p < end && isToken(p[0]) { p += 1 }
    return end - p >= 5 && p[0] == 0x3A && p > start ? p : nil
}

/// Skips the bytes a header value may hold (anything but controls other than tab, and DEL): 16 at a time (SSE2)
/// while 16 are left, then eight at a time, to the first control byte, which ends the value unless it is a tab;
/// the last few bytes one at a time. The eight-byte step may stop early at a blank after a byte from 0x80 (see
/// `Word.firstControl`), which the caller's CRLF check turns away.
@inline(__always)
func skipValueBytes(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
    var p = start
    #if arch(x86_64)
    while end - p >= 16 {
        let controls = ll_scan16_controls(p)
        if controls == 0 {
            p += 16
            continue
        }
        p += controls.trailingZeroBitCount
        if p[0] != 0x09 { return p }
        p += 1
    }
    #endif
    while p + 8 <= end {
        let controls = Word.firstControl(Word.load(p))
        if controls == 0 {
            p += 8
            continue
        }
        p += controls.trailingZeroBitCount >> 3
        if p[0] != 0x09 { return p }
        p += 1
    }
    while p < end && (p[0] > 0x1F && p[0] != 0x7F || p[0] == 0x09) { p += 1 }
    return p
}
