import LuaLoadCore

/// --print-stats on a terminal: Locust's console table, cut to what fits beside a name in ~80 columns
/// (requests, failures, median, p95, p99, req/s), redrawn in place each second above the live line.
enum LiveTable {
    static func render(_ s: Summary, columns: Int) -> [String] {
        let fixedWidth = 9 + 14 + 3 * 9 + 10
        let nameWidth = max(12, min((s.rows.map { $0.label.count + $0.method.count + 1 }.max() ?? 0) + 1, columns - 1 - fixedWidth))
        func cell(_ v: Double, _ d: Int, _ w: Int) -> String { Format.padLeft(Format.fixed(v, d), w) }
        func row(_ label: String, _ r: RowSummary) -> String {
            let percentiles = r.percentilesMs([50, 95, 99])
            let failPercent = r.requests > 0 ? Double(r.failures) * 100 / Double(r.requests) : 0
            return Terminal.fit(Format.padRight(label, nameWidth), columns: nameWidth + 1) + Format.padLeft("\(r.requests)", 9)
                + Format.padLeft("\(r.failures)(" + Format.fixed(failPercent, 1) + "%)", 14)
                + cell(percentiles[0], 2, 9) + cell(percentiles[1], 2, 9) + cell(percentiles[2], 2, 9) + cell(s.rps(r), 1, 10)
        }
        let header = Format.padRight("Name", nameWidth) + Format.padLeft("# reqs", 9) + Format.padLeft("# fails", 14)
            + Format.padLeft("p50 ms", 9) + Format.padLeft("p95 ms", 9) + Format.padLeft("p99 ms", 9) + Format.padLeft("req/s", 10)
        let rule = String(repeating: "-", count: header.count)
        return [header, rule] + s.rows.map { row($0.method + " " + $0.label, $0) } + [rule, row("Aggregated", s.total)]
    }
}
