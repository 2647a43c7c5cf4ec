extension Threshold {
    /// Evaluates on a merged summary. A name no request used is crossed (✗): names are dynamic (a script
    /// may build them at run time), so they are only known once the run is over, and a threshold that
    /// silently watched nothing would let a typo pass CI.
    public func evaluate(_ s: Summary) -> ThresholdResult {
        if expression.metric == .dropped {
            let dropped = Double(s.arrivals?.dropped ?? 0)
            return ThresholdResult(name: name, expression: text, value: dropped, ok: expression.comparison.holds(dropped, expression.bound))
        }
        if let result = evaluateScriptMetric(s) { return result }
        guard let row = s.row(named: name) else {
            let note = name == "Aggregated" ? "no request was made" : "no request named \"\(name)\" was made"
            return ThresholdResult(name: name, expression: text, value: nil, ok: false, note: note)
        }
        let value = Self.read(expression.metric, row, s)
        return ThresholdResult(name: name, expression: text, value: value,
                               ok: expression.comparison.holds(value, expression.bound))
    }

    static func read(_ m: ThresholdMetric, _ r: RowSummary, _ s: Summary) -> Double {
        switch m {
        case .avg: return r.avgMs
        case .min: return r.minMs
        case .max: return r.maxMs
        case .med: return r.percentileMs(50)
        case .percentile(let p): return r.percentileMs(p)
        case .rps: return s.rps(r)
        case .requests: return Double(r.requests)
        case .failures: return Double(r.failures)
        case .failRate: return r.failureRatio
        case .dropped: return Double(s.arrivals?.dropped ?? 0)
        case .count: return Double(r.requests)
        case .rate, .value: return .nan   // not a request row's (Threshold+Script.swift says so first)
        }
    }
}

extension Summary {
    /// The row a threshold names: "Aggregated", a request name, or "METHOD name" (a group's row also as
    /// "login::GET /token", k6's way of writing it); rows of one name under several methods are merged.
    public func row(named name: String) -> RowSummary? {
        if name == "Aggregated" { return total.requests > 0 ? total : nil }
        let tagged = taggedRow(named: name)   // NAME{scenario:ingest}: rows by their tags (Threshold+RowTags.swift)
        if tagged.handled { return tagged.row }
        let grouped = name.contains(Self.groupSeparator)
        let matching = rows.filter { r in
            r.name == name || r.method + " " + r.name == name || (grouped && Self.groupedMethodName(r) == name)
        }
        guard var merged = matching.first else { return nil }
        for r in matching.dropFirst() { merged.merge(r) }
        return merged
    }

    /// What group() puts between a group's name and a request's (checks.lua's `path .. "::" .. name`).
    static let groupSeparator = "::"

    /// "login::/token" under GET → "login::GET /token".
    static func groupedMethodName(_ r: RowSummary) -> String? {
        guard let last = r.name.ranges(of: groupSeparator).last else { return nil }
        return r.name[..<last.upperBound] + r.method + " " + r.name[last.upperBound...]
    }

    /// Evaluates every threshold: the verdicts the reports show and the exit code follows. A threshold that
    /// names a tag is judged on `part`'s runs (default: this run, when it carries the tag; Threshold+Tag.swift).
    public mutating func evaluate(_ thresholds: [Threshold], part: TagPart? = nil) {
        let part = part ?? ownPart()
        thresholdResults = thresholds.map { $0.evaluateTagged(self, part: part) ?? $0.evaluate(self) }
    }

    /// Whether thresholds were given and any is crossed.
    public var anyThresholdCrossed: Bool { thresholdResults.contains { !$0.ok } }
}

extension RowSummary {
    mutating func merge(_ other: RowSummary) {
        requests += other.requests
        failures += other.failures
        abandoned += other.abandoned
        sumMicros += other.sumMicros
        bytes += other.bytes
        histogram.add(other.histogram)
    }
}
