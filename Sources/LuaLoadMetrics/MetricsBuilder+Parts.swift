import LuaLoadCore

/// A controller's series: one part per value of its `--by` tag (region), each with that value as a label, so
/// `sum` over the label is the whole test and each part is that region's agents exactly.
extension MetricsBuilder {
    /// Live, at a tick: each region's agents' cumulative stats (a lost agent's up to its last second).
    public func parts(_ snapshot: AgentsSnapshot) -> [MetricPart] {
        snapshot.groups.map { g in
            var arrivals: ArrivalCounts?
            for w in g.workers { if let a = w.arrivals { arrivals = arrivals ?? ArrivalCounts(); arrivals!.add(a) } }
            return MetricPart(labels: groupLabels(g.value), input: MetricInput(workers: g.workers, buckets: config.buckets, byText: true), users: g.users, arrivals: arrivals)
        }
    }

    /// At the end: each region's reports merged, as the controller's JSON has them under "groups" (the whole
    /// test as "(none)" when no agent had the tag, as the live parts call them).
    public func parts(_ total: Summary, groups: [(value: String, summary: Summary)]?) -> [MetricPart] {
        (groups ?? [("(none)", total)]).map { g in
            MetricPart(labels: groupLabels(g.value), input: MetricInput(summary: g.summary, buckets: config.buckets, byText: true), users: 0, arrivals: g.summary.arrivals)
        }
    }

    private func groupLabels(_ value: String) -> [MetricLabel] { config.breakdown.map { [MetricLabel($0, value)] } ?? [] }
}
