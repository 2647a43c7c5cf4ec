/// `luaload merge`: runs combined exactly — counts add, HDR histograms add (so percentiles are those of
/// one histogram of every request), failures and script errors add, seconds line up by wall clock — into
/// a Summary the usual reports print.
public enum RunMerge {
    /// One Summary of `runs`. Seconds are aligned by absolute time on a grid from `base` (Unix ms; default:
    /// the earliest start), so groups merged apart (`--by`) share the total's grid.
    /// `ownSeconds`: one run keeps its seconds as it reported them (off for a group of a larger merge,
    /// whose seconds must be the total's grid: the HTML's line per group is drawn on the total's seconds).
    public static func merge(_ runs: [RunRecord], base: Int64? = nil, ownSeconds: Bool = true) throws -> Summary {
        let start = base ?? runs.map(\.placement.startUnixMs).min() ?? 0
        let end = runs.map(\.placement.endUnixMs).max() ?? start
        // One run (or a group of one) keeps its own measured duration: merging it gives back its rates exactly.
        let duration = runs.count == 1 ? runs[0].durationSeconds
            : end > start ? Double(end - start) / 1000 : runs.map(\.durationSeconds).max() ?? 0
        let reasons = Set(runs.map(\.stopReason.rawValue))
        var s = Summary(workers: runs.map(\.stats), durationSeconds: duration, users: runs.reduce(0) { $0 + $1.users },
                        threads: runs.reduce(0) { $0 + $1.threads }, stopReason: runs.first?.stopReason ?? .duration,
                        history: history(runs, base: start, ownSeconds: ownSeconds))
        s.historyByName = nameHistory(runs, base: start, points: s.history)
        if reasons.count > 1 { s.notes.append("the runs stopped for different reasons: " + reasons.sorted().joined(separator: ", ")) }
        let profiles = Set(runs.map { $0.profile ?? "" })
        s.profile = runs.first?.profile
        if profiles.count > 1 { s.notes.append("the runs had different load profiles: " + profiles.sorted().map { $0.isEmpty ? "fixed users" : $0 }.joined(separator: "; ")) }
        s.lateMode = runs.compactMap(\.lateMode).first
        s.placement.startUnixMs = start
        s.placement.endUnixMs = end
        s.startUnixTime = Int(start / 1000)
        s.placement.tags = commonTags(runs)
        // Sorted, as the ids below: a merge's document does not depend on the order its runs came in.
        s.placement.targets = Array(Set(runs.flatMap(\.placement.targets))).sorted()
        let commands = Set(runs.map { $0.placement.command ?? "" })
        s.placement.command = commands.count == 1 ? runs.first?.placement.command : nil
        s.placement.runID = RunID.make()
        s.placement.mergedRunIDs = runs.flatMap(RunID.ids(of:)).sorted()
        // A threshold on a tag is judged on the runs with that tag, merged on the same grid.
        let all = s
        s.evaluate(try thresholds(runs)) { tag in
            let part = runs.filter { $0.placement.tag(tag.key) == tag.value }
            if part.isEmpty { return nil }
            return part.count == runs.count ? all : try? merge(part, base: start)
        }
        return s
    }

    /// The runs grouped by the value of tag `key` ("(none)" without it), in order of the values ("(none)"
    /// last): the reports do not depend on the order the runs came in (the files given to `luaload merge`,
    /// the order a controller's agents connected).
    public static func group(_ runs: [RunRecord], by key: String) -> [(value: String, runs: [RunRecord])] {
        var out: [(value: String, runs: [RunRecord])] = []
        for r in runs {
            let v = r.placement.tag(key) ?? "(none)"
            if let k = out.firstIndex(where: { $0.value == v }) { out[k].runs.append(r) } else { out.append((v, [r])) }
        }
        return out.sorted { ($0.value == "(none)" ? 1 : 0, $0.value) < ($1.value == "(none)" ? 1 : 0, $1.value) }
    }

    /// Seconds aligned by absolute end time, rounded to the grid from `base`: the points of one second
    /// from every run add up (users, counts, latency histograms). A run's last row ends with the run, a
    /// part-second that may round to its previous row's second: it then takes the next one, so no run
    /// adds two of its rows (and twice its users) into one second.
    static func history(_ runs: [RunRecord], base: Int64, ownSeconds: Bool = true) -> [HistoryPoint] {
        var buckets: [Int: (users: Int, requests: Int, failures: Int, latency: LatencyHistogram)] = [:]
        for run in runs {
            for (p, k) in zip(run.history, grid(run, base: base)) {
                var b = buckets[k] ?? (0, 0, 0, makeLatencyHistogram())
                b.users += p.users
                b.requests += p.requests
                b.failures += p.failures
                b.latency.add(p.latency.histogram())
                buckets[k] = b
            }
        }
        var points = buckets.keys.sorted().map { k in
            let b = buckets[k]!
            var point = HistoryPoint(elapsed: Double(k), users: b.users, requests: b.requests, failures: b.failures,
                                     p50Ms: b.latency.percentileMs(50), p95Ms: b.latency.percentileMs(95), p99Ms: b.latency.percentileMs(99))
            point.latency = PackedHistogram(b.latency)
            return point
        }
        // One run alone: its seconds as it reported them (its own times; percentiles of whole histograms).
        if ownSeconds, runs.count == 1, runs[0].historyFigures.count == points.count, base == runs[0].placement.startUnixMs {
            for (k, f) in runs[0].historyFigures.enumerated() {
                (points[k].elapsed, points[k].p50Ms, points[k].p95Ms, points[k].p99Ms) = (f.elapsed, f.p50Ms, f.p95Ms, f.p99Ms)
            }
        }
        return points
    }

    /// Each of a run's seconds' place on the grid from `base`: its end, rounded to a whole second; one that
    /// rounds onto the second before takes the next (history).
    static func grid(_ run: RunRecord, base: Int64) -> [Int] {
        var previous = Int.min
        return run.history.map { p in
            previous = max(Int((Double(p.tMs - base) / 1000).rounded()), previous &+ 1)
            return previous
        }
    }

    /// The tags every run has with the same value (the others differ from run to run).
    static func commonTags(_ runs: [RunRecord]) -> [(key: String, value: String)] {
        guard let first = runs.first else { return [] }
        return first.placement.tags.filter { t in runs.allSatisfy { $0.placement.tag(t.key) == t.value } }
    }

    /// Every threshold any run carried (once each), to evaluate again on the merged result.
    static func thresholds(_ runs: [RunRecord]) throws -> [Threshold] {
        var seen = Set<String>()
        var out: [Threshold] = []
        for run in runs {
            for t in run.thresholds where seen.insert(t.name + "\u{0}" + t.expression).inserted {
                do {
                    out.append(try Threshold(name: t.name, text: t.expression, origin: run.source))
                } catch {
                    throw RunRecord.ReadError(description: "\(error)")
                }
            }
        }
        return out
    }
}
