/// `luaload merge --by TAG`: each group's figures beside the merged total — a console table, the HTML's
/// latency over time per group, and the JSON's "groups".
public struct MergeGroups {
    /// The tag grouped by, e.g. "region".
    public var tag: String
    public var groups: [(value: String, summary: Summary)]

    public init(tag: String, groups: [(value: String, summary: Summary)]) {
        self.tag = tag
        self.groups = groups
    }

    /// `runs` (those merged into `total`) grouped by `tag`'s value, each group merged on the total's grid of
    /// seconds: `luaload merge --by` and a controller's final reports.
    public init(tag: String, runs: [RunRecord], total: Summary) throws {
        let parts = RunMerge.group(runs, by: tag)
        self.init(tag: tag, groups: try parts.map { part in
            (part.value, try RunMerge.merge(part.runs, base: total.placement.startUnixMs, ownSeconds: part.runs.count == runs.count))
        })
    }

    /// Per request name, each group's requests and p50/p95/p99 side by side, then the total's.
    public func console(total: Summary) -> String {
        let columns = groups.map { ($0.value, $0.summary) } + [("all", total)]
        let nameWidth = max(24, (total.rows.map { $0.name.count }.max() ?? 0) + 2)
        func cell(_ r: RowSummary?) -> String {
            guard let r else { return Format.padLeft("-", 9) + Format.padLeft("", 24) + " |" }
            return Format.padLeft("\(r.requests)", 9) + [50.0, 95, 99].map {
                Format.padLeft(Format.fixed(r.percentileMs($0), r.percentileMs($0) >= 100 ? 0 : 2), 8)
            }.joined() + " |"
        }
        var head = Format.padRight("By \(tag) (ms)", nameWidth + 9) + "|"
        var sub = Format.padRight("Type     Name", nameWidth + 9) + "|"
        for (value, _) in columns {
            head += Format.padRight(" " + value, 34) + "|"
            sub += Format.padLeft("# reqs", 9) + Format.padLeft("p50", 8) + Format.padLeft("p95", 8) + Format.padLeft("p99", 8) + " |"
        }
        var out = head + "\n" + sub + "\n" + String(repeating: "-", count: sub.count) + "\n"
        for r in total.rows + [total.total] {
            var line = Format.padRight(r.method, 8) + " " + Format.padRight(r.name, nameWidth) + "|"
            for (_, s) in columns {
                line += cell(r.name == "Aggregated" && r.method.isEmpty ? s.total : s.rows.first { $0.method == r.method && $0.name == r.name })
            }
            out += line + "\n"
        }
        return out
    }

    /// The HTML section: each group's p50 and p95 over time on one chart, on the total's seconds (a group's
    /// line has gaps where it has no second: it started later or ended sooner).
    public func html(total: Summary) -> String {
        let xs = total.history.map(\.elapsed)
        let colors = ["#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#455a64"]
        var series: [(name: String, color: String, values: [Double?])] = []
        for (k, g) in groups.enumerated() {
            var byElapsed: [Double: HistoryPoint] = [:]
            for p in g.summary.history { byElapsed[p.elapsed] = p }
            let color = colors[k % colors.count]
            series.append(("\(g.value) p50", color, xs.map { byElapsed[$0]?.p50Ms }))
            series.append(("\(g.value) p95", color + "99", xs.map { byElapsed[$0]?.p95Ms }))
        }
        var o = "<h2>By \(HTMLReport.esc(tag))</h2>\n"
        if xs.isEmpty { o += "<p class=\"muted\">No per-second history.</p>\n" } else {
            o += HTMLReport.lineChart(id: "chart-by-" + tag, title: "Response times by \(tag) (ms)", xs: xs, unit: "ms", series: series)
        }
        o += "<table id=\"by-\(HTMLReport.esc(tag))\">\n<thead><tr><th class=\"l\">\(HTMLReport.esc(tag))</th><th># reqs</th><th># fails</th><th>p50 (ms)</th><th>p95 (ms)</th><th>p99 (ms)</th><th>req/s</th></tr></thead>\n<tbody>\n"
        for (value, s) in groups.map({ ($0.value, $0.summary) }) + [("all", total)] {
            let t = s.total
            o += "<tr><td class=\"name\">\(HTMLReport.esc(value))</td><td>\(t.requests)</td><td>\(t.failures)</td>"
            o += [50.0, 95, 99].map { "<td>\(Format.fixed(t.percentileMs($0), 2))</td>" }.joined() + "<td>\(Format.fixed(s.rps(t), 2))</td></tr>\n"
        }
        return o + "</tbody>\n</table>\n"
    }

    /// The merged HTML page with the groups' section before the request tables.
    public func htmlPage(total: Summary, title: String) -> String {
        let page = HTMLReport.render(total, title: title)
        guard let at = page.firstRange(of: "<h2>Request statistics</h2>") else { return page }
        return String(page[..<at.lowerBound]) + html(total: total) + String(page[at.lowerBound...])
    }

    /// The merged JSON with "by": the tag, and "groups": {value: that group's whole summary}.
    public func json(total: Summary) -> String {
        var out = JSONReport.render(total)
        while out.last == "\n" || out.last == "}" { if out.removeLast() == "}" { break } }
        out += ",\"by\":" + JSONWriter.quote(tag) + ",\"groups\":{"
        out += groups.map { JSONWriter.quote($0.value) + ":" + JSONReport.render($0.summary).dropLast() }.joined(separator: ",")
        return out + "}}\n"
    }
}
