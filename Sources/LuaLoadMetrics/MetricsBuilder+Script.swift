import LuaLoadCore

/// check() and metrics.* as series, from the same once-a-second input as the requests' (MetricInput):
///
///   luaload_checks_total{check, result="pass"|"fail"}          counter, per check
///   luaload_custom_NAME_total                                  a counter's total
///   luaload_custom_NAME                                        a gauge's last value
///   luaload_custom_NAME_total{result="true"|"false"}           a rate's values
///   luaload_custom_NAME_seconds_bucket{le}, _sum, _count       a trend in ms, s or us (the run's buckets);
///   luaload_custom_NAME_bucket{le}, _sum, _count               a trend in another unit (bounds × 1000 in it)
///
/// A series added with tags (`c:add(1, { region = "ams" })`, k6's sub-metric `NAME{region:ams}`) goes to the
/// family `luaload_custom_NAME_by_tag[_seconds]` with its tags as labels, so `sum(luaload_custom_NAME_total)` stays the
/// whole metric. Each counts against --metrics-max-series like a request row; once in, it stays in.
extension MetricsBuilder {
    /// leftOut keys of checks and custom metrics start with this (request rows' are "METHOD name").
    static let scriptKeyPrefix = "\u{1}"

    func scriptFamilies(_ m: ScriptMetrics, _ base: [MetricLabel], _ part: String, _ count: inout Int) -> [MetricFamily] {
        guard !m.isEmpty else { return [] }
        var out: [MetricFamily] = []
        if !m.checks.isEmpty {
            var checks = MetricFamily(name: "luaload_checks", help: "check() results, by check and result (pass or fail).", kind: .counter)
            for name in m.checkNames where admit(Self.scriptKeyPrefix + "check " + name + part, need: 2, &count) {
                let c = m.checks[name]!
                checks.add("_total", [MetricLabel("check", name), MetricLabel("result", "pass")] + base, Double(c.passes))
                checks.add("_total", [MetricLabel("check", name), MetricLabel("result", "fail")] + base, Double(c.fails))
            }
            out.append(checks)
        }
        var families: [String: MetricFamily] = [:], order: [String] = []
        for series in m.metricNames {
            let x = m.metrics[series]!
            let (name, tags) = Self.splitSeries(series)
            guard admit(Self.scriptKeyPrefix + "metric " + series + part, need: seriesNeeded(x), &count) else { continue }
            let trend = x.kind == .trend ? TrendScale(unit: x.unit) : nil
            let family = "luaload_custom_" + Self.sanitize(name) + (tags.isEmpty ? "" : "_by_tag") + (trend?.suffix ?? "")
            if families[family] == nil { families[family] = Self.family(family, name, x); order.append(family) }
            add(&families[family]!, x, trend, Self.tagLabels(tags, base) + base)
        }
        return out + order.map { families[$0]! }
    }

    private func seriesNeeded(_ x: CustomMetric) -> Int {
        switch x.kind {
        case .counter, .gauge: return 1
        case .rate: return 2
        case .trend: return config.buckets.count + 3
        }
    }

    private static func family(_ family: String, _ name: String, _ x: CustomMetric) -> MetricFamily {
        let unit = x.unit.isEmpty ? "" : " (unit: \(x.unit))"
        switch x.kind {
        case .counter: return MetricFamily(name: family, help: "Script counter \(name): its total.", kind: .counter)
        case .gauge: return MetricFamily(name: family, help: "Script gauge \(name): the last value set.", kind: .gauge)
        case .rate: return MetricFamily(name: family, help: "Script rate \(name): values added, by result (true or false).", kind: .counter)
        case .trend: return MetricFamily(name: family, help: "Script trend \(name)\(unit), from its HDR histogram.", kind: .histogram)
        }
    }

    private func add(_ f: inout MetricFamily, _ x: CustomMetric, _ trend: TrendScale?, _ labels: [MetricLabel]) {
        switch x.kind {
        case .counter: f.add("_total", labels, x.sum)
        case .gauge: f.add("", labels, x.last)
        case .rate:
            f.add("_total", labels + [MetricLabel("result", "true")], Double(x.passes))
            f.add("_total", labels + [MetricLabel("result", "false")], Double(x.count - x.passes))
        case .trend:
            let scale = trend!
            var row = MetricRow(method: "", name: "", bounds: config.buckets.count)
            let bounds = config.buckets.map { UInt64(($0 * scale.storedPerBucketUnit).rounded()) }
            row.add(requests: x.count, failures: 0, redirects: 0, sumMicros: 0, histogram: x.histogram ?? makeTrendHistogram(), bounds: bounds)
            var cumulative: UInt64 = 0
            for (i, b) in config.buckets.enumerated() {
                cumulative += row.perBucket[i]
                f.add("_bucket", labels + [MetricLabel("le", formatBound(scale.label(b)))], Double(cumulative))
            }
            f.add("_bucket", labels + [MetricLabel("le", "+Inf")], Double(x.count))
            f.add("_sum", labels, Double(x.trendSumMilli) / trendScale / scale.valuesPerLabelUnit)
            f.add("_count", labels, Double(x.count))
        }
    }

    /// "logins{region:ams,kind:x}" → ("logins", [("region","ams"), ("kind","x")]) (metrics.lua's tag_key).
    static func splitSeries(_ series: String) -> (String, [(key: String, value: String)]) {
        guard series.hasSuffix("}"), let brace = series.firstIndex(of: "{") else { return (series, []) }
        let inner = series[brace...].dropFirst().dropLast()
        let tags = inner.split(separator: ",").compactMap { pair -> (key: String, value: String)? in
            guard let colon = pair.firstIndex(of: ":") else { return nil }
            return (String(pair[..<colon]), String(pair[colon...].dropFirst()))
        }
        return (String(series[..<brace]), tags)
    }

    /// A script's tags as labels: made valid names; one that clashes with the run's labels or the series'
    /// own (check, result, le…) becomes `tag_<key>`.
    static func tagLabels(_ tags: [(key: String, value: String)], _ base: [MetricLabel]) -> [MetricLabel] {
        let taken = Set(base.map(\.name)).union(["check", "result", "le"])
        return MetricsConfig.labels(fromTags: tags).map { l in taken.contains(l.name) ? MetricLabel("tag_" + l.name, l.value) : l }
    }

    /// A metric name as a Prometheus name: `.` and `-` become `_`.
    static func sanitize(_ name: String) -> String {
        String(name.map { $0 == "." || $0 == "-" ? "_" : $0 })
    }

    /// --secret: every label value and help text with the secrets masked.
    static func mask(_ families: inout [MetricFamily]) {
        for i in families.indices {
            families[i].help = SecretMask.apply(families[i].help)
            for j in families[i].samples.indices {
                for k in families[i].samples[j].labels.indices {
                    families[i].samples[j].labels[k].value = SecretMask.apply(families[i].samples[j].labels[k].value)
                }
            }
        }
    }
}

/// How a trend's values (stored × 1000 in its HDR histogram) map to `le` bounds: a time unit is exported in
/// seconds with the run's buckets (`_seconds`); another unit in itself, with the buckets × 1000 as bounds.
struct TrendScale {
    /// Stored histogram units per one unit of the configured bucket list (seconds, or the ×1000 bounds).
    let storedPerBucketUnit: Double
    /// The trend's values per unit of `le` and `_sum`.
    let valuesPerLabelUnit: Double
    let suffix: String
    let labelFactor: Double

    init(unit: String) {
        switch unit {
        case "ms": (storedPerBucketUnit, valuesPerLabelUnit, suffix, labelFactor) = (1e6, 1e3, "_seconds", 1)
        case "s": (storedPerBucketUnit, valuesPerLabelUnit, suffix, labelFactor) = (1e3, 1, "_seconds", 1)
        case "us", "µs": (storedPerBucketUnit, valuesPerLabelUnit, suffix, labelFactor) = (1e9, 1e6, "_seconds", 1)
        default: (storedPerBucketUnit, valuesPerLabelUnit, suffix, labelFactor) = (1e6, 1, "", 1000)
        }
    }

    func label(_ bucket: Double) -> Double { bucket * labelFactor }
}
