/// `luaload compare BASE.json NEW.json`: per request name (and Aggregated) the figures of both runs and their
/// change — p50/p95/p99, requests per second, failure rate — with the changes past the tolerance marked
/// worse or better. As text, Markdown (a pull-request comment) or JSON. Checks and custom trends too.
public struct Comparison {
    public struct Figures {
        public var p50, p95, p99, rps, failRate: Double
        public var requests: Int
    }

    public enum Verdict: String { case same, worse, better, added, removed }

    public struct Row {
        public var name: String
        public var base: Figures?
        public var new: Figures?
        public var verdict: Verdict
        /// The figures that moved past the tolerance ("p95 +23.1 %").
        public var changes: [String]
    }

    public var rows: [Row] = []
    /// Check pass rates: name → (base, new); nil where a run has none.
    public var checks: [(name: String, base: Double?, new: Double?)] = []
    /// A relative change of a time or a rate counts past this (0.10: 10 %); a failure rate moves by points.
    public var tolerance: Double

    public init(base: Summary, new: Summary, tolerance: Double = 0.10) {
        self.tolerance = tolerance
        func figures(_ r: RowSummary, _ s: Summary) -> Figures {
            let p = r.percentilesMs([50, 95, 99])
            return Figures(p50: p[0], p95: p[1], p99: p[2], rps: s.rps(r), failRate: r.failureRatio, requests: r.requests)
        }
        // "GET /health"; a name that already says its method ("GET /x") is not said twice.
        func key(_ r: RowSummary) -> String { r.method.isEmpty || r.name.hasPrefix(r.method + " ") ? r.label : r.method + " " + r.label }
        var names: [String] = []
        var b: [String: Figures] = [:], n: [String: Figures] = [:]
        for r in base.rows { b[key(r)] = figures(r, base); names.append(key(r)) }
        for r in new.rows { n[key(r)] = figures(r, new); if b[key(r)] == nil { names.append(key(r)) } }
        b["Aggregated"] = figures(base.total, base)
        n["Aggregated"] = figures(new.total, new)
        for name in names + ["Aggregated"] { rows.append(row(name, b[name], n[name])) }
        for name in Set(base.script.checks.keys).union(new.script.checks.keys).sorted() {
            checks.append((name, base.script.checks[name]?.rate, new.script.checks[name]?.rate))
        }
    }

    private func row(_ name: String, _ b: Figures?, _ n: Figures?) -> Row {
        guard let b, let n else { return Row(name: name, base: b, new: n, verdict: b == nil ? .added : .removed, changes: []) }
        var changes: [String] = [], worse = false, better = false
        func relative(_ label: String, _ x: Double, _ y: Double, higherIsWorse: Bool) {
            guard x > 0 else { return }
            let d = (y - x) / x
            guard abs(d) > tolerance else { return }
            changes.append(label + " " + Comparison.signed(d * 100, 1) + " %")
            if (d > 0) == higherIsWorse { worse = true } else { better = true }
        }
        relative("p50", b.p50, n.p50, higherIsWorse: true)
        relative("p95", b.p95, n.p95, higherIsWorse: true)
        relative("p99", b.p99, n.p99, higherIsWorse: true)
        relative("rps", b.rps, n.rps, higherIsWorse: false)
        let dFail = n.failRate - b.failRate
        if abs(dFail) >= 0.001 && (b.failRate == 0 || abs(dFail) / b.failRate > tolerance) {
            changes.append("failures " + Comparison.signed(dFail * 100, 2) + " pts")
            if dFail > 0 { worse = true } else { better = true }
        }
        return Row(name: name, base: b, new: n, verdict: worse ? .worse : better ? .better : .same, changes: changes)
    }

    public var anyWorse: Bool { rows.contains { $0.verdict == .worse } }

    static func signed(_ v: Double, _ decimals: Int) -> String { (v >= 0 ? "+" : "") + Format.fixed(v, decimals) }

    static func mark(_ v: Verdict) -> String {
        switch v {
        case .same: return "="
        case .worse: return "✗ worse"
        case .better: return "✓ better"
        case .added: return "new"
        case .removed: return "gone"
        }
    }

    /// "12.1 → 14.0 (+15.7 %)"
    static func pair(_ b: Double?, _ n: Double?, _ decimals: Int = 2, percent: Bool = false) -> String {
        let scale = percent ? 100.0 : 1
        let bs = b.map { Format.fixed($0 * scale, decimals) } ?? "-", ns = n.map { Format.fixed($0 * scale, decimals) } ?? "-"
        guard let b, let n, b != 0, !percent else { return bs + " → " + ns }
        return bs + " → " + ns + " (" + signed((n - b) / b * 100, 1) + " %)"
    }

    private func cells(_ r: Row) -> [String] {
        [r.name, Comparison.pair(r.base?.p50, r.new?.p50), Comparison.pair(r.base?.p95, r.new?.p95), Comparison.pair(r.base?.p99, r.new?.p99),
         Comparison.pair(r.base?.rps, r.new?.rps, 1), Comparison.pair(r.base?.failRate, r.new?.failRate, 2, percent: true),
         Comparison.mark(r.verdict) + (r.changes.isEmpty ? "" : ": " + r.changes.joined(separator: ", "))]
    }

    static let header = ["Name", "p50 ms", "p95 ms", "p99 ms", "req/s", "failures %", "change"]

    /// A table for the terminal.
    public func text() -> String {
        let table = [Comparison.header] + rows.map(cells)
        let widths = (0..<Comparison.header.count).map { c in table.map { $0[c].count }.max() ?? 0 }
        var out = "Comparison (base → new; tolerance \(Format.fixed(tolerance * 100, 1)) %)\n"
        for (k, line) in table.enumerated() {
            out += zip(line, widths).map { Format.padRight($0, $1) }.joined(separator: "  ") + "\n"
            if k == 0 { out += String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n" }
        }
        for c in checks { out += "check \(c.name): pass rate " + Comparison.pair(c.base, c.new, 2, percent: true) + " %\n" }
        let worse = rows.filter { $0.verdict == .worse }.count
        out += worse == 0 ? "no regression past the tolerance\n" : "\(worse) of \(rows.count) rows worse\n"
        return out
    }

    /// GitHub-flavoured Markdown, for a pull-request comment.
    public func markdown() -> String {
        func row(_ c: [String]) -> String { "| " + c.map { $0.replacingPipes() }.joined(separator: " | ") + " |\n" }
        var out = "### luaload: base → new\n\n" + row(Comparison.header) + "|" + String(repeating: "---|", count: Comparison.header.count) + "\n"
        for r in rows { out += row(cells(r)) }
        if !checks.isEmpty {
            out += "\n| Check | pass rate % |\n|---|---|\n"
            for c in checks { out += row([c.name, Comparison.pair(c.base, c.new, 2, percent: true)]) }
        }
        let worse = rows.filter { $0.verdict == .worse }.count
        out += "\n" + (worse == 0 ? "No regression past \(Format.fixed(tolerance * 100, 1)) %." : "**\(worse) of \(rows.count) rows worse** (tolerance \(Format.fixed(tolerance * 100, 1)) %).") + "\n"
        return out
    }

    public func json() -> String {
        let w = JSONWriter()
        func figures(_ key: String, _ f: Figures?) {
            w.key(key)
            guard let f else { return w.null() }
            w.object {
                w.key("p50_ms"); w.number(f.p50); w.key("p95_ms"); w.number(f.p95); w.key("p99_ms"); w.number(f.p99)
                w.key("rps"); w.number(f.rps); w.key("fail_rate"); w.number(f.failRate, decimals: 6); w.key("requests"); w.int(f.requests)
            }
        }
        w.object {
            w.key("tolerance"); w.number(tolerance, decimals: 4)
            w.key("worse"); w.bool(anyWorse)
            w.key("rows"); w.array {
                for r in rows {
                    w.object {
                        w.key("name"); w.string(r.name)
                        figures("base", r.base)
                        figures("new", r.new)
                        w.key("verdict"); w.string(r.verdict.rawValue)
                        w.key("changes"); w.array { for c in r.changes { w.string(c) } }
                    }
                }
            }
            w.key("checks"); w.array {
                for c in checks {
                    w.object {
                        w.key("name"); w.string(c.name)
                        w.key("base_rate"); if let v = c.base { w.number(v, decimals: 6) } else { w.null() }
                        w.key("new_rate"); if let v = c.new { w.number(v, decimals: 6) } else { w.null() }
                    }
                }
            }
        }
        return w.output + "\n"
    }
}

extension String {
    /// A Markdown table cell: "|" escaped.
    func replacingPipes() -> String { map { $0 == "|" ? "\\|" : String($0) }.joined() }
}
