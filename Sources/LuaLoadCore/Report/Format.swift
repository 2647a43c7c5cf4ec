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
