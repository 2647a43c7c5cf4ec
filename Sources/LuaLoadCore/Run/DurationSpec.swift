/// Parses durations like "30s", "5m", "1h30m", "250ms", "1.5s", "500us"; a bare number is seconds.
/// Returns seconds, or nil when the text is not a duration.
public func parseDuration(_ text: String) -> Double? {
    var total = 0.0
    var rest = Substring(text.trimmingWhitespace())
    guard !rest.isEmpty else { return nil }
    guard rest.allSatisfy({ $0.isNumber || $0 == "." || $0.isLetter }) else { return nil }
    if rest.allSatisfy({ $0.isNumber || $0 == "." }) { return Double(rest) }
    while !rest.isEmpty {
        let numberEnd = rest.firstIndex(where: { !($0.isNumber || $0 == ".") }) ?? rest.endIndex
        guard numberEnd > rest.startIndex, let value = Double(rest[rest.startIndex..<numberEnd]) else { return nil }
        rest = rest[numberEnd...]
        let unitEnd = rest.firstIndex(where: { $0.isNumber || $0 == "." }) ?? rest.endIndex
        let unit = rest[rest.startIndex..<unitEnd]
        rest = rest[unitEnd...]
        switch unit {
        case "h": total += value * 3600
        case "m": total += value * 60
        case "s": total += value
        case "ms": total += value / 1000
        case "us", "µs": total += value / 1_000_000
        case "ns": total += value / 1_000_000_000
        default: return nil
        }
    }
    return total
}

extension String {
    public func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
