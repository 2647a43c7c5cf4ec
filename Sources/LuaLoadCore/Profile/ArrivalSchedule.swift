/// The open model's one global schedule of arrivals (k6's constant- and ramping-arrival-rate): arrival n
/// is due when the rate's integral reaches n, so a constant rate R over D seconds schedules exactly R × D
/// and a ramp schedules its area. Thread k of T takes arrivals k, k+T, k+2T, ...: each computes its own
/// due times from this pure function, with no state shared per arrival.
public struct ArrivalSchedule: Equatable, Sendable {
    public let ramp: Ramp
    /// No arrival is due at or after this many seconds (the run's length; infinity: until the stop).
    public let end: Double
    /// Per stage: the arrivals before it, and when it begins.
    private var before: [Double] = []
    private var begins: [Double] = []

    public init(ramp: Ramp, end: Double) {
        self.ramp = ramp
        self.end = end
        var count = 0.0, t = 0.0, from = ramp.start
        for s in ramp.stages {
            before.append(count)
            begins.append(t)
            count += s.seconds.isFinite ? (from + s.target) / 2 * s.seconds : .infinity
            t += s.seconds
            from = s.target
        }
        before.append(count)
        begins.append(t)
    }

    /// Seconds after the start at which arrival `n` (0-based, global) is due; nil when it is not in the run.
    public func dueSeconds(_ n: Int) -> Double? {
        let m = Double(n)
        var k = 0
        while k < ramp.stages.count && m >= before[k + 1] { k += 1 }
        guard k < ramp.stages.count else { return nil }
        let s = ramp.stages[k]
        let r0 = k == 0 ? ramp.start : ramp.stages[k - 1].target
        // Within the stage, arrivals so far are r0·τ + a·τ² with a = (r1 - r0) / 2d; solved for τ in the form
        // that stays exact when a is 0 or negative.
        let a = s.seconds.isFinite && s.seconds > 0 ? (s.target - r0) / (2 * s.seconds) : 0
        let left = m - before[k]
        let denominator = r0 + max(0, r0 * r0 + 4 * a * left).squareRoot()
        let tau = left == 0 ? 0 : (denominator > 0 ? 2 * left / denominator : 0)
        let t = begins[k] + tau
        return t < end ? t : nil
    }

    /// How many arrivals are due strictly before `t` seconds, in all (for tests and the report).
    public func count(before t: Double) -> Int {
        var n = 0
        while let due = dueSeconds(n), due < t { n += 1 }
        return n
    }
}
