import CChartJS
#if canImport(Glibc)
import Glibc
#endif

/// The HTML report's charts, drawn by Chart.js (Debian's libjs-chart.js, embedded in the binary at build
/// time by the CChartJS target, so the page needs no network). Each chart is a canvas plus its data as a
/// JSON block; one small script draws them all. x is seconds into the run on a linear axis, so merged
/// runs (whole seconds) and part-seconds get honest ticks, never repeated labels.
extension HTMLReport {
    /// Requests and failures per second, users, response times over time (per name, chosen from a list),
    /// and the latency distribution of the chosen name (so a run shorter than a second has a chart too).
    static func charts(_ s: Summary) -> String {
        var o = "<h2>Charts</h2>\n"
        o += picker(s)
        o += "<div class=\"grid2\">\n"
        o += canvas("chart-latency", "Response times (ms)")
        o += canvas("chart-distribution", "Latency distribution (requests by response time)")
        o += "</div>\n"
        let xs = s.history.map(\.elapsed)
        var rps: [Double?] = [], fps: [Double?] = []
        for (k, h) in s.history.enumerated() {
            let dt = k == 0 ? h.elapsed : h.elapsed - s.history[k - 1].elapsed
            rps.append(dt > 0 ? Double(h.requests) / dt : 0)
            fps.append(dt > 0 ? Double(h.failures) / dt : 0)
        }
        o += "<div class=\"grid2\">\n"
        o += lineChart(id: "chart-rps", title: "Requests per second", xs: xs, unit: "/s",
                       series: [("req/s", "#2e7d32", rps), ("failures/s", "#c62828", fps)])
        o += lineChart(id: "chart-users", title: "Users", xs: xs, unit: "", integer: true,
                       series: [("users", "#455a64", s.history.map { Double($0.users) })])
        o += "</div>\n"
        o += dataBlock(id: "ll-names", latencyData(s))
        return o
    }

    /// The list of names for the latency and distribution charts.
    static func picker(_ s: Summary) -> String {
        var o = "<p class=\"pick\"><label for=\"ll-name\">Request name </label><select id=\"ll-name\">\n"
        for (k, r) in ([s.total] + s.rows).enumerated() {
            let label = k == 0 ? "All requests (Aggregated)" : (r.method.isEmpty || r.name.hasPrefix(r.method + " ") ? r.label : r.method + " " + r.label)
            o += "<option value=\"\(k)\">\(esc(label))</option>\n"
        }
        return o + "</select></p>\n"
    }

    /// Per name (Aggregated first): p50/p95/p99 a second (when the run kept them: a merge of runs that did
    /// not has the total's only, RunMerge+Names) and the whole run's latency distribution.
    static func latencyData(_ s: Summary) -> String {
        let w = JSONWriter()
        w.object {
            w.key("t"); numbers(w, s.history.map(\.elapsed))
            w.key("names"); w.array {
                for (k, r) in ([s.total] + s.rows).enumerated() {
                    let points = k == 0 ? s.history : aligned(s.historyByName[r.key], count: s.history.count)
                    w.object {
                        if let points {
                            w.key("p50"); numbers(w, points.map { $0.requests > 0 ? $0.p50Ms : nil })
                            w.key("p95"); numbers(w, points.map { $0.requests > 0 ? $0.p95Ms : nil })
                            w.key("p99"); numbers(w, points.map { $0.requests > 0 ? $0.p99Ms : nil })
                        }
                        let d = distribution(r.histogram)
                        w.key("bins"); numbers(w, d.map(\.upperMs))
                        w.key("counts"); w.array { for c in d { w.int(c.count) } }
                    }
                }
            }
        }
        return w.output
    }

    /// A name's points on the run's seconds (a name first seen later was padded at the front; one that
    /// stopped early ends sooner: nil after).
    static func aligned(_ points: [HistoryPoint]?, count: Int) -> [HistoryPoint]? {
        guard var p = points, !p.isEmpty else { return nil }
        while p.count < count { p.append(HistoryPoint(elapsed: 0, users: 0, requests: 0, failures: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0)) }
        return Array(p.prefix(count))
    }

    /// Requests by response time in bins a tenth of a decade wide (×1.26), from the fastest to the
    /// slowest bin that has any: (the bin's upper edge in ms, requests in it). Counts, never averages.
    static func distribution(_ h: LatencyHistogram) -> [(upperMs: Double, count: Int)] {
        guard h.totalCount > 0 else { return [] }
        var counts: [Int: Int] = [:]
        for b in h.recordedValues() where b.count > 0 {
            counts[Int((10 * log10(Double(max(b.value, 1)))).rounded(.down)), default: 0] += Int(b.count)
        }
        let lo = counts.keys.min()!, hi = counts.keys.max()!
        return (lo...hi).map { k in (pow(10, Double(k + 1) / 10) / 1000, counts[k] ?? 0) }
    }

    /// One line chart (canvas + data); `series` values nil where there is no point.
    static func lineChart(id: String, title: String, xs: [Double], unit: String, integer: Bool = false,
                          series: [(name: String, color: String, values: [Double?])]) -> String {
        let w = JSONWriter()
        w.object {
            w.key("unit"); w.string(unit)
            w.key("integer"); w.bool(integer)
            w.key("t"); numbers(w, xs)
            w.key("series"); w.array {
                for sr in series {
                    w.object {
                        w.key("name"); w.string(sr.name)
                        w.key("color"); w.string(sr.color)
                        w.key("values"); numbers(w, sr.values)
                    }
                }
            }
        }
        return canvas(id, title) + dataBlock(id: id + "-data", w.output, kind: "ll-line")
    }

    static func canvas(_ id: String, _ title: String) -> String {
        "<figure class=\"chart\"><figcaption>\(esc(title))</figcaption><div class=\"box\"><canvas id=\"\(esc(id))\"></canvas></div></figure>\n"
    }

    /// JSON for the page's script, safe inside <script> ("</" cannot close it early).
    static func dataBlock(id: String, _ json: String, kind: String = "ll-data") -> String {
        var safe = ""
        var previous: Character = " "
        for ch in json {
            if ch == "/" && previous == "<" { safe += "\\/" } else { safe.append(ch) }
            previous = ch
        }
        return "<script type=\"application/json\" id=\"\(esc(id))\" class=\"\(kind)\">\(safe)</script>\n"
    }

    static func numbers(_ w: JSONWriter, _ values: [Double?]) {
        w.array { for v in values { if let v, v.isFinite { w.raw(Format.fixed(v, v >= 100 ? 1 : 3)) } else { w.null() } } }
    }

    static func numbers(_ w: JSONWriter, _ values: [Double]) { numbers(w, values.map { Optional($0) }) }

    /// Chart.js itself, then the script that draws every chart of the page.
    static var scripts: String {
        var length = 0
        let p = luaload_chartjs(&length)!
        let chartJS = String(decoding: UnsafeBufferPointer(start: p, count: length), as: UTF8.self)
        return "<script>\n" + chartJS + "\n</script>\n<script>\n" + drawScript + "</script>\n"
    }
}
