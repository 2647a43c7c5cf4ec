/// Seconds per request name across runs: a run that kept them (`--html`, `--csv-full-history`; a
/// controller's agents when it writes those or `--hdr-log`) writes each row's seconds in its JSON, and a
/// merge adds them by name on the same grid as the run's seconds (RunMerge.history), so a merged report has
/// the charts per name, PREFIX_stats_history.csv's rows per name and --hdr-log's `Tag=` line a second that
/// a one-box run has.
extension RunMerge {
    /// By row key, one point per merged second (`points`, the total's): empty where the name had none.
    /// Empty unless every run with seconds kept them per name: a part would be passed off as the whole.
    static func nameHistory(_ runs: [RunRecord], base: Int64, points: [HistoryPoint]) -> [String: [HistoryPoint]] {
        guard runs.contains(where: { !$0.historyByName.isEmpty }),
              runs.allSatisfy({ !$0.historyByName.isEmpty || $0.history.allSatisfy { $0.requests == 0 && $0.failures == 0 } })
        else { return [:] }
        let seconds = Set(runs.flatMap { grid($0, base: base) }).sorted()
        guard seconds.count == points.count else { return [:] }
        let index = Dictionary(uniqueKeysWithValues: seconds.enumerated().map { ($1, $0) })
        var sums: [String: [Int: (requests: Int, failures: Int, latency: LatencyHistogram)]] = [:]
        for run in runs where !run.historyByName.isEmpty {
            let at = Dictionary(zip(run.history.map(\.tMs), grid(run, base: base)), uniquingKeysWith: { first, _ in first })
            for (key, entries) in run.historyByName {
                for e in entries {
                    guard let k = at[e.tMs].flatMap({ index[$0] }) else { continue }
                    var b = sums[key, default: [:]][k] ?? (0, 0, makeLatencyHistogram())
                    b.requests += e.requests
                    b.failures += e.failures
                    b.latency.add(e.latency.histogram())
                    sums[key, default: [:]][k] = b
                }
            }
        }
        return sums.mapValues { byIndex in
            points.indices.map { i in
                let b = byIndex[i] ?? (0, 0, makeLatencyHistogram())
                let ps = b.latency.percentilesMs([50, 95, 99])
                var p = HistoryPoint(elapsed: points[i].elapsed, users: points[i].users, requests: b.requests, failures: b.failures,
                                     p50Ms: ps[0], p95Ms: ps[1], p99Ms: ps[2])
                p.latency = PackedHistogram(b.latency)   // empty too, as a run's: the CSV's 10-second window goes on
                return p
            }
        }
    }
}

extension RunRecord {
    /// Each stats row's "history" (JSONReport.nameHistory), by row key.
    mutating func readNameHistory(_ doc: JSONTree) throws {
        for (r, j) in zip(stats.rows, doc["stats"]?.array ?? []) {
            guard let seconds = j["history"]?.array, !seconds.isEmpty else { continue }
            historyByName[r.key] = try seconds.enumerated().map { k, e in
                (Int64(e["t_ms"]?.int ?? 0), e["requests"]?.int ?? 0, e["failures"]?.int ?? 0,
                 PackedHistogram(try histogram(e, "hdr", what: "\(r.key) history second \(k + 1)")))
            }
        }
    }
}

extension JSONReport {
    /// A stats row's seconds when the run kept them per name: "history": [{"t_ms", "requests", "failures",
    /// "hdr"}] for each second it had a request or a failure, `t_ms` the end of the run's second (as the
    /// run's "history" writes it: the key a merge lines them up by).
    static func nameHistory(_ w: JSONWriter, _ r: RowSummary, _ s: Summary) {
        guard let points = s.historyByName[r.key], !points.isEmpty else { return }
        w.key("history"); w.array {
            for (k, p) in zip(s.history.indices, points) where p.requests > 0 || p.failures > 0 {
                w.object {
                    w.key("t_ms"); w.int(Int(s.placement.unixMs(elapsed: s.history[k].elapsed)))
                    w.key("requests"); w.int(p.requests)
                    w.key("failures"); w.int(p.failures)
                    if let latency = p.latency { w.key("hdr"); w.string(latency.base64) }
                }
            }
        }
    }
}
