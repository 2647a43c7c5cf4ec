/// The body: a Content-Length's bytes, everything up to EOF, or chunks (whose trailers go back to the head machine).
extension ClientResponseParser {
    /// Feeds body bytes. Returns how many of them belong to the body's current phase.
    mutating func feedBody(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int {
        switch phase {
        case .identity, .chunkData:
            let n = remaining < UInt64(count) ? Int(remaining) : count
            body.append(p, n)
            remaining -= UInt64(n)
            if remaining == 0 {
                if phase == .identity { finish() } else { phase = .chunkDataCR }
            }
            return n
        case .untilEOF:
            body.append(p, count)
            return count
        case .chunkDataCR:
            if p[0] == 0x0D { phase = .chunkDataLF } else { fail(.badChunkEnd) }
            return 1
        case .chunkDataLF:
            if p[0] == 0x0A { phase = .chunkSizeStart } else { fail(.badChunkEnd) }
            return 1
        default:
            return feedChunkSize(p, count)
        }
    }

    /// A chunk-size line: hex digits, then extensions (";name=value", skipped) up to CRLF.
    /// Returns how many bytes it took (up to its LF).
    mutating func feedChunkSize(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int {
        var k = 0
        while k < count && error == nil {
            let c = p[k]
            k += 1
            lineBytes += 1
            if lineBytes > Self.maxHeadSize { fail(.chunkLineTooLarge); break }
            switch phase {
            case .chunkSizeStart:
                guard let v = hexValue(c) else { fail(.badChunkSize); break }
                remaining = v
                phase = .chunkSize
            case .chunkSize:
                if c == 0x0D {
                    phase = .chunkSizeLF
                } else if let v = hexValue(c) {
                    guard (UInt64.max - 16) / 16 >= remaining else { fail(.badChunkSize); break }
                    remaining = remaining * 16 + v
                } else if c == 0x3B || c == 0x20 {   // ; or blank
                    phase = .chunkExtension
                } else {
                    fail(.badChunkSize)
                }
            case .chunkExtension:
                if c == 0x0D { phase = .chunkSizeLF }
            default:   // .chunkSizeLF
                guard c == 0x0A else { fail(.missingLF); break }
                endChunkSize()
                return k
            }
        }
        return k
    }

    /// The chunk-size line ended: data follows, or for size 0 the trailers.
    @inline(__always)
    mutating func endChunkSize() {
        lineBytes = 0
        if remaining > 0 {
            phase = .chunkData
        } else {
            trailing = true
            phase = .lineStart
            pos = head.count
        }
    }

    /// A hex digit's value. Like http_parser (whose table leaves bytes from 0x80 at 0), those bytes count as 0.
    @inline(__always)
    func hexValue(_ c: UInt8) -> UInt64? {
        if c &- 0x30 < 10 { return UInt64(c - 0x30) }
        if c >= 0x80 { return 0 }
        let l = c | 0x20
        if l &- 0x61 < 6 { return UInt64(l - 0x61 + 10) }
        return nil
    }
}
