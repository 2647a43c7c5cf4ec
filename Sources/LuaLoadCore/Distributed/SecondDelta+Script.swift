/// The script's check() counts and custom metrics on the link (issue #23's, shown by the controller): an
/// agent's `second` carries, for each check and metric that changed since the last second, its cumulative
/// counts and values over the agent's threads (the controller replaces that agent's copy: no float drift),
/// and a trend's histogram as a delta (HdrDelta: buckets added and subtracted, never walked). The controller
/// adds its agents' copies as a Summary adds threads, so live thresholds on checks and metrics see the whole test.
final class ScriptDeltaBuilder {
    private var checks: [String: CheckCounts] = [:]
    private var counts: [String: Int] = [:]
    private var trends: [String: [UInt64]] = [:]

    /// `,"script":{…}` members: nothing when nothing changed (most scripts use neither).
    func write(_ w: JSONWriter, _ workers: [WorkerStats]) {
        guard workers.contains(where: { !$0.script.isEmpty }) else { return }
        var nowChecks: [String: CheckCounts] = [:]
        var nowMetrics: [String: CustomMetric] = [:]
        var nowTrends: [String: [UInt64]] = [:]
        for s in workers.lazy.map(\.script) {
            for (k, c) in s.checks { nowChecks[k, default: CheckCounts()].add(c) }
            for (k, m) in s.metrics {
                var scalar = m
                scalar.histogram = nil   // the trend's buckets are added below, as arrays
                if nowMetrics[k] == nil { nowMetrics[k] = scalar } else { nowMetrics[k]!.add(scalar) }
                if let h = m.histogram, m.count > 0 {
                    let c = HdrDelta.counts(h, length: HdrDelta.trendLength)
                    if nowTrends[k] == nil { nowTrends[k] = c } else { HdrDelta.add(c, into: &nowTrends[k]!) }
                }
            }
        }
        let changedChecks = nowChecks.filter { name, c in checks[name].map { $0.total != c.total } ?? true }
        let changedMetrics = nowMetrics.filter { $0.value.count != counts[$0.key] }
        guard !changedChecks.isEmpty || !changedMetrics.isEmpty else { return }
        w.key("script"); w.object {
            w.key("checks"); w.array {
                for (name, c) in changedChecks {
                    checks[name] = c
                    w.object {
                        w.key("name"); w.string(name); w.key("passes"); w.int(c.passes); w.key("fails"); w.int(c.fails)
                        if let e = c.firstError { w.key("error"); w.string(e) }
                    }
                }
            }
            w.key("metrics"); w.array {
                for (name, m) in changedMetrics {
                    counts[name] = m.count
                    w.object {
                        w.key("name"); w.string(name); w.key("type"); w.string(m.kind.rawValue); w.key("unit"); w.string(m.unit)
                        w.key("count"); w.int(m.count); w.key("sum"); w.exact(m.sum); w.key("passes"); w.int(m.passes)
                        if m.count > 0 {
                            w.key("last"); w.exact(m.last); w.key("last_ms"); w.int(Int(m.lastAtMs))
                            w.key("min"); w.exact(m.min); w.key("max"); w.exact(m.max)
                        }
                        w.key("sum_milli"); w.int(Int(m.trendSumMilli))
                        if let c = nowTrends[name] {
                            w.key("hdr"); w.string(HdrDelta.encode(c, minus: trends[name], like: HdrDelta.trendTemplate))
                            trends[name] = c
                        }
                    }
                }
            }
        }
    }
}

extension AgentLedger {
    /// A `second`'s "script": each check's and metric's cumulative figures replace the agent's, a trend's
    /// histogram delta is added to its own.
    mutating func applyScript(_ s: JSONTree) throws {
        for c in s["checks"]?.array ?? [] {
            guard let name = c["name"]?.string else { continue }
            stats.script.checks[name] = CheckCounts(passes: c["passes"]?.int ?? 0, fails: c["fails"]?.int ?? 0, firstError: c["error"]?.string)
        }
        for j in s["metrics"]?.array ?? [] {
            guard let name = j["name"]?.string, let kind = j["type"]?.string.flatMap(MetricKind.init(rawValue:)) else {
                throw LinkError("a custom metric without its name or type")
            }
            var m = stats.script.metrics[name] ?? CustomMetric(kind: kind, unit: j["unit"]?.string ?? "")
            m.count = j["count"]?.int ?? 0
            m.sum = j["sum"]?.number ?? 0
            m.passes = j["passes"]?.int ?? 0
            if m.count > 0 {
                m.last = j["last"]?.number ?? 0
                m.lastAtMs = Int64(j["last_ms"]?.int ?? 0)
                m.min = j["min"]?.number ?? 0
                m.max = j["max"]?.number ?? 0
            }
            m.trendSumMilli = Int64(j["sum_milli"]?.int ?? 0)
            if let text = j["hdr"]?.string {
                var h = m.histogram ?? makeTrendHistogram()
                do { try HdrDelta.decode(text, into: &h) } catch { throw LinkError("metric \(name): a malformed histogram: \(error)") }
                m.histogram = h
            }
            stats.script.metrics[name] = m
        }
    }
}
