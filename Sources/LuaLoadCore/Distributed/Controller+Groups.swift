/// One value of the breakdown tag (a region) as the controller sees it live: its agents' seconds added.
public struct LiveGroup: Sendable {
    public var value: String
    public var agents = 0
    public var lost = 0
    public var users = 0
    /// The whole test so far.
    public var requests = 0
    public var failures = 0
    /// Requests and failures per second over the last 10 s.
    public var rps = 0.0
    public var fps = 0.0
    /// p50, p95, p99 (ms) of the whole test so far: its agents' second histograms added, never averaged.
    public var percentilesMs: [Double] = [0, 0, 0]

    public init(value: String) { self.value = value }

    public var failureRatio: Double { requests > 0 ? Double(failures) / Double(requests) : 0 }
}

/// A controller's live breakdown by its `--by` tag (region first): what its console, page and API show.
public struct LiveGroups: Sendable {
    public var tag: String
    public var groups: [LiveGroup]

    public init(tag: String, groups: [LiveGroup]) {
        self.tag = tag
        self.groups = groups
    }

    static let percentiles: [Double] = [50, 95, 99]

    /// The final breakdown, from the agents' reports merged (`luaload merge --by`): what the page shows at the end.
    public init(_ merged: MergeGroups, agents: [AgentReport]) {
        tag = merged.tag
        groups = merged.groups.map { g in
            var out = LiveGroup(value: g.value)
            let members = agents.filter { a in a.tags.contains { $0.key == merged.tag && $0.value == g.value } }
            out.agents = members.count
            out.lost = members.filter { $0.state == .lost }.count
            out.requests = g.summary.total.requests
            out.failures = g.summary.total.failures
            out.rps = g.summary.rps(g.summary.total)
            out.fps = g.summary.failuresPerSecond(g.summary.total)
            out.percentilesMs = g.summary.total.percentilesMs(LiveGroups.percentiles)
            return out
        }
    }

    /// {"by":"region","groups":[{"value":"ams","agents":1,"lost":0,"users":10,"requests":…,"failures":…,"rps":…,
    /// "fps":…,"fail_ratio":…,"p50_ms":…,"p95_ms":…,"p99_ms":…}]}: the page's and the API's.
    public func json() -> String {
        let w = JSONWriter()
        w.object {
            w.key("by"); w.string(tag)
            w.key("groups"); w.array {
                for g in groups {
                    w.object {
                        w.key("value"); w.string(g.value)
                        w.key("agents"); w.int(g.agents)
                        w.key("lost"); w.int(g.lost)
                        w.key("users"); w.int(g.users)
                        w.key("requests"); w.int(g.requests)
                        w.key("failures"); w.int(g.failures)
                        w.key("rps"); w.number(g.rps)
                        w.key("fps"); w.number(g.fps)
                        w.key("fail_ratio"); w.number(g.failureRatio, decimals: 6)
                        w.key("p50_ms"); w.number(g.percentilesMs[0])
                        w.key("p95_ms"); w.number(g.percentilesMs[1])
                        w.key("p99_ms"); w.number(g.percentilesMs[2])
                    }
                }
            }
        }
        return w.output
    }

    /// "ams    2 agents   40 users   812.0 req/s  fail 0.00%  p50 50.12  p95 51.30  p99 52.01 ms": the live view's lines.
    public func lines() -> [String] {
        let width = max(8, (groups.map(\.value.count).max() ?? 0) + 2)
        return groups.map { g in
            Format.padRight(g.value, width) + Format.padLeft("\(g.agents)", 2) + (g.agents == 1 ? " agent " : " agents")
                + (g.lost > 0 ? " (\(g.lost) lost)" : "") + Format.padLeft("\(g.users)", 7) + " users"
                + Format.padLeft(Format.fixed(g.rps, 1), 10) + " req/s  fail " + Format.fixed(g.failureRatio * 100, 2) + "%"
                + "  p50 " + Format.fixed(g.percentilesMs[0], 2) + "  p95 " + Format.fixed(g.percentilesMs[1], 2)
                + "  p99 " + Format.fixed(g.percentilesMs[2], 2) + " ms"
        }
    }
}

/// The controller's running sums per tag value, fed with each agent's second as the tick takes it: one
/// histogram add per agent a second, three percentiles per value (one walk) — no Summary, no row merge.
struct GroupLedger {
    struct Entry {
        var value: String
        var histogram = makeLatencyHistogram()
        var requests = 0, failures = 0
        /// The last 10 seconds' (requests, failures), for the rates.
        var recent: [(Int, Int)] = []
        var second = (0, 0)
    }
    var entries: [Entry] = []

    /// An agent's second (its ledger's `pending`, before the tick resets it).
    mutating func add(_ second: IntervalSnapshot, value: String) {
        let k = entries.firstIndex { $0.value == value } ?? { entries.append(Entry(value: value)); return entries.count - 1 }()
        entries[k].requests += second.requests
        entries[k].failures += second.failures
        entries[k].second.0 += second.requests
        entries[k].second.1 += second.failures
        if second.histogram.totalCount > 0 { entries[k].histogram.add(second.histogram) }
    }

    /// Closes the second: the groups as they are now.
    mutating func snapshot(tag: String, agents: [ControlledAgent], tick: Int) -> LiveGroups {
        var out: [LiveGroup] = []
        for k in entries.indices {
            entries[k].recent.append(entries[k].second)
            if entries[k].recent.count > 10 { entries[k].recent.removeFirst() }
            entries[k].second = (0, 0)
            let e = entries[k]
            var g = LiveGroup(value: e.value)
            let members = agents.filter { GroupLedger.value(of: $0, tag: tag) == e.value }
            g.agents = members.count
            g.lost = members.filter { $0.report.state == .lost }.count
            g.users = members.reduce(0) { $0 + $1.report.users }
            g.requests = e.requests
            g.failures = e.failures
            let span = Double(max(1, min(10, tick)))
            g.rps = Double(e.recent.reduce(0) { $0 + $1.0 }) / span
            g.fps = Double(e.recent.reduce(0) { $0 + $1.1 }) / span
            g.percentilesMs = e.histogram.percentilesMs(LiveGroups.percentiles)
            out.append(g)
        }
        return LiveGroups(tag: tag, groups: out)
    }

    static func value(of agent: ControlledAgent, tag: String) -> String {
        agent.report.tags.first { $0.key == tag }?.value ?? "(none)"
    }
}
