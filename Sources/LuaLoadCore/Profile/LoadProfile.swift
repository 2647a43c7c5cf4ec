/// How a run's load is shaped, resolved once from the options and the script.
public enum LoadProfile: Sendable {
    /// -u users, started at -r per second: today's closed model.
    case fixed
    /// Ramping users (closed model): --stages or the script's `stages`.
    case stages(Ramp)
    /// The script's shape(run_time), called about once a second (Locust's LoadTestShape).
    case shape
    /// Arrivals at a rate (open model): --rate, --rate-stages.
    case open(ArrivalSchedule)
    /// The script's `scenarios`: several of these at once, each with its own start and VU pool (Scenario.swift).
    case scenarios([Scenario])

    var isFixed: Bool { if case .fixed = self { return true } else { return false } }
    var isShape: Bool { if case .shape = self { return true } else { return false } }
    /// A scenario is driven by its own shape(): the Runner keeps the script's Lua state to call it.
    var hasScenarioShape: Bool { if case .scenarios(let list) = self { return list.contains { $0.model.isShape } } else { return false } }
}

extension Runner {
    /// The command line's --stages / --rate / --rate-stages win over the script's `stages` and shape().
    static func resolveProfile(_ o: RunOptions, _ d: DeclaredProfile, script: String) throws -> LoadProfile {
        if let scenarios = try resolveScenarios(o, d) { return scenarios }
        if o.rate != nil || o.rateStages != nil {
            if o.stages != nil {
                throw UsageError("--stages ramps users (closed model) and --rate / --rate-stages set arrivals (open model): pick one")
            }
            if o.spawnRate != nil { throw UsageError("--spawn-rate has no meaning with --rate: the open model starts its VU pool at once") }
            let ramp = o.rateStages.map { Ramp(start: o.rate ?? 0, stages: $0) } ?? .constant(o.rate!, seconds: .infinity)
            guard ramp.peak > 0 else { throw UsageError("the arrival rate is 0 throughout: nothing would run") }
            let end = min(o.duration ?? .infinity, o.rateStages != nil ? ramp.duration : .infinity)
            return .open(ArrivalSchedule(ramp: ramp, end: end))
        }
        if o.maxVUs != nil && !d.hasShape && o.controls == nil { throw UsageError("--max-vus sizes the open model's pool (--rate) or bounds shape(): use -u otherwise") }
        if o.late != .queue { throw UsageError("--late applies to the open model only (--rate or --rate-stages)") }
        var stages = o.stages
        if stages == nil, let declared = d.stages {
            stages = try declared.enumerated().map { k, s in
                guard let seconds = parseDuration(s.duration), seconds >= 0 else {
                    throw UsageError("\(d.stagesAt ?? script): stages[\(k + 1)].duration \"\(s.duration)\" is not a duration like 30s or 1m")
                }
                return Stage(seconds: seconds, target: Double(s.users))
            }
        }
        if o.usersGiven && (o.stages != nil || stages != nil || d.hasShape) {
            throw UsageError("-u has no meaning here: the \(d.hasShape ? "script's shape()" : "stages") set the users (--stages or --rate override the script's)")
        }
        if let stages {
            if o.spawnRate != nil { throw UsageError("--spawn-rate has no meaning with stages: the stages set how users ramp") }
            let ramp = Ramp(start: 0, stages: stages)
            guard ramp.duration > 0 else { throw UsageError("the stages last no time") }
            guard ramp.peak >= 1 else { throw UsageError("the stages never reach a user: give a stage a target of at least 1") }
            return .stages(ramp)
        }
        if d.hasShape && o.spawnRate != nil { throw UsageError("--spawn-rate has no meaning with shape(): it returns its own spawn rate") }
        return d.hasShape ? .shape : .fixed
    }

    /// The script's thresholds (their file named in errors), then --threshold's.
    static func resolveThresholds(_ o: RunOptions, _ d: DeclaredProfile, script: String) throws -> [Threshold] {
        let declared = try d.thresholds.map { t in
            var delay = 0.0
            if let text = t.delay {
                guard let seconds = parseDuration(text) else {
                    throw UsageError("\(d.thresholdsAt ?? script): thresholds[\"\(t.name)\"]: delay \"\(text)\" is not a duration like 10s")
                }
                delay = seconds
            }
            return try Threshold(name: t.name, text: t.expression, abortOnFail: t.abortOnFail, delaySeconds: delay, origin: d.thresholdsAt ?? script)
        }
        return try (declared + o.thresholds).map { try $0.resolvingBaseline(o.baseline) }
    }

    /// Every VU the run may reach: -u; a ramp's peak; the open model's pool (--max-vus, default -u);
    /// shape()'s bound (--max-vus, default 1000).
    var poolSize: Int {
        switch profile {
        case .fixed: return isControlled ? controlledPool : options.users
        case .stages(let ramp): return Int(ramp.peak.rounded(.up))
        case .shape: return options.maxVUs ?? 1000
        case .open: return options.maxVUs ?? options.users
        case .scenarios(let list): return list.reduce(0) { $0 + $1.pool }
        }
    }

    /// The run's length: -d, else the stages' (users or rates); nil until Ctrl-C (or shape() ends it).
    var runDuration: Double? {
        if let d = options.duration { return d }
        switch profile {
        case .stages(let ramp): return ramp.duration
        case .open(let schedule): return schedule.end.isFinite ? schedule.end : nil
        case .scenarios(let list): return list.map { $0.end + $0.grace }.max().flatMap { $0.isFinite ? $0 : nil }
        default: return nil
        }
    }

    func workerMode(thread: Int, threads: Int, origin: UInt64) -> WorkerMode {
        switch profile {
        case .fixed: return isControlled ? .targets : .fixed
        case .stages, .shape: return .targets
        case .open(let schedule):
            var plan = ArrivalPlan(schedule: schedule, thread: thread, threads: threads, late: options.late, origin: origin)
            plan.segment = options.segment
            return .arrivals(plan)
        case .scenarios(let list): return scenarioMode(list, thread: thread, threads: threads, origin: origin)
        }
    }

    private func seconds(_ v: Double) -> String { (v == v.rounded() ? Format.fixed(v, 0) : Format.fixed(v, 1)) + "s" }

    /// The profile in words, for the reports.
    var profileText: String? {
        switch profile {
        case .fixed: return nil
        case .stages(let ramp): return "stages " + ramp.stages.map { seconds($0.seconds) + ":" + Format.fixed($0.target, 0) }.joined(separator: ",")
        case .shape: return "shape()"
        case .open(let s):
            if s.ramp.stages.count == 1 && s.ramp.start == s.ramp.stages[0].target {
                return "rate " + Format.fixed(s.ramp.start, 2) + "/s"
            }
            return "rate stages " + s.ramp.stages.map { seconds($0.seconds) + ":" + Format.fixed($0.target, 2) + "/s" }.joined(separator: ",")
        case .scenarios(let list): return "scenarios " + list.map(\.text).joined(separator: "; ")
        }
    }
}
