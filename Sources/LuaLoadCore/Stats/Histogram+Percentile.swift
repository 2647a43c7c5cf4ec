import Histogram

extension Histogram {
    /// The p-th percentile of latencies recorded in µs, in ms; 0 when nothing was recorded.
    /// Clamped into [min, max] because HDR buckets report their upper edge, which may lie above the
    /// largest value recorded (and, for a single value, above the smallest).
    /// The live line, the history points and every report read percentiles through this one function.
    public func percentileMs(_ p: Double) -> Double {
        guard totalCount > 0 else { return 0 }
        return Double(Swift.min(Swift.max(valueAtPercentile(p), min), max)) / 1000
    }
}

extension Histogram where Count == UInt64 {
    /// What was recorded since `earlier`, a histogram of the same values taken before (the same configuration):
    /// bucket counts subtracted. Each bucket's value stands for its values, as HDR buckets do.
    public func subtracting(_ earlier: Self) -> Self {
        var taken: [UInt64: UInt64] = [:]
        for v in earlier.recordedValues() { taken[v.value, default: 0] += UInt64(v.count) }
        var out = Self(lowestDiscernibleValue: lowestDiscernibleValue, highestTrackableValue: highestTrackableValue,
                       numberOfSignificantValueDigits: numberOfSignificantValueDigits)
        for v in recordedValues() {
            let left = UInt64(v.count) - Swift.min(UInt64(v.count), taken[v.value] ?? 0)
            if left > 0 { _ = out.record(v.value, count: left) }
        }
        return out
    }
}
