/// The agents' cumulative stats as they stood at one of a controller's ticks, for exports that keep the
/// breakdown by its `--by` tag (Prometheus: series per region). Values only (each agent's WorkerStats is
/// copy-on-write: taking one copies references, no histogram), so any thread may read it once taken.
public struct AgentsSnapshot {
    struct Agent {
        var tags: [(key: String, value: String)]
        var stats: WorkerStats
        var users: Int
    }

    /// One value of the tag: its agents' stats (a lost one's up to its last second) and users running now.
    public struct Group {
        public var value: String
        public var workers: [WorkerStats]
        public var users: Int
    }

    /// The breakdown tag (`--by`, region by default).
    public let by: String
    public let elapsed: Double
    let agents: [Agent]

    /// The agents by their value of `by`, in the agents' order; those without it are "(none)", as in the
    /// controller's final breakdown (RunMerge.group), so the live series and the final ones are the same.
    public var groups: [Group] {
        var out: [Group] = []
        for a in agents {
            let value = a.tags.first { $0.key == by }?.value ?? "(none)"
            if let k = out.firstIndex(where: { $0.value == value }) {
                out[k].workers.append(a.stats)
                out[k].users += a.users
            } else {
                out.append(Group(value: value, workers: [a.stats], users: a.users))
            }
        }
        return out
    }

    /// The thresholds' verdicts now, as the controller judges them: on the whole test, and a tagged one
    /// (`NAME{region:ams}`) on its tag's agents merged. Builds Summaries: only when there are thresholds.
    public func verdicts(_ thresholds: [Threshold]) -> [ThresholdResult] {
        guard !thresholds.isEmpty else { return [] }
        let whole = Self.summary(agents, elapsed: elapsed)
        let part: TagPart = { tag in
            let members = agents.filter { a in a.tags.contains { $0.key == tag.key && $0.value == tag.value } }
            return members.isEmpty ? nil : Self.summary(members, elapsed: elapsed)
        }
        return thresholds.map { $0.evaluateTagged(whole, part: part) ?? $0.evaluate(whole) }
    }

    private static func summary(_ agents: [Agent], elapsed: Double) -> Summary {
        Summary(workers: agents.map(\.stats), durationSeconds: elapsed, users: agents.reduce(0) { $0 + $1.users },
                threads: agents.count, stopReason: .duration, history: [])
    }
}

extension Controller {
    /// What a tick's `RunProgress.currentAgentsSnapshot()` gives: the agents as values, taken on the controller's
    /// thread at the tick (a copy of references), so any thread may read it while the ledgers go on.
    func agentsSnapshot(elapsed: Double) -> AgentsSnapshot {
        AgentsSnapshot(by: options.by, elapsed: elapsed,
                       agents: agents.map { AgentsSnapshot.Agent(tags: $0.report.tags, stats: $0.ledger.stats, users: $0.report.users) })
    }
}
