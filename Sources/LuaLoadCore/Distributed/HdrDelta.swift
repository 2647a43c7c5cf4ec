import CZlib

/// Once a second an agent turns each row's cumulative histogram into what changed since the last second.
/// Walking a histogram with its iterator costs ~100 instructions a bucket up to the largest value (a row
/// whose slowest request took 50 ms: ~0.5M instructions a walk, two walks a row a second); here the bucket
/// arrays are subtracted and encoded in one tight loop over them (HdrHistogram's V2 encoding, the same
/// bytes as `HdrCodec.encodeCompressed`, checked by a test).
enum HdrDelta {
    /// The histogram's bucket counts, in HdrHistogram's index order. The library keeps the array internal:
    /// it is read by reflection, once a second; should the library's layout change, by a walk.
    static func counts(_ h: LatencyHistogram) -> [UInt64] {
        let layout = HdrCodec.Layout(lowest: h.lowestDiscernibleValue, highest: h.highestTrackableValue,
                                     digits: Int(h.numberOfSignificantValueDigits.rawValue))
        for child in Mirror(reflecting: h).children where child.label == "counts" {
            if let counts = child.value as? [UInt64], counts.count == layout.countsLength { return counts }
        }
        var counts = [UInt64](repeating: 0, count: layout.countsLength)
        for v in h.recordedValues() { counts[layout.index(of: v.value)] += UInt64(v.count) }
        return counts
    }

    /// Base64 of the compressed V2 encoding of `now` minus `before` (bucket counts of an earlier copy of
    /// the same histogram; nil: nothing before), and `now`'s counts for the next call.
    static func encode(_ now: LatencyHistogram, minus before: [UInt64]?) -> (text: String, counts: [UInt64]) {
        let counts = counts(now)
        var payload: [UInt8] = []
        payload.reserveCapacity(256)
        var zeros = 0
        var wrote = false
        counts.withUnsafeBufferPointer { now in
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
        HdrCodec.put32(&raw, UInt32(now.numberOfSignificantValueDigits.rawValue))
        HdrCodec.put64(&raw, now.lowestDiscernibleValue)
        HdrCodec.put64(&raw, now.highestTrackableValue)
        HdrCodec.put64(&raw, (1.0 as Double).bitPattern)
        raw += payload
        return (Base64.encode(HdrCodec.compress(raw)), counts)
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
