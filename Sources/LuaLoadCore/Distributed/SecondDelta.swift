import LuaLoadLoop

/// Agent: turns each of the Runner's ticks into a `second` message — what changed since the last one:
/// the second's counts and latency histogram, each row's counts and HDR histogram delta, new failures and
/// script errors, the users, the arrivals so far. Runs on the Runner's main thread once a second, from the
/// workers' own posts (no merged Summary: its new histograms would cost 188 KB copies each).
final class SecondDeltaBuilder {
    /// One row of the whole agent: its threads' totals and bucket counts added.
    struct Row {
        var method: String, name: String
        /// The row's tags ("k:v,…": a scenario's, opts.tags), "" for none.
        var tags = ""
        var requests = 0, failures = 0, redirects = 0
        var sumMicros: UInt64 = 0, bytes: UInt64 = 0
        var counts: [UInt64] = []
        /// Each thread's phases (for this second only: never kept past it, so no worker's histogram is held),
        /// their counts so far per phase, and the bucket counts last sent (SecondDelta+Phases).
        var phaseSources: [PhaseStats] = []
        var phaseTotals: [UInt64] = [0, 0, 0, 0]
        var phaseCounts: [[UInt64]?] = [nil, nil, nil, nil]
    }
    private var rows: [String: Row] = [:]
    private var failures: [FailureKey: Int] = [:]
    private var errors: [String: Int] = [:]
    private let script = ScriptDeltaBuilder()

    func message(_ p: RunProgress) -> [UInt8] {
        let workers = p.currentWorkerStats()
        let now = SecondDeltaBuilder.merge(workers)
        var fails: [FailureKey: Int] = [:]
        var errs: [String: ScriptErrorStats] = [:]
        var arrivals: ArrivalCounts?
        for w in workers {
            for (k, v) in w.failureTable() { fails[k, default: 0] += v }
            for (k, e) in w.errors { errs[k] = ScriptErrorStats(count: (errs[k]?.count ?? 0) + e.count, traceback: errs[k]?.traceback ?? e.traceback) }
            if let a = w.arrivals { arrivals = arrivals ?? ArrivalCounts(); arrivals!.add(a) }
        }
        return LinkMessage.encode("second") { w in
            w.key("tick"); w.int(p.tick)
            w.key("elapsed"); w.exact(p.elapsed)
            w.key("t_ms"); w.int(Int((wallClockSeconds() * 1000).rounded()))
            w.key("users"); w.int(p.activeUsers)
            w.key("target"); w.int(p.targetUsers)
            w.key("requests"); w.int(p.requests)
            w.key("failures"); w.int(p.failures)
            w.key("hdr"); w.string(HdrDelta.encode(HdrDelta.counts(p.recentLatencies.last ?? HdrDelta.template), minus: nil))
            if let a = arrivals {
                w.key("arrivals"); w.array { [a.scheduled, a.started, a.droppedNoVU, a.unstartedAtStop, a.late].forEach(w.int) }
            }
            w.key("rows"); w.array { for r in now { row(w, r) } }
            script.write(w, workers)
            w.key("fails"); w.array {
                for (key, total) in fails {
                    let delta = total - failures[key, default: 0]
                    guard delta > 0 else { continue }
                    failures[key] = total
                    w.object { w.key("method"); w.string(key.method); w.key("name"); w.string(key.name); w.key("error"); w.string(key.error); w.key("n"); w.int(delta) }
                }
            }
            w.key("errors"); w.array {
                for (message, e) in errs {
                    let before = errors[message]
                    guard e.count > before ?? 0 else { continue }
                    errors[message] = e.count
                    w.object {
                        w.key("message"); w.string(message); w.key("n"); w.int(e.count - (before ?? 0))
                        if before == nil { w.key("traceback"); w.string(e.traceback) }
                    }
                }
            }
        }
    }

    /// The workers' rows by "METHOD name", their bucket counts added.
    static func merge(_ workers: [WorkerStats]) -> [Row] {
        var out: [Row] = []
        var index: [String: Int] = [:]
        for w in workers {
            for r in w.rows where r.requests > 0 || r.redirects > 0 {
                let key = r.key
                let k = index[key] ?? out.count
                if k == out.count { index[key] = k; out.append(Row(method: r.method, name: r.name, tags: r.tags)) }
                out[k].requests += r.requests
                out[k].failures += r.failures
                out[k].redirects += r.redirects
                out[k].sumMicros += r.sumMicros
                out[k].bytes += r.bytes
                out[k].addPhases(r.phases)
                let counts = HdrDelta.counts(r.histogram)
                if out[k].counts.isEmpty { out[k].counts = counts } else { HdrDelta.add(counts, into: &out[k].counts) }
            }
        }
        return out
    }

    /// One row's change since the last second, when it has any.
    private func row(_ w: JSONWriter, _ now: Row) {
        let key = now.method + " " + now.name + (now.tags.isEmpty ? "" : " {" + now.tags + "}")
        let before = rows[key]
        guard now.requests != before?.requests ?? 0 || now.redirects != before?.redirects ?? 0 else { return }
        var r = now
        w.object {
            w.key("method"); w.string(r.method)
            w.key("name"); w.string(r.name)
            if !r.tags.isEmpty { w.key("tags"); w.string(r.tags) }
            w.key("requests"); w.int(r.requests - (before?.requests ?? 0))
            w.key("failures"); w.int(r.failures - (before?.failures ?? 0))
            w.key("sum_us"); w.int(Int(r.sumMicros - (before?.sumMicros ?? 0)))
            w.key("bytes"); w.int(Int(r.bytes - (before?.bytes ?? 0)))
            w.key("redirects"); w.int(r.redirects - (before?.redirects ?? 0))
            w.key("hdr"); w.string(HdrDelta.encode(r.counts, minus: before?.counts))
            r.writePhases(w, before: before)
        }
        r.phaseSources = []
        rows[key] = r
    }
}

/// Controller: one agent's test so far, added up from its seconds — what the live view merges, and what
/// stands for the agent in the final report if it is lost before its own report comes.
struct AgentLedger {
    var stats = WorkerStats()
    private var rowIndex: [String: Int] = [:]
    /// Its seconds, each histogram packed (a whole one is ~188 KB: a day of a lost agent's seconds would not fit).
    var history: [(tMs: Int64, users: Int, requests: Int, failures: Int, latency: PackedHistogram)] = []
    /// The latest second's users and the run's target.
    var users = 0
    var target = 0
    var seconds = 0
    var lastElapsed = 0.0
    var startUnixMs: Int64 = 0
    var lastUnixMs: Int64 = 0
    /// What came since the controller's last tick.
    var pending = IntervalSnapshot()
    /// Each row's seconds, kept when the test keeps them per name (`RunOptions.historyByName`), so a lost
    /// agent's part has them as its report would have had (RunMerge+Names); the histograms in a spool file.
    var keepsNames = false
    private var historyByName: [String: [(tMs: Int64, requests: Int, failures: Int, latency: PackedHistogram)]] = [:]
    private lazy var spool = HistogramSpool()

    /// Adds one `second` message; a malformed one throws (the agent is then dropped).
    mutating func apply(_ m: JSONTree) throws {
        let elapsed = m["elapsed"]?.number ?? 0
        let tMs = Int64(m["t_ms"]?.int ?? 0)
        let second = try Self.histogram(m["hdr"])
        if seconds == 0 { startUnixMs = tMs - Int64((elapsed * 1000).rounded()) }
        seconds += 1
        lastElapsed = elapsed
        lastUnixMs = tMs
        users = m["users"]?.int ?? 0
        target = m["target"]?.int ?? 0
        let requests = m["requests"]?.int ?? 0, failures = m["failures"]?.int ?? 0
        history.append((tMs, users, requests, failures, PackedHistogram(second)))
        pending.requests += requests
        pending.failures += failures
        pending.activeUsers = users
        if second.totalCount > 0 { pending.histogram.add(second) }
        if let a = m["arrivals"]?.array.map({ $0.int ?? 0 }), a.count == 5 {
            let before = stats.arrivals ?? ArrivalCounts()
            var now = ArrivalCounts()
            (now.scheduled, now.started, now.droppedNoVU, now.unstartedAtStop, now.late) = (a[0], a[1], a[2], a[3], a[4])
            pending.arrivalsStarted += now.started - before.started
            pending.arrivalsDropped += now.droppedNoVU - before.droppedNoVU
            pending.arrivalsLate += now.late - before.late
            stats.arrivals = now
        }
        for r in m["rows"]?.array ?? [] { try addRow(r, tMs: tMs) }
        if let s = m["script"] { try applyScript(s) }
        for f in m["fails"]?.array ?? [] {
            let key = FailureKey(method: f["method"]?.string ?? "", name: f["name"]?.string ?? "", error: f["error"]?.string ?? "")
            stats.custom[key, default: 0] += f["n"]?.int ?? 0
        }
        for e in m["errors"]?.array ?? [] {
            let message = e["message"]?.string ?? ""
            if stats.errors[message] == nil { stats.errors[message] = ScriptErrorStats(count: 0, traceback: e["traceback"]?.string ?? "") }
            stats.errors[message]!.count += e["n"]?.int ?? 0
        }
    }

    private mutating func addRow(_ r: JSONTree, tMs: Int64) throws {
        let method = r["method"]?.string ?? "", name = r["name"]?.string ?? "", tags = r["tags"]?.string ?? ""
        let row = RequestStats(method: method, name: name, tags: tags)
        let k = rowIndex[row.key] ?? stats.rows.count
        if k == stats.rows.count {
            rowIndex[row.key] = k
            stats.rows.append(row)
        }
        let requests = r["requests"]?.int ?? 0, failures = r["failures"]?.int ?? 0
        stats.rows[k].requests += requests
        stats.rows[k].failures += failures
        stats.rows[k].sumMicros += UInt64(max(0, r["sum_us"]?.int ?? 0))
        stats.rows[k].bytes += UInt64(max(0, r["bytes"]?.int ?? 0))
        stats.rows[k].redirects += r["redirects"]?.int ?? 0
        if let p = r["phases"] { try Self.addPhases(p, into: &stats.rows[k].phases) }
        let h = try Self.histogram(r["hdr"])
        if h.totalCount > 0 { stats.rows[k].histogram.add(h) }
        if keepsNames && (requests > 0 || failures > 0) {
            historyByName[row.key, default: []].append((tMs, requests, failures, PackedHistogram(h, spool: spool)))
        }
    }

    static func histogram(_ v: JSONTree?) throws -> LatencyHistogram {
        guard let text = v?.string else { return makeLatencyHistogram() }
        do {
            return try HdrCodec.decodeBase64(text).histogram()
        } catch {
            throw LinkError("a malformed histogram: \(error)")
        }
    }

    /// The agent's part up to its last second, as a run record for the merge (an agent that was lost).
    func record(source: String, tags: [(key: String, value: String)], thresholds: [Threshold]) -> RunRecord {
        var r = RunRecord(source: source)
        r.stats = stats
        r.durationSeconds = lastElapsed
        r.users = history.map(\.users).max() ?? 0
        r.stopReason = .interrupted
        r.placement.startUnixMs = startUnixMs
        r.placement.endUnixMs = lastUnixMs
        r.placement.tags = tags
        r.history = history
        r.historyByName = historyByName
        r.thresholds = thresholds.map { ($0.name, $0.text) }
        return r
    }
}

extension RunRecord {
    /// An empty record (filled by the controller for a lost agent).
    init(source: String) {
        self.source = source
    }
}
