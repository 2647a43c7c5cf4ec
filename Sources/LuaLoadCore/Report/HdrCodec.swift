import CZlib

/// HdrHistogram's V2 serialization, the form Java/C/Go/Python HdrHistogram read with
/// `decodeFromCompressedByteBuffer` / `HdrHistogram.decode`:
///
///     uncompressed: cookie 0x1c849313 (V2 base 0x1c849303 | 0x10), payload length, normalizing index offset,
///                   significant digits, lowest (i64), highest (i64), integer-to-double ratio (f64, 1.0),
///                   then the counts as ZigZag LEB128 (≤ 9 bytes a word), a run of k > 1 zeros written as -k
///     compressed:   cookie 0x1c849314 (V2 base 0x1c849304 | 0x10), length, zlib stream of the above
///     text:         base64 of the compressed form ("HISTFAAA…")
///
/// All integers are big-endian.
public enum HdrCodec {
    public static let encodingCookie: UInt32 = 0x1c84_9303 | 0x10
    public static let compressedCookie: UInt32 = 0x1c84_9304 | 0x10

    public struct DecodeError: Error, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// A histogram as the wire format sees it: parameters and a counts array (index → count).
    public struct Decoded: Equatable {
        public var lowest: UInt64
        public var highest: UInt64
        public var significantDigits: Int
        public var counts: [UInt64]

        public var totalCount: UInt64 { counts.reduce(0, +) }

        /// Into the engine's histogram type (which must have the same parameters to be exact).
        public func histogram() throws -> LatencyHistogram {
            var h = makeLatencyHistogram()
            guard h.lowestDiscernibleValue == lowest, Int(h.numberOfSignificantValueDigits.rawValue) == significantDigits else {
                throw DecodeError("histogram parameters differ: lowest \(lowest), digits \(significantDigits)")
            }
            let layout = Layout(lowest: lowest, highest: highest, digits: significantDigits)
            for (i, c) in counts.enumerated() where c > 0 {
                _ = h.record(layout.valueFromIndex(i), count: c)
            }
            return h
        }
    }

    /// The bucket layout of an HdrHistogram, from its three parameters (the same arithmetic as every
    /// HdrHistogram implementation, so indexes match theirs).
    public struct Layout {
        public let unitMagnitude: Int
        public let subBucketHalfCountMagnitude: Int
        public let subBucketCount: Int
        public let countsLength: Int
        let leadingZeroCountBase: Int
        let subBucketMask: UInt64

        public init(lowest: UInt64, highest: UInt64, digits: Int) {
            unitMagnitude = 63 - Int(max(lowest, 1).leadingZeroBitCount)
            var largest: UInt64 = 2
            for _ in 0..<digits { largest *= 10 }
            let subBucketCountMagnitude = 64 - (largest - 1).leadingZeroBitCount    // ceil(log2(largest))
            subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
            subBucketCount = 1 << (subBucketHalfCountMagnitude + 1)
            subBucketMask = UInt64(subBucketCount - 1) << UInt64(unitMagnitude)
            leadingZeroCountBase = 64 - unitMagnitude - (subBucketHalfCountMagnitude + 1)
            var smallestUntrackable = UInt64(subBucketCount) << UInt64(unitMagnitude)
            var buckets = 1
            while smallestUntrackable <= highest {
                if smallestUntrackable > UInt64(Int64.max) / 2 { buckets += 1; break }
                smallestUntrackable <<= 1
                buckets += 1
            }
            countsLength = (buckets + 1) * (subBucketCount / 2)
        }

        public func index(of value: UInt64) -> Int {
            let bucket = leadingZeroCountBase - (value | subBucketMask).leadingZeroBitCount
            let sub = Int(value >> UInt64(bucket + unitMagnitude))
            return ((bucket + 1) << subBucketHalfCountMagnitude) + sub - (subBucketCount / 2)
        }

        public func valueFromIndex(_ index: Int) -> UInt64 {
            var bucket = (index >> subBucketHalfCountMagnitude) - 1
            var sub = (index & (subBucketCount / 2 - 1)) + subBucketCount / 2
            if bucket < 0 { sub -= subBucketCount / 2; bucket = 0 }
            return UInt64(sub) << UInt64(bucket + unitMagnitude)
        }
    }

    // MARK: encoding

    /// The uncompressed V2 encoding.
    public static func encode(_ h: LatencyHistogram) -> [UInt8] {
        let digits = Int(h.numberOfSignificantValueDigits.rawValue)
        let layout = Layout(lowest: h.lowestDiscernibleValue, highest: h.highestTrackableValue, digits: digits)
        var payload: [UInt8] = []
        var next = 0    // the first index not yet written
        for v in h.recordedValues() {
            let i = layout.index(of: v.value)
            let zeros = i - next
            if zeros > 1 { putZigZag(&payload, -Int64(zeros)) } else if zeros == 1 { putZigZag(&payload, 0) }
            putZigZag(&payload, Int64(v.count))
            next = i + 1
        }
        if next == 0 { putZigZag(&payload, 0) }    // empty: index 0's zero count, as Java writes it
        var out: [UInt8] = []
        out.reserveCapacity(40 + payload.count)
        put32(&out, encodingCookie)
        put32(&out, UInt32(payload.count))
        put32(&out, 0)                              // normalizing index offset
        put32(&out, UInt32(digits))
        put64(&out, h.lowestDiscernibleValue)
        put64(&out, h.highestTrackableValue)
        put64(&out, (1.0 as Double).bitPattern)     // integer to double value conversion ratio
        out += payload
        return out
    }

    /// The compressed V2 encoding: cookie, length, zlib stream.
    public static func encodeCompressed(_ h: LatencyHistogram) -> [UInt8] {
        compress(encode(h))
    }

    /// Base64 of the compressed encoding: "HISTFAAA…".
    public static func encodeBase64(_ h: LatencyHistogram) -> String {
        Base64.encode(encodeCompressed(h))
    }

    // MARK: decoding

    public static func decodeBase64(_ text: String) throws -> Decoded {
        guard let bytes = Base64.decode(text) else { throw DecodeError("bad base64") }
        return try decode(bytes)
    }

    /// Decodes the compressed or the uncompressed V2 form.
    public static func decode(_ bytes: [UInt8]) throws -> Decoded {
        guard bytes.count >= 8 else { throw DecodeError("too short") }
        let cookie = get32(bytes, 0)
        if cookie & ~0xf0 == compressedCookie & ~0xf0 {
            let length = Int(get32(bytes, 4))
            guard 8 + length <= bytes.count else { throw DecodeError("compressed length \(length) past the end") }
            let input = Array(bytes[8..<(8 + length)])
            var capacity = max(4096, length * 8)
            while true {
                var outLen = uLong(capacity)
                var out = [UInt8](repeating: 0, count: capacity)
                let rc = uncompress(&out, &outLen, input, uLong(input.count))
                if rc == Z_BUF_ERROR && capacity < 1 << 30 { capacity *= 4; continue }
                guard rc == Z_OK else { throw DecodeError("zlib uncompress failed: \(rc)") }
                return try decode(Array(out[0..<Int(outLen)]))
            }
        }
        guard cookie & ~0xf0 == encodingCookie & ~0xf0 else {
            throw DecodeError("not a V2 HdrHistogram encoding (cookie 0x\(String(cookie, radix: 16)))")
        }
        guard bytes.count >= 40 else { throw DecodeError("header too short") }
        let payloadLength = Int(get32(bytes, 4))
        let offset = Int(Int32(bitPattern: get32(bytes, 8)))
        let digits = Int(get32(bytes, 12))
        let lowest = get64(bytes, 16), highest = get64(bytes, 24)
        guard offset == 0 else { throw DecodeError("normalizing index offset \(offset) is not supported") }
        guard (0...5).contains(digits), lowest >= 1, highest >= 2 * lowest else { throw DecodeError("bad parameters") }
        guard 40 + payloadLength <= bytes.count else { throw DecodeError("payload length past the end") }
        let layout = Layout(lowest: lowest, highest: highest, digits: digits)
        var counts = [UInt64](repeating: 0, count: layout.countsLength)
        var pos = 40, index = 0
        let end = 40 + payloadLength
        while pos < end {
            guard let v = getZigZag(bytes, &pos, end) else { throw DecodeError("truncated count") }
            if v < 0 {
                index += Int(-v)
            } else {
                guard index < counts.count else { throw DecodeError("count index \(index) past the histogram") }
                counts[index] = UInt64(v)
                index += 1
            }
        }
        return Decoded(lowest: lowest, highest: highest, significantDigits: digits, counts: counts)
    }

    // MARK: bytes

    static func putZigZag(_ out: inout [UInt8], _ value: Int64) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        for _ in 0..<8 {
            if v >> 7 == 0 { out.append(UInt8(v)); return }
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(truncatingIfNeeded: v))    // the 9th byte carries 8 bits
    }

    static func getZigZag(_ b: [UInt8], _ pos: inout Int, _ end: Int) -> Int64? {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        for k in 0..<9 {
            guard pos < end else { return nil }
            let byte = b[pos]; pos += 1
            if k == 8 { v |= UInt64(byte) << 56; break }
            v |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    static func put32(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }

    static func put64(_ out: inout [UInt8], _ v: UInt64) {
        put32(&out, UInt32(v >> 32)); put32(&out, UInt32(v & 0xffff_ffff))
    }

    static func get32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }

    static func get64(_ b: [UInt8], _ at: Int) -> UInt64 {
        UInt64(get32(b, at)) << 32 | UInt64(get32(b, at + 4))
    }
}

/// RFC 4648 base64 with padding, no Foundation.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil on a character outside the alphabet; whitespace is skipped.
    public static func decode(_ text: String) -> [UInt8]? {
        var table = [Int16](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int16(i) }
        var out: [UInt8] = []
        var acc: UInt32 = 0, bits = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") { break }
            if c == 32 || c == 10 || c == 13 || c == 9 { continue }
            let v = table[Int(c)]
            guard v >= 0 else { return nil }
            acc = acc << 6 | UInt32(v); bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8(acc >> UInt32(bits) & 0xff)) }
        }
        return out
    }
}
