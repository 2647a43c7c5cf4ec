/// Thresholds on what k6 users name: `checks` (every check) and `checks{check:NAME}` (one), custom metrics
/// (`my_trend: p95 < 300`, a tagged series `my_trend{region:ams}`), and k6's request metrics
/// `http_req_duration`, `http_req_failed`, `http_reqs`, optionally `{name:GET /health}` (a row's name).
extension Threshold {
    /// The verdict when the threshold names one of these; nil: a request row's (Threshold+Evaluate.swift).
    func evaluateScriptMetric(_ s: Summary) -> ThresholdResult? {
        let m = expression.metric
        func verdict(_ v: Double?, _ note: String? = nil) -> ThresholdResult {
            guard let v, !v.isNaN else { return ThresholdResult(name: name, expression: text, value: nil, ok: false, note: note) }
            return ThresholdResult(name: name, expression: text, value: v, ok: expression.comparison.holds(v, expression.bound))
        }
        if name == "checks" || (name.hasPrefix("checks{") && name.hasSuffix("}")) {
            var inner = Substring(name.dropFirst(7).dropLast())
            if inner.hasPrefix("check:") { inner = inner.dropFirst(6) }
            guard let c = name == "checks" ? (s.script.checks.isEmpty ? nil : s.script.allChecks) : s.script.checks[String(inner)] else {
                return verdict(nil, name == "checks" ? "no check() ran" : "no check named \"\(inner)\" ran")
            }
            switch m {
            case .rate: return verdict(c.rate)
            case .count: return verdict(Double(c.total))
            case .failures: return verdict(Double(c.fails))
            default: return verdict(nil, "checks take rate, count or failures")
            }
        }
        if let metric = s.script.metrics[name] { return verdict(value(metric, m, s), "a \(metric.kind.rawValue) has no \(text.split(separator: " ").first ?? "")") }
        if let (row, metric) = k6RequestMetric() {
            guard let r = s.row(named: row) else { return verdict(nil, row == "Aggregated" ? "no request was made" : "no request named \"\(row)\" was made") }
            return verdict(Self.read(metric ?? m, r, s))
        }
        return nil
    }

    /// A custom metric's figure for `m`, NaN when its kind has none.
    private func value(_ x: CustomMetric, _ m: ThresholdMetric, _ s: Summary) -> Double {
        switch (x.kind, m) {
        case (.counter, .count), (.counter, .value): return x.sum
        case (.counter, .rps), (.counter, .rate): return s.durationSeconds > 0 ? x.sum / s.durationSeconds : 0
        case (.gauge, .value): return x.last
        case (.gauge, .min): return x.min
        case (.gauge, .max): return x.max
        case (.rate, .rate): return x.rate
        case (.rate, .count), (.trend, .count): return Double(x.count)
        case (.trend, .avg): return x.trendAvg
        case (.trend, .min): return ScriptMetricsReport.trendFigures(x).min
        case (.trend, .max): return ScriptMetricsReport.trendFigures(x).max
        case (.trend, .med): return x.trendPercentile(50)
        case (.trend, .percentile(let p)): return x.trendPercentile(p)
        default: return .nan
        }
    }

    /// Whether abort_on_fail may judge it on the stats so far: its row was seen, or the checks / custom metric
    /// / k6 request metric it names has a figure. Checks and custom metrics come with the workers' posts
    /// (taken from the Lua states once a second), so they are judged live like request rows.
    public func judgedLive(_ s: Summary) -> Bool {
        if let r = evaluateScriptMetric(s) { return r.value != nil }
        return s.row(named: name) != nil
    }

    /// A k6 request metric filtered by a tag luaload does not keep per request (only {name:…} is): an error
    /// before any traffic rather than a threshold that never matches.
    static func k6NameProblem(_ name: String) -> String? {
        for prefix in ["http_req_duration{", "http_req_failed{", "http_reqs{"] where name.hasPrefix(prefix) {
            guard let (_, pairs) = rowFilters(name), !pairs.isEmpty else {
                return "k6's request metrics are filtered as {name:GET /health} or {name:GET /health,scenario:ingest}"
            }
            if let bad = pairs.first(where: { k6OnlyTags.contains($0.key) }) {
                return "{\(bad.key):…} is a tag k6 keeps per request and luaload does not: filter by name, scenario, a request's opts.tags or a run's --tag"
            }
        }
        return nil
    }

    /// k6's request metric names → (the row, the metric to read instead, if the name implies one).
    private func k6RequestMetric() -> (String, ThresholdMetric?)? {
        for (prefix, implied) in [("http_req_duration", nil), ("http_req_failed", ThresholdMetric.failRate), ("http_reqs", nil)] as [(String, ThresholdMetric?)] {
            guard name.hasPrefix(prefix) else { continue }
            let rest = name.dropFirst(prefix.count)
            if rest.isEmpty { return ("Aggregated", prefix == "http_reqs" && expression.metric == .rate ? .rps : implied) }
            // {name:X,scenario:Y}: the row X (Aggregated without a name) with the other pairs as its tags.
            guard let (_, pairs) = Self.rowFilters(String(rest)), !pairs.isEmpty else { continue }
            let others = pairs.filter { $0.key != "name" }.map { $0.key + ":" + $0.value }
            let row = (pairs.first { $0.key == "name" }?.value ?? "Aggregated") + (others.isEmpty ? "" : "{" + others.joined(separator: ",") + "}")
            return (row, prefix == "http_reqs" && expression.metric == .rate ? .rps : implied)
        }
        return nil
    }
}
