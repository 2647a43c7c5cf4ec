import LuaLoadLoop

/// How a worker's VUs are driven.
public enum WorkerMode: Sendable {
    /// Each VU starts at its planned offset (-u, -r) and runs until the stop or its own end.
    case fixed
    /// The Runner posts the run's target user count (--stages, shape()); each worker runs those of its
    /// VUs whose global spawn index is below it, starting and retiring VUs as it moves.
    case targets
    /// The open model: the pool's VUs run on_start, then one task run per arrival of this thread.
    case arrivals(ArrivalPlan)
    /// `scenarios`: per scenario, its part of the arrivals on this thread (open), or nil (closed: the
    /// Runner posts each scenario's target users, as for `targets`).
    case scenarios([ArrivalPlan?])

    /// Whether the worker lives until the stop even when no VU runs (a ramp may go to 0 and back).
    var runsUntilStopped: Bool {
        if case .fixed = self { return false }
        return true
    }

    /// Timers beyond the VUs': one per arrival schedule.
    var arrivalTimers: Int {
        switch self {
        case .arrivals: return 1
        case .scenarios(let plans): return plans.count
        default: return 0
        }
    }
}

/// One worker's part of the open model's schedule.
public struct ArrivalPlan: Sendable {
    /// The run's one global schedule.
    public var schedule: ArrivalSchedule
    /// This worker takes its segment's arrivals thread, thread + threads, ...
    public var thread: Int
    public var threads: Int
    /// --segment i/N: the segment takes the global arrivals i, i + N, ... (whole: all of them).
    public var segment = Segment.whole
    public var late: LateMode
    /// The schedule's t = 0 (monotonic µs): the Runner's start, the same for every worker.
    public var origin: UInt64

    public init(schedule: ArrivalSchedule, thread: Int, threads: Int, late: LateMode, origin: UInt64) {
        self.schedule = schedule
        self.thread = thread
        self.threads = threads
        self.late = late
        self.origin = origin
    }
}

extension SessionWorker {
    /// At the worker's start: arm each VU's spawn (fixed), wait for the Runner's targets, or start the
    /// whole pool at once and arm the first arrival (open).
    func beginMode() {
        switch config.mode {
        case .fixed:
            for i in 0..<vuCount { timers.arm(i, at: runStart + vus[i].startOffset) }
            pendingVUs = vuCount
        case .targets:
            if let targets = mailbox.takeTargets() { follow(targets: targets) }
        case .scenarios(let plans):
            beginScenarios(plans)
        case .arrivals(let plan):
            arrivalSets = [ArrivalState(plan: plan, timerID: vuCount)]
            for i in 0..<vuCount where vus[i].role == .user { vus[i].arrivalSet = 0 }
            stats.arrivals = ArrivalCounts()
            stats.uncorrected = RequestStats(method: "", name: "Aggregated (uncorrected)")
            // Before the first arrival is armed, so a VU without on_start is free for it.
            for i in 0..<vuCount where vus[i].role == .user { startVU(i, function: script.vuMainRef) }
            armNextArrival(0)
        }
    }
}
