/// Number and column formatting without Foundation.
public enum Format {
    /// `value` with exactly `decimals` decimals, rounded half away from zero.
    public static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let negative = value < 0
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e18 else { return String(value) }
        let n = UInt64(scaled)
        let unit = UInt64(scale)
        var s = String(n / unit)
        if decimals > 0 {
            var frac = String(n % unit)
            while frac.count < decimals { frac = "0" + frac }
            s += "." + frac
        }
        return negative && n != 0 ? "-" + s : s
    }

    /// A percentile as a label: "50", "99.9", "99.99" (the JSON keys; with "%" the table headers).
    public static func percentile(_ p: Double) -> String {
        p == p.rounded() ? String(Int(p)) : fixed(p, p * 10 == (p * 10).rounded() ? 1 : 2)
    }

    public static func padLeft(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    public static func padRight(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    /// A duration such as "10s", "2m30s".
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60 > 0 ? "\(s % 60)s" : "")" }
        return "\(s / 3600)h\((s % 3600) / 60)m"
    }
}

extension Format {
    /// A command line as a shell would need it typed: words with spaces or shell characters in single quotes.
    public static func shellWords(_ words: [String]) -> String {
        words.map { w in
            let plain = !w.isEmpty && w.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_./:=,@%+".unicodeScalars.contains($0)
            }
            return plain ? w : "'" + w.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        }.joined(separator: " ")
    }

    /// A Unix time in ms as "2026-12-03 08:00:00 UTC" (civil date from days, without Foundation).
    public static func utc(unixMs: Int64) -> String {
        let secs = unixMs >= 0 ? unixMs / 1000 : (unixMs - 999) / 1000
        let days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        let tod = Int(secs - days * 86400)
        // Howard Hinnant's days_from_civil, inverted.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(Int(m)))-\(two(Int(d))) \(two(tod / 3600)):\(two(tod % 3600 / 60)):\(two(tod % 60)) UTC"
    }
}
