import Histogram
import LuaLoadCore

/// Stats since a point in the run (a reset): cumulative stats minus the cumulative stats at that point.
/// Counts subtract; histograms subtract bucket by bucket (built fresh, once a second, off the workers).
enum WebRows {
    static func key(_ r: RowSummary) -> String { r.method + " " + r.name }

    static func subtract(_ h: LatencyHistogram, _ base: LatencyHistogram) -> LatencyHistogram {
        guard base.totalCount > 0 else { return h }
        var out = makeLatencyHistogram()
        for v in h.recordedValues() {
            let before = base.countForValue(v.value)
            if v.count > before { _ = out.record(v.value, count: v.count - before) }
        }
        return out
    }

    static func subtract(_ r: RowSummary, _ base: RowSummary?) -> RowSummary {
        guard let base else { return r }
        var out = r
        out.requests -= base.requests
        out.failures -= base.failures
        out.sumMicros -= min(base.sumMicros, r.sumMicros)
        out.bytes -= min(base.bytes, r.bytes)
        out.redirects -= base.redirects
        out.histogram = subtract(r.histogram, base.histogram)
        return out
    }

    /// `s` since `base` (rows, total, failures, errors; the rest as in `s`).
    static func since(_ s: Summary, _ base: Summary?) -> Summary {
        guard let base else { return s }
        var out = s
        var baseRows: [String: RowSummary] = [:]
        for r in base.rows { baseRows[key(r)] = r }
        out.rows = s.rows.map { subtract($0, baseRows[key($0)]) }
        out.total = subtract(s.total, base.total)
        var baseFailures: [String: Int] = [:]
        for f in base.failures { baseFailures[f.method + " " + f.name + "\u{1}" + f.error] = f.occurrences }
        out.failures = s.failures.compactMap { f in
            var g = f
            g.occurrences -= baseFailures[f.method + " " + f.name + "\u{1}" + f.error] ?? 0
            return g.occurrences > 0 ? g : nil
        }
        var baseErrors: [String: Int] = [:]
        for e in base.errors { baseErrors[e.message] = e.count }
        out.errors = s.errors.compactMap { e in
            var g = e
            g.count -= baseErrors[e.message] ?? 0
            return g.count > 0 ? g : nil
        }
        out.durationSeconds = s.durationSeconds - base.durationSeconds
        return out
    }
}
