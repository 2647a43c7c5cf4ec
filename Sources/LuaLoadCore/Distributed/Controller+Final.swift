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
    /// A second Ctrl-C or SIGTERM stopped the controller at once (exit 130): agents still running were lost.
    public var stoppedNow = false

    public var lost: [AgentReport] { agents.filter { $0.state == .lost } }
    /// Agents that stopped on their own mid-test (SIGTERM, Ctrl-C on their box): their reports are in.
    public var stoppedEarly: [AgentReport] { agents.filter { $0.stoppedAt != nil } }
    /// The test did not run on every agent to its end: one was lost or stopped early (exit code 1).
    public var incomplete: Bool { !lost.isEmpty || !stoppedEarly.isEmpty }

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
                    if let at = a.stoppedAt { w.key("stopped_at_s"); w.number(at); w.key("stop_reason"); w.string(StopReason.interrupted.rawValue) }
                }
            }
        }
        return out + ",\"agents\":" + w.output + "}\n"
    }

    /// Merged console report: the summary, the breakdown, the agents that were lost.
    public func console() -> String {
        var out = "Controller: \(agents.count) agents\(lost.isEmpty ? "" : ", \(lost.count) lost")"
            + (stoppedEarly.isEmpty ? "" : ", \(stoppedEarly.count) stopped early") + "\n" + ConsoleReport.render(total)
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
                    let runs = try MergeInput.runs(in: document, source: source).runs
                    records += runs
                    if let at = a.reportedBeforeStop, runs.first?.stopReason == .interrupted { a.report.stoppedAt = a.stoppingAt ?? at }
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
        for a in agents {
            guard let at = a.report.stoppedAt else { continue }
            total.notes.append("\(a.name) stopped on its own at \(Format.fixed(at, 1)) s (interrupted: SIGTERM or Ctrl-C on its box): its report up to then is counted, the others went on")
        }
        // The controller watches checks and custom metrics every second (the agents' seconds carry them).
        total.notes.removeAll { $0.hasPrefix("abort_on_fail on \"") && $0.hasSuffix("decided at the end of the run, not while it runs") }
        if let by = live.abortedBy { total.notes.append("threshold \(by) crossed on the whole test: every agent was stopped (abort_on_fail)") }
        if live.stoppedNow { total.notes.append("stopped at once by a second signal: the agents still running were not waited for (their data up to their last second is kept)") }
        return ControllerResult(total: total, groups: groups, agents: agents.map(\.report), documents: agents.map(\.document), stoppedNow: live.stoppedNow)
    }
}
