/// The parts of a header line around its value: line starts and ends, blanks, folded lines (obs-fold).
extension ClientResponseParser {
    /// One byte at a line start, around the colon's blanks, or at a line end. `at` is its offset in `head`.
    @inline(__always)
    mutating func stepLine(_ c: UInt8, at: Int) -> Step {
        let blank = c == 0x20 || c == 0x09
        switch phase {
        case .lineStart:
            if c == 0x0D { phase = .headLF; return .next }
            if c == 0x0A { return .ended }
            guard isToken(c, blank: true) else { fail(.badHeaderName); return .next }
            nameStart = at
            phase = .name
            return .again
        case .headLF:
            guard c == 0x0A else { fail(.missingLF); return .next }
            return .ended
        case .discardWS:
            if blank { return .next }
            if c == 0x0D { phase = .discardWSLF; return .next }
            if c == 0x0A { phase = .discardLWS; return .next }
            valueStart(c)
            return .next
        case .discardWSLF:
            if c == 0x0A { phase = .discardLWS } else { fail(.missingLF) }
            return .next
        case .discardLWS:   // an empty value so far: a blank folds the next line into it
            if blank { phase = .discardWS; return .next }
            if valueState == .contentLength { fail(.badContentLength); return .next }
            return endHeader()
        case .valueLF:
            if c == 0x0A { phase = .valueLWS } else { fail(.missingLF) }
            return .next
        default:   // .valueLWS: after a value's line end
            guard blank else { return endHeader() }
            if valueState == .contentLengthDigits { valueState = .contentLengthSpaces }
            valueStart(c)
            return .next
        }
    }

    /// The header ended: a matched final token takes effect. The next byte starts a line.
    @inline(__always)
    mutating func endHeader() -> Step {
        switch valueState {
        case .keepAlive: connectionKeepAlive = true
        case .close: connectionClose = true
        case .encodingChunked: chunked = true
        default: break
        }
        phase = .lineStart
        return .again
    }

    /// What the name asks of its value; `name` is `whole` token bytes in `head`. As in http_parser, blanks
    /// between a name and its colon do not hide a framing header; Set-Cookie and Content-Encoding count only as
    /// `HeadScan` and the Lua side will find them (the colon right after the name).
    mutating func classify(_ name: UnsafePointer<UInt8>, _ whole: Int) {
        var length = whole
        while length > 0 && name[length - 1] == 0x20 { length -= 1 }
        classify(name, whole, trimmed: length)
    }

    /// `classify` once the blanks before the colon are counted off: `length` bytes of the name are its token.
    @inline(__always)
    mutating func classify(_ name: UnsafePointer<UInt8>, _ whole: Int, trimmed length: Int) {
        valueState = .general
        // Two overlapping words (or three) cover the name: one compare each (see `Word.lowered`).
        switch length {
        case 10:
            if Word.lowered(name) == Word.of("connecti") && Word.lowered(name + 2) == Word.of("nnection") {
                valueState = .connection
            } else if !trailing && whole == 10 && Word.lowered(name) == Word.of("set-cook")
                        && Word.lowered(name + 2) == Word.of("t-cookie") {
                setsCookie = true
            }
        case 14:
            if Word.lowered(name) == Word.of("content-") && Word.lowered(name + 6) == Word.of("t-length") {
                valueState = .contentLength
            }
        case 16:
            let second = Word.lowered(name + 8)
            if Word.lowered(name) == Word.of("proxy-co") && second == Word.of("nnection") {
                valueState = .connection
            } else if !trailing && whole == 16 && Word.lowered(name) == Word.of("content-") && second == Word.of("encoding") {
                needsScan = true
            }
        default:
            // http_parser notes a Transfer-Encoding once the name's 17th letter matches, even if more follow; and
            // (Debian's fix of CVE-2020-8287) forgets an earlier "chunked": only the last header's last coding counts.
            if whole >= 17 && Word.lowered(name) == Word.of("transfer") && Word.lowered(name + 8) == Word.of("-encodin")
                && name[16] | 0x20 == 0x67 {   // g
                hasTransferEncoding = true
                chunked = false
                if length == 17 { valueState = .transferEncoding }
            }
        }
    }

    /// Whether the bytes at `p` begin with `lowered`, ignoring ASCII case (`|0x20` maps no other token byte to a letter or '-').
    @inline(__always)
    func matches(_ p: UnsafePointer<UInt8>, _ lowered: StaticString) -> Bool {
        let s = lowered.utf8Start
        for k in 0..<lowered.utf8CodeUnitCount where p[k] | 0x20 != s[k] { return false }
        return true
    }
}
