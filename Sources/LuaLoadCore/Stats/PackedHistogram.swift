#if canImport(Glibc)
import Glibc
#endif

/// A latency histogram kept small: HdrHistogram's compressed V2 form (`HdrCodec.encodeCompressed`, the
/// bytes the JSON's `hdr` fields are base64 of), in memory or in a `HistogramSpool`'s file.
///
/// Why: the run's history keeps one histogram a second. A whole `LatencyHistogram` is ~188 KB and even
/// its non-empty buckets as (value, count) pairs were ~30 KB a second at 60k requests/s: RSS grew
/// 38.6 KB/s (136 MB an hour). Compressed, a second is ~1.7 KB; spooled, the history keeps ~100 bytes
/// a second in memory (docs/how-it-works.md, "Memory over a long run").
public struct PackedHistogram {
    enum Storage {
        case bytes([UInt8])
        case spooled(HistogramSpool, offset: Int64, length: Int)
    }
    let storage: Storage

    /// `h` compressed; into `spool`'s file when one is given (and can take it), else kept in memory.
    public init(_ h: LatencyHistogram, spool: HistogramSpool? = nil) {
        self.init(compressed: HdrCodec.encodeCompressed(h), spool: spool)
    }

    /// Bytes already in the compressed V2 form (e.g. a JSON document's `hdr`, base64-decoded).
    public init(compressed: [UInt8], spool: HistogramSpool? = nil) {
        if let spool, let offset = spool.append(compressed) {
            storage = .spooled(spool, offset: offset, length: compressed.count)
        } else {
            storage = .bytes(compressed)
        }
    }

    /// The compressed V2 bytes.
    public var compressed: [UInt8] {
        switch storage {
        case .bytes(let b): return b
        case .spooled(let spool, let offset, let length): return spool.read(offset: offset, length: length)
        }
    }

    /// `hdr` in a JSON document: base64 of the compressed form ("HISTFAAA…").
    public var base64: String { Base64.encode(compressed) }

    /// The histogram again (empty if the bytes cannot be read back, which a spool's own file never does).
    public func histogram() -> LatencyHistogram {
        (try? HdrCodec.decode(compressed).histogram()) ?? makeLatencyHistogram()
    }

    /// The non-empty buckets, for the CSV history's Locust-style percentiles.
    public func sparse() -> SparseHistogram { SparseHistogram(histogram()) }
}

/// An append-only store for a run's packed histograms: an unlinked temporary file (in `$TMPDIR`, else
/// /tmp), so the bytes leave memory and the file goes away with the process however it ends. If no file
/// can be made or a write fails, `append` returns nil and the caller keeps the bytes in memory: a full
/// disk costs memory, never data. Used by one thread at a time (the Runner's, then the reports').
public final class HistogramSpool: @unchecked Sendable {
    private var fd: Int32 = -1
    private var size: Int64 = 0

    public init() {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((dir + "/luaload-history-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard made >= 0 else { return }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        fd = made
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Writes `bytes` at the end; their offset, or nil when they stay with the caller.
    func append(_ bytes: [UInt8]) -> Int64? {
        guard fd >= 0 else { return nil }
        let at = size
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(at) + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }   // (the partial bytes are past `size`: overwritten next time)
            done += n
        }
        size += Int64(bytes.count)
        return at
    }

    func read(offset: Int64, length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, length - done, off_t(offset) + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return [] }
            done += n
        }
        return out
    }

    /// Bytes in the file (for tests and the memory benchmark's notes).
    public var bytesSpooled: Int64 { size }
}
