import Histogram

/// `luaload wrk -R --latency`: wrk2's latency lines, so tools that parse wrk2's output read them unchanged —
/// HdrHistogram's value at 50 … 100 %, then its detailed percentile spectrum in ms, then a rule.
extension WrkReport {
    static let wrk2Percentiles: [Double] = [50, 75, 90, 99, 99.9, 99.99, 99.999, 100]

    /// The recorded (corrected) distribution, and with -U the uncorrected one after it, as wrk2 prints them.
    static func wrk2Distributions(_ summary: Summary, uncorrected: Bool) -> String {
        var out = wrk2Distribution(summary.total.histogram, "Recorded Latency")
        if uncorrected, let u = summary.uncorrected {
            out += "\n" + wrk2Distribution(u.histogram, "Uncorrected Latency (measured without taking delayed starts into account)")
        }
        return out
    }

    /// One histogram (µs) in wrk2's print_hdr_latency layout.
    static func wrk2Distribution(_ h: LatencyHistogram, _ description: String) -> String {
        var out = "  Latency Distribution (HdrHistogram - \(description))\n"
        for p in wrk2Percentiles {
            let value = h.totalCount > 0 ? h.value(atPercentile: p) : 0
            out += pad(Format.fixed(p, 3), 7) + "%" + column(timeUs(Double(value)), 10) + "\n"
        }
        out += "\n  Detailed Percentile spectrum:\n" + spectrum(h)
        out += "----------------------------------------------------------\n"
        return out
    }

    /// HdrHistogram C's hdr_percentiles_print (CLASSIC, 5 ticks per half distance, values in ms), which wrk2
    /// prints; without its "#[Buckets" line (the histogram's internal layout, which differs from wrk2's).
    static func spectrum(_ h: LatencyHistogram) -> String {
        func f(_ v: Double, _ decimals: Int) -> String { pad(Format.fixed(v, decimals), 12) }
        var out = pad("Value", 12) + " " + pad("Percentile", 12) + " " + pad("TotalCount", 12) + " " + pad("1/(1-Percentile)", 12) + "\n\n"
        if h.totalCount > 0 {
            for iv in h.percentiles(ticksPerHalfDistance: 5) {
                let p = iv.percentileLevelIteratedTo / 100
                out += f(Double(iv.value) / 1000, 3) + " " + f(p, 6) + " " + pad(String(iv.totalCountToThisValue), 12)
                out += (p < 1 ? " " + f(1 / (1 - p), 2) : "") + "\n"
            }
        }
        out += "#[Mean    = " + f(h.mean / 1000, 3) + ", StdDeviation   = " + f(h.stdDeviation / 1000, 3) + "]\n"
        out += "#[Max     = " + f(Double(h.max) / 1000, 3) + ", Total count    = " + pad(String(h.totalCount), 12) + "]\n"
        return out
    }
}
