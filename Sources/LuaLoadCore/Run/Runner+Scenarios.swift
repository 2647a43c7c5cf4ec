/// The Runner's side of `scenarios` (k6's): each scenario is a pool of VUs of its own (spawn indexes
/// 0..<pool, dealt round-robin to the threads and split by `--segment` with the one rule), driven beside the
/// others on the same workers — a closed scenario by its own target users (posted with the others every
/// 100 ms, as --stages), an open one by its own arrival schedule, which each worker shifts to the
/// scenario's start. Nothing of this runs per request.
extension Runner {
    /// The script's scenarios, resolved; nil when it has none, or when -u, --stages, --rate or --rate-stages
    /// replace them with one model of every class (as k6's shortcut flags replace `scenarios`; the summary
    /// says so).
    static func resolveScenarios(_ o: RunOptions, _ d: DeclaredProfile) throws -> LoadProfile? {
        guard !d.scenarios.isEmpty, !scenariosReplaced(o, d) else { return nil }
        let at = d.scenarios[0].at.split(separator: ":").first.map(String.init) ?? "the script"
        if o.iterations != nil { throw UsageError("-n with scenarios (\(at)): give a scenario iterations = N (shared by its users) or iterations_per_user = N") }
        if o.spawnRate != nil { throw UsageError("--spawn-rate with scenarios (\(at)): give a scenario spawn_rate = N") }
        if o.maxVUs != nil { throw UsageError("--max-vus with scenarios (\(at)): give an arrival-rate scenario max_vus = N") }
        let list = try d.scenarios.map { try Scenario.resolve($0, grace: o.stopTimeout) }
        let open = list.filter(\.isOpen)
        if o.late != .queue && open.isEmpty { throw UsageError("--late applies to the open model only: no scenario has a rate") }
        return .scenarios(list)
    }

    /// -u, --stages, --rate, --rate-stages: one model for the whole run instead of the script's scenarios.
    static func scenariosReplaced(_ o: RunOptions, _ d: DeclaredProfile) -> Bool {
        !d.scenarios.isEmpty && (o.usersGiven || o.stages != nil || o.rate != nil || o.rateStages != nil)
    }

    /// Each thread's VUs: every scenario's pool (its segment's share), dealt round-robin from thread 0, so
    /// a scenario of n < T VUs runs on threads 0..<n, which take its arrivals.
    func planScenarioUsers(_ list: [Scenario]) -> [[VUPlan]] {
        let threads = min(options.threads, segmentUsers)
        var plans = [[VUPlan]](repeating: [], count: threads)
        for (s, scenario) in list.enumerated() {
            let picked = scenario.classIndex.map { [Int](repeating: $0, count: scenario.pool) } ?? distributeUsers(total: scenario.pool, classes: classes)
            var m = 0
            for (k, cls) in picked.enumerated() where options.segment.owns(k) {
                plans[m % threads].append(VUPlan(classIndex: cls, globalID: k, startOffsetMicros: 0, scenario: s))
                m += 1
            }
        }
        return plans
    }

    /// Thread `thread`'s drive: for each open scenario with VUs on it, its part of that scenario's arrivals,
    /// from the scenario's start; nil for the others.
    func scenarioMode(_ list: [Scenario], thread: Int, threads: Int, origin: UInt64) -> WorkerMode {
        let plans: [ArrivalPlan?] = list.map { s in
            guard case .arrivals(let schedule) = s.model else { return nil }
            let on = min(threads, options.segment.share(of: s.pool))
            guard thread < on else { return nil }
            var plan = ArrivalPlan(schedule: schedule, thread: thread, threads: on, late: options.late,
                                   origin: origin + UInt64(s.start * 1_000_000))
            plan.segment = options.segment
            return plan
        }
        return .scenarios(plans)
    }

    /// Thread k's part of each scenario's iterations: of a shared count, its segment's share (in proportion
    /// to the segments' VUs of it) split among the threads by their VUs of it, so the parts add up exactly.
    func scenarioQuotas(_ list: [Scenario], _ plans: [[VUPlan]], _ k: Int) -> [Scenario.Iterations?] {
        list.enumerated().map { s, scenario in
            guard var it = scenario.iterations else { return nil }
            if !it.perUser {
                let counts = plans.map { $0.lazy.filter { $0.scenario == s }.count }
                it.count = Runner.share(options.segment.iterations(it.count, pool: scenario.pool), counts: counts, k)
            }
            return it
        }
    }

    /// Every 100 ms: each scenario's target now (Scenario.target: its users, or its wind-down), posted to
    /// the workers when any changed; the run stops once every scenario has ended.
    func stepScenarios(_ list: [Scenario], _ workers: [Worker], at t: UInt64, _ state: inout RunState) {
        state.ramp.next = t + Runner.rampStepMicros
        let elapsed = Double(t - state.start) / 1e6
        if state.ramp.scenarioShapes.isEmpty { state.ramp.scenarioShapes = list.map { _ in ShapeLevel() } }
        let targets = list.indices.map { scenarioTarget(list[$0], $0, elapsed: elapsed, at: t, &state) }
        if list.indices.allSatisfy({ scenarioEnded(list[$0], $0, workers, elapsed: elapsed, state) }), state.stopAt.map({ t < $0 }) ?? true {
            state.stopAt = t
            let byTime = list.allSatisfy { elapsed >= $0.end }
            state.reason = byTime ? .duration : list.contains { $0.iterations != nil } ? .iterations
                : list.contains { $0.model.isShape } ? .shapeEnded : .usersFinished
        }
        guard targets != state.ramp.scenarioTargets else { return }
        state.ramp.scenarioTargets = targets
        state.ramp.peak = max(state.ramp.peak, list.indices.reduce(0) { $0 + (list[$1].isOpen ? 0 : max(targets[$1], 0)) })
        for w in workers { w.setScenarioTargets(targets) }
    }

    /// When scenario `s` ends (seconds into the run): its time's end, or when its shape() returned nil.
    private func scenarioEnd(_ scenario: Scenario, _ s: Int, _ state: RunState) -> Double {
        min(scenario.end, state.ramp.scenarioShapes[s].endedAt.map { scenario.start + $0 } ?? .infinity)
    }

    /// Whether scenario `s` is over: its end and grace are past (or every worker's VUs of it wound down
    /// within the grace), or its VUs all ended by themselves (their iterations done, or stop()).
    private func scenarioEnded(_ scenario: Scenario, _ s: Int, _ workers: [Worker], elapsed: Double, _ state: RunState) -> Bool {
        let end = scenarioEnd(scenario, s, state)
        if elapsed >= end + scenario.grace { return true }
        if elapsed >= end && state.ramp.scenarioTargets.count > s && state.ramp.scenarioTargets[s] == Scenario.windDown {
            return workers.allSatisfy { $0.mailbox.woundDown(scenario: s) }
        }
        guard !scenario.isOpen else { return false }
        let planned = options.segment.share(of: scenario.pool)
        return planned > 0 && workers.reduce(0) { $0 + $1.mailbox.endedVUs(scenario: s) } >= planned
    }

    /// Scenario `s`'s target now; a shape scenario's calls shape(run_time) once a second from its start
    /// (run_time from its start), its users moving toward what it asked at its spawn rate.
    private func scenarioTarget(_ scenario: Scenario, _ s: Int, elapsed: Double, at t: UInt64, _ state: inout RunState) -> Int {
        guard case .shape = scenario.model else { return scenario.target(at: elapsed) }
        let runTime = elapsed - scenario.start
        var level = state.ramp.scenarioShapes[s]
        if runTime >= 0, runTime < scenario.length, level.endedAt == nil, t >= level.nextCall {
            callShape(runTime, scenario: s, pool: scenario.pool, at: t, &level, &state)
        }
        let users = runTime >= 0 ? level.step() : 0
        state.ramp.scenarioShapes[s] = level
        return scenario.target(at: elapsed, users: users, ended: scenarioEnd(scenario, s, state))
    }

    /// Each open scenario needs a VU in every segment (its arrivals k ≡ i would find none).
    func checkScenarioSegments() throws {
        guard case .scenarios(let list) = profile, !options.segment.isWhole else { return }
        for s in list where s.isOpen && options.segment.share(of: s.pool) == 0 {
            throw UsageError("segment \(options.segment) has none of scenario \(s.name)'s \(s.pool) VUs (max_vus): use at most \(s.pool) segments, or a larger max_vus")
        }
    }

    /// Lua's VU id of a scenario's VU: unique in the run (the scenarios' pools one after the other).
    static func scenarioIDBases(_ profile: LoadProfile) -> [Int] {
        guard case .scenarios(let list) = profile else { return [0] }
        var bases: [Int] = [], sum = 0
        for s in list { bases.append(sum); sum += s.pool }
        return bases
    }
}

extension Worker {
    /// Main side: each scenario's target users (closed scenarios; the open ones' entries are not read).
    public func setScenarioTargets(_ targets: [Int]) {
        mailbox.setTargets(targets)
        loop.wake()
    }
}
