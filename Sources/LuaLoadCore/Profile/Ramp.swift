/// One step of a ramp (k6's stages): over `seconds`, go linearly from the previous step's value to `target`.
public struct Stage: Equatable, Sendable {
    /// How long the step lasts.
    public var seconds: Double
    /// The value (users, or arrivals per second) at the step's end.
    public var target: Double

    public init(seconds: Double, target: Double) {
        self.seconds = seconds
        self.target = target
    }
}

/// A piecewise-linear value over time: users for `--stages`, arrivals per second for `--rate-stages`.
public struct Ramp: Equatable, Sendable {
    /// The value at t = 0 (0 for users, as k6's ramping-vus; `--rate` for rate stages).
    public var start: Double
    public var stages: [Stage]

    public init(start: Double, stages: [Stage]) {
        self.start = start
        self.stages = stages
    }

    /// A value held for `seconds` (infinity: until the stop).
    public static func constant(_ value: Double, seconds: Double) -> Ramp {
        Ramp(start: value, stages: [Stage(seconds: seconds, target: value)])
    }

    /// The stages' total length.
    public var duration: Double { stages.reduce(0) { $0 + $1.seconds } }

    /// The highest value the ramp reaches (a VU pool sized for it never runs short).
    public var peak: Double { stages.reduce(start) { max($0, $1.target) } }

    /// The value at `t` seconds; past the end, the last target.
    public func value(at t: Double) -> Double {
        var from = start, begin = 0.0
        for s in stages {
            if t < begin + s.seconds {
                return s.seconds > 0 ? from + (s.target - from) * (t - begin) / s.seconds : s.target
            }
            begin += s.seconds
            from = s.target
        }
        return from
    }

    /// Which stage `t` falls in (0-based), or `stages.count` past the end: for the live line.
    public func stageIndex(at t: Double) -> Int {
        var begin = 0.0
        for (k, s) in stages.enumerated() {
            if t < begin + s.seconds { return k }
            begin += s.seconds
        }
        return stages.count
    }
}

/// Parses "30s:100,1m:100,30s:0" (duration:target, comma-separated); for rates, a target may be "100/s"
/// or "6000/m". `option` names the flag in messages.
public func parseStages(_ text: String, option: String, rates: Bool) throws -> [Stage] {
    var out: [Stage] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
        let fields = part.split(separator: ":", omittingEmptySubsequences: false)
        let example = rates ? "1m:100/s,5m:100/s,1m:0" : "30s:100,1m:100,30s:0"
        guard fields.count == 2, let seconds = parseDuration(String(fields[0])), seconds >= 0 else {
            throw UsageError("bad \(option) \"\(text)\": each stage is duration:target, e.g. \(example)")
        }
        let target = String(fields[1]).trimmingWhitespace()
        let value: Double?
        if rates { value = parseRate(target) } else { value = Int(target).map(Double.init) }
        guard let value, value >= 0 else {
            let what = rates ? "a rate like 100/s or 6000/m" : "a whole number of users"
            throw UsageError("bad \(option) stage \"\(part)\": the target must be \(what)")
        }
        out.append(Stage(seconds: seconds, target: value))
    }
    guard out.contains(where: { $0.seconds > 0 }) else { throw UsageError("bad \(option) \"\(text)\": the stages last no time") }
    return out
}

/// "200/s", "6000/m", "10/h" or a bare "200" (per second) → arrivals per second; nil when not a rate.
public func parseRate(_ text: String) -> Double? {
    let t = text.trimmingWhitespace()
    var number = Substring(t), per = 1.0
    if let slash = t.firstIndex(of: "/") {
        number = t[..<slash]
        switch t[t.index(after: slash)...] {
        case "s": per = 1
        case "m": per = 60
        case "h": per = 3600
        default: return nil
        }
    }
    guard let v = Double(number), v.isFinite, v >= 0 else { return nil }
    return v / per
}
