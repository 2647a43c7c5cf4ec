/// `--hdr-log FILE`: HdrHistogram's standard interval log (format 1.3, what Java's HistogramLogWriter
/// writes and HistogramLogReader / HistogramLogProcessor and Python hdrh's HistogramLogReader read):
/// one interval a second, an untagged line for all requests and a `Tag=` line per stats row.
///
///     #[Histogram log format version 1.3]
///     #[StartTime: 1764288000.123 (seconds since epoch)]
///     #[BaseTime: 1764288000.123 (seconds since epoch)]
///     "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
///     0.000,1.050,0.913,HISTFAAA…
///     Tag=GET_/health,0.000,1.050,0.913,HISTFAAA…
///
/// Values are µs (Interval_Max in ms); timestamps are seconds after BaseTime, the users' start. A row's
/// tag is its name, with the method before it unless the name starts with it, spaces and commas as `_`: Java's reader splits fields at both.
/// The intervals come from the once-a-second cumulative rows the Runner already merges (nothing per
/// request): each is the difference from the second before.
public final class HdrLogRecorder {
    /// Each row's cumulative histogram at the last interval, by "METHOD name".
    private var previous: [String: LatencyHistogram] = [:]
    private var lastElapsed = 0.0
    /// The intervals' lines so far, in an unlinked temporary file (a second's lines are a few KB per name:
    /// a day's would be gigabytes in memory); a chunk the file could not take stays here as text.
    private let spool = HistogramSpool()
    private var chunks: [Chunk] = []
    private enum Chunk { case spooled(offset: Int64, length: Int), text(String) }

    public init() {}

    /// Records the interval up to this tick.
    public func observe(_ event: RunEvent) {
        guard case .tick(let progress) = event else { return }
        record(progress.currentStats().rows, until: progress.elapsed)
    }

    /// The log: the intervals so far and the last one, up to the end of `summary` (whose rows are final).
    public func render(_ summary: Summary) -> String {
        record(summary.rows, until: max(summary.durationSeconds, lastElapsed))
        var out = HdrLogRecorder.header(summary)
        for chunk in chunks {
            switch chunk {
            case .spooled(let offset, let length): out += String(decoding: spool.read(offset: offset, length: length), as: UTF8.self)
            case .text(let text): out += text
            }
        }
        return out
    }

    /// One interval: each row's histogram minus its previous cumulative one; the untagged line adds them.
    private func record(_ rows: [RowSummary], until elapsed: Double) {
        var all = makeLatencyHistogram()
        var tagged: [String] = []
        let from = lastElapsed, length = max(0, elapsed - lastElapsed)
        for row in rows {
            let key = row.key
            let interval = HdrLogRecorder.difference(row.histogram, minus: previous[key])
            previous[key] = row.histogram
            guard interval.totalCount > 0 else { continue }
            all.add(interval)
            tagged.append(HdrLogRecorder.line(tag: HdrLogRecorder.tag(row), from, length, interval))
        }
        lastElapsed = max(lastElapsed, elapsed)
        guard all.totalCount > 0 else { return }
        let text = HdrLogRecorder.line(tag: nil, from, length, all) + tagged.joined()
        let bytes = Array(text.utf8)
        if let offset = spool.append(bytes) { chunks.append(.spooled(offset: offset, length: bytes.count)) } else { chunks.append(.text(text)) }
    }

    /// The row's name, with its method first unless the name starts with it ("GET /health" stays so).
    static func tag(_ row: RowSummary) -> String {
        row.method.isEmpty || row.name.hasPrefix(row.method + " ") ? row.label : row.method + " " + row.label
    }

    static func difference(_ now: LatencyHistogram, minus before: LatencyHistogram?) -> LatencyHistogram {
        guard let before else { return now }
        var out = makeLatencyHistogram()
        for v in now.recordedValues() {
            let c = UInt64(v.count) - min(UInt64(v.count), UInt64(before.countForValue(v.value)))
            if c > 0 { _ = out.record(v.value, count: c) }
        }
        return out
    }

    static func line(tag: String?, _ start: Double, _ length: Double, _ h: LatencyHistogram) -> String {
        var out = ""
        if let tag {
            out += "Tag=" + String(tag.map { $0 == " " || $0 == "," || $0 == "\n" || $0 == "\r" ? "_" : $0 }) + ","
        }
        out += Format.fixed(start, 3) + "," + Format.fixed(length, 3) + "," + Format.fixed(Double(h.max) / 1000, 3) + ","
        return out + HdrCodec.encodeBase64(h) + "\n"
    }
}
