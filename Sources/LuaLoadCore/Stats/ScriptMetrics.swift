import Histogram

/// k6's check() counts: passes and fails of one named check, and the first error raised inside it.
public struct CheckCounts: Sendable, Equatable {
    public var passes = 0
    public var fails = 0
    /// The first Lua error a check function raised (with its file:line), if any did.
    public var firstError: String?

    public init(passes: Int = 0, fails: Int = 0, firstError: String? = nil) {
        self.passes = passes
        self.fails = fails
        self.firstError = firstError
    }

    public var total: Int { passes + fails }
    /// passes / total, 0...1 (0 when never run).
    public var rate: Double { total > 0 ? Double(passes) / Double(total) : 0 }

    public mutating func add(_ o: CheckCounts) {
        passes += o.passes
        fails += o.fails
        if firstError == nil { firstError = o.firstError }
    }
}

public enum MetricKind: String, Sendable {
    case counter, gauge, rate, trend
}

/// Trends record values × 1000 (three decimals: µs for a trend in ms) up to 10^12, i.e. values up to 10^9.
public let trendScale = 1000.0
private let emptyTrendHistogram = LatencyHistogram(lowestDiscernibleValue: 1, highestTrackableValue: 1_000_000_000_000, numberOfSignificantValueDigits: .three)
public func makeTrendHistogram() -> LatencyHistogram { emptyTrendHistogram }

/// One custom metric series (metrics.counter/gauge/rate/trend, or one of its tagged sub-series "name{k:v}").
/// Everything adds exactly across threads, segments and `luaload merge`: counts and sums, a trend's HDR
/// histogram; a gauge keeps the last value set (by wall clock) and its extremes.
public struct CustomMetric: Sendable {
    public var kind: MetricKind
    public var unit: String = ""
    /// Values added (a rate: values seen).
    public var count = 0
    /// A counter's total; a gauge's and a trend's sum of values (a trend's in milli-units, `trendSumMilli`).
    public var sum = 0.0
    /// A rate's true values.
    public var passes = 0
    public var last = 0.0, min = Double.infinity, max = -Double.infinity
    /// When the gauge's last value was taken (Unix ms): the latest wins in a merge.
    public var lastAtMs: Int64 = 0
    /// A trend's values × `trendScale`, and their exact sum.
    public var histogram: LatencyHistogram? = nil
    public var trendSumMilli: Int64 = 0

    public init(kind: MetricKind, unit: String = "") {
        self.kind = kind
        self.unit = unit
        if kind == .trend { histogram = makeTrendHistogram() }
    }

    /// A trend's value: one rounding rule for every value recorded.
    public mutating func recordTrend(_ v: Double) {
        let scaled = UInt64(Swift.max(0, Swift.min((v * trendScale).rounded(), 1e12)))
        _ = histogram!.record(scaled)
        trendSumMilli &+= Int64(scaled)
        count += 1
        if v < min { min = v }
        if v > max { max = v }
    }

    public mutating func add(_ o: CustomMetric) {
        count += o.count
        sum += o.sum
        passes += o.passes
        if o.count > 0 {
            if o.lastAtMs >= lastAtMs { last = o.last; lastAtMs = o.lastAtMs }
            min = Swift.min(min, o.min)
            max = Swift.max(max, o.max)
        }
        if let h = o.histogram { if histogram == nil { histogram = h } else { histogram!.add(h) } }
        trendSumMilli += o.trendSumMilli
        if unit.isEmpty { unit = o.unit }
    }

    /// A rate's true/total (0...1).
    public var rate: Double { count > 0 ? Double(passes) / Double(count) : 0 }
    /// A trend's mean, from the exact sum.
    public var trendAvg: Double { count > 0 ? Double(trendSumMilli) / trendScale / Double(count) : 0 }
    /// A trend's p-th percentile in its unit.
    public func trendPercentile(_ p: Double) -> Double { (histogram?.percentileMs(p) ?? 0) * 1000 / trendScale }
}

/// What the script counted with check() and metrics.*: a worker's, a run's or a merge's.
public struct ScriptMetrics: Sendable {
    public var checks: [String: CheckCounts] = [:]
    public var metrics: [String: CustomMetric] = [:]

    public init() {}

    public var isEmpty: Bool { checks.isEmpty && metrics.isEmpty }

    public mutating func add(_ o: ScriptMetrics) {
        for (k, c) in o.checks { checks[k, default: CheckCounts()].add(c) }
        for (k, m) in o.metrics {
            if metrics[k] == nil { metrics[k] = m } else { metrics[k]!.add(m) }
        }
    }

    /// Every check together (the `checks` threshold's rate).
    public var allChecks: CheckCounts {
        var all = CheckCounts()
        for c in checks.values { all.passes += c.passes; all.fails += c.fails }
        return all
    }

    /// Names sorted, for the reports.
    public var checkNames: [String] { checks.keys.sorted() }
    public var metricNames: [String] { metrics.keys.sorted() }
}
