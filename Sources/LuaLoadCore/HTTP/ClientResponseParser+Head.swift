/// The status line and the header lines (of the head and of a chunked body's trailers), parsed in `head`.
extension ClientResponseParser {
    /// What one step of the head machine did with its byte.
    enum Step {
        case again   // not consumed: the next state reads it
        case next    // consumed
        case ended   // consumed, and it was the section's final LF
    }

    /// Feeds bytes to the head (or the trailers): appended to `head`, then parsed there.
    /// Returns how many of them belong to it (all, unless the section ended in them).
    mutating func feedHead(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int {
        var k = 0
        if phase == .start {   // blank lines before the status line: skipped, but counted toward the size limit
            while k < count && (p[k] == 0x0D || p[k] == 0x0A) { k += 1 }
            skipped += k
            if k == count {
                if skipped > Self.maxHeadSize { fail(.headTooLarge) }
                return count
            }
        }
        let old = head.count
        head.append(p + k, count - k)
        guard let end = parseHead() else {
            if error == nil { checkSize(head.count) }
            return count
        }
        checkSize(end)
        guard error == nil else { return count }
        if trailing { finish() } else { endHead(end) }
        return k + end - old
    }

    /// http_parser's limit on the head (with the blank lines before it) and on the trailers.
    @inline(__always)
    mutating func checkSize(_ upTo: Int) {
        if trailing {
            if upTo - headLength > Self.maxHeadSize { fail(.chunkLineTooLarge) }
        } else if skipped + upTo > Self.maxHeadSize {
            fail(.headTooLarge)
        }
    }

    /// Runs the head machine over `head[pos...]`. Returns the offset just past the section's final LF, or nil
    /// when the bytes ran out first (or `error` is set).
    mutating func parseHead() -> Int? {
        let base = UnsafePointer(head.base!)
        var p = base + pos
        let end = base + head.count
        while true {
            // Whole lines through the fast path while they are common ones, to the head's blank line; the byte
            // machine takes one step (or one run of name, value or reason bytes) where they are not.
            if phase == .start, let q = fastStatusLine(p, end) { p = q }
            if phase == .lineStart { p = fastHeaderLines(p, end) }
            if phase == .lineStart && end - p >= 2 && p[0] == 0x0D && p[1] == 0x0A { return p + 2 - base }
            guard p < end else { break }
            switch phase {
            case .name: p = scanName(p, end, base)
            case .value: p = scanValue(p, end)
            case .reason: p = scanReason(p, end)
            default:
                switch phase.rawValue < ResponsePhase.lineStart.rawValue ? stepStatus(p[0]) : stepLine(p[0], at: p - base) {
                case .again: break
                case .next: p += 1
                case .ended: return error == nil ? p + 1 - base : nil
                }
            }
            if error != nil { return nil }
        }
        pos = p - base
        return nil
    }

    /// The head ended at `end`: how the body is delimited decides the next phase.
    mutating func endHead(_ end: Int) {
        head.count = end
        headLength = end
        if hasTransferEncoding && hasContentLength { return fail(.lengthWithTransferEncoding) }
        if status / 100 == 1 && status != 101 { return reset(bodyless: bodyless) }   // interim: read the next one
        switched = status == 101
        skipsBody = bodyless || status / 100 == 1 || status == 204 || status == 304
        if skipsBody {
            finish()
        } else if chunked {
            phase = .chunkSizeStart
        } else if hasTransferEncoding || !hasContentLength {
            phase = .untilEOF
        } else if contentLength == 0 {
            finish()
        } else {
            remaining = contentLength
            phase = .identity
        }
    }

    /// One byte of "HTTP/d.d nnn": single digits for the version; the code may have leading blanks and zeros.
    @inline(__always)
    mutating func stepStatus(_ c: UInt8) -> Step {
        switch phase {
        case .start: return expect(c, 0x48, .statusH, .notHTTP)   // H
        case .statusH, .statusHT, .statusHTT, .statusHTTP:
            // "TTP/": only counted, as http_parser built non-strict (Debian's) does.
            phase = ResponsePhase(rawValue: phase.rawValue + 1)!
        case .major, .minor:
            guard c &- 0x30 < 10 else { fail(.badVersion); return .next }
            if phase == .major { major = c - 0x30 } else { minor = c - 0x30 }
            phase = phase == .major ? .dot : .versionEnd
        case .dot: return expect(c, 0x2E, .minor, .badVersion)
        case .versionEnd: return expect(c, 0x20, .firstStatus, .badVersion)
        case .firstStatus:
            if c == 0x20 { return .next }
            guard c &- 0x30 < 10 else { fail(.badStatus); return .next }
            status = Int(c - 0x30)
            phase = .statusCode
        case .statusCode:
            if c &- 0x30 < 10 {
                status = status * 10 + Int(c - 0x30)
                if status > 999 { fail(.badStatus) }
            } else if c == 0x20 {
                phase = .reason
            } else if c == 0x0D || c == 0x0A {
                phase = .reason
                return .again
            } else {
                fail(.badStatus)
            }
        default:   // .statusLF
            return expect(c, 0x0A, .lineStart, .missingLF)
        }
        return .next
    }

    @inline(__always)
    mutating func expect(_ c: UInt8, _ wanted: UInt8, _ then: ResponsePhase, _ otherwise: ResponseError) -> Step {
        if c == wanted { phase = then } else { fail(otherwise) }
        return .next
    }

    /// The reason phrase: any bytes up to CR or LF.
    mutating func scanReason(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
        var p = start
        while p < end && p[0] != 0x0D && p[0] != 0x0A { p += 1 }
        guard p < end else { return p }
        phase = p[0] == 0x0D ? .statusLF : .lineStart
        return p + 1
    }

    /// A header name: token characters (and blanks) up to ':', then classified.
    mutating func scanName(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ base: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
        var p = start
        while p < end && isToken(p[0], blank: true) { p += 1 }
        guard p < end else { return p }
        guard p[0] == 0x3A else {
            fail(.badHeaderName)
            return p
        }
        classify(base + nameStart, p - (base + nameStart))
        phase = .discardWS
        return p + 1
    }
}

/// RFC 7230's tchar: ! # $ % & ' * + - . ^ _ ` | ~ digits letters; with `blank`, also the space (http_parser
/// built non-strict accepts it in header names).
@inline(__always)
func isToken(_ c: UInt8, blank: Bool = false) -> Bool {
    if c < 64 { return (0x03FF_6CFA_0000_0000 as UInt64 | (blank ? 1 << 32 : 0)) >> c & 1 != 0 }
    return c < 128 && (0x57FF_FFFF_C7FF_FFFE as UInt64) >> (c - 64) & 1 != 0
}
