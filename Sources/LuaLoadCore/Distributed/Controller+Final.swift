/// The end of a controlled test: the agents' own reports merged with `luaload merge`'s code, so the
/// controller's reports equal, bucket for bucket, `luaload merge --by TAG` of the agents' --json files.
public struct ControllerResult {
    /// The whole test.
    public var total: Summary
    /// The breakdown by the `by` tag (nil when no agent has it).
    public var groups: MergeGroups?
    public var agents: [AgentReport]
    /// Each agent's own JSON document (nil for an agent that was lost), by agent.
    public var documents: [String?]

    public var lost: [AgentReport] { agents.filter { $0.state == .lost } }

    /// The merged JSON (with "by" and "groups" when grouped), and "agents": who ran which segment, and
    /// which were lost and when.
    public func json() -> String {
        var out = groups?.json(total: total) ?? JSONReport.render(total)
        while out.last == "\n" || out.last == "}" { if out.removeLast() == "}" { break } }
        let w = JSONWriter()
        w.array {
            for a in agents {
                w.object {
                    w.key("id"); w.int(a.id)
                    w.key("peer"); w.string(a.peer)
                    w.key("segment"); w.string(a.segment.description)
                    w.key("state"); w.string(a.state.rawValue)
                    w.key("tags"); w.object { for t in a.tags { w.key(t.key); w.string(t.value) } }
                    if let at = a.lostAt { w.key("lost_at_s"); w.number(at) }
                    if let why = a.lostReason { w.key("lost_reason"); w.string(why) }
                }
            }
        }
        return out + ",\"agents\":" + w.output + "}\n"
    }

    /// Merged console report: the summary, the breakdown, the agents that were lost.
    public func console() -> String {
        var out = "Controller: \(agents.count) agents\(lost.isEmpty ? "" : ", \(lost.count) lost")\n" + ConsoleReport.render(total)
        if let groups { out += "\n" + groups.console(total: total) }
        return out
    }
}

extension Controller {
    func finish(log: (String) -> Void) throws -> ControllerResult {
        var records: [RunRecord] = []
        for a in agents {
            let source = "agent \(a.report.id)"
            if let document = a.document {
                do {
                    records += try MergeInput.runs(in: document, source: source).runs
                    continue
                } catch {
                    a.report.state = .lost
                    a.report.lostAt = a.ledger.lastElapsed
                    a.report.lostReason = "its report does not read: \(error)"
                    log("\(a.name): \(a.report.lostReason!); its data up to its last second is kept")
                }
            }
            if a.ledger.seconds > 0 || a.report.state == .lost {
                var tags = a.report.tags
                tags.append(("lost", "true"))
                records.append(a.ledger.record(source: source + " (lost)", tags: tags, thresholds: thresholds))
            }
        }
        var total = try RunMerge.merge(records)
        let byTag = records.contains { $0.placement.tag(options.by) != nil }
        let groups = try byTag ? MergeGroups(tag: options.by, runs: records, total: total) : nil
        for a in agents where a.report.state == .lost {
            total.notes.append("\(a.name) was lost at \(Format.fixed(a.report.lostAt ?? 0, 1)) s (\(a.report.lostReason ?? "?")): its data up to its last second is kept")
        }
        // The controller watches checks and custom metrics every second (the agents' seconds carry them).
        total.notes.removeAll { $0.hasPrefix("abort_on_fail on \"") && $0.hasSuffix("decided at the end of the run, not while it runs") }
        if let by = live.abortedBy { total.notes.append("threshold \(by) crossed on the whole test: every agent was stopped (abort_on_fail)") }
        return ControllerResult(total: total, groups: groups, agents: agents.map(\.report), documents: agents.map(\.document))
    }
}
