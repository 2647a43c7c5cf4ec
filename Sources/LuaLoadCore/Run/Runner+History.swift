/// The history's last row, made once the workers have ended.
extension Runner {
    /// Adds the run's last part-second to `history` (RunHistory.appendFinal): `lastSeconds`, what each
    /// worker posted at its end; `hooks`, setup()'s and teardown()'s stats; `rows`, every final row (for
    /// --csv-full-history's per-name points).
    func closeHistory(_ history: inout RunHistory, _ lastSeconds: [IntervalSnapshot], hooks: [WorkerStats],
                      rows: [RequestStats], elapsed: Double, _ state: RunState) {
        var second = IntervalSnapshot()
        for s in lastSeconds { second.add(s) }
        history.appendFinal(second, hooks: hooks, elapsed: elapsed, users: usersAtEnd(elapsed: elapsed, state))
        if options.historyByName { history.appendByName(rows) }
    }

    /// The base URLs the run was pointed at, for the reports: `luaload wrk`'s URL, or -H (else the script's
    /// `host`) and each class's own `host`.
    var targetURLs: [String] {
        if let wrk { return [wrk.options.target.url] }
        var out: [String] = []
        for url in [scriptOptions.host] + classes.map(\.host) {
            if let url, !out.contains(url) { out.append(url) }
        }
        return out
    }

    /// The users of the last row: a ramp's target at the end (so a ramp to 0 ends at 0), else the level
    /// at the last second (the workers' own count at their end is always 0: they stopped every VU).
    private func usersAtEnd(elapsed: Double, _ state: RunState) -> Int {
        if case .stages(let ramp) = profile { return segmentShare(ofUsers: Int(ramp.value(at: elapsed).rounded())) }
        if let last = state.history.points.last { return last.users }
        if case .shape = profile { return segmentShare(ofUsers: max(state.ramp.posted, 0)) }
        return segmentUsers
    }
}
