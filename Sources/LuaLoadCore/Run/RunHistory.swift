/// The run's time series, built by the main thread from the workers' once-a-second snapshots.
struct RunHistory {
    private(set) var points: [HistoryPoint] = []
    /// The last 10 seconds' latencies, one histogram a second: the live line's window.
    private(set) var recent: [LatencyHistogram] = []
    /// "METHOD name" → one point a second, when --csv-full-history or --html asks for it.
    private(set) var byName: [String: [HistoryPoint]] = [:]
    /// Each name's cumulative counts and histogram at the last second, and at the one before (a part-second
    /// that joins the last second is counted from there): per-second figures from the workers' running totals.
    private var previous: [String: Cumulative] = [:]
    private var older: [String: Cumulative] = [:]
    private typealias Cumulative = (requests: Int, failures: Int, histogram: LatencyHistogram?)
    /// Where each second's histogram goes, packed: a second keeps 84 bytes on the heap (HistoryMemoryTests),
    /// so a day-long run's history stays under 10 MB (PackedHistogram.swift).
    let spool = HistogramSpool()

    /// Adds the second the workers just posted, `elapsed` seconds into the run.
    mutating func append(_ second: IntervalSnapshot, elapsed: Double) {
        let h = second.histogram
        let sparse = SparseHistogram(h)   // one walk of the buckets, for the percentiles (not kept: ~30 KB a second)
        var point = HistoryPoint(elapsed: elapsed, users: second.activeUsers, requests: second.requests, failures: second.failures,
                                 p50Ms: h.percentileMs(50, from: sparse), p95Ms: h.percentileMs(95, from: sparse),
                                 p99Ms: h.percentileMs(99, from: sparse))
        point.latency = PackedHistogram(h, spool: spool)    // for the JSON's hdr, the CSV history, merge
        points.append(point)
        recent.append(h)
        if recent.count > 10 { recent.removeFirst() }
    }

    /// The run's last part-second, `elapsed` being the run's end: what the workers posted at their end, plus
    /// setup()'s and teardown()'s requests (`hooks`: no second carries them, as in the --hdr-log), so the
    /// history's requests and failures add up to the run's totals exactly. `users` is the level at the end
    /// (a ramp's target then: a ramp to 0 ends at 0). A part under 0.25 s joins the second before it, whose
    /// rate it would otherwise follow with a rate over a few milliseconds.
    mutating func appendFinal(_ second: IntervalSnapshot, hooks: [WorkerStats], elapsed: Double, users: Int) {
        var last = second
        for row in hooks.flatMap(\.rows) where row.requests > 0 {
            last.requests += row.requests
            last.failures += row.failures
            last.histogram.add(row.histogram)
        }
        last.activeUsers = users
        var end = elapsed
        if let previous = points.last, let latency = recent.last, elapsed - previous.elapsed < 0.25 {
            last.requests += previous.requests
            last.failures += previous.failures
            last.histogram.add(latency)
            end = max(elapsed, previous.elapsed)
            points.removeLast()
            recent.removeLast()
            folded = true
        }
        append(last, elapsed: end)
    }
    /// The last second took in the part after it (appendFinal): appendByName replaces its points, not adds after.
    private var folded = false

    /// Requests and failures over the last 10 seconds.
    var recentCounts: (requests: Int, failures: Int) {
        points.suffix(10).reduce((0, 0)) { ($0.0 + $1.requests, $0.1 + $1.failures) }
    }

    /// One point per name for the last second: its requests, failures and percentiles in that second (the
    /// HTML report's chart per name, --csv-full-history). `rows` are every worker's cumulative rows as of
    /// its last post. In memory: ~64 bytes a name a second (0.23 MB a name an hour), its histogram spooled.
    mutating func appendByName(_ rows: [RequestStats]) {
        guard let point = points.last else { return }
        let second = points.count - 1
        var merged: [String: RequestStats] = [:]
        for row in rows {
            merged[row.key, default: RequestStats(method: row.method, name: row.name, tags: row.tags)].merge(row)
        }
        for (key, row) in merged where row.requests > 0 {
            // A name first seen now gets empty points for the seconds before, so every series lines up by second.
            while byName[key, default: []].count < second {
                byName[key, default: []].append(HistoryPoint(elapsed: 0, users: 0, requests: 0, failures: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0))
            }
            // The part-second joined the second before it (appendFinal): that second's point is replaced by
            // one from the counts and histogram before it.
            let joins = folded && byName[key]!.count == second + 1
            if joins { byName[key]!.removeLast() } else { older[key] = previous[key] }
            let before = older[key] ?? (0, 0, nil)
            // This second's latencies: the row's histogram less the one at the second before (as --hdr-log does).
            let h = HdrLogRecorder.difference(row.histogram, minus: before.histogram)
            previous[key] = (row.requests, row.failures, row.histogram)
            let ps = h.percentilesMs([50, 95, 99])
            var p = HistoryPoint(elapsed: point.elapsed, users: point.users, requests: row.requests - before.requests,
                                 failures: row.failures - before.failures, p50Ms: ps[0], p95Ms: ps[1], p99Ms: ps[2])
            p.latency = PackedHistogram(h, spool: spool)   // the JSON's per-name seconds, merged exactly (docs/distributed.md)
            byName[key, default: []].append(p)
        }
    }
}

extension IntervalSnapshot {
    /// Adds another worker's snapshot of the same second (its active users add up too).
    mutating func add(_ other: IntervalSnapshot) {
        addCounts(other)
        activeUsers += other.activeUsers
    }

    /// Adds the counts of the same second (or of a later one, for a worker's pending post).
    mutating func addCounts(_ other: IntervalSnapshot) {
        requests += other.requests
        failures += other.failures
        iterations += other.iterations
        arrivalsStarted += other.arrivalsStarted
        arrivalsDropped += other.arrivalsDropped
        arrivalsLate += other.arrivalsLate
        if other.histogram.totalCount > 0 { histogram.add(other.histogram) }
    }

    /// Zeroes the counts (the active users stay: they are a level, not a count).
    mutating func resetCounts() {
        requests = 0
        failures = 0
        iterations = 0
        arrivalsStarted = 0
        arrivalsDropped = 0
        arrivalsLate = 0
        if histogram.totalCount > 0 { histogram = makeLatencyHistogram() }   // (the library's reset() is a slow loop)
    }
}
