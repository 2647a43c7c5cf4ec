/// `--html FILE`: one self-contained page (inline CSS, inline SVG charts drawn here; no scripts, no fetches).
public enum HTMLReport {
    public static func render(_ s: Summary, title: String = "luaload report") -> String {
        var o = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        o += "<title>\(esc(title))</title>\n<style>\n\(css)</style>\n</head>\n<body>\n"
        o += "<h1>\(esc(title))</h1>\n"

        let failPct = s.total.requests > 0 ? Double(s.total.failures) * 100 / Double(s.total.requests) : 0
        o += "<div class=\"cards\">\n"
        for (label, value) in [("Duration", Format.fixed(s.durationSeconds, 1) + " s"), ("Users", "\(s.users)"),
                               ("Threads", "\(s.threads)"), ("Requests", "\(s.total.requests)"),
                               ("Failures", "\(s.total.failures) (" + Format.fixed(failPct, 2) + "%)"),
                               ("Req/s", Format.fixed(s.rps(s.total), 1)),
                               ("Median", Format.fixed(s.total.percentileMs(50), 2) + " ms"),
                               ("p99", Format.fixed(s.total.percentileMs(99), 2) + " ms"),
                               ("Stopped", s.stopReason.rawValue)] {
            o += "<div class=\"card\"><div class=\"label\">\(esc(label))</div><div class=\"value\">\(esc(value))</div></div>\n"
        }
        o += "</div>\n"

        o += ProfileReport.html(s)

        // Charts.
        let xs = s.history.map(\.elapsed)
        var rps: [Double] = [], fps: [Double] = []
        for (k, h) in s.history.enumerated() {
            let dt = k == 0 ? h.elapsed : h.elapsed - s.history[k - 1].elapsed
            rps.append(dt > 0 ? Double(h.requests) / dt : 0)
            fps.append(dt > 0 ? Double(h.failures) / dt : 0)
        }
        o += "<h2>Over time</h2>\n"
        if s.history.isEmpty {
            o += "<p class=\"muted\">No per-second history (the run lasted under a second).</p>\n"
        } else {
            o += chart(id: "chart-rps", title: "Requests per second", xs: xs, unit: "/s",
                       series: [("req/s", "#2e7d32", rps), ("failures/s", "#c62828", fps)])
            o += chart(id: "chart-latency", title: "Response times (ms)", xs: xs, unit: "ms",
                       series: [("p50", "#1565c0", s.history.map(\.p50Ms)), ("p95", "#ef6c00", s.history.map(\.p95Ms)),
                                ("p99", "#6a1b9a", s.history.map(\.p99Ms))])
            o += chart(id: "chart-users", title: "Users", xs: xs, unit: "", minStep: 1,
                       series: [("users", "#455a64", s.history.map { Double($0.users) })])
        }

        // Request statistics.
        o += "<h2>Request statistics</h2>\n<table id=\"stats\">\n<thead><tr><th class=\"l\">Type</th><th class=\"l\">Name</th><th># reqs</th><th># fails</th>"
        o += "<th>Avg (ms)</th><th>Min (ms)</th><th>Max (ms)</th><th>Median (ms)</th><th>Avg size (B)</th><th>req/s</th><th>failures/s</th></tr></thead>\n<tbody>\n"
        for r in s.rows + [s.total] {
            let cls = r.name == "Aggregated" && r.method.isEmpty ? " class=\"total\"" : ""
            o += "<tr\(cls)><td class=\"l\">\(esc(r.method))</td><td class=\"name\">\(esc(r.name))</td><td>\(r.requests)</td>"
            o += "<td\(r.failures > 0 ? " class=\"bad\"" : "")>\(r.failures)</td>"
            o += "<td>\(ms(r.avgMs))</td><td>\(ms(r.minMs))</td><td>\(ms(r.maxMs))</td><td>\(ms(r.percentileMs(50)))</td>"
            o += "<td>\(Format.fixed(r.avgContentSize, 0))</td><td>\(Format.fixed(s.rps(r), 2))</td><td>\(Format.fixed(s.failuresPerSecond(r), 2))</td></tr>\n"
        }
        o += "</tbody>\n</table>\n"

        // Percentiles.
        o += "<h2>Response time percentiles (ms)</h2>\n<table id=\"percentiles\">\n<thead><tr><th class=\"l\">Type</th><th class=\"l\">Name</th>"
        for p in Summary.percentiles { o += "<th>\(esc(Format.percentile(p) + "%"))</th>" }
        o += "<th># reqs</th></tr></thead>\n<tbody>\n"
        for r in s.rows + [s.total] {
            let cls = r.name == "Aggregated" && r.method.isEmpty ? " class=\"total\"" : ""
            o += "<tr\(cls)><td class=\"l\">\(esc(r.method))</td><td class=\"name\">\(esc(r.name))</td>"
            for p in Summary.percentiles { o += "<td>\(ms(r.percentileMs(p)))</td>" }
            o += "<td>\(r.requests)</td></tr>\n"
        }
        o += "</tbody>\n</table>\n"

        // Failures and errors.
        o += listTable(title: "Failures", id: "failures", none: "No failures.",
                       head: "<th># occurrences</th><th class=\"l\">Type</th><th class=\"l\">Name</th><th class=\"l\">Error</th>",
                       rows: s.failures.map {
                           "<td>\($0.occurrences)</td><td class=\"l\">\(esc($0.method))</td><td class=\"name\">\(esc($0.name))</td><td class=\"msg\">\(esc($0.error))</td>"
                       })
        o += listTable(title: "Script errors", id: "errors", none: "No script errors.",
                       head: "<th># count</th><th class=\"l\">Message</th><th class=\"l\">Traceback</th>",
                       rows: s.errors.map {
                           "<td>\($0.count)</td><td class=\"msg\">\(esc($0.message))</td><td><pre>\(esc($0.traceback))</pre></td>"
                       })
        o += "<p class=\"muted foot\">\(s.total.requests) requests in \(Format.fixed(s.durationSeconds, 2)) s from \(s.users) users on \(s.threads) threads; "
        o += "\(s.iterations) task runs; \(s.abandoned) in flight at the stop. Generated by luaload.</p>\n"
        o += "</body>\n</html>\n"
        return o
    }

    // MARK: charts

    /// A line chart as inline SVG: nice y ticks from 0, x in seconds since the start.
    static func chart(id: String, title: String, xs: [Double], unit: String, minStep: Double = 0,
                      series: [(name: String, color: String, values: [Double])]) -> String {
        let w = 1200.0, h = 300.0, left = 70.0, right = 20.0, top = 40.0, bottom = 40.0
        let pw = w - left - right, ph = h - top - bottom
        let xMax = max(xs.last ?? 1, 1)
        let yMax = series.flatMap(\.values).filter(\.isFinite).max() ?? 0
        let yStep = max(niceStep(yMax / 5), minStep)
        let yTicks = max(1, Int((yMax / yStep).rounded(.up)))
        let yTop = yStep * Double(yTicks)
        func px(_ x: Double) -> String { Format.fixed(left + x / xMax * pw, 1) }
        func py(_ y: Double) -> String { Format.fixed(top + ph - min(max(y, 0), yTop) / yTop * ph, 1) }

        var o = "<figure class=\"chart\" id=\"\(id)\">\n"
        o += "<svg viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"100%\" role=\"img\" aria-label=\"\(esc(title))\">\n"
        o += "<text x=\"\(Int(left))\" y=\"22\" class=\"ct\">\(esc(title))</text>\n"
        // Grid and y labels.
        for k in 0...yTicks {
            let y = yStep * Double(k)
            o += "<line x1=\"\(Int(left))\" x2=\"\(Int(w - right))\" y1=\"\(py(y))\" y2=\"\(py(y))\" class=\"\(k == 0 ? "axis" : "grid")\"/>"
            o += "<text x=\"\(Int(left - 8))\" y=\"\(py(y))\" dy=\"4\" text-anchor=\"end\" class=\"tick\">\(esc(tickLabel(y, step: yStep) + (unit.isEmpty || k == 0 ? "" : " " + unit)))</text>\n"
        }
        // X ticks.
        let xStep = niceStep(xMax / 8)
        var x = 0.0
        while x <= xMax + 1e-9 {
            o += "<line x1=\"\(px(x))\" x2=\"\(px(x))\" y1=\"\(Int(top + ph))\" y2=\"\(Int(top + ph + 5))\" class=\"axis\"/>"
            o += "<text x=\"\(px(x))\" y=\"\(Int(top + ph + 20))\" text-anchor=\"middle\" class=\"tick\">\(esc(Format.duration(x)))</text>\n"
            x += xStep
        }
        // Lines.
        for sr in series {
            let pts = zip(xs, sr.values).map { "\(px($0)),\(py($1))" }.joined(separator: " ")
            o += "<polyline fill=\"none\" stroke=\"\(sr.color)\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"\(pts)\"><title>\(esc(sr.name))</title></polyline>\n"
            if xs.count == 1 { o += "<circle cx=\"\(px(xs[0]))\" cy=\"\(py(sr.values[0]))\" r=\"3\" fill=\"\(sr.color)\"/>\n" }
        }
        // Legend.
        var lx = w - right - 130.0 * Double(series.count)
        for sr in series {
            o += "<rect x=\"\(Int(lx))\" y=\"12\" width=\"14\" height=\"4\" fill=\"\(sr.color)\"/>"
            o += "<text x=\"\(Int(lx + 20))\" y=\"18\" class=\"tick\">\(esc(sr.name))</text>\n"
            lx += 130
        }
        o += "</svg>\n</figure>\n"
        return o
    }

    /// A round step at or above `v`: 1, 2, 2.5 or 5 × 10^k (1 for 0).
    static func niceStep(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        var p = 1.0
        while p * 10 <= v { p *= 10 }
        while p > v { p /= 10 }
        for m in [1.0, 2.0, 2.5, 5.0, 10.0] where p * m >= v * (1 - 1e-9) { return p * m }
        return p * 10
    }

    /// A tick value with as many decimals as the step needs.
    static func tickLabel(_ v: Double, step: Double) -> String {
        var decimals = 0, scaled = step
        while decimals < 6 && abs(scaled - scaled.rounded()) > 1e-9 * max(1, scaled) { scaled *= 10; decimals += 1 }
        return Format.fixed(v, decimals)
    }

    /// A titled table of rows (their cells given), or a line saying there are none.
    static func listTable(title: String, id: String, none: String, head: String, rows: [String]) -> String {
        var o = "<h2>\(title)</h2>\n"
        guard !rows.isEmpty else { return o + "<p class=\"muted\">\(none)</p>\n" }
        o += "<table id=\"\(id)\">\n<thead><tr>\(head)</tr></thead>\n<tbody>\n"
        for r in rows { o += "<tr>\(r)</tr>\n" }
        return o + "</tbody>\n</table>\n"
    }

    static func ms(_ v: Double) -> String { Format.fixed(v, v >= 100 ? 0 : 2) }

    /// HTML text and attribute escaping.
    public static func esc(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static let css = """
    :root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --head: #f6f8fa; }
    * { box-sizing: border-box; }
    body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg);
           margin: 24px auto; max-width: 1280px; padding: 0 16px; background: #fff; }
    h1 { font-size: 24px; margin: 0 0 16px; }
    h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
    .cards { display: flex; flex-wrap: wrap; gap: 10px; }
    .card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 110px; background: var(--head); }
    .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
    .card .value { font-size: 18px; font-weight: 600; }
    figure.chart { margin: 0 0 14px; border: 1px solid var(--line); border-radius: 6px; padding: 4px; }
    svg .grid { stroke: #eaeef2; stroke-width: 1; }
    svg .axis { stroke: #8c959f; stroke-width: 1; }
    svg .tick { fill: var(--muted); font-size: 12px; font-family: inherit; }
    svg .ct { fill: var(--fg); font-size: 15px; font-weight: 600; font-family: inherit; }
    table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; margin-bottom: 8px; }
    th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; vertical-align: top; }
    th { background: var(--head); font-weight: 600; }
    td.name, td.msg { text-align: left; word-break: break-word; }
    th.l, td.l { text-align: left; }
    tr.total td { font-weight: 600; background: #fbfbfc; }
    td.bad { color: #c62828; font-weight: 600; }
    td.good { color: #2e7d32; font-weight: 600; }
    pre { margin: 0; text-align: left; white-space: pre-wrap; font-size: 12px; }
    .muted { color: var(--muted); }
    .foot { margin-top: 24px; font-size: 12px; }

    """
}
