/// One set of series at one instant: what /metrics shows and what one remote-write push carries.
/// A value, built on the main thread once a second and read by the listener's and the pusher's threads.
public struct MetricSet: Sendable {
    /// luaload's own clock when the Runner took the snapshot (Unix ms): remote write's sample timestamps.
    public var timestampMs: Int64
    public var families: [MetricFamily]

    public init(timestampMs: Int64, families: [MetricFamily] = []) {
        self.timestampMs = timestampMs
        self.families = families
    }

    /// Series in all (a histogram counts one per bucket, plus _sum and _count, as Prometheus does).
    public var seriesCount: Int { families.reduce(0) { $0 + $1.samples.count } }

    /// The sample of `name` (with its suffix) whose labels include all of `labels`, summed over the rest.
    public func sum(_ name: String, where labels: [String: String] = [:]) -> Double {
        var total = 0.0
        for f in families {
            for s in f.samples where f.name + s.suffix == name
                && labels.allSatisfy({ l in s.labels.contains { $0.name == l.key && $0.value == l.value } }) {
                total += s.value
            }
        }
        return total
    }
}

public enum MetricKind: String, Sendable {
    case counter, gauge, histogram
}

public struct MetricLabel: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A metric family: `name` is the OpenMetrics family name (a counter's without `_total`); each sample adds
/// its suffix (`_total`; `_bucket`, `_sum`, `_count`; nothing for gauges).
public struct MetricFamily: Sendable {
    public var name: String
    public var help: String
    public var kind: MetricKind
    public var samples: [MetricSample] = []

    public init(name: String, help: String, kind: MetricKind) {
        self.name = name
        self.help = help
        self.kind = kind
    }

    /// The name Prometheus' text format 0.0.4 declares in # TYPE: a counter's with `_total`.
    public var textName: String { kind == .counter ? name + "_total" : name }

    mutating func add(_ suffix: String, _ labels: [MetricLabel], _ value: Double) {
        samples.append(MetricSample(suffix: suffix, labels: labels, value: value))
    }
}

public struct MetricSample: Sendable {
    public var suffix: String
    public var labels: [MetricLabel]
    public var value: Double
}
