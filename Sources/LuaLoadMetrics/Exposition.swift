/// The text a scrape gets: Prometheus' text format 0.0.4, or OpenMetrics 1.0.0 when the scraper's
/// Accept header asks for it (Prometheus does, first, since 2.5).
public enum ExpositionFormat: Sendable {
    case prometheusText, openMetrics

    public var contentType: String {
        switch self {
        case .prometheusText: return "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: return "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// OpenMetrics when `Accept` names application/openmetrics-text (without q=0); the text format otherwise.
    public init(accept: String?) {
        self = .prometheusText
        guard let accept else { return }
        for part in accept.lowercased().split(separator: ",") {
            let fields = part.split(separator: ";").map { $0.trimmingSpaces }
            guard fields.first == "application/openmetrics-text" else { continue }
            if fields.dropFirst().contains(where: { $0.replacingSpaces == "q=0" || $0.replacingSpaces == "q=0.0" }) { continue }
            self = .openMetrics
            return
        }
    }
}

public enum Exposition {
    public static func render(_ set: MetricSet, _ format: ExpositionFormat) -> String {
        var out = ""
        out.reserveCapacity(set.seriesCount * 96)
        let open = format == .openMetrics
        for f in set.families where !f.samples.isEmpty {
            let declared = open ? f.name : f.textName
            out += "# HELP " + declared + " " + escape(f.help, quotes: open) + "\n"
            out += "# TYPE " + declared + " " + f.kind.rawValue + "\n"
            for s in f.samples {
                out += f.name + s.suffix
                if !s.labels.isEmpty {
                    out += "{"
                    for (i, l) in s.labels.enumerated() {
                        if i > 0 { out += "," }
                        out += l.name + "=\"" + escape(l.value, quotes: true) + "\""
                    }
                    out += "}"
                }
                out += " " + formatValue(s.value) + "\n"
            }
        }
        if open { out += "# EOF\n" }
        return out
    }

    /// Backslash and newline always; double quotes in label values (and in OpenMetrics' HELP).
    static func escape(_ text: String, quotes: Bool) -> String {
        guard text.contains(where: { $0 == "\\" || $0 == "\n" || $0 == "\"" }) else { return text }
        var out = ""
        for c in text {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"": out += quotes ? "\\\"" : "\""
            default: out.append(c)
            }
        }
        return out
    }
}

/// Counts as integers ("1234"), other values as Swift prints doubles ("0.0125"); +Inf, -Inf, NaN by name.
func formatValue(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
    if v == v.rounded(), abs(v) < 9.0e15 { return String(Int64(v)) }
    return v.description
}

extension Substring {
    var trimmingSpaces: String { String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
}

extension String {
    var replacingSpaces: String { filter { $0 != " " } }
}
