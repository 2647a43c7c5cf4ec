import Histogram
import LuaLoadCore

/// What the series are made of besides --tag: the histogram's buckets and the bound on series.
public struct MetricsConfig: Sendable {
    /// `le` bounds in seconds, ascending (+Inf is implied).
    public var buckets: [Double] = MetricsConfig.defaultBuckets
    /// --metrics-max-series: more would leave names out, and say so.
    public var maxSeries = 1000
    /// Labels on every series: --tag's region, host, segment, testid…, keys made valid label names.
    public var labels: [MetricLabel] = []
    /// A controller's: the label its series are broken down by (its `--by` tag, made a label name), nil on one box.
    public var breakdown: String?

    /// HTTP APIs answer in a millisecond to seconds: 1 ms … 10 s (Prometheus' defaults, with 1 and 2.5 ms).
    public static let defaultBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public init() {}

    /// --tag pairs as labels: a key that is not a valid label name has its other characters replaced by
    /// `_`; one that would clash with a series' own label (name, method, status, le, threshold) or is
    /// reserved (`__…`) becomes `tag_<key>`.
    public static func labels(fromTags tags: [(key: String, value: String)]) -> [MetricLabel] {
        var out: [MetricLabel] = []
        for (key, value) in tags {
            var name = String(key.unicodeScalars.map { s -> Character in
                let ok = (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || s == "_" || (s >= "0" && s <= "9")
                return ok ? Character(s) : "_"
            })
            if name.isEmpty || name.first!.isNumber || name.hasPrefix("__") || reserved.contains(name) { name = "tag_" + name }
            if let k = out.firstIndex(where: { $0.name == name }) { out[k].value = value } else { out.append(MetricLabel(name, value)) }
        }
        return out
    }

    static let reserved: Set<String> = ["name", "method", "status", "le", "threshold", "job", "instance"]
}

/// What the run is doing now, besides its rows.
public struct RunFacts: Sendable {
    public var users: Int
    /// The open model's arrivals (nil in the closed model: no arrival series).
    public var arrivals: ArrivalCounts?
    public var thresholds: [ThresholdResult]

    public init(users: Int, arrivals: ArrivalCounts?, thresholds: [ThresholdResult]) {
        self.users = users
        self.arrivals = arrivals
        self.thresholds = thresholds
    }
}

/// Turns a cumulative Summary (live or final) into series. It remembers which rows it has exported: a
/// row once in stays in, and a new row that would take the set past `maxSeries` is left out and counted
/// (`leftOut`), so the set never grows past its bound and a series never vanishes mid-run.
public final class MetricsBuilder {
    public let config: MetricsConfig
    var admitted: Set<String> = []
    /// Rows (method + name), checks and custom metric series left out for want of room; what they count is in no series.
    public internal(set) var leftOut: Set<String> = []

    public init(config: MetricsConfig) { self.config = config }

    /// Series a row takes: its statuses, failures, redirects, and the histogram's buckets, +Inf, _sum and _count.
    private func seriesOf(statuses: Int) -> Int { statuses + 2 + config.buckets.count + 3 }

    /// The final set: the run's Summary, exactly the JSON's numbers.
    public func build(_ s: Summary, _ facts: RunFacts, timestampMs: Int64) -> MetricSet {
        build(MetricInput(summary: s, buckets: config.buckets), facts, timestampMs: timestampMs)
    }

    public func build(_ input: MetricInput, _ facts: RunFacts, timestampMs: Int64) -> MetricSet {
        build([MetricPart(input: input, users: facts.users, arrivals: facts.arrivals)], thresholds: facts.thresholds, timestampMs: timestampMs)
    }

    /// Every part's series (a controller's: one part per region, its label added), the thresholds once.
    public func build(_ parts: [MetricPart], thresholds: [ThresholdResult], timestampMs: Int64) -> MetricSet {
        var requests = MetricFamily(name: "luaload_requests", help: "Requests completed (recorded), by outcome: status is the HTTP status of a failure by status, ok, error (no status) or failed (by the script).", kind: .counter)
        var failures = MetricFamily(name: "luaload_failures", help: "Requests that failed.", kind: .counter)
        var redirects = MetricFamily(name: "luaload_redirects", help: "Redirect hops followed within the requests (each one a request the server saw).", kind: .counter)
        var duration = MetricFamily(name: "luaload_request_duration_seconds", help: "Response times of recorded requests (from luaload's HDR histograms).", kind: .histogram)
        var fixed = fixedFamilies(parts, thresholds)
        var count = fixed.reduce(0) { $0 + $1.samples.count }
        var script: [MetricFamily] = []
        for part in parts {
            let base = config.labels + part.labels
            var byRow: [String: [(String, Int)]] = [:]
            for (key, n) in part.input.statuses { byRow[key.method + " " + key.name, default: []].append((key.status, n)) }
            for row in part.input.rows {
                let key = row.method + " " + row.name
                let statuses = (byRow[key] ?? []).sorted { $0.0 < $1.0 }
                guard admit(key + part.key, need: seriesOf(statuses: statuses.count), &count) else { continue }
                let labels = [MetricLabel("name", row.name), MetricLabel("method", row.method)] + base
                for (status, n) in statuses {
                    requests.add("_total", [MetricLabel("name", row.name), MetricLabel("method", row.method), MetricLabel("status", status)] + base, Double(n))
                }
                failures.add("_total", labels, Double(row.failures))
                redirects.add("_total", labels, Double(row.redirects))
                addHistogram(&duration, row, labels)
            }
            Self.append(scriptFamilies(part.input.script, base, part.key, &count), to: &script)   // check() and metrics.* (MetricsBuilder+Script)
        }
        fixed.insert(contentsOf: [requests, failures, redirects, duration], at: 0)
        fixed += script
        if SecretMask.isActive { Self.mask(&fixed) }          // --secret: a name or a tag may quote one
        return MetricSet(timestampMs: timestampMs, families: fixed)
    }

    /// Whether `key` has (or now gets) room for `need` series.
    func admit(_ key: String, need: Int, _ count: inout Int) -> Bool {
        if !admitted.contains(key) {
            guard count + need <= config.maxSeries else { leftOut.insert(key); return false }
            admitted.insert(key)
        }
        count += need
        return true
    }

    /// Users, script errors, abandoned requests, arrivals (open model) per part; the thresholds once.
    private func fixedFamilies(_ parts: [MetricPart], _ thresholds: [ThresholdResult]) -> [MetricFamily] {
        var users = MetricFamily(name: "luaload_users", help: "Virtual users running.", kind: .gauge)
        var errors = MetricFamily(name: "luaload_script_errors", help: "Errors raised by the script (Lua errors) in all.", kind: .counter)
        var abandoned = MetricFamily(name: "luaload_requests_abandoned", help: "Requests in flight at the stop, abandoned: the server may have seen them.", kind: .counter)
        var scheduled = MetricFamily(name: "luaload_arrivals_scheduled", help: "Open model: arrivals due so far (started or dropped).", kind: .counter)
        var dropped = MetricFamily(name: "luaload_arrivals_dropped", help: "Open model: arrivals dropped (no free VU, or the run ended first).", kind: .counter)
        for part in parts {
            let base = config.labels + part.labels
            users.add("", base, Double(part.users))
            errors.add("_total", base, Double(part.input.scriptErrors))
            abandoned.add("_total", base, Double(part.input.abandoned))
            if let a = part.arrivals {
                scheduled.add("_total", base, Double(a.started + a.dropped))
                dropped.add("_total", base, Double(a.dropped))
            }
        }
        var out = [users, errors, abandoned]
        if !scheduled.samples.isEmpty { out += [scheduled, dropped] }
        if !thresholds.isEmpty {
            var ok = MetricFamily(name: "luaload_threshold_ok", help: "1 while the threshold holds, 0 once crossed.", kind: .gauge)
            for t in thresholds { ok.add("", [MetricLabel("threshold", t.name + ": " + t.expression)] + config.labels, t.ok ? 1 : 0) }
            out.append(ok)
        }
        return out
    }

    /// Adds a part's families to those of the parts before it: one family of each name, its samples in order.
    static func append(_ families: [MetricFamily], to out: inout [MetricFamily]) {
        for f in families {
            if let k = out.firstIndex(where: { $0.name == f.name }) { out[k].samples += f.samples } else { out.append(f) }
        }
    }

    /// Cumulative `le` buckets from the row's per-bound counts; +Inf and _count are its requests exactly.
    private func addHistogram(_ family: inout MetricFamily, _ row: MetricRow, _ labels: [MetricLabel]) {
        var cumulative: UInt64 = 0
        for (i, b) in config.buckets.enumerated() {
            cumulative += row.perBucket[i]
            family.add("_bucket", labels + [MetricLabel("le", formatBound(b))], Double(cumulative))
        }
        family.add("_bucket", labels + [MetricLabel("le", "+Inf")], Double(row.requests))
        family.add("_sum", labels, Double(row.sumMicros) / 1e6)
        family.add("_count", labels, Double(row.requests))
    }
}

/// A bucket bound as Prometheus clients write it: "0.005", "1.0", "2.5".
func formatBound(_ b: Double) -> String { b.description }
