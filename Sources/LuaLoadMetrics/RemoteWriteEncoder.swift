import CSnappy

/// Prometheus remote write 1.0's body: a `prometheus.WriteRequest` in protobuf, snappy-compressed (block
/// format). The message is four small types and three wire types, so it is encoded here rather than
/// through protobuf-c, which would need protoc-c's generated C in the tree for ~60 lines of encoding:
///
///     WriteRequest { repeated TimeSeries timeseries = 1; }
///     TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
///     Label        { string name = 1; string value = 2; }
///     Sample       { double value = 1; int64 timestamp = 2; }   // timestamp: Unix ms
///
/// Each series carries `__name__` and its labels sorted by name, as the receiver requires.
public enum RemoteWriteEncoder {
    /// The protobuf bytes of a WriteRequest with one sample per series, all at `set.timestampMs`.
    public static func writeRequest(_ set: MetricSet) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(set.seriesCount * 128)
        var series: [UInt8] = [], scratch: [UInt8] = []
        for f in set.families {
            for s in f.samples {
                series.removeAll(keepingCapacity: true)
                var labels = s.labels
                labels.append(MetricLabel("__name__", f.name + s.suffix))
                labels.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
                for l in labels {
                    scratch.removeAll(keepingCapacity: true)
                    appendString(&scratch, field: 1, l.name)
                    appendString(&scratch, field: 2, l.value)
                    appendBytes(&series, field: 1, scratch)
                }
                scratch.removeAll(keepingCapacity: true)
                appendTag(&scratch, field: 1, wireType: 1)
                appendFixed64(&scratch, s.value.bitPattern)
                appendTag(&scratch, field: 2, wireType: 0)
                appendVarint(&scratch, UInt64(bitPattern: set.timestampMs))
                appendBytes(&series, field: 2, scratch)
                appendBytes(&out, field: 1, series)
            }
        }
        return out
    }

    /// The body of a push: the WriteRequest, snappy-compressed.
    public static func body(_ set: MetricSet) -> [UInt8] { compress(writeRequest(set)) }

    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var length = snappy_max_compressed_length(input.count)
        var out = [UInt8](repeating: 0, count: length)
        let status = input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                o.baseAddress!.withMemoryRebound(to: CChar.self, capacity: o.count) { op in
                    i.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(i.count, 1)) { ip in
                        snappy_compress(ip, input.count, op, &length)
                    }
                }
            }
        }
        precondition(status == SNAPPY_OK, "snappy_compress: buffer of snappy_max_compressed_length too small")
        out.removeSubrange(length...)
        return out
    }

    /// Snappy's block format back to bytes (nil when it is not valid): for tests and checks.
    public static func uncompress(_ input: [UInt8]) -> [UInt8]? {
        var length = 0
        let ok = input.withUnsafeBufferPointer { i -> Bool in
            i.baseAddress!.withMemoryRebound(to: CChar.self, capacity: i.count) { snappy_uncompressed_length($0, input.count, &length) == SNAPPY_OK }
        }
        guard ok else { return nil }
        var out = [UInt8](repeating: 0, count: length)
        let status = input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                o.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(o.count, 1)) { op in
                    i.baseAddress!.withMemoryRebound(to: CChar.self, capacity: i.count) { ip in
                        snappy_uncompress(ip, input.count, op, &length)
                    }
                }
            }
        }
        return status == SNAPPY_OK ? out : nil
    }

    static func appendVarint(_ out: inout [UInt8], _ value: UInt64) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func appendTag(_ out: inout [UInt8], field: UInt64, wireType: UInt64) { appendVarint(&out, field << 3 | wireType) }

    static func appendFixed64(_ out: inout [UInt8], _ v: UInt64) {
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    static func appendBytes(_ out: inout [UInt8], field: UInt64, _ bytes: [UInt8]) {
        appendTag(&out, field: field, wireType: 2)
        appendVarint(&out, UInt64(bytes.count))
        out += bytes
    }

    static func appendString(_ out: inout [UInt8], field: UInt64, _ s: String) {
        appendTag(&out, field: field, wireType: 2)
        appendVarint(&out, UInt64(s.utf8.count))
        out += s.utf8
    }
}
