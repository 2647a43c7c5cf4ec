import CZlib

/// Once a second an agent turns each row's cumulative histogram into what changed since the last second.
/// Walking a histogram with its iterator costs ~100 instructions a bucket up to the largest value (a row
/// whose slowest request took 50 ms: ~0.5M instructions a walk), and merging the threads' rows into new
/// histograms copies 188 KB each; here the bucket arrays themselves are added, subtracted and encoded in
/// tight loops (HdrHistogram's V2 encoding: the same bytes as `HdrCodec.encode`, checked by a test).
enum HdrDelta {
    /// The latency histograms' parameters (every row's and second's).
    static let template = makeLatencyHistogram()
    static let length = HdrCodec.Layout(lowest: template.lowestDiscernibleValue, highest: template.highestTrackableValue,
                                        digits: Int(template.numberOfSignificantValueDigits.rawValue)).countsLength
    /// A trend's histograms (custom metrics: values × 1000 up to 10^12).
    static let trendTemplate = makeTrendHistogram()
    static let trendLength = HdrCodec.Layout(lowest: trendTemplate.lowestDiscernibleValue, highest: trendTemplate.highestTrackableValue,
                                             digits: Int(trendTemplate.numberOfSignificantValueDigits.rawValue)).countsLength

    /// A latency histogram's bucket counts, in HdrHistogram's index order. The library keeps the array
    /// internal: it is read by reflection (no copy), once a second; should its layout change, by a walk.
    static func counts(_ h: LatencyHistogram) -> [UInt64] { counts(h, length: length) }

    /// The bucket counts of a histogram of another layout (a trend's: `trendLength`).
    static func counts(_ h: LatencyHistogram, length: Int) -> [UInt64] {
        for child in Mirror(reflecting: h).children where child.label == "counts" {
            if let counts = child.value as? [UInt64], counts.count == length { return counts }
        }
        let layout = HdrCodec.Layout(lowest: h.lowestDiscernibleValue, highest: h.highestTrackableValue,
                                     digits: Int(h.numberOfSignificantValueDigits.rawValue))
        var counts = [UInt64](repeating: 0, count: length)
        for v in h.recordedValues() { counts[layout.index(of: v.value)] += UInt64(v.count) }
        return counts
    }

    /// Adds a delta sent by `encode` (its own layout, in its header) into `h`, bucket by bucket.
    static func decode(_ text: String, into h: inout LatencyHistogram) throws {
        let d = try HdrCodec.decodeBase64(text)
        let layout = HdrCodec.Layout(lowest: d.lowest, highest: d.highest, digits: d.significantDigits)
        for (i, c) in d.counts.enumerated() where c > 0 { _ = h.record(layout.valueFromIndex(i), count: c) }
    }

    /// `into` += `other`, bucket by bucket (the threads' rows of one name).
    static func add(_ other: [UInt64], into sum: inout [UInt64]) {
        guard other.count == sum.count else { return }
        sum.withUnsafeMutableBufferPointer { s in other.withUnsafeBufferPointer { o in for i in 0..<s.count { s[i] &+= o[i] } } }
    }

    /// Base64 of the V2 encoding (zlib-compressed when `compressed`) of the latency histogram with bucket
    /// counts `now` minus `before` (nil: nothing before).
    static func encode(_ now: [UInt64], minus before: [UInt64]?, compressed: Bool = false, like h: LatencyHistogram = template) -> String {
        var payload: [UInt8] = []
        payload.reserveCapacity(256)
        var zeros = 0
        var wrote = false
        now.withUnsafeBufferPointer { now in
            let n = now.count
            func emit(_ c: UInt64) {
                if zeros > 1 { HdrCodec.putZigZag(&payload, -Int64(zeros)) } else if zeros == 1 { HdrCodec.putZigZag(&payload, 0) }
                zeros = 0
                HdrCodec.putZigZag(&payload, Int64(c))
                wrote = true
            }
            // Most buckets are empty, or did not change this second: skipped 8 at a time.
            func scan(_ old: UnsafeBufferPointer<UInt64>?) {
                var i = 0
                while i < n {
                    if i + 8 <= n {
                        var changed: UInt64 = 0
                        if let old { for k in i..<i + 8 { changed |= now[k] ^ old[k] } } else { for k in i..<i + 8 { changed |= now[k] } }
                        if changed == 0 { zeros += 8; i += 8; continue }
                    }
                    let end = min(i + 8, n)
                    for k in i..<end {
                        let c = now[k] &- min(now[k], old?[k] ?? 0)
                        if c == 0 { zeros += 1 } else { emit(c) }
                    }
                    i = end
                }
            }
            if let before, before.count == n { before.withUnsafeBufferPointer { scan($0) } } else { scan(nil) }
        }
        if !wrote { HdrCodec.putZigZag(&payload, 0) }   // empty: index 0's zero count, as Java writes it
        var raw: [UInt8] = []
        raw.reserveCapacity(40 + payload.count)
        HdrCodec.put32(&raw, HdrCodec.encodingCookie)
        HdrCodec.put32(&raw, UInt32(payload.count))
        HdrCodec.put32(&raw, 0)
        HdrCodec.put32(&raw, UInt32(h.numberOfSignificantValueDigits.rawValue))
        HdrCodec.put64(&raw, h.lowestDiscernibleValue)
        HdrCodec.put64(&raw, h.highestTrackableValue)
        HdrCodec.put64(&raw, (1.0 as Double).bitPattern)
        raw += payload
        // The link sends it uncompressed: zero runs already make it small, and a zlib stream's set-up costs
        // more than the rest of the second's message (~0.2M instructions).
        return Base64.encode(compressed ? HdrCodec.compress(raw) : raw)
    }
}

extension HdrCodec {
    /// The compressed form of an uncompressed V2 encoding: cookie, length, zlib stream.
    static func compress(_ raw: [UInt8]) -> [UInt8] {
        var bound = compressBound(uLong(raw.count))
        var z = [UInt8](repeating: 0, count: Int(bound))
        let rc = compress2(&z, &bound, raw, uLong(raw.count), Z_DEFAULT_COMPRESSION)
        precondition(rc == Z_OK, "zlib compress2 failed: \(rc)")
        var out: [UInt8] = []
        out.reserveCapacity(8 + Int(bound))
        put32(&out, compressedCookie)
        put32(&out, UInt32(bound))
        out += z[0..<Int(bound)]
        return out
    }
}
