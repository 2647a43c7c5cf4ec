import LuaLoadCore

/// check() and metrics.* on the page and in `GET /stats/checks`: the whole run so far (like the thresholds; a
/// stats reset does not touch them), from the workers' latest posts, taken on the Runner's thread once a second
/// (`RunProgress.currentScript`), the run's own counts at the end. The arrays are the JSON report's
/// (ScriptMetricsReport.liveChecksJSON / liveMetricsJSON).
enum WebChecks {
    /// `"checks":[…],"metrics":[…]` into an object being written.
    static func members(_ w: WebJSONWriter, _ m: ScriptMetrics, elapsed: Double, withMetrics: Bool = true) {
        w.key("checks"); w.raw(ScriptMetricsReport.liveChecksJSON(m))
        if withMetrics { w.key("metrics"); w.raw(ScriptMetricsReport.liveMetricsJSON(m, seconds: elapsed)) }
    }

    /// GET /stats/checks: {"state","elapsed","checks":[{name,passes,fails,rate,percent,error?}],"metrics":[…],
    /// "total":{passes,fails,rate,percent}}.
    static func document(_ f: WebFrame) -> String {
        let w = WebJSONWriter(), m = f.script
        w.object {
            w.key("state"); w.string(f.state)
            w.key("elapsed"); w.number(f.scriptElapsed, decimals: 1)
            members(w, m, elapsed: f.scriptElapsed)
            if !m.checks.isEmpty {
                let all = m.allChecks
                w.key("total"); w.object {
                    w.key("passes"); w.int(all.passes)
                    w.key("fails"); w.int(all.fails)
                    w.key("rate"); w.number(all.rate, decimals: 6)
                    w.key("percent"); w.number(all.rate * 100, decimals: 2)
                }
            }
        }
        return w.output
    }
}
