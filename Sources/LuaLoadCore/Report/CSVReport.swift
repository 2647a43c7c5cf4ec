/// Locust's four CSV files (`--csv PREFIX`), with Locust 2.x's exact headers (checked against Locust 2.47.0's
/// `locust/stats.py` and its real output), values written the way Locust writes them:
/// times in ms, medians and percentiles from Locust's 2-significant-digit buckets as integers, floats in
/// Python's repr, "N/A" percentiles for a row without requests, CRLF line ends and RFC 4180 quoting (as Python's
/// `csv.writer`).
public enum CSVReport {
    public static let percentileColumns = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
    public static let statsHeader = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                                     "Average Response Time", "Min Response Time", "Max Response Time",
                                     "Average Content Size", "Requests/s", "Failures/s"] + percentileColumns
    public static let historyHeader = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"] + percentileColumns
        + ["Total Request Count", "Total Failure Count", "Total Median Response Time", "Total Average Response Time",
           "Total Min Response Time", "Total Max Response Time", "Total Average Content Size"]
    public static let failuresHeader = ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"]
    public static let exceptionsHeader = ["Count", "Message", "Traceback", "Nodes"]

    /// (path, contents) for the four files of `--csv prefix`.
    public static func files(_ s: Summary, prefix: String, fullHistory: Bool) -> [(path: String, text: String)] {
        [(prefix + "_stats.csv", stats(s)),
         (prefix + "_stats_history.csv", history(s, fullHistory: fullHistory)),
         (prefix + "_failures.csv", failures(s)),
         (prefix + "_exceptions.csv", exceptions(s))] + ScriptMetricsReport.csvFiles(s, prefix: prefix)
            + ScenarioReport.csvFiles(s, prefix: prefix)
    }

    // MARK: files

    public static func stats(_ s: Summary) -> String {
        var out = line(statsHeader)
        for r in s.rows + [s.total] {
            let times = LocustTimes(r.histogram)
            let maxMs = r.maxMs   // the exact largest value recorded
            var f = [r.method, r.label, "\(r.requests)", "\(r.failures)",
                     times.median(minMs: r.minMs, maxMs: maxMs),
                     py(r.avgMs), r.requests > 0 ? py(r.minMs) : "0", r.requests > 0 ? py(maxMs) : "0",
                     r.requests > 0 ? py(r.avgContentSize) : "0",
                     py(s.rps(r)), py(s.failuresPerSecond(r))]
            f += times.percentileFields(count: r.requests)
            out += line(f)
        }
        return out
    }

    /// One row a second (with `fullHistory`, one per name too, before the Aggregated row).
    /// As in Locust, the Aggregated row's percentiles are cumulative unless `fullHistory`, where every row's
    /// are the last 10 seconds'. Rates are each second's own. Content size is not kept per second: 0.
    public static func history(_ s: Summary, fullHistory: Bool) -> String {
        var out = line(historyHeader)
        var series: [(method: String, name: String, points: [HistoryPoint])] = []
        if fullHistory {
            for r in s.rows {
                if let points = s.historyByName[r.key] { series.append((r.method, r.label, points)) }
            }
        }
        series.append(("", "Aggregated", s.history))
        var trackers = series.map { _ in HistoryTracker() }
        for (k, point) in s.history.enumerated() {
            let timestamp = s.startUnixTime + Int(point.elapsed)
            let dt = k == 0 ? point.elapsed : point.elapsed - s.history[k - 1].elapsed
            for (j, entry) in series.enumerated() {
                guard k < entry.points.count else { continue }
                let p = entry.points[k]
                trackers[j].add(p)
                let t = trackers[j]
                var f = ["\(timestamp)", "\(point.users)", entry.method, entry.name,
                         Format.fixed(dt > 0 ? Double(p.requests) / dt : 0, 6),
                         Format.fixed(dt > 0 ? Double(p.failures) / dt : 0, 6)]
                if t.requests == 0 {
                    f += percentileColumns.map { _ in "N/A" }    // Locust: no requests yet
                } else if p.latency == nil {
                    // No bucket data: the three percentiles the point has, the rest unknown.
                    for c in percentileColumns {
                        switch c {
                        case "50%": f.append(p.requests > 0 ? "\(Int(p.p50Ms))" : "N/A")
                        case "95%": f.append(p.requests > 0 ? "\(Int(p.p95Ms))" : "N/A")
                        case "99%": f.append(p.requests > 0 ? "\(Int(p.p99Ms))" : "N/A")
                        default: f.append("N/A")
                        }
                    }
                } else if fullHistory {
                    let window = LocustTimes(merging: t.window)
                    f += window.count > 0 ? window.percentileFields(count: Int(window.count)) : percentileColumns.map { _ in "0" }
                } else {
                    f += t.cumulative.percentileFields(count: t.requests)
                }
                f += ["\(t.requests)", "\(t.failures)",
                      t.cumulative.count > 0 ? t.cumulative.median(minMs: t.minMs, maxMs: t.maxMs) : "0",
                      t.cumulative.count > 0 ? py(t.sumMs / Double(t.cumulative.count)) : "0.0",
                      t.cumulative.count > 0 ? py(t.minMs) : "0",
                      t.cumulative.count > 0 ? py(t.maxMs) : "0",
                      "0"]
                out += line(f)
            }
        }
        return out
    }

    /// First Seen / Last Seen are not tracked: empty, as Locust writes them when unknown.
    public static func failures(_ s: Summary) -> String {
        var out = line(failuresHeader)
        for f in s.failures { out += line([f.method, f.name, f.error, "\(f.occurrences)", "", ""]) }
        return out
    }

    /// Script errors; Nodes is "local", as a Locust run without workers writes it.
    public static func exceptions(_ s: Summary) -> String {
        var out = line(exceptionsHeader)
        for e in s.errors { out += line(["\(e.count)", e.message, e.traceback, "local"]) }
        return out
    }

    // MARK: formatting

    /// One CSV record, CRLF-terminated; a field with a comma, quote, CR or LF is quoted, quotes doubled (RFC 4180).
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    public static func field(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }) else { return s }
        var out = "\""
        for ch in s.unicodeScalars {
            if ch == "\"" { out += "\"\"" } else { out.unicodeScalars.append(ch) }
        }
        return out + "\""
    }

    /// A float as Python's repr writes it (shortest round-trip digits, ".0" on whole numbers).
    public static func py(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        if v == v.rounded(), abs(v) < 1e16 { return "\(Int64(v)).0" }
        return "\(v)"
    }
}

/// Locust's response-time dict (ms rounded to about 2 significant digits → count), rebuilt from an HDR
/// histogram, with Locust's percentile rule on it.
struct LocustTimes {
    var buckets: [Int: UInt64] = [:]
    var count: UInt64 = 0

    init() {}

    init(_ h: LatencyHistogram) {
        for v in h.recordedValues() { add(micros: v.value, count: UInt64(v.count)) }
    }

    init(merging parts: [SparseHistogram]) {
        for p in parts { add(p) }
    }

    mutating func add(_ p: SparseHistogram) {
        for (v, c) in zip(p.values, p.counts) { add(micros: v, count: c) }
    }

    mutating func add(micros: UInt64, count c: UInt64) {
        buckets[LocustTimes.bucket(Double(micros) / 1000), default: 0] += c
        count += c
    }

    /// locust.stats.bucket_response_time: Python's round() is half-to-even.
    static func bucket(_ ms: Double) -> Int {
        if ms < 100 { return Int(ms.rounded(.toNearestOrEven)) }
        if ms < 1000 { return Int((ms / 10).rounded(.toNearestOrEven)) * 10 }
        if ms < 10000 { return Int((ms / 100).rounded(.toNearestOrEven)) * 100 }
        return Int((ms / 1000).rounded(.toNearestOrEven)) * 1000
    }

    /// locust.stats.calculate_response_time_percentile.
    func percentile(_ fraction: Double, count n: Int) -> Int {
        let target = Int(Double(n) * fraction)
        var processed = 0
        for key in buckets.keys.sorted(by: >) {
            processed += Int(buckets[key]!)
            if n - processed <= target { return key }
        }
        return 0
    }

    /// StatsEntry.median_response_time: clamped into [min, max] (then a float, as in Locust).
    func median(minMs: Double, maxMs: Double) -> String {
        guard count > 0 else { return "0" }
        let m = percentile(0.5, count: Int(count))
        if Double(m) > maxMs { return CSVReport.py(maxMs) }
        if Double(m) < minMs { return CSVReport.py(minMs) }
        return "\(m)"
    }

    func percentileFields(count n: Int) -> [String] {
        guard n > 0 else { return CSVReport.percentileColumns.map { _ in "N/A" } }
        return Summary.percentiles.map { "\(percentile($0 / 100, count: n))" }
    }
}

/// Running totals over the history for one series.
struct HistoryTracker {
    var cumulative = LocustTimes()
    var window: [SparseHistogram] = []
    var requests = 0, failures = 0
    var sumMs = 0.0, minMs = Double.infinity, maxMs = 0.0

    mutating func add(_ p: HistoryPoint) {
        requests += p.requests
        failures += p.failures
        guard let l = p.latency?.sparse() else { return }
        cumulative.add(l)
        for (v, c) in zip(l.values, l.counts) {
            let ms = Double(v) / 1000
            sumMs += ms * Double(c)
            minMs = min(minMs, ms)
            maxMs = max(maxMs, ms)
        }
        window.append(l)
        if window.count > 10 { window.removeFirst() }
    }
}
