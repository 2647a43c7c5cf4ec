/// The run's time series, built by the main thread from the workers' once-a-second snapshots.
struct RunHistory {
    private(set) var points: [HistoryPoint] = []
    /// The last 10 seconds' latencies, one histogram a second: the live line's window.
    private(set) var recent: [LatencyHistogram] = []
    /// "METHOD name" → one point a second, when --csv-full-history asks for it.
    private(set) var byName: [String: [HistoryPoint]] = [:]
    /// Each name's cumulative counts at the last second, to turn the workers' running totals into per-second counts.
    private var previousRows: [String: (requests: Int, failures: Int)] = [:]

    /// Adds the second the workers just posted, `elapsed` seconds into the run.
    mutating func append(_ second: IntervalSnapshot, elapsed: Double) {
        let h = second.histogram
        let sparse = SparseHistogram(h)   // one walk of the buckets, for the percentiles too
        var point = HistoryPoint(elapsed: elapsed, users: second.activeUsers, requests: second.requests, failures: second.failures,
                                 p50Ms: h.percentileMs(50, from: sparse), p95Ms: h.percentileMs(95, from: sparse),
                                 p99Ms: h.percentileMs(99, from: sparse))
        point.latency = sparse    // for the CSV history and the HTML report
        points.append(point)
        recent.append(h)
        if recent.count > 10 { recent.removeFirst() }
    }

    /// Requests and failures over the last 10 seconds.
    var recentCounts: (requests: Int, failures: Int) {
        points.suffix(10).reduce((0, 0)) { ($0.0 + $1.requests, $0.1 + $1.failures) }
    }

    /// One point per name for the last second: its requests and failures in that second, its percentiles so
    /// far. `rows` are every worker's cumulative rows as of its last post.
    mutating func appendByName(_ rows: [RequestStats]) {
        guard let point = points.last else { return }
        let second = points.count - 1
        var merged: [String: RequestStats] = [:]
        for row in rows {
            merged[row.method + " " + row.name, default: RequestStats(method: row.method, name: row.name)].merge(row)
        }
        for (key, row) in merged where row.requests > 0 {
            // A name first seen now gets empty points for the seconds before, so every series lines up by second.
            while byName[key, default: []].count < second {
                byName[key, default: []].append(HistoryPoint(elapsed: 0, users: 0, requests: 0, failures: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0))
            }
            let before = previousRows[key] ?? (0, 0)
            previousRows[key] = (row.requests, row.failures)
            let h = row.histogram
            byName[key, default: []].append(HistoryPoint(elapsed: point.elapsed, users: point.users,
                                                         requests: row.requests - before.requests,
                                                         failures: row.failures - before.failures, p50Ms: h.percentileMs(50),
                                                         p95Ms: h.percentileMs(95), p99Ms: h.percentileMs(99)))
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
