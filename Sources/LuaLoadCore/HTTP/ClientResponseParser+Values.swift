/// Header values: any value is checked for control characters; those of Content-Length, Transfer-Encoding and
/// Connection also go through http_parser's token matching, byte by byte.
extension ClientResponseParser {
    /// A value's first byte (after the colon's blanks, or a folded line's first blank). Like http_parser, it
    /// is not checked for control characters.
    mutating func valueStart(_ c: UInt8) {
        phase = .value
        index = 0
        let l = c | 0x20
        switch valueState {
        case .transferEncoding:
            valueState = l == 0x63 ? .matchingChunked : .encodingToken   // c
        case .contentLength:
            guard c &- 0x30 < 10 else { return fail(.badContentLength) }
            if hasContentLength { return fail(.duplicateContentLength) }
            hasContentLength = true
            contentLength = UInt64(c - 0x30)
            valueState = .contentLengthDigits
        case .connection:
            valueState = connectionToken(startingWith: l) ?? .connectionToken
        case .encodingTokenStart, .contentLengthSpaces, .connectionTokenStart:
            break
        default:
            valueState = .general
        }
    }

    @inline(__always)
    func connectionToken(startingWith l: UInt8) -> HeaderValueState? {
        switch l {
        case 0x6B: return .matchingKeepAlive   // k
        case 0x63: return .matchingClose       // c
        case 0x75: return .matchingUpgrade     // u
        default: return nil
        }
    }

    /// The rest of a value, up to CR or LF. Values of other headers are only checked, in a tight loop.
    mutating func scanValue(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
        var p = start
        if valueState == .general {
            while p < end && (p[0] > 0x1F && p[0] != 0x7F || p[0] == 0x09) { p += 1 }
            return p < end ? endValue(p) : p
        }
        while p < end {
            let c = p[0]
            guard c > 0x1F && c != 0x7F || c == 0x09 else { return endValue(p) }
            stepValue(c)
            p += 1
            if valueState == .general || error != nil { break }
        }
        return p
    }

    /// The byte at `p` ended the value: CR (LF must follow), LF, or a control character.
    @inline(__always)
    mutating func endValue(_ p: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
        switch p[0] {
        case 0x0D: phase = .valueLF
        case 0x0A: phase = .valueLWS
        default: fail(.badHeaderValue)
        }
        return p + 1
    }

    /// One byte of a Content-Length, Transfer-Encoding or Connection value after its first.
    mutating func stepValue(_ c: UInt8) {
        let l = c | 0x20
        switch valueState {
        case .contentLengthDigits:
            if c == 0x20 { valueState = .contentLengthSpaces; return }
            guard c &- 0x30 < 10, (UInt64.max - 10) / 10 >= contentLength else { return fail(.badContentLength) }
            contentLength = contentLength * 10 + UInt64(c - 0x30)
        case .contentLengthSpaces:
            if c != 0x20 { fail(.badContentLength) }
        case .encodingTokenStart:
            if l == 0x63 {
                valueState = .matchingChunked
            } else if l != 0x20 {
                valueState = isToken(l) ? .encodingToken : .general
            }
        case .matchingChunked: match(l, "chunked", .encodingChunked, else: .encodingToken)
        case .encodingToken:
            if c == 0x2C { valueState = .encodingTokenStart; index = 0 }
        case .encodingChunked:
            if c != 0x20 { valueState = .encodingToken }
        case .connectionTokenStart:
            if let matching = connectionToken(startingWith: l) {
                valueState = matching
            } else if l != 0x20 {
                valueState = isToken(l) ? .connectionToken : .general
            }
        case .matchingKeepAlive: match(l, "keep-alive", .keepAlive, else: .connectionToken)
        case .matchingClose: match(l, "close", .close, else: .connectionToken)
        case .matchingUpgrade: match(l, "upgrade", .upgrade, else: .connectionToken)
        case .connectionToken:
            if c == 0x2C { valueState = .connectionTokenStart; index = 0 }
        case .keepAlive, .close, .upgrade:
            if c == 0x2C {
                if valueState == .keepAlive { connectionKeepAlive = true }
                if valueState == .close { connectionClose = true }
                valueState = .connectionTokenStart
                index = 0
            } else if c != 0x20 {
                valueState = .connectionToken
            }
        default:
            valueState = .general
        }
    }

    /// The next letter of `word`: a mismatch swallows the byte and makes the rest a token of no interest.
    @inline(__always)
    mutating func match(_ l: UInt8, _ word: StaticString, _ matched: HeaderValueState, else other: HeaderValueState) {
        index += 1
        if l != word.utf8Start[index] {
            valueState = other
        } else if index == word.utf8CodeUnitCount - 1 {
            valueState = matched
        }
    }
}
