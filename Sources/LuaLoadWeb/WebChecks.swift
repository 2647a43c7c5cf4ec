import LuaLoadCore

/// check() and metrics.* on the page and in `GET /stats/checks`: the whole run so far (like the thresholds; a
/// stats reset does not touch them), from the workers' latest posts, taken on the Runner's thread once a second
/// (`RunProgress.currentScript`), the run's own counts at the end.
enum WebChecks {
    /// `"checks":[…],"metrics":[…]` into an object being written.
    static func members(_ w: WebJSONWriter, _ m: ScriptMetrics, elapsed: Double, withMetrics: Bool = true) {
        w.key("checks"); w.array { for name in m.checkNames { check(w, name, m.checks[name]!) } }
        if withMetrics { w.key("metrics"); w.array { for name in m.metricNames { metric(w, name, m.metrics[name]!, elapsed) } } }
    }

    /// GET /stats/checks: {"checks":[{name,passes,fails,rate,percent,error?}],"total":{passes,fails,rate,percent},"metrics":[…]}.
    static func document(_ f: WebFrame) -> String {
        let w = WebJSONWriter(), m = f.script
        w.object {
            w.key("state"); w.string(f.state)
            w.key("elapsed"); w.number(f.scriptElapsed, decimals: 1)
            members(w, m, elapsed: f.scriptElapsed)
            if !m.checks.isEmpty { w.key("total"); counts(w, m.allChecks) }
        }
        return w.output
    }

    private static func check(_ w: WebJSONWriter, _ name: String, _ c: CheckCounts) {
        w.object {
            w.key("name"); w.string(name)
            countMembers(w, c)
            if let e = c.firstError { w.key("error"); w.string(e) }
        }
    }

    private static func counts(_ w: WebJSONWriter, _ c: CheckCounts) { w.object { countMembers(w, c) } }

    private static func countMembers(_ w: WebJSONWriter, _ c: CheckCounts) {
        w.key("passes"); w.int(c.passes)
        w.key("fails"); w.int(c.fails)
        w.key("rate"); w.number(c.rate, decimals: 6)
        w.key("percent"); w.number(c.rate * 100, decimals: 2)
    }

    /// One custom metric: the figures of its kind, as the JSON report names them.
    private static func metric(_ w: WebJSONWriter, _ name: String, _ m: CustomMetric, _ elapsed: Double) {
        w.object {
            w.key("name"); w.string(name)
            w.key("type"); w.string(m.kind.rawValue)
            w.key("unit"); w.string(m.unit)
            w.key("count"); w.int(m.count)
            switch m.kind {
            case .counter:
                w.key("value"); w.number(m.sum, decimals: 6)
                w.key("rate_per_s"); w.number(elapsed > 0 ? m.sum / elapsed : 0)
            case .gauge:
                w.key("value"); w.number(m.last, decimals: 6)
                w.key("min"); w.number(m.min, decimals: 6)
                w.key("max"); w.number(m.max, decimals: 6)
            case .rate:
                w.key("passes"); w.int(m.passes)
                w.key("rate"); w.number(m.rate, decimals: 6)
            case .trend:
                let p = ScriptMetricsReport.trendFigures(m)
                w.key("avg"); w.number(m.trendAvg)
                w.key("min"); w.number(p.min)
                w.key("med"); w.number(p.med)
                w.key("max"); w.number(p.max)
                w.key("p90"); w.number(p.p90)
                w.key("p95"); w.number(p.p95)
                w.key("p99"); w.number(p.p99)
            }
        }
    }
}
