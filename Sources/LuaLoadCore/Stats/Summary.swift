/// One row of the summary: a (method, name) pair or the aggregate.
public struct RowSummary {
    public var method: String
    public var name: String
    /// "k:v,k2:v2" (a scenario's tag, opts.tags); "" for none.
    public var tags = ""
    public var requests: Int
    public var failures: Int
    public var sumMicros: UInt64
    /// Response body bytes in all.
    public var bytes: UInt64 = 0
    public var histogram: LatencyHistogram
    /// Redirect hops followed (requests the server saw beyond `requests`).
    public var redirects = 0
    /// Its requests in flight at the stop (abandoned, not recorded).
    public var abandoned = 0
    public var phases: PhaseStats

    public init(_ s: RequestStats) {
        method = s.method
        name = s.name
        tags = s.tags
        requests = s.requests
        failures = s.failures
        sumMicros = s.sumMicros
        bytes = s.bytes
        histogram = s.histogram
        redirects = s.redirects
        abandoned = s.abandoned
        phases = s.phases
    }

    /// The name as the tables show it: with its tags, k6's way (`GET /health {scenario:browse}`).
    public var label: String { tags.isEmpty ? name : name + " {" + tags + "}" }
    /// Method, name and tags: what tells rows apart (the per-name history's key).
    public var key: String { method + " " + label }

    /// Mean response body size in bytes (Locust's "Average Content Size").
    public var avgContentSize: Double { requests > 0 ? Double(bytes) / Double(requests) : 0 }

    public var avgMs: Double { requests > 0 ? Double(sumMicros) / Double(requests) / 1000 : 0 }
    public var minMs: Double { requests > 0 ? Double(histogram.min) / 1000 : 0 }
    /// The largest value recorded, exactly (not its HDR bucket's upper edge): the 100th percentile, the
    /// same figure in every report and in a merge (one rule for the highest value).
    public var maxMs: Double { requests > 0 ? Double(histogram.maxRecorded) / 1000 : 0 }
    public var failureRatio: Double { requests > 0 ? Double(failures) / Double(requests) : 0 }

    /// The row's p-th percentile in ms (see `Histogram.percentileMs`).
    public func percentileMs(_ p: Double) -> Double { histogram.percentileMs(p) }

    /// Several percentiles from one walk of the buckets.
    public func percentilesMs(_ ps: [Double]) -> [Double] { histogram.percentilesMs(ps) }
}

public struct FailureRow {
    public var method: String
    public var name: String
    public var error: String
    public var occurrences: Int

    public init(method: String, name: String, error: String, occurrences: Int) {
        self.method = method
        self.name = name
        self.error = error
        self.occurrences = occurrences
    }
}

public struct ErrorRow {
    public var message: String
    public var count: Int
    public var traceback: String

    public init(message: String, count: Int, traceback: String) {
        self.message = message
        self.count = count
        self.traceback = traceback
    }
}

/// One second of the run, as the main thread saw it.
public struct HistoryPoint {
    public var elapsed: Double
    public var users: Int
    public var requests: Int
    public var failures: Int
    public var p50Ms: Double
    public var p95Ms: Double
    public var p99Ms: Double
    /// This second's latencies (µs), packed (PackedHistogram.swift): the JSON's per-second `hdr`, and what
    /// the CSV history needs for cumulative and full percentile columns. Filled by the Runner; nil otherwise.
    public var latency: PackedHistogram? = nil
}

/// A histogram's non-empty buckets as (value, count), value being the bucket's highest equivalent value
/// in µs: a few KB per second where a whole `LatencyHistogram` is ~180 KB.
public struct SparseHistogram {
    public var values: [UInt64] = []
    public var counts: [UInt64] = []

    public init() {}

    public init(_ h: LatencyHistogram) {
        for v in h.recordedValues() {
            values.append(v.value)
            counts.append(UInt64(v.count))
        }
    }
}

public enum StopReason: String, Sendable {
    case duration, interrupted, iterations, usersFinished = "users_finished", setupFailed = "setup_failed"
    /// shape() returned nil
    case shapeEnded = "shape_ended"
    /// a threshold with abort_on_fail was crossed
    case thresholdCrossed = "threshold_crossed"
    /// stopped from a live control (the web page, POST /stop)
    case stopped
}

/// The whole run's results, merged from every worker: what the console and JSON reports print.
public struct Summary {
    public var durationSeconds: Double
    public var users: Int
    public var threads: Int
    public var abandoned: Int
    /// Responses over HTTP/2 (redirect hops included).
    public var http2Responses = 0
    /// Responses over HTTP/1.x when summed from runs' JSON (a merge); nil: completed requests + redirects - HTTP/2.
    public var http1Responses: Int?
    public var iterations: Int
    public var stopReason: StopReason
    public var rows: [RowSummary]
    public var total: RowSummary
    public var failures: [FailureRow]
    public var errors: [ErrorRow]
    public var history: [HistoryPoint]
    public var tls: TLSStats
    /// Per-row history ("METHOD name" → one point a second) for `--csv-full-history`; empty unless the
    /// Runner fills it.
    public var historyByName: [String: [HistoryPoint]] = [:]
    /// Wall-clock start of the run, Unix seconds (0 when unknown): the CSV history's Timestamp column.
    public var startUnixTime: Int = 0
    /// Why setup() failed, when it did (`stopReason` is then `.setupFailed` and no user started).
    public var setupFailure: String?
    /// The open model's arrivals (nil in the closed model).
    public var arrivals: ArrivalCounts?
    /// `scenarios`: each arrival-rate scenario's arrivals, by its name (ScenarioReport shows them).
    public var scenarioArrivals: [String: ArrivalCounts] = [:]
    /// The open model's latencies (all requests) as measured from each request's first byte, without
    /// the correction for late arrivals: wrk2's -U, kept beside the corrected rows.
    public var uncorrected: RowSummary?
    /// What the open model did with late arrivals.
    public var lateMode: LateMode?
    /// How the load was shaped, in words for the reports ("stages 30s:100,…", "rate 200/s"); nil: fixed users.
    public var profile: String?
    /// Things the user should know about how the run went (shape() capped by the pool, an early abort).
    public var notes: [String] = []
    /// The verdicts of the thresholds, in declaration order (empty: no thresholds).
    public var thresholdResults: [ThresholdResult] = []
    /// Every byte read from servers, heads included (counted in `luaload wrk` only).
    public var bytesRead: UInt64 = 0
    /// Requests each thread completed in each second it completed any (wrk's Req/Sec samples).
    public var threadRates: [UInt64] = []
    /// Failures sorted into wrk's counters, and the responses that came back.
    public var wrkErrors = WrkErrors()
    /// Absolute start and end, and tags (RunPlacement.swift): what lines runs up for `luaload merge`.
    public var placement = RunPlacement()
    /// Requests by row and outcome (StatusCounts.swift): what Prometheus' `status` label holds.
    public var statuses: [StatusKey: Int] = [:]
    /// check() and metrics.* (ScriptMetrics.swift), merged from every worker or run.
    public var script = ScriptMetrics()

    public static let percentiles: [Double] = [50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100]

    public init(workers: [WorkerStats], durationSeconds: Double, users: Int, threads: Int,
                stopReason: StopReason, history: [HistoryPoint]) {
        var merged: [String: RequestStats] = [:]
        var order: [String] = []
        var failureTable: [FailureKey: Int] = [:]
        var errorTable: [String: ScriptErrorStats] = [:]
        var abandoned = 0, iterations = 0
        var bytesRead: UInt64 = 0
        var wrkErrors = WrkErrors()
        var tls = TLSStats()
        var script = ScriptMetrics()
        var arrivals: ArrivalCounts?
        var uncorrected: RequestStats?
        var statuses: [StatusKey: Int] = [:]
        for w in workers {
            if let a = w.arrivals { arrivals = arrivals ?? ArrivalCounts(); arrivals!.add(a) }
            if let u = w.uncorrected {
                uncorrected = uncorrected ?? RequestStats(method: "", name: "Aggregated (uncorrected)")
                uncorrected!.merge(u)
            }
            for row in w.rows {
                let key = row.key
                if merged[key] == nil { merged[key] = RequestStats(method: row.method, name: row.name, tags: row.tags); order.append(key) }
                merged[key]!.merge(row)
            }
            for (k, v) in w.failureTable() { failureTable[k, default: 0] += v }
            for (k, v) in w.errors {
                if var e = errorTable[k] { e.count += v.count; errorTable[k] = e } else { errorTable[k] = v }
            }
            abandoned += w.abandoned
            http2Responses += w.http2Responses
            if let n = w.http1Responses { http1Responses = (http1Responses ?? 0) + n }
            bytesRead += w.bytesRead
            wrkErrors.add(w)
            iterations += w.iterations
            tls.merge(w.tls)
            w.addStatusCounts(to: &statuses)
            script.add(w.script)
        }
        var total = RequestStats(method: "", name: "Aggregated")
        var rows: [RowSummary] = []
        for key in order {
            let r = merged[key]!
            guard r.requests > 0 || r.abandoned > 0 else { continue }
            total.merge(r)
            rows.append(RowSummary(r))
        }
        rows.sort { ($0.name, $0.method, $0.tags) < ($1.name, $1.method, $1.tags) }
        self.rows = rows
        self.total = RowSummary(total)
        self.failures = failureTable.map { FailureRow(method: $0.key.method, name: $0.key.name, error: $0.key.error, occurrences: $0.value) }
            .sorted { ($1.occurrences, $0.name, $0.error) < ($0.occurrences, $1.name, $1.error) }
        self.errors = errorTable.map { ErrorRow(message: $0.key, count: $0.value.count, traceback: $0.value.traceback) }
            .sorted { ($1.count, $0.message) < ($0.count, $1.message) }
        self.abandoned = abandoned
        self.bytesRead = bytesRead
        self.wrkErrors = wrkErrors
        self.iterations = iterations
        self.durationSeconds = durationSeconds
        self.users = users
        self.threads = threads
        self.stopReason = stopReason
        self.history = history
        self.tls = tls
        self.arrivals = arrivals
        self.scenarioArrivals = workers.reduce(into: [:]) { all, w in for (k, a) in w.scenarioArrivals { all[k, default: ArrivalCounts()].add(a) } }
        self.uncorrected = uncorrected.map(RowSummary.init)
        self.statuses = statuses.filter { $0.value > 0 }
        self.script = script
    }

    public func rps(_ row: RowSummary) -> Double { durationSeconds > 0 ? Double(row.requests) / durationSeconds : 0 }
    public func failuresPerSecond(_ row: RowSummary) -> Double { durationSeconds > 0 ? Double(row.failures) / durationSeconds : 0 }
}
