/// `luaload wrk`'s console output, line for line in wrk's format (its units, widths and rounding), so tools
/// that parse wrk's output read it unchanged.
public enum WrkReport {
    /// "Running 10s test @ URL" and the threads line, printed before the run.
    public static func header(durationSeconds: Double, url: String, threads: Int, connections: Int) -> String {
        "Running \(units(durationSeconds, timeS, 0)) test @ \(url)\n  \(threads) threads and \(connections) connections\n"
    }

    /// The results: thread stats, the latency distribution (--latency), totals, errors, rates.
    /// With -R (`summary.arrivals` set) the distribution is wrk2's (HdrHistogram's), `uncorrected` adds its -U part.
    public static func render(_ summary: Summary, latency: WrkStatsData, rates: WrkStatsData, distribution: Bool,
                              uncorrected: Bool = false) -> String {
        var out = "  Thread Stats" + pad("Avg", 6) + pad("Stdev", 11) + pad("Max", 8) + pad("+/- Stdev", 12) + "\n"
        out += stats("Latency", latency, timeUs)
        out += stats("Req/Sec", rates, { units($0, metric, 2) })
        if distribution && summary.arrivals != nil {
            out += wrk2Distributions(summary, uncorrected: uncorrected)
        } else if distribution {
            out += "  Latency Distribution\n"
            for p in [50.0, 75, 90, 99] {
                out += pad(Format.fixed(p, 0), 7) + "%" + column(timeUs(Double(latency.percentile(p))), 10) + "\n"
            }
        }
        let e = summary.wrkErrors
        let runtimeUs = summary.durationSeconds * 1e6
        out += "  \(e.completed) requests in \(timeUs(runtimeUs)), \(units(Double(summary.bytesRead), binary, 2))B read\n"
        if e.anySocketError {
            out += "  Socket errors: connect \(e.connect), read \(e.read), write \(e.write), timeout \(e.timeout)\n"
        }
        if e.status > 0 { out += "  Non-2xx or 3xx responses: \(e.status)\n" }
        let seconds = summary.durationSeconds > 0 ? summary.durationSeconds : 1
        out += "Requests/sec: " + pad(Format.fixed(Double(e.completed) / seconds, 2), 9) + "\n"
        out += "Transfer/sec: " + pad(units(Double(summary.bytesRead) / seconds, binary, 2), 10) + "B\n"
        return out
    }

    private static func stats(_ name: String, _ s: WrkStatsData, _ fmt: (Double) -> String) -> String {
        "    " + Format.padRight(name, 10) + column(fmt(s.mean), 8) + column(fmt(s.stdev), 10)
            + column(fmt(Double(s.max)), 9) + pad(Format.fixed(s.withinStdev, 2), 8) + "%\n"
    }

    // wrk's unit tables: the base unit, then larger ones; values go up a unit from 85% of the scale.
    typealias Units = (scale: Double, base: String, units: [String])
    static let timeUs: Units = (1000, "us", ["ms", "s"])
    static let timeS: Units = (60, "s", ["m", "h"])
    static let binary: Units = (1024, "", ["K", "M", "G", "T", "P"])
    static let metric: Units = (1000, "", ["k", "M", "G", "T", "P"])

    static func units(_ n: Double, _ m: Units, _ decimals: Int) -> String {
        var amount = n, unit = m.base, i = 0
        while i + 1 < m.units.count && amount >= m.scale * 0.85 {
            amount /= m.scale
            unit = m.units[i]
            i += 1
        }
        return Format.fixed(amount, decimals) + unit
    }

    /// Microseconds as wrk shows times: µs/ms up to a second, then s/m.
    static func timeUs(_ n: Double) -> String {
        n >= 1_000_000 ? units(n / 1_000_000, timeS, 2) : units(n, timeUs, 2)
    }

    /// A value in a column of `width`, the unit's letters hanging into a 2-space gutter as wrk's print_units does.
    static func column(_ text: String, _ width: Int) -> String {
        let letters = text.suffix(2).filter { $0.isLetter }.count
        let padding = 2 - letters, w = width - padding
        return pad(String(text.prefix(w)), w) + String(repeating: " ", count: padding)
    }

    static func pad(_ s: String, _ width: Int) -> String { Format.padLeft(s, width) }
}
