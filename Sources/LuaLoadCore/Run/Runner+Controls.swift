import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// What a live control may change in this run: the users (closed model), the rate (open model), or neither.
public enum ControlModel: Sendable, Equatable {
    /// Users from 0 to `max` (the VU pool), at a spawn rate.
    case users(max: Int)
    /// Arrivals per second.
    case rate
    /// Neither, and why (the page shows it; Locust's /swarm answers it).
    case fixed(String)
}

extension Runner {
    /// A closed-model run whose users the controls set: -u at -r to begin with, then what is posted, by the
    /// ramp machinery of shape() (RampState). Not with -n: each thread's share of it assumes its planned VUs
    /// all run. Not with stages or shape(): they set the users.
    var isControlled: Bool { options.controls != nil && profile.isFixed && options.iterations == nil && options.wrk == nil }

    public var controlModel: ControlModel {
        if isControlled { return .users(max: poolSize) }
        return Runner.uncontrolledModel(profile, options)
    }

    /// What a run of `profile` that is not `isControlled` lets a control change (also the controller's answer).
    static func uncontrolledModel(_ profile: LoadProfile, _ options: RunOptions) -> ControlModel {
        switch profile {
        case .open: return .rate
        case .fixed: return .fixed(options.iterations != nil ? "-n fixes the users: the iterations are shared among them" : "the users are fixed")
        case .stages: return .fixed("the stages set the users")
        case .shape: return .fixed("the script's shape() sets the users")
        case .scenarios: return .fixed("the script's scenarios set the users and rates")
        }
    }

    /// A controlled run's pool: --max-vus, else the larger of -u and 1000 (planned, started only when asked for).
    var controlledPool: Int { options.maxVUs ?? max(options.users, 1000) }

    /// Before the workers start: the Runner's thread is the one to wake; a controlled run aims at -u at -r.
    func beginControls(_ state: inout RunState, start: RunControl? = nil) {
        options.controls?.attach(pthread_self())
        guard isControlled else { return }
        state.ramp.shape.users = options.users
        state.ramp.shape.rate = options.spawnRate ?? .infinity
        if case .start(let users, let rate)? = start, let users {
            state.ramp.shape.users = min(max(users, 0), poolSize)
            state.ramp.shape.rate = rate.map { $0 > 0 ? $0 : .infinity } ?? .infinity
        }
    }

    /// No control wakes this thread any more; one that did is consumed while SIGUSR1 is still blocked (its
    /// default action would end the process).
    func detachControls(_ signals: RunSignals) {
        options.controls?.attach(nil)
        signals.drainWorkerWakeups()
    }

    /// --wait: blocks until a `.start` control (returned) or a stop, Ctrl-C or SIGTERM (nil: the run never starts).
    func waitForStart() -> RunControl? {
        guard let controls = options.controls else { return .start(users: nil, spawnRate: nil) }
        let signals = RunSignals.block()
        defer { detachControls(signals); signals.restore() }
        controls.attach(pthread_self())
        while true {
            let sig = signals.wait(until: monotonicMicros() + 1_000_000)
            if sig == SIGINT || sig == SIGTERM { return nil }
            for control in controls.take() {
                switch control {
                case .start: return control
                case .stop, .stopFor: return nil
                case .setUsers(let users, let rate): return .start(users: users, spawnRate: rate)
                default: break
                }
            }
        }
    }

    /// Applies what the controls posted since the last look (the monitor calls it on every wake-up).
    func applyControls(_ workers: [Worker], at t: UInt64, _ state: inout RunState) {
        guard let controls = options.controls else { return }
        for control in controls.take() {
            switch control {
            case .start(let users, let rate):
                if let users { setUsers(users, rate: rate, at: t, &state) }
            case .setUsers(let users, let rate):
                setUsers(users, rate: rate, at: t, &state)
            case .setRate(let rate, let seconds):
                setRate(rate, at: seconds, workers, at: t, &state)
            case .stop:
                guard !state.stopSent else { break }
                state.reason = .stopped
                state.stopAt = t
            case .stopFor(let reason, let note):
                guard !state.stopSent, state.stopAt.map({ $0 > t }) ?? true else { break }
                state.reason = reason
                state.stopAt = t
                if let note { state.abortedBy = note }
            case .resetStats:
                state.statsResets.append(Double(t - state.start) / 1e6)
            }
        }
    }

    private func setUsers(_ users: Int, rate: Double?, at t: UInt64, _ state: inout RunState) {
        guard isControlled, !state.stopSent else { return }
        state.ramp.shape.users = min(max(users, 0), poolSize)
        state.ramp.shape.rate = rate.map { $0 > 0 ? $0 : .infinity } ?? .infinity
        state.ramp.next = t   // the ramp steps toward it now
    }

    /// The open model: the schedule so far, then a constant `rate` from now, or from `at` seconds into the run
    /// (a controller's change: every agent switches its global schedule at the same second).
    private func setRate(_ rate: Double, at seconds: Double?, _ workers: [Worker], at t: UInt64, _ state: inout RunState) {
        guard case .open(let original) = profile, !state.stopSent, rate >= 0, rate.isFinite else { return }
        let now = seconds.map { max($0, 0) } ?? Double(t - state.start) / 1e6
        let schedule = (state.schedule ?? original).changingRate(to: rate, at: now, runEnd: options.duration)
        state.schedule = schedule
        for w in workers { w.setSchedule(schedule) }
    }
}

extension Worker {
    /// Main side: the open model's new schedule (a rate changed mid-run).
    func setSchedule(_ schedule: ArrivalSchedule) {
        mailbox.setSchedule(schedule)
        loop.wake()
    }
}

extension SessionWorker {
    /// Worker side, at a wake-up: follows a new schedule from its next arrival on.
    func adoptSchedule() {
        guard arrivalSets.count == 1, let schedule = mailbox.takeSchedule() else { return }
        arrivalSets[0].plan.schedule = schedule
        timers.cancel(arrivalSets[0].timerID)
        armNextArrival(0)
    }
}
