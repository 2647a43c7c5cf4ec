import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

extension Runner {
    /// Runs setup() or teardown() alone on a worker of its own, to completion.
    func runHook(_ role: VURole, config: WorkerConfig) -> Worker {
        let worker = Worker.make(index: 0, config: config, plan: [VUPlan(classIndex: 0, globalID: 0, startOffsetMicros: 0, role: role)])
        pthread_join(spawnThread(worker), nil)
        return worker
    }

    /// Runs setup() when the script has one. Returns the stats of its worker, and the text of its failure
    /// if it failed; on success its result reaches every user through `config`.
    func runSetup(_ config: inout WorkerConfig) -> (stats: [WorkerStats], failure: String?) {
        guard hasSetup else { return ([], nil) }
        let setup = runHook(.setup, config: config)
        if let data = setup.setupResult { config.script.setupJSON = data }
        return ([setup.mailbox.finalStats!], setup.setupFailure)
    }

    /// Joins the workers, runs teardown(), and merges everything into the run's Summary.
    func finish(_ workers: [Worker], threads tids: [pthread_t], _ state: RunState, signals: RunSignals,
                hookStats: [WorkerStats], config: WorkerConfig) -> Summary {
        // A worker still in a Lua loop after a stop-now is left behind (the process exits after the reports).
        for (w, tid) in zip(workers, tids) where w.mailbox.finalStats != nil || state.stopNowAt == nil { pthread_join(tid, nil) }
        // A stopped run lasted until the stop (abandoning takes no time), or, with --stop-timeout's grace,
        // until its running tasks ended: the reports cover the run's true time.
        let end = state.stopSent && options.stopTimeout == 0 ? state.stoppedAt : monotonicMicros()
        signals.drainWorkerWakeups()
        var reason = state.reason
        if !state.stopSent && workers.contains(where: { $0.reachedIterationLimit }) { reason = .iterations }
        var stats = hookStats + workers.map(Runner.endStats)
        let teardown = hasTeardown && !stoppedNow ? [runHook(.teardown, config: config).mailbox.finalStats!] : []
        stats += teardown
        let lastSeconds = workers.map { $0.mailbox.take() }   // what each worker posted at its end
        var history = state.history
        closeHistory(&history, lastSeconds, hooks: hookStats + teardown, rows: stats.flatMap(\.rows),
                     elapsed: Double(end - state.start) / 1e6, state)
        var summary = Summary(workers: stats, durationSeconds: Double(end - state.start) / 1e6, users: segmentUsers,
                              threads: workers.count, stopReason: reason, history: history.points)
        summary.historyByName = history.byName
        summary.threadRates = state.threadRates
        // The last part-second's rate of each worker, so a short run has samples too.
        let partial = Double((end &- state.start) % 1_000_000) / 1e6
        if partial > 0.05 {
            for s in lastSeconds where s.requests > 0 { summary.threadRates.append(UInt64(Double(s.requests) / partial)) }
        }
        summary.placement.runID = RunID.make(segment: options.segment)
        summary.placement.startUnixMs = RunPlacement.unixMs(atMonotonic: state.start)
        summary.placement.endUnixMs = RunPlacement.unixMs(atMonotonic: end)
        summary.placement.targets = targetURLs
        describe(&summary, state)
        noteStopNow(&summary, workers)
        return summary
    }

    /// What the profile adds to the summary: its text, the late mode, notes, shape()'s failure, the
    /// thresholds' verdicts.
    private func describe(_ summary: inout Summary, _ state: RunState) {
        summary.profile = profileText
        if case .shape = profile { summary.users = segmentShare(ofUsers: state.ramp.peak) }   // not the pool: the most users it ran
        if isControlled { summary.users = segmentShare(ofUsers: state.ramp.peak) }
        if case .scenarios(let list) = profile {   // a shape scenario's users: the most it ran, not its pool
            for (s, scenario) in list.enumerated() where scenario.model.isShape && s < state.ramp.scenarioShapes.count {
                summary.users += segmentShare(ofUsers: state.ramp.scenarioShapes[s].peak) - segmentShare(ofUsers: scenario.pool)
            }
        }
        for at in state.statsResets {
            summary.notes.append("the live stats were reset at \(Format.fixed(at, 1))s (web page or API); this report covers the whole run")
        }
        if case .open = profile { summary.lateMode = options.late }
        if case .scenarios(let list) = profile, list.contains(where: \.isOpen) { summary.lateMode = options.late }
        if replacedScenarios { summary.notes.append("the script's scenarios were replaced by the command line's load model (-u, --stages, --rate), as k6's shortcut flags replace them") }
        if let asked = state.ramp.cappedAt {
            summary.notes.append("shape() asked for \(asked) users; the pool holds \(poolSize) (raise --max-vus)")
        }
        if let by = state.abortedBy { summary.notes.append("threshold \(by) crossed: the run stopped early (abort_on_fail)") }
        if let failure = state.ramp.shapeFailure {
            let firstLine = failure.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? failure
            summary.errors.append(ErrorRow(message: firstLine, count: 1, traceback: failure))
        }
        summary.evaluate(thresholds)
    }
}

func spawnThread(_ worker: Worker) -> pthread_t {
    var tid = pthread_t()
    let box = Unmanaged.passRetained(worker).toOpaque()
    let rc = pthread_create(&tid, nil, { arg in
        let w = Unmanaged<Worker>.fromOpaque(arg!).takeRetainedValue()
        w.run()
        return nil
    }, box)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    return tid
}
