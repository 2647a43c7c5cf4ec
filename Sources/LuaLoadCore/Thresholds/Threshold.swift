/// What a threshold reads from a stats row (k6's thresholds, Locust's columns).
public enum ThresholdMetric: Equatable, Sendable {
    case avg, min, max, med
    /// pN, e.g. p95, p99.9: a percentile in ms.
    case percentile(Double)
    /// requests per second over the run
    case rps
    case requests, failures
    /// failures / requests, 0...1
    case failRate
    /// the open model's arrivals that did not start (the run's, under `Aggregated` only)
    case dropped
    /// k6's metric kinds (Threshold+Script.swift): a check's or rate metric's passes / total (0...1), a
    /// counter's total (on a request row: its requests), a gauge's last value.
    case rate, count, value
}

public enum ThresholdComparison: String, Sendable, CaseIterable {
    case le = "<=", ge = ">=", eq = "==", ne = "!=", lt = "<", gt = ">"

    func holds(_ value: Double, _ bound: Double) -> Bool {
        switch self {
        case .lt: return value < bound
        case .le: return value <= bound
        case .gt: return value > bound
        case .ge: return value >= bound
        case .eq: return value == bound
        case .ne: return value != bound
        }
    }
}

/// Why a threshold expression does not parse: a usage error before any traffic.
public enum ThresholdParseError: Error, Equatable, CustomStringConvertible {
    case noComparison(String)
    case unknownMetric(String)
    /// A time's bound (ms); fail_rate's (a ratio or a percentage), rps's (per second), a count's.
    case badBound(String)
    case badRatio(String)
    case badRate(String)
    case badCount(String, String)
    case badBaseline(String)

    public var description: String {
        switch self {
        case .noComparison(let e):
            return "\"\(e)\" has no comparison: write it as metric op number, e.g. \"p95 < 200\" (op: < <= > >= == !=)"
        case .unknownMetric(let m):
            return "unknown metric \"\(m)\": use avg, min, max, med, pN or p(N) (p95, p99.9), rps, requests, failures, fail_rate, dropped; for checks and custom metrics rate, count, value"
        case .badBound(let b):
            return "\"\(b)\" is not a number (times are in ms; \"200ms\" and \"0.2s\" work too)"
        case .badRatio(let b):
            return "\"\(b)\" is not a ratio: fail_rate is failures / requests, e.g. 0.01 or 1%"
        case .badRate(let b):
            return "\"\(b)\" is not a rate: rps is requests per second, e.g. 100 or 100/s"
        case .badBaseline(let b):
            return "\"\(b)\" is not a relative bound: write baseline or baseline * 1.10 (the --baseline run's figure times a number)"
        case .badCount(let b, let metric):
            return "\"\(b)\" is not a count: \(metric) is a whole number, e.g. 10"
        }
    }
}

/// One parsed expression: "p95 < 200" → (.percentile(95), .lt, 200).
public struct ThresholdExpression: Equatable, Sendable {
    public var metric: ThresholdMetric
    public var comparison: ThresholdComparison
    /// ms for times; a count, a rate or a ratio otherwise.
    public var bound: Double
    /// `p95 < baseline * 1.10`: the bound is the --baseline run's figure times this (Threshold+Baseline.swift).
    public var baselineFactor: Double? = nil

    public init(parsing text: String) throws {
        // The operator is the first run of < > = ! characters.
        let isOp: (Character) -> Bool = { "<>=!".contains($0) }
        guard let start = text.firstIndex(where: isOp) else { throw ThresholdParseError.noComparison(text) }
        let end = text[start...].firstIndex(where: { !isOp($0) }) ?? text.endIndex
        guard let op = ThresholdComparison(rawValue: String(text[start..<end])) else { throw ThresholdParseError.noComparison(text) }
        metric = try Self.metric(String(text[..<start]).trimmingWhitespace())
        comparison = op
        let rest = String(text[end...]).trimmingWhitespace()
        if rest.hasPrefix("baseline") {
            baselineFactor = try Self.baselineFactor(rest)
            bound = .nan
        } else {
            bound = try Self.bound(Self.withoutBaselineNote(rest), metric: metric)
        }
    }

    static func metric(_ m: String) throws -> ThresholdMetric {
        switch m {
        case "avg": return .avg
        case "min": return .min
        case "max": return .max
        case "med", "p50": return .med
        case "rps": return .rps
        case "requests": return .requests
        case "failures": return .failures
        case "fail_rate": return .failRate
        case "dropped": return .dropped
        case "rate": return .rate
        case "count": return .count
        case "value": return .value
        default:
            // k6's p(95) beside our p95.
            if m.hasPrefix("p("), m.hasSuffix(")") { return try metric("p" + m.dropFirst(2).dropLast()) }
            if m.hasPrefix("p"), let p = Double(m.dropFirst()), p > 0, p <= 100 { return .percentile(p) }
            throw ThresholdParseError.unknownMetric(m)
        }
    }

    static func isTime(_ m: ThresholdMetric) -> Bool {
        switch m {
        case .avg, .min, .max, .med, .percentile: return true
        default: return false
        }
    }

    /// A number; for times also "200ms" or "0.2s", for fail_rate "1%", for rps "100/s". A bad one gets
    /// the hint of its metric's unit.
    static func bound(_ b: String, metric: ThresholdMetric) throws -> Double {
        if let v = Double(b), v.isFinite { return v }
        func number(dropping n: Int) -> Double? { Double(String(b.dropLast(n)).trimmingWhitespace()).flatMap { $0.isFinite ? $0 : nil } }
        switch metric {
        case .avg, .min, .max, .med, .percentile:
            if b.hasSuffix("ms"), let v = number(dropping: 2) { return v }
            if b.hasSuffix("s"), let v = number(dropping: 1) { return v * 1000 }
            throw ThresholdParseError.badBound(b)
        case .failRate, .rate:
            if b.hasSuffix("%"), let v = number(dropping: 1) { return v / 100 }
            throw ThresholdParseError.badRatio(b)
        case .rps:
            if b.hasSuffix("/s"), let v = number(dropping: 2) { return v }
            throw ThresholdParseError.badRate(b)
        case .requests, .failures, .dropped, .count, .value:
            throw ThresholdParseError.badCount(b, "\(metric)")
        }
    }
}

/// A threshold as declared: the row it reads (a request name, "METHOD name", or "Aggregated"), its
/// expression, and whether crossing it stops the run (k6's abortOnFail, after `delaySeconds`).
public struct Threshold: Sendable {
    public var name: String
    /// The expression as written, for the reports.
    public var text: String
    public var expression: ThresholdExpression
    public var abortOnFail = false
    /// abort_on_fail is not evaluated before this many seconds into the run (k6's delayAbortEval).
    public var delaySeconds: Double = 0

    /// Parses `text`; the error says which threshold (`origin`, e.g. the script or --threshold) is wrong.
    public init(name: String, text: String, abortOnFail: Bool = false, delaySeconds: Double = 0, origin: String) throws {
        self.name = name
        self.text = text
        self.abortOnFail = abortOnFail
        self.delaySeconds = delaySeconds
        do {
            expression = try ThresholdExpression(parsing: text)
        } catch let e as ThresholdParseError {
            throw UsageError("\(origin): threshold on \"\(name)\": \(e)")
        }
        let base: String
        do { base = try Self.splitTag(name)?.base ?? name } catch { throw UsageError("\(origin): threshold on \"\(name)\": \(error)") }
        if let problem = Self.k6NameProblem(base) { throw UsageError("\(origin): threshold on \"\(name)\": \(problem)") }
        if expression.metric == .dropped && base != "Aggregated" {
            throw UsageError("\(origin): threshold on \"\(name)\": dropped is the run's count: put it under Aggregated")
        }
    }

    /// `--threshold 'GET /health: p95<200'`: the name is everything before the last ':'.
    public init(option: String) throws {
        guard let colon = option.lastIndex(of: ":") else {
            throw UsageError("bad --threshold \"\(option)\": write it as 'name: expression', e.g. 'GET /health: p95<200' or 'Aggregated: fail_rate<0.01'")
        }
        let name = String(option[..<colon]).trimmingWhitespace()
        guard !name.isEmpty else { throw UsageError("bad --threshold \"\(option)\": the name before ':' is empty") }
        try self.init(name: name, text: String(option[option.index(after: colon)...]).trimmingWhitespace(), origin: "--threshold")
    }
}

/// A threshold's verdict: the value observed, and whether it held.
public struct ThresholdResult: Sendable {
    public var name: String
    public var expression: String
    /// nil when the row was never seen (no request with that name was made).
    public var value: Double?
    public var ok: Bool
    /// Why it has no value, when it has none.
    public var note: String?
}
