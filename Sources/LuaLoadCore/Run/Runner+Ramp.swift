import LuaLoadLoop

/// The main thread's side of a ramp (--stages, shape()): the run's target user count, recomputed every
/// 100 ms so linear ramps are smooth, and posted to the workers only when it changes.
struct RampState {
    /// The target last posted (-1: none yet).
    var posted = -1
    /// shape() (or live controls): the users now, moving toward a goal at a spawn rate.
    var shape = ShapeLevel()
    /// When to recompute next (µs).
    var next: UInt64 = .max
    /// shape() raised or returned something else: the run stops and the message becomes a script error.
    var shapeFailure: String?
    /// shape() asked for more users than the pool holds (--max-vus): the most it asked.
    var cappedAt: Int?
    /// The highest target posted: the summary's users for shape().
    var peak = 0
    /// `scenarios`: each scenario's target last posted (Runner+Scenarios.swift), and each one's shape() level.
    var scenarioTargets: [Int] = []
    var scenarioShapes: [ShapeLevel] = []
}

/// What a shape() asked (users, spawn rate) and the users now, moving toward them every 100 ms.
struct ShapeLevel {
    var level = 0.0
    var users = 0
    var rate = 1.0
    var nextCall: UInt64 = 0
    /// A scenario's shape() returned nil at this run_time: that scenario is over.
    var endedAt: Double?
    /// The most users it reached (a shape scenario's users in the summary, not its pool).
    var peak = 0

    /// One 100 ms step toward `users` at `rate` per second: the target now.
    mutating func step() -> Int {
        let by = rate * Double(Runner.rampStepMicros) / 1e6
        let goal = Double(users)
        level = level < goal ? min(goal, level + by) : max(goal, level - by)
        peak = max(peak, Int(level.rounded()))
        return Int(level.rounded())
    }
}

extension Runner {
    static let rampStepMicros: UInt64 = 100_000

    /// Recomputes the target at `t` and posts it to every worker when it changed.
    func stepProfile(_ workers: [Worker], at t: UInt64, _ state: inout RunState) {
        let elapsed = Double(t - state.start) / 1e6
        let target: Int
        if case .scenarios(let list) = profile { return stepScenarios(list, workers, at: t, &state) }
        switch profile {
        case .stages(let ramp):
            target = Int(ramp.value(at: elapsed).rounded())
        case .shape, .fixed:
            if case .fixed = profile { guard isControlled else { return } }   // live controls set the goal
            else if t >= state.ramp.shape.nextCall {
                var level = state.ramp.shape
                callShape(elapsed, scenario: nil, pool: poolSize, at: t, &level, &state)
                state.ramp.shape = level
            }
            target = state.ramp.shape.step()
        default:
            return
        }
        state.ramp.next = t + Runner.rampStepMicros
        guard target != state.ramp.posted else { return }
        state.ramp.posted = target
        state.ramp.peak = max(state.ramp.peak, target)
        for w in workers { w.setTargetUsers(target) }
    }

    /// One call of shape(run_time) (the run's, or scenario `scenario`'s): new users and spawn rate, or the
    /// end of the run (of the scenario).
    func callShape(_ runTime: Double, scenario: Int?, pool: Int, at t: UInt64, _ level: inout ShapeLevel, _ state: inout RunState) {
        level.nextCall = t + 1_000_000
        guard let script = shapeScript, state.stopAt.map({ t < $0 }) ?? true else { return }
        switch script.shapeTick(runTime: runTime, scenario: scenario) {
        case .users(let users, let rate):
            if users > pool { state.ramp.cappedAt = max(state.ramp.cappedAt ?? 0, users) }
            level.users = min(users, pool)
            level.rate = rate
        case .end where scenario != nil:
            level.endedAt = runTime
        case .end:
            state.stopAt = t
            state.reason = .shapeEnded
        case .failed(let message):
            state.ramp.shapeFailure = message
            state.stopAt = t
            state.reason = .shapeEnded
        }
    }

    /// abort_on_fail: once past its delay, a crossed threshold stops the run (k6's abortOnFail).
    func checkAbortThresholds(_ workers: [Worker], elapsed: Double, _ state: inout RunState) {
        let watched = thresholds.filter { $0.abortOnFail && elapsed >= $0.delaySeconds }
        guard !watched.isEmpty, !state.stopSent, options.controls?.abortsLocally ?? true else { return }
        var now = Runner.statsNow(workers, elapsed: elapsed, users: 0, threads: workers.count)
        if case .open = profile { now.arrivals = state.arrivalsSoFar }
        if case .scenarios = profile { now.arrivals = state.arrivalsSoFar }
        for t in watched where !t.evaluate(now).ok && t.judgedLive(now) {
            state.stopAt = monotonicMicros()
            state.reason = .thresholdCrossed
            state.abortedBy = t.name + ": " + t.text
            return
        }
    }
}

extension Worker {
    /// Main side: the run's target user count for this worker to follow (--stages, shape()).
    public func setTargetUsers(_ n: Int) {
        mailbox.setTargets([n])
        loop.wake()
    }
}
