/// One of the script's `scenarios` (k6's), resolved before any traffic: its own users or arrivals, start
/// time, length and tags, run beside the others by the same workers. Its VUs are its own pool (spawn
/// indexes 0..<pool, so `--segment` splits each scenario by the one rule); its requests' stats rows carry
/// its tags (`scenario:NAME`).
public struct Scenario: Sendable {
    public enum Model: Sendable {
        /// Closed model: users over time from the scenario's start (constant users are a ramp that holds;
        /// `spawn_rate` ramps up to them).
        case users(Ramp)
        /// Open model: arrivals on their own global schedule, on a pool of `max_vus` VUs.
        case arrivals(ArrivalSchedule)
        /// Closed model driven by the scenario's shape(run_time) (Locust's LoadTestShape), called by the
        /// Runner about once a second from the scenario's start (RunState.ramp.scenarioShapes).
        case shape

        var isShape: Bool { if case .shape = self { return true } else { return false } }
    }

    /// k6's shared-iterations (`iterations`: its users share them) and per-vu-iterations (`iterations_per_user`).
    public struct Iterations: Sendable, Equatable {
        public var count: Int
        public var perUser: Bool
    }

    public var name: String
    /// "scenario:NAME,k:v", keys sorted.
    public var tags: String
    /// 0-based user class; nil: every class, by weight.
    public var classIndex: Int?
    /// Seconds into the run when it begins.
    public var start: Double
    /// Seconds it lasts from its start (infinity: until the run ends).
    public var length: Double
    public var model: Model
    /// Its VUs: the users' peak, or `max_vus`.
    public var pool: Int
    /// Its task runs, when bounded by them: it ends when they are done (or at `length`: max_duration).
    public var iterations: Iterations?
    /// `graceful_stop` (k6's gracefulStop): at its end, task runs under way may finish for this long, then
    /// are stopped (their requests abandoned and counted). Default: --stop-timeout (0: stopped at once).
    public var grace: Double = 0

    public var isOpen: Bool { if case .arrivals = model { return true } else { return false } }

    /// What the workers are told `elapsed` seconds into the run: its users (closed model; 0 before its
    /// start), `windDown` from its end (`ended`: when shape() returned nil, if earlier) until the grace is
    /// over, then 0 (the rest are stopped). An open scenario's VUs read only windDown and 0.
    func target(at elapsed: Double, users: Int? = nil, ended: Double? = nil) -> Int {
        let end = min(self.end, ended ?? .infinity)
        if elapsed >= end { return elapsed < end + grace ? Scenario.windDown : 0 }
        let t = elapsed - start
        if case .arrivals = model { return pool }
        guard t >= 0 else { return 0 }
        if let users { return users }
        guard case .users(let ramp) = model else { return 0 }
        return min(pool, Int(ramp.value(at: t).rounded()))
    }

    /// The target that tells a worker the scenario is over: its VUs stop at their task run's end.
    public static let windDown = -1

    /// When it ends, in seconds into the run (infinity: with the run).
    var end: Double { start + length }

    /// In words, for the reports: "browse: stages 30s:10,1m:10", "ingest: rate 200.00/s from 30s for 1m".
    var text: String {
        var t = name + ": "
        switch model {
        case .users(let ramp):
            if ramp.stages.count == 1 && ramp.start == ramp.stages[0].target { t += "\(pool) users" }
            else if ramp.start == 0 && ramp.stages.count == 2 && ramp.stages[0].target == ramp.stages[1].target && !ramp.stages[1].seconds.isFinite {
                t += "\(pool) users at \(Format.fixed(Double(pool) / ramp.stages[0].seconds, 2))/s"
            } else { t += "stages " + Scenario.steps(ramp, unit: "") }
        case .arrivals(let s):
            if s.ramp.stages.count == 1 && s.ramp.start == s.ramp.stages[0].target { t += "rate " + Format.fixed(s.ramp.start, 2) + "/s" }
            else { t += "rate stages " + Scenario.steps(s.ramp, unit: "/s") }
            t += ", max \(pool) VUs"
        case .shape: t += "shape(), max \(pool) VUs"
        }
        if let it = iterations { t += it.perUser ? ", \(it.count) iterations each" : ", \(it.count) iterations" }
        if start > 0 { t += " from " + Scenario.seconds(start) }
        if length.isFinite, !hasStages { t += (iterations == nil ? " for " : " within ") + Scenario.seconds(length) }
        if grace > 0 { t += ", graceful stop " + Scenario.seconds(grace) }
        return t
    }

    private var hasStages: Bool {
        switch model {
        case .users(let r): return !(r.stages.count == 1 && r.start == r.stages[0].target) && r.stages.last?.seconds.isFinite == true
        case .arrivals(let s): return !(s.ramp.stages.count == 1 && s.ramp.start == s.ramp.stages[0].target)
        case .shape: return false
        }
    }

    static func seconds(_ v: Double) -> String { (v == v.rounded() ? Format.fixed(v, 0) : Format.fixed(v, 1)) + "s" }
    static func steps(_ r: Ramp, unit: String) -> String {
        r.stages.map { seconds($0.seconds) + ":" + Format.fixed($0.target, unit.isEmpty ? 0 : 2) + unit }.joined(separator: ",")
    }
}

extension Scenario {
    /// Resolves a declared scenario (`grace`: graceful_stop when it gives none); errors name its `file:line`.
    static func resolve(_ d: DeclaredScenario, grace: Double) throws -> Scenario {
        let at = d.at.isEmpty ? "" : d.at + ": "
        let me = at + "scenarios." + d.name
        func duration(_ text: String?, _ what: String) throws -> Double? {
            guard let text else { return nil }
            guard let v = parseDuration(text), v >= 0 else { throw UsageError("\(me): \(what) \"\(text)\" is not a duration like 30s or 1m") }
            return v
        }
        func stages(_ list: [(duration: String, value: Double)], _ what: String) throws -> [Stage] {
            try list.enumerated().map { k, s in Stage(seconds: try duration(s.duration, "\(what)[\(k + 1)].duration")!, target: s.value) }
        }
        let start = try duration(d.startTime, "start_time") ?? 0
        var length = try duration(d.duration, "duration") ?? .infinity
        let iterations = d.iterations.map { Iterations(count: $0, perUser: d.perUser) }
        if iterations != nil { length = try duration(d.maxDuration, "max_duration") ?? Scenario.defaultMaxDuration }
        let model: Model, pool: Int
        if d.hasShape {
            (model, pool) = (.shape, d.maxVUs ?? Scenario.defaultShapePool)
        } else if let users = d.users {
            var ramp = Ramp.constant(Double(users), seconds: .infinity)
            if let r = d.spawnRate { ramp = Ramp(start: 0, stages: [Stage(seconds: Double(users) / r, target: Double(users)), Stage(seconds: .infinity, target: Double(users))]) }
            (model, pool) = (.users(ramp), users)
        } else if let list = d.stages {
            let ramp = Ramp(start: 0, stages: try stages(list.map { ($0.duration, $0.users) }, "stages"))
            guard ramp.duration > 0 else { throw UsageError("\(me): the stages last no time") }
            guard ramp.peak >= 1 else { throw UsageError("\(me): the stages never reach a user") }
            length = ramp.duration
            (model, pool) = (.users(ramp), Int(ramp.peak.rounded(.up)))
        } else {
            let ramp = try d.rateStages.map { Ramp(start: d.rate ?? 0, stages: try stages($0.map { ($0.duration, $0.rate) }, "rate_stages")) } ?? .constant(d.rate ?? 0, seconds: .infinity)
            guard ramp.peak > 0 else { throw UsageError("\(me): the arrival rate is 0 throughout: nothing would run") }
            if d.rateStages != nil { length = ramp.duration }
            (model, pool) = (.arrivals(ArrivalSchedule(ramp: ramp, end: length)), d.maxVUs ?? 1)
        }
        return Scenario(name: d.name, tags: d.tags, classIndex: d.classIndex, start: start, length: length, model: model, pool: pool,
                        iterations: iterations, grace: try duration(d.gracefulStop, "graceful_stop") ?? grace)
    }

    /// k6's maxDuration default: a scenario of iterations that has not done them in 10 minutes ends.
    static let defaultMaxDuration = 600.0
    /// A shape scenario's pool without max_vus (as the whole run's shape() without --max-vus).
    static let defaultShapePool = 1000
}
