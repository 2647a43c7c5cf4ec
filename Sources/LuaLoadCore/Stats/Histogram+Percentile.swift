import Histogram

extension Histogram where Count == UInt64 {
    /// The p-th percentile of latencies recorded in µs, in ms; 0 when nothing was recorded.
    /// Clamped into [min, max] because HDR buckets report their upper edge, which may lie above the
    /// largest value recorded (and, for a single value, above the smallest).
    /// The live line, the history points and every report read percentiles through this one function.
    ///
    /// The same value as the library's `valueAtPercentile`, found by walking `recordedValues()`: that
    /// function is compiled generic over the count type in its own module, where each bucket costs ~200
    /// instructions of witness calls, and a report asks for dozens of percentiles (~0.4M instructions
    /// each, most of a short run's start-up and report). The iterator is inlinable, so here it runs
    /// specialized for UInt64 counts.
    public func percentileMs(_ p: Double) -> Double {
        guard totalCount > 0 else { return 0 }
        return Double(Swift.min(Swift.max(value(atPercentile: p), min), max)) / 1000
    }

    /// `percentileMs` of each of `ps`, in their order, from one walk that ends at the largest below 100: a
    /// walk costs ~100 instructions a bucket up to where it stops, and a report's table asks for a dozen.
    public func percentilesMs(_ ps: [Double]) -> [Double] {
        guard totalCount > 0 else { return ps.map { _ in 0 } }
        var out = ps.map { p -> Double in p == 0 ? Double(min) : Double(maxRecorded) }   // p == 0, p ≥ 100
        var targets: [(index: Int, count: UInt64)] = []
        for (k, p) in ps.enumerated() where p > 0 && p < 100 { targets.append((k, countAt(p))) }
        targets.sort { $0.count < $1.count }
        var next = 0, seen: UInt64 = 0
        if !targets.isEmpty {
            for bucket in recordedValues() {
                seen += bucket.count
                while next < targets.count && seen >= targets[next].count {
                    out[targets[next].index] = Double(Swift.max(Swift.min(bucket.value, maxRecorded), min))
                    next += 1
                }
                if next == targets.count { break }
            }
        }
        return out.map { Swift.min(Swift.max($0, Double(min)), Double(max)) / 1000 }
    }

    /// `percentileMs(p)` read from `sparse`, this histogram's buckets already walked (`SparseHistogram(self)`).
    func percentileMs(_ p: Double, from sparse: SparseHistogram) -> Double {
        guard totalCount > 0 else { return 0 }
        let buckets = zip(sparse.values, sparse.counts).lazy.map { (value: $0.0, count: $0.1) }
        return Double(Swift.min(Swift.max(value(atPercentile: p, buckets: buckets), min), max)) / 1000
    }

    /// `valueAtPercentile(p)`'s rule: the upper edge of the bucket holding the ⌈p % of the count⌉-th value.
    func value(atPercentile p: Double) -> UInt64 {
        value(atPercentile: p, buckets: recordedValues().lazy.map { (value: $0.value, count: $0.count) })
    }

    /// The same rule over this histogram's recorded buckets as given (in value order), e.g. a sparse copy.
    @inline(__always)
    func value<S: Sequence>(atPercentile p: Double, buckets: S) -> UInt64 where S.Element == (value: UInt64, count: UInt64) {
        if p == 0 { return min }
        if p >= 100 { return maxRecorded }
        let target = countAt(p)
        var seen: UInt64 = 0
        for bucket in buckets {
            seen += bucket.count
            if seen >= target { return Swift.max(Swift.min(bucket.value, maxRecorded), min) }
        }
        return 0
    }

    /// How many values lie at or below the p-th percentile's (0 < p < 100): ⌈p % of the count⌉, at least one,
    /// from p one ulp lower, as the library does, so that rounding up cannot step into the next bucket.
    @inline(__always)
    func countAt(_ p: Double) -> UInt64 {
        let requested = Swift.min(Swift.max(p.nextDown, 0), 100)
        return Swift.max(1, UInt64((requested * Double(totalCount) / 100).rounded(.up)))
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
