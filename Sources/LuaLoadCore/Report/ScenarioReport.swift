/// `scenarios` in the reports: each scenario's requests (its rows, tagged `scenario:NAME`, merged), beside
/// the rows themselves and Aggregated — the console's "Scenarios" table, the JSON's "scenarios", the HTML
/// report's table and PREFIX_scenarios.csv. Computed from the rows, so `luaload merge` (which adds the
/// rows exactly) gets them exactly too. Nothing is shown for a run without scenario tags.
public enum ScenarioReport {
    // MARK: console

    public static func console(_ s: Summary) -> String {
        let rows = s.scenarioRows
        guard !rows.isEmpty else { return "" }
        let width = max(20, (rows.map(\.name.count).max() ?? 0) + 2)
        var out = "\nScenarios (times in ms)\n" + Format.padRight("Scenario", width) + Format.padLeft("# reqs", 9)
            + Format.padLeft("# fails", 18) + " |" + ["Avg", "Min", "Max", "Med", "p95", "p99"].map { Format.padLeft($0, 8) }.joined()
            + " |" + Format.padLeft("req/s", 10) + "\n"
        for r in rows {
            let fails = "\(r.failures)(" + Format.fixed(r.failureRatio * 100, 2) + "%)"
            out += Format.padRight(r.name, width) + Format.padLeft("\(r.requests)", 9) + Format.padLeft(fails, 18) + " |"
            out += [r.avgMs, r.minMs, r.maxMs, r.percentileMs(50), r.percentileMs(95), r.percentileMs(99)].map { Format.padLeft(Format.fixed($0, 2), 8) }.joined()
            out += " |" + Format.padLeft(Format.fixed(s.rps(r), 2), 10) + "\n"
        }
        for r in rows { if let a = s.scenarioArrivals[r.name] { out += "\(r.name) arrivals: " + ProfileReport.arrivalsText(a) + "\n" } }
        return out
    }

    // MARK: JSON

    /// "scenarios": [{"name", "requests", "failures", "avg_ms", "min_ms", "max_ms", "percentiles_ms", "rps",
    /// "arrivals" (an arrival-rate scenario's: scheduled, started, dropped, …)}].
    static func json(_ w: JSONWriter, _ s: Summary) {
        let rows = s.scenarioRows
        guard !rows.isEmpty else { return }
        w.key("scenarios"); w.array {
            for r in rows {
                w.object {
                    w.key("name"); w.string(r.name)
                    w.key("requests"); w.int(r.requests)
                    w.key("failures"); w.int(r.failures)
                    w.key("abandoned"); w.int(r.abandoned)
                    w.key("avg_ms"); w.number(r.avgMs)
                    w.key("min_ms"); w.number(r.minMs)
                    w.key("max_ms"); w.number(r.maxMs)
                    JSONReport.percentilesObject(w, r.percentilesMs(Summary.percentiles))
                    w.key("rps"); w.number(s.rps(r))
                    w.key("failures_per_s"); w.number(s.failuresPerSecond(r))
                    if let a = s.scenarioArrivals[r.name] { w.key("arrivals"); w.object { ProfileReport.arrivalCounts(w, a) } }
                }
            }
        }
    }

    // MARK: CSV and HTML

    /// PREFIX_scenarios.csv: the stats file's columns, a row per scenario (Type "scenario"), then its
    /// arrivals (Scheduled, Started, Dropped, Late: empty for a closed-model scenario).
    public static func csvFiles(_ s: Summary, prefix: String) -> [(path: String, text: String)] {
        let rows = s.scenarioRows
        guard !rows.isEmpty else { return [] }
        var copy = s
        copy.rows = rows.map { var r = $0; (r.method, r.tags) = ("scenario", ""); return r }
        var lines = CSVReport.stats(copy).split(separator: "\r\n").dropLast().map(String.init)   // (not Aggregated: the stats file has it)
        for k in lines.indices {
            if k == 0 { lines[k] += ",Scheduled,Started,Dropped,Late"; continue }
            lines[k] += s.scenarioArrivals[rows[k - 1].name].map { ",\($0.scheduled),\($0.started),\($0.dropped),\($0.late)" } ?? ",,,,"
        }
        return [(prefix + "_scenarios.csv", lines.joined(separator: "\r\n") + "\r\n")]
    }

    static func html(_ s: Summary) -> String {
        let rows = s.scenarioRows
        guard !rows.isEmpty else { return "" }
        var o = "<h2>Scenarios</h2>\n<table id=\"scenarios\">\n<thead><tr><th class=\"l\">Scenario</th><th># reqs</th><th># fails</th>"
        o += "<th>Avg (ms)</th><th>Median (ms)</th><th>p95 (ms)</th><th>p99 (ms)</th><th>Max (ms)</th><th>req/s</th>"
        o += "<th>Scheduled</th><th>Started</th><th>Dropped</th></tr></thead>\n<tbody>\n"
        for r in rows {
            o += "<tr><td class=\"name\">\(HTMLReport.esc(r.name))</td><td>\(r.requests)</td><td\(r.failures > 0 ? " class=\"bad\"" : "")>\(r.failures)</td>"
            o += [r.avgMs, r.percentileMs(50), r.percentileMs(95), r.percentileMs(99), r.maxMs].map { "<td>" + Format.fixed($0, 2) + "</td>" }.joined()
            o += "<td>\(Format.fixed(s.rps(r), 2))</td>"
            let a = s.scenarioArrivals[r.name]
            o += [a?.scheduled, a?.started, a?.dropped].map { "<td>" + ($0.map(String.init) ?? "") + "</td>" }.joined() + "</tr>\n"
        }
        return o + "</tbody>\n</table>\n"
    }
}

extension RowSummary {
    /// The value of tag `key` in `tags` ("k:v,k2:v2"), if any.
    public func tag(_ key: String) -> String? {
        guard !tags.isEmpty else { return nil }
        for part in tags.split(separator: ",") {
            if let colon = part.firstIndex(of: ":"), part[..<colon] == key { return String(part[part.index(after: colon)...]) }
        }
        return nil
    }
}

extension Summary {
    /// Each scenario's rows merged (name: the scenario's), in name order; empty without scenario tags.
    public var scenarioRows: [RowSummary] {
        var merged: [String: RowSummary] = [:]
        for r in rows {
            guard let name = r.tag("scenario") else { continue }
            if merged[name] == nil {
                var first = r
                (first.method, first.name, first.tags) = ("", name, "scenario:" + name)
                merged[name] = first
            } else {
                merged[name]!.merge(r)
            }
        }
        for name in scenarioArrivals.keys where merged[name] == nil {   // an arrival-rate scenario with no request (all dropped)
            merged[name] = RowSummary(RequestStats(method: "", name: name, tags: "scenario:" + name))
        }
        return merged.keys.sorted().map { merged[$0]! }
    }
}

extension JSONReport {
    /// A row's tags as a JSON object ({"scenario": "ingest", "kind": "write"}), keys sorted.
    static func tagsObject(_ w: JSONWriter, _ tags: String) {
        w.object {
            for part in tags.split(separator: ",") {
                guard let colon = part.firstIndex(of: ":") else { continue }
                w.key(String(part[..<colon])); w.string(String(part[part.index(after: colon)...]))
            }
        }
    }
}

extension RunRecord {
    /// A row's "tags" object read back as "k:v,k2:v2", keys sorted ("" when absent).
    static func tags(_ t: JSONTree?) -> String {
        guard let t else { return "" }
        return t.object.keys.sorted().map { $0 + ":" + (t.object[$0]?.string ?? "") }.joined(separator: ",")
    }
}
