/// Reading a run's "checks" and "metrics" back (ScriptMetricsReport.json) for `luaload merge`: counts and
/// exact sums add, a trend's histogram adds, a gauge keeps the latest value.
extension RunRecord {
    mutating func readScriptMetrics(_ doc: JSONTree) throws {
        for c in doc["checks"]?.array ?? [] {
            guard let name = c["name"]?.string else { continue }
            stats.script.checks[name, default: CheckCounts()].add(
                CheckCounts(passes: c["passes"]?.int ?? 0, fails: c["fails"]?.int ?? 0, firstError: c["error"]?.string))
        }
        for j in doc["metrics"]?.array ?? [] {
            guard let name = j["name"]?.string, let kind = j["type"]?.string.flatMap(MetricKind.init(rawValue:)) else { continue }
            var m = CustomMetric(kind: kind, unit: j["unit"]?.string ?? "")
            m.count = j["count"]?.int ?? 0
            switch kind {
            case .counter:
                m.sum = j["value"]?.number ?? 0
            case .gauge:
                (m.last, m.min, m.max) = (j["value"]?.number ?? 0, j["min"]?.number ?? 0, j["max"]?.number ?? 0)
                m.lastAtMs = Int64(j["last_unix_ms"]?.int ?? 0)
            case .rate:
                m.passes = j["passes"]?.int ?? 0
            case .trend:
                m.histogram = try histogram(j, "hdr", what: "metric \(name)", like: makeTrendHistogram())
                m.trendSumMilli = Int64(j["sum_milli"]?.int ?? 0)
            }
            if stats.script.metrics[name] == nil { stats.script.metrics[name] = m } else { stats.script.metrics[name]!.add(m) }
        }
    }
}
