/// check() and metrics.* in the reports: the console's "Checks" and "Custom metrics" tables, the JSON's
/// "checks" and "metrics" (with what `luaload merge` needs to add them exactly: counts, exact sums, a
/// trend's HDR histogram), PREFIX_checks.csv and PREFIX_metrics.csv. Nothing is written when the script
/// used neither.
public enum ScriptMetricsReport {
    // MARK: console

    public static func console(_ s: Summary) -> String {
        let m = s.script
        guard !m.isEmpty else { return "" }
        var out = ""
        if !m.checks.isEmpty {
            let width = max(30, (m.checks.keys.map(\.count).max() ?? 0) + 2)
            let all = m.allChecks
            out += "\nChecks: \(all.passes) of \(all.total) passed (" + Format.fixed(all.rate * 100, 2) + " %)\n"
            for name in m.checkNames {
                let c = m.checks[name]!
                out += (c.fails == 0 ? "  ✓ " : "  ✗ ") + Format.padRight(name, width)
                    + Format.padLeft("\(c.passes) / \(c.total)", 20) + Format.padLeft(Format.fixed(c.rate * 100, 2) + " %", 10) + "\n"
                if let e = c.firstError { out += "      first error: " + e + "\n" }
            }
        }
        if !m.metrics.isEmpty {
            let width = max(30, (m.metrics.keys.map(\.count).max() ?? 0) + 2)
            out += "\nCustom metrics\n"
            for name in m.metricNames {
                out += "  " + Format.padRight(name, width) + Format.padRight(m.metrics[name]!.kind.rawValue, 9)
                    + describe(m.metrics[name]!, s) + "\n"
            }
        }
        return out
    }

    /// One metric's figures in words: "count=12 rate=2.00/s", "p95=…".
    static func describe(_ m: CustomMetric, _ s: Summary) -> String {
        func n(_ v: Double) -> String { Format.fixed(v, v == v.rounded() && abs(v) < 1e15 ? 0 : 3) }
        let unit = m.unit.isEmpty ? "" : " " + m.unit
        switch m.kind {
        case .counter:
            return "count=\(n(m.sum)) rate=" + Format.fixed(s.durationSeconds > 0 ? m.sum / s.durationSeconds : 0, 2) + "/s"
        case .gauge:
            return "value=\(n(m.last)) min=\(n(m.min)) max=\(n(m.max))"
        case .rate:
            return Format.fixed(m.rate * 100, 2) + " % (\(m.passes) of \(m.count))"
        case .trend:
            let p = trendFigures(m)
            return "avg=" + Format.fixed(m.trendAvg, 3) + " min=" + Format.fixed(p.min, 3) + " med=" + Format.fixed(p.med, 3)
                + " max=" + Format.fixed(p.max, 3) + " p90=" + Format.fixed(p.p90, 3) + " p95=" + Format.fixed(p.p95, 3)
                + " p99=" + Format.fixed(p.p99, 3) + unit + " (\(m.count) values)"
        }
    }

    /// A trend's figures in its unit; min and max exact (as recorded, three decimals).
    static func trendFigures(_ m: CustomMetric) -> (min: Double, med: Double, max: Double, p90: Double, p95: Double, p99: Double) {
        guard let h = m.histogram, h.totalCount > 0 else { return (0, 0, 0, 0, 0, 0) }
        let ps = h.percentilesMs([50, 90, 95, 99])   // the histogram holds values × 1000, as µs hold ms
        return (Double(h.min) / trendScale, ps[0], Double(h.maxRecorded) / trendScale, ps[1], ps[2], ps[3])
    }

    // MARK: JSON

    static func json(_ w: JSONWriter, _ s: Summary) {
        let m = s.script
        guard !m.isEmpty else { return }
        w.key("checks"); checks(w, m)
        w.key("metrics"); metrics(w, m, seconds: s.durationSeconds)
    }

    /// The live views' arrays (the web page, `/stats/checks`): the report's fields, a check's `percent` besides
    /// its rate, without what only an exact merge needs (a trend's HDR histogram and exact sum).
    public static func liveChecksJSON(_ m: ScriptMetrics) -> String {
        let w = JSONWriter()
        checks(w, m, live: true)
        return w.output
    }

    public static func liveMetricsJSON(_ m: ScriptMetrics, seconds: Double) -> String {
        let w = JSONWriter()
        metrics(w, m, seconds: seconds, live: true)
        return w.output
    }

    private static func checks(_ w: JSONWriter, _ m: ScriptMetrics, live: Bool = false) {
        w.array {
            for name in m.checkNames {
                let c = m.checks[name]!
                w.object {
                    w.key("name"); w.string(name)
                    w.key("passes"); w.int(c.passes)
                    w.key("fails"); w.int(c.fails)
                    w.key("rate"); w.number(c.rate, decimals: 6)
                    if live { w.key("percent"); w.number(c.rate * 100, decimals: 2) }
                    if let e = c.firstError { w.key("error"); w.string(e) }
                }
            }
        }
    }

    private static func metrics(_ w: JSONWriter, _ m: ScriptMetrics, seconds: Double, live: Bool = false) {
        w.array { for name in m.metricNames { metric(w, name, m.metrics[name]!, seconds, live: live) } }
    }

    private static func metric(_ w: JSONWriter, _ name: String, _ m: CustomMetric, _ seconds: Double, live: Bool) {
        w.object {
            w.key("name"); w.string(name)
            w.key("type"); w.string(m.kind.rawValue)
            w.key("unit"); w.string(m.unit)
            w.key("count"); w.int(m.count)
            switch m.kind {
            case .counter:
                w.key("value"); w.number(m.sum, decimals: 6)
                w.key("rate_per_s"); w.number(seconds > 0 ? m.sum / seconds : 0)
            case .gauge:
                w.key("value"); w.number(m.last, decimals: 6)
                w.key("min"); w.number(m.min, decimals: 6)
                w.key("max"); w.number(m.max, decimals: 6)
                if !live { w.key("last_unix_ms"); w.int(Int(m.lastAtMs)) }
            case .rate:
                w.key("passes"); w.int(m.passes)
                w.key("rate"); w.number(m.rate, decimals: 6)
            case .trend:
                let p = trendFigures(m)
                w.key("avg"); w.number(m.trendAvg)
                w.key("min"); w.number(p.min)
                w.key("med"); w.number(p.med)
                w.key("max"); w.number(p.max)
                w.key("p90"); w.number(p.p90)
                w.key("p95"); w.number(p.p95)
                w.key("p99"); w.number(p.p99)
                guard !live else { break }
                w.key("sum_milli"); w.int(Int(m.trendSumMilli))
                JSONReport.hdr(w, "hdr", m.histogram ?? makeTrendHistogram())
            }
        }
    }

    // MARK: HTML

    /// The HTML report's "Checks" and "Custom metrics" tables (nothing when the script used neither).
    static func html(_ s: Summary) -> String {
        let m = s.script, esc = HTMLReport.esc
        guard !m.isEmpty else { return "" }
        var o = ""
        if !m.checks.isEmpty {
            o += HTMLReport.listTable(title: "Checks", id: "checks", none: "", head: "<th class=\"l\">Check</th><th>Passes</th><th>Fails</th><th>Pass rate</th><th class=\"l\">First error</th>",
                                      rows: m.checkNames.map { name in
                                          let c = m.checks[name]!
                                          return "<td class=\"name\">\(esc(name))</td><td>\(c.passes)</td><td\(c.fails > 0 ? " class=\"bad\"" : "")>\(c.fails)</td>"
                                              + "<td>\(Format.fixed(c.rate * 100, 2)) %</td><td class=\"msg\">\(esc(c.firstError ?? ""))</td>"
                                      })
        }
        if !m.metrics.isEmpty {
            o += HTMLReport.listTable(title: "Custom metrics", id: "metrics", none: "", head: "<th class=\"l\">Metric</th><th class=\"l\">Type</th><th class=\"l\">Figures</th>",
                                      rows: m.metricNames.map { name in
                                          let x = m.metrics[name]!
                                          return "<td class=\"name\">\(esc(name))</td><td class=\"l\">\(x.kind.rawValue)</td><td class=\"msg\">\(esc(describe(x, s)))</td>"
                                      })
        }
        return o
    }

    // MARK: CSV

    /// PREFIX_checks.csv and PREFIX_metrics.csv, when the script used check() / metrics.*.
    public static func csvFiles(_ s: Summary, prefix: String) -> [(path: String, text: String)] {
        let m = s.script
        var out: [(path: String, text: String)] = []
        if !m.checks.isEmpty {
            var text = CSVReport.line(["Name", "Passes", "Fails", "Rate", "First Error"])
            for name in m.checkNames {
                let c = m.checks[name]!
                text += CSVReport.line([name, "\(c.passes)", "\(c.fails)", Format.fixed(c.rate, 6), c.firstError ?? ""])
            }
            out.append((prefix + "_checks.csv", text))
        }
        if !m.metrics.isEmpty {
            var text = CSVReport.line(["Name", "Type", "Unit", "Count", "Value", "Rate", "Avg", "Min", "Med", "Max", "p90", "p95", "p99"])
            for name in m.metricNames {
                let x = m.metrics[name]!
                var f = [name, x.kind.rawValue, x.unit, "\(x.count)"]
                switch x.kind {
                case .counter: f += [Format.fixed(x.sum, 3), Format.fixed(s.durationSeconds > 0 ? x.sum / s.durationSeconds : 0, 3)] + Array(repeating: "", count: 7)
                case .gauge: f += [Format.fixed(x.last, 3), "", "", Format.fixed(x.min, 3), "", Format.fixed(x.max, 3), "", "", ""]
                case .rate: f += ["\(x.passes)", Format.fixed(x.rate, 6)] + Array(repeating: "", count: 7)
                case .trend:
                    let p = trendFigures(x)
                    f += ["", ""] + [x.trendAvg, p.min, p.med, p.max, p.p90, p.p95, p.p99].map { Format.fixed($0, 3) }
                }
                text += CSVReport.line(f)
            }
            out.append((prefix + "_metrics.csv", text))
        }
        return out
    }
}
