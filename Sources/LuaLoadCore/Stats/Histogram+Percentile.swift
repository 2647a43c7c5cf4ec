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
