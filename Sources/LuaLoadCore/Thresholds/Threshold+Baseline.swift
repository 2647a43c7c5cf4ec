/// The run `--baseline BASE.json` compares with: relative thresholds (`p95 < baseline * 1.10`) take their
/// bound from its figure, resolved once before any traffic.
public struct Baseline: @unchecked Sendable {
    public var summary: Summary
    /// The file, for messages.
    public var source: String
    /// The --json document it was read from: a controller sends it to its agents (RunPackage+Wire).
    public var document: String?

    public init(summary: Summary, source: String) {
        self.summary = summary
        self.source = source
    }

    /// Reads a run's --json summary; errors begin with `what` (the flag or command that read it).
    public static func read(_ text: String, source: String, what: String = "--baseline") throws -> Baseline {
        do {
            let runs = try MergeInput.runs(in: text, source: source).runs
            guard runs.count == 1 else { throw UsageError("\(what) \(source): expected one luaload --json summary, found \(runs.count)") }
            var s = try RunMerge.merge(runs)
            s.thresholdResults = []
            var baseline = Baseline(summary: s, source: source)
            baseline.document = text
            return baseline
        } catch let e as UsageError {
            throw e
        } catch {
            throw UsageError("\(what) \(source): \(error)")
        }
    }
}

extension ThresholdExpression {
    /// "baseline" → 1, "baseline * 1.10" → 1.1.
    static func baselineFactor(_ b: String) throws -> Double {
        let rest = String(b.dropFirst("baseline".count)).trimmingWhitespace()
        if rest.isEmpty { return 1 }
        guard rest.hasPrefix("*"), let f = Double(String(rest.dropFirst()).trimmingWhitespace()), f.isFinite, f > 0 else {
            throw ThresholdParseError.badBaseline(b)
        }
        return f
    }

    /// A resolved relative threshold reads "p95 < 13.2 (baseline 12 * 1.1)": the note is left out when it is
    /// parsed again (by `luaload merge`, from the JSON).
    static func withoutBaselineNote(_ b: String) -> String {
        let note = Array(" (baseline ".utf8), bytes = Array(b.utf8)
        guard bytes.count > note.count,
              let k = (0...(bytes.count - note.count)).first(where: { bytes[$0..<($0 + note.count)].elementsEqual(note) }) else { return b }
        return String(decoding: bytes[..<k], as: UTF8.self).trimmingWhitespace()
    }
}

extension Threshold {
    /// This threshold with its relative bound resolved against `baseline`; itself when it has none. A relative
    /// threshold without --baseline, or one the baseline has no figure for, is an error before any traffic.
    public func resolvingBaseline(_ baseline: Baseline?) throws -> Threshold {
        guard let factor = expression.baselineFactor else { return self }
        guard let baseline else {
            throw UsageError("threshold on \"\(name)\": \"\(text)\" is relative: give the run to compare with, --baseline BASE.json")
        }
        guard let base = evaluate(baseline.summary).value else {
            throw UsageError("threshold on \"\(name)\": --baseline \(baseline.source) has no figure for it (\(evaluate(baseline.summary).note ?? "no value"))")
        }
        var t = self
        t.expression.bound = base * factor
        t.expression.baselineFactor = nil
        let op = expression.comparison.rawValue
        let metricText = String(text[..<(text.firstIndex { "<>=!".contains($0) } ?? text.endIndex)]).trimmingWhitespace()
        t.text = "\(metricText) \(op) \(Format.fixed(base * factor, 3)) (baseline \(Format.fixed(base, 3)) * \(factor))"
        return t
    }
}
