import Histogram
#if canImport(Glibc)
import Glibc
#endif

/// `luaload wrk`'s statistics as wrk computes them: the latency with wrk's correction for coordinated
/// omission, per-thread request rates, sample standard deviation, wrk's percentile rank.
extension WrkStatsData {
    /// The run's latencies (µs) after wrk's correction: with `expected` = run time / (responses per
    /// connection), each latency L ≥ 2·expected also counts at L − expected, L − 2·expected, … while above
    /// `expected` (the requests a connection could not send while it waited).
    /// With -R (the open model) the latencies are already timed from when each request was due, wrk2's
    /// correction, and are taken as they are.
    public static func latency(_ summary: Summary, connections: Int) -> WrkStatsData {
        var h = summary.total.histogram
        let completed = summary.wrkErrors.completed
        if summary.arrivals == nil, connections > 0, completed / connections > 0 {
            let expected = UInt64(summary.durationSeconds * 1e6) / UInt64(completed / connections)
            if expected > 0 {
                var corrected = h
                for v in h.recordedValues() where v.value >= 2 * expected {
                    var m = v.value - expected
                    while m > expected {
                        _ = corrected.record(m, count: v.count)
                        m -= expected
                    }
                }
                h = corrected
            }
        }
        var d = WrkStatsData()
        for v in h.recordedValues() {
            d.values.append(v.value)
            d.counts.append(UInt64(v.count))
        }
        d.fillMoments()
        return d
    }

    /// Requests per second of each thread, one sample per thread and second in which it had any.
    public static func rates(_ summary: Summary) -> WrkStatsData {
        var d = WrkStatsData()
        for r in summary.threadRates.sorted() {
            if d.values.last == r { d.counts[d.counts.count - 1] += 1 } else { d.values.append(r); d.counts.append(1) }
        }
        d.fillMoments()
        return d
    }

    mutating func fillMoments() {
        let n = count
        guard n > 0 else { return }
        min = values.first!
        max = values.last!
        var sum = 0.0
        for (v, c) in zip(values, counts) { sum += Double(v) * Double(c) }
        mean = sum / Double(n)
        guard n > 1 else { return }
        var squares = 0.0
        for (v, c) in zip(values, counts) { squares += (Double(v) - mean) * (Double(v) - mean) * Double(c) }
        stdev = (squares / Double(n - 1)).squareRoot()
    }

    /// wrk's percentile: the smallest value whose cumulative count reaches round(p/100 · n + 0.5).
    public func percentile(_ p: Double) -> UInt64 {
        let rank = UInt64((p / 100 * Double(count) + 0.5).rounded())
        var total: UInt64 = 0
        for (v, c) in zip(values, counts) {
            total += c
            if total >= rank { return v }
        }
        return 0
    }

    /// The share of values within one standard deviation of the mean, in % (wrk's "+/- Stdev").
    public var withinStdev: Double {
        let n = count
        guard n > 0 else { return 0 }
        var inside: UInt64 = 0
        for (v, c) in zip(values, counts) where Double(v) >= mean - stdev && Double(v) <= mean + stdev { inside += c }
        return Double(inside) / Double(n) * 100
    }
}
