import Histogram
import LuaLoadCore

/// One stats row as the series need it: counts, and its latencies already counted into the `le` bounds.
public struct MetricRow: Sendable {
    public var method: String
    public var name: String
    public var requests = 0
    public var failures = 0
    public var redirects = 0
    public var sumMicros: UInt64 = 0
    /// Requests per bound (not cumulative): [k] counts those above bound k-1 and at or below bound k.
    public var perBucket: [UInt64]

    init(method: String, name: String, bounds: Int) {
        self.method = method
        self.name = name
        perBucket = [UInt64](repeating: 0, count: bounds)
    }

    /// Adds a row's counts; its histogram is walked only up to the last bound.
    mutating func add(requests: Int, failures: Int, redirects: Int, sumMicros: UInt64, histogram: LatencyHistogram, bounds: [UInt64]) {
        self.requests += requests
        self.failures += failures
        self.redirects += redirects
        self.sumMicros += sumMicros
        guard histogram.totalCount > 0 else { return }
        // Bound k takes the HDR buckets from the one after bound k-1's up to the one holding bound k (3
        // significant digits: a bound is placed to within 0.1 %). `count(within:)` sums the counts array
        // directly, and nothing past the largest value is read: ~40 instructions a bucket where the
        // library's iterator took ~100 (callgrind: 27.7 M of a 30,000-request run with a set a second).
        let top = histogram.max
        var lower: UInt64 = 0
        for (k, bound) in bounds.enumerated() {
            guard lower <= top else { break }
            guard bound >= lower else { continue }   // in the HDR bucket the bound before took whole
            perBucket[k] += histogram.count(within: lower...Swift.min(bound, top))
            lower = histogram.nextNonEquivalentForValue(bound)
        }
    }
}

/// What the series are built from: the rows, outcomes and errors of a Summary (the end) or of the workers'
/// latest posts (live, without merging their histograms: a Summary's merge walks every bucket of every
/// row, ~23,000 of them, each time).
public struct MetricInput: Sendable {
    /// Sorted by name, then method, as the reports' rows.
    public var rows: [MetricRow] = []
    public var statuses: [StatusKey: Int] = [:]
    public var scriptErrors = 0
    public var abandoned = 0
    /// check() and metrics.* so far.
    public var script = ScriptMetrics()

    public static func bounds(_ buckets: [Double]) -> [UInt64] { buckets.map { UInt64(($0 * 1e6).rounded()) } }

    /// `byText`: a controller's merge, whose failures are texts (statuses from them, StatusKey.status(ofFailureText:)).
    public init(summary s: Summary, buckets: [Double], byText: Bool = false) {
        let bounds = Self.bounds(buckets)
        // Rows of one name with different tags (a scenario's, opts.tags) are one series, as from the workers below.
        var index: [String: Int] = [:]
        for r in s.rows {
            let key = r.method + " " + r.name
            let k = index[key] ?? { rows.append(MetricRow(method: r.method, name: r.name, bounds: bounds.count)); index[key] = rows.count - 1; return rows.count - 1 }()
            rows[k].add(requests: r.requests, failures: r.failures, redirects: r.redirects, sumMicros: r.sumMicros, histogram: r.histogram, bounds: bounds)
        }
        statuses = byText ? Self.statuses(s) : s.statuses
        scriptErrors = s.errors.reduce(0) { $0 + $1.count }
        abandoned = s.abandoned
        script = s.script
    }

    /// `byText`: a controller's agents, whose failures are texts.
    public init(workers: [WorkerStats], buckets: [Double], byText: Bool = false) {
        let bounds = Self.bounds(buckets)
        var index: [String: Int] = [:]
        for w in workers {
            for r in w.rows where r.requests > 0 {
                let key = r.method + " " + r.name
                let k = index[key] ?? { rows.append(MetricRow(method: r.method, name: r.name, bounds: bounds.count)); index[key] = rows.count - 1; return rows.count - 1 }()
                rows[k].add(requests: r.requests, failures: r.failures, redirects: r.redirects, sumMicros: r.sumMicros, histogram: r.histogram, bounds: bounds)
            }
            w.addStatusCounts(to: &statuses, byText: byText)
            scriptErrors += w.errors.values.reduce(0) { $0 + $1.count }
            abandoned += w.abandoned
            if !w.script.isEmpty { script.add(w.script) }
        }
        statuses = statuses.filter { $0.value > 0 }
        rows.sort { ($0.name, $0.method) < ($1.name, $1.method) }
    }

    /// A merged Summary's rows by outcome, its failures read by their texts (as addStatusCounts(byText:)).
    static func statuses(_ s: Summary) -> [StatusKey: Int] {
        var out: [StatusKey: Int] = [:]
        for r in s.rows where r.requests > r.failures { out[StatusKey(method: r.method, name: r.name, status: "ok"), default: 0] += r.requests - r.failures }
        for f in s.failures where f.occurrences > 0 {
            out[StatusKey(method: f.method, name: f.name, status: StatusKey.status(ofFailureText: f.error)), default: 0] += f.occurrences
        }
        return out
    }
}

/// The series of one part of a test: a plain run's whole, or one region of a controller's (its label added).
public struct MetricPart: Sendable {
    /// The part's own labels (a controller's `region="ams"`), after the run's tags.
    public var labels: [MetricLabel]
    public var input: MetricInput
    public var users: Int
    /// The open model's arrivals (nil in the closed model).
    public var arrivals: ArrivalCounts?

    public init(labels: [MetricLabel] = [], input: MetricInput, users: Int, arrivals: ArrivalCounts?) {
        self.labels = labels
        self.input = input
        self.users = users
        self.arrivals = arrivals
    }

    /// Tells the part's rows from other parts' in the builder's admitted set ("" for a plain run's).
    var key: String { labels.map { MetricPart.separator + $0.value }.joined() }

    static let separator = "\u{2}"
}
