import LuaLoadCore

/// --out otlp=URL: the same series as an OTLP/HTTP metrics export (`ExportMetricsServiceRequest`) in
/// OTLP's JSON encoding (Content-Type: application/json), which every OTLP/HTTP receiver accepts.
/// Counters become cumulative monotonic sums, gauges gauges, and each histogram one data point per label
/// set with explicit bounds and per-bucket counts (OTLP's buckets are not cumulative; the last one is
/// above the largest bound). Cumulative from `startMs`, the run's start, so receivers see one series.
public enum OTLPEncoder {
    public static func json(_ set: MetricSet, startMs: Int64) -> [UInt8] {
        let start = "\"startTimeUnixNano\":\"\(startMs)000000\",\"timeUnixNano\":\"\(set.timestampMs)000000\""
        var metrics: [String] = []
        for f in set.families where !f.samples.isEmpty {
            let head = "{\"name\":" + JSONWriter.quote(f.name) + ",\"description\":" + JSONWriter.quote(f.help)
            switch f.kind {
            case .counter:
                let points = f.samples.map { "{" + attributes($0.labels) + "," + start + ",\"asDouble\":" + number($0.value) + "}" }
                metrics.append(head + ",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,\"dataPoints\":[" + points.joined(separator: ",") + "]}}")
            case .gauge:
                let points = f.samples.map { "{" + attributes($0.labels) + ",\"timeUnixNano\":\"\(set.timestampMs)000000\",\"asDouble\":" + number($0.value) + "}" }
                metrics.append(head + ",\"gauge\":{\"dataPoints\":[" + points.joined(separator: ",") + "]}}")
            case .histogram:
                let points = histogramPoints(f).map { p in
                    "{" + attributes(p.labels) + "," + start + ",\"count\":\"\(p.count)\",\"sum\":" + number(p.sum)
                        + ",\"bucketCounts\":[" + p.counts.map { "\"\($0)\"" }.joined(separator: ",") + "],\"explicitBounds\":["
                        + p.bounds.map(number).joined(separator: ",") + "]}"
                }
                let unit = f.name.hasSuffix("_seconds") ? ",\"unit\":\"s\"" : ""   // a script trend may count bytes
                metrics.append(head + unit + ",\"histogram\":{\"aggregationTemporality\":2,\"dataPoints\":[" + points.joined(separator: ",") + "]}}")
            }
        }
        let resource = "{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"luaload\"}}]}"
        let scope = "{\"name\":\"luaload\",\"version\":" + JSONWriter.quote(lualoadVersion) + "}"
        return Array(("{\"resourceMetrics\":[{\"resource\":" + resource + ",\"scopeMetrics\":[{\"scope\":" + scope
            + ",\"metrics\":[" + metrics.joined(separator: ",") + "]}]}]}").utf8)
    }

    struct HistogramPoint {
        var labels: [MetricLabel]
        var bounds: [Double] = []
        var counts: [UInt64] = []
        var sum = 0.0
        var count: UInt64 = 0
    }

    /// A Prometheus-style histogram's samples (cumulative `_bucket{le}`, `_sum`, `_count`, in that order per
    /// label set, as MetricsBuilder writes them) as OTLP points.
    static func histogramPoints(_ f: MetricFamily) -> [HistogramPoint] {
        var points: [HistogramPoint] = []
        var cumulative: UInt64 = 0
        for s in f.samples {
            let labels = s.labels.filter { $0.name != "le" }
            if points.last?.labels != labels { points.append(HistogramPoint(labels: labels)); cumulative = 0 }
            let value = UInt64(max(s.value, 0))
            switch s.suffix {
            case "_bucket":
                points[points.count - 1].counts.append(value - min(cumulative, value))
                cumulative = value
                if let le = s.labels.first(where: { $0.name == "le" })?.value, le != "+Inf", let bound = Double(le) {
                    points[points.count - 1].bounds.append(bound)
                }
            case "_sum": points[points.count - 1].sum = s.value
            default: points[points.count - 1].count = value
            }
        }
        return points
    }

    static func attributes(_ labels: [MetricLabel]) -> String {
        "\"attributes\":[" + labels.map { "{\"key\":" + JSONWriter.quote($0.name) + ",\"value\":{\"stringValue\":" + JSONWriter.quote($0.value) + "}}" }
            .joined(separator: ",") + "]"
    }

    static func number(_ v: Double) -> String { v.isFinite ? formatValue(v) : "0" }
}
