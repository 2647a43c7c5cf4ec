import LuaLoadLoop

/// The open model's per-thread state: its share of the schedule, the late arrivals waiting for a VU,
/// the free VUs. No state is shared with other threads per arrival.
struct ArrivalState {
    /// Its schedule changes only when a live control sets a new rate (Runner+Controls.swift).
    var plan: ArrivalPlan
    /// The arrival timer's id in the heap: one past the VUs.
    let timerID: Int
    /// This thread's next arrival to come due (its j-th: global arrival thread + j × threads).
    var next = 0
    /// --late queue: this thread's first due arrival not started yet; arrivals head..<next wait for a VU.
    /// Due times are recomputed from the schedule, so a queue of any length costs no memory.
    var head = 0
    /// VUs whose on_start ran and which are between task runs; the last one freed goes first (its
    /// connection is the warmest).
    var free: [Int32] = []
    /// Its pool ran on_start: at the worker's start, or (a scenario's) at the scenario's start, when its timer first fires.
    var poolStarted: Bool
    /// What became of its arrivals (gathered into the worker's stats when it publishes).
    var counts = ArrivalCounts()
    /// `scenarios`: its scenario's index (-1: the run's one open model).
    var scenario = -1

    init(plan: ArrivalPlan, timerID: Int, poolStarted: Bool = true) {
        self.plan = plan
        self.timerID = timerID
        self.poolStarted = poolStarted
    }

    /// When this thread's j-th arrival is due (monotonic µs); nil past the schedule's end. It is its
    /// segment's arrival thread + j × threads, the global arrival segment + that × segments.
    func dueMicros(_ j: Int) -> UInt64? {
        plan.schedule.dueSeconds(plan.segment.global(plan.thread + j * plan.threads)).map { plan.origin + UInt64($0 * 1_000_000) }
    }
}

extension SessionWorker {
    func armNextArrival(_ a: Int) {
        guard let due = arrivalSets[a].dueMicros(arrivalSets[a].next) else { return }
        timers.arm(arrivalSets[a].timerID, at: due)
    }

    /// Arrivals due within this long after the timer start with it: at 10,000/s one wake-up serves ten
    /// (as the closed model's ms timers batch), where one wake-up each cost twice the CPU per request.
    /// None starts more than this early, and a request is never timed from before its first byte.
    static var arrivalBatchMicros: UInt64 { 1000 }

    /// Arrival set `a`'s timer fired: each arrival now due starts on a free VU; without one it waits (queue)
    /// or is dropped (drop). A scenario's first firing is its start: its pool runs on_start first.
    func onArrivals(_ a: Int, now: UInt64) {
        guard phase == .running else { return }
        if !arrivalSets[a].poolStarted { startPool(a) }
        let firstDue = arrivalSets[a].next
        while let due = arrivalSets[a].dueMicros(arrivalSets[a].next), due <= now + Self.arrivalBatchMicros {
            arrivalSets[a].next += 1
            arrivalSets[a].counts.scheduled += 1
            if arrivalSets[a].plan.late == .drop {
                arrivalSets[a].head = arrivalSets[a].next
                if let vu = arrivalSets[a].free.popLast() {
                    startArrival(Int(vu), due: due, late: false)
                    resume(Int(vu), nargs: 0)
                } else {
                    arrivalSets[a].counts.droppedNoVU += 1
                    interval.arrivalsDropped += 1
                }
            }
        }
        // Queue: arrivals start in order; those older than this batch waited for a VU.
        while arrivalSets[a].head < arrivalSets[a].next, let vu = arrivalSets[a].free.popLast() {
            let j = arrivalSets[a].head
            arrivalSets[a].head += 1
            startArrival(Int(vu), due: arrivalSets[a].dueMicros(j)!, late: j < firstDue)
            resume(Int(vu), nargs: 0)
        }
        armNextArrival(a)
    }

    /// Starts arrival set `a`'s VUs (on_start, then the free list) before its first arrival.
    func startPool(_ a: Int) {
        arrivalSets[a].poolStarted = true
        for i in 0..<vuCount where vus[i].role == .user && Int(vus[i].arrivalSet) == a { startVU(i, function: script.vuMainRef) }
    }

    /// `scenarios`: an arrival set per open scenario on this thread, its timer armed at the scenario's
    /// start; the closed scenarios' VUs follow the Runner's targets.
    func beginScenarios(_ plans: [ArrivalPlan?]) {
        var setOf = [Int8](repeating: -1, count: plans.count)
        for (s, plan) in plans.enumerated() {
            guard let plan else { continue }
            setOf[s] = Int8(arrivalSets.count)
            arrivalSets.append(ArrivalState(plan: plan, timerID: vuCount + arrivalSets.count, poolStarted: false))
            arrivalSets[arrivalSets.count - 1].scenario = s
            timers.arm(arrivalSets[arrivalSets.count - 1].timerID, at: plan.origin)
        }
        for i in 0..<vuCount where vus[i].role == .user { vus[i].arrivalSet = setOf[Int(vus[i].scenario)] }
        if !arrivalSets.isEmpty {
            stats.arrivals = ArrivalCounts()
            stats.uncorrected = RequestStats(method: "", name: "Aggregated (uncorrected)")
        }
        if let targets = mailbox.takeTargets() { follow(targets: targets) }
    }

    /// Counts an arrival as started on VU `i` (the caller resumes it) and notes when it was due.
    @inline(__always)
    func startArrival(_ i: Int, due: UInt64, late: Bool) {
        let a = Int(vus[i].arrivalSet)
        arrivalSets[a].counts.started += 1
        interval.arrivalsStarted += 1
        if late {
            arrivalSets[a].counts.late += 1
            interval.arrivalsLate += 1
        }
        vus[i].dueAt = due
        move(i, to: .runningLua)
    }

    /// LL_OP_IDLE: VU `i` ran on_start or a task run. It takes the oldest waiting arrival (queue), or goes
    /// to the free list. True when it goes straight on inline (one run per resume; more go through `ready`).
    func onIdle(_ i: Int, inline: inout Bool) -> Bool {
        vus[i].dueAt = 0   // a task run without a request leaves nothing to time
        if case .draining = phase {
            park(i)
            return false
        }
        let a = Int(vus[i].arrivalSet)
        guard phase == .running, arrivalSets[a].head < arrivalSets[a].next else {
            move(i, to: .idle)
            arrivalSets[a].free.append(Int32(i))
            return false
        }
        let j = arrivalSets[a].head
        arrivalSets[a].head += 1
        startArrival(i, due: arrivalSets[a].dueMicros(j)!, late: true)
        if inline, phase == .running {
            inline = false
            return true
        }
        ready.append(Int32(i))
        return false
    }

    /// The first request of an arrival's task run is timed from when the arrival was due (wrk2): the
    /// wait for a VU and the engine's own lag count as latency, so a slow server cannot hide.
    func timeFromArrival(_ i: Int) {
        let first = vus[i].request.started > 0 ? vus[i].request.started : monotonicMicros()
        let late = first > vus[i].dueAt ? first - vus[i].dueAt : 0
        if late > 0 && vus[i].pending.waitIsLatency && vus[i].pending.stat >= 0 {
            // Its latency now counts the lateness; its wait (to the first response byte) does not.
            stats.rows[Int(vus[i].pending.stat)].phases.recordWaitApart(vus[i].pending.micros)
            vus[i].pending.waitIsLatency = false
        }
        vus[i].pending.micros += late
        vus[i].pending.late = late
        vus[i].dueAt = 0
    }

    /// Every request of the open model, timed from its first byte (the uncorrected figure, wrk2's -U).
    @inline(__always)
    func recordUncorrected(_ p: PendingOutcome) {
        stats.uncorrected!.record(micros: p.micros &- p.late, failed: p.failure != nil)
    }

    /// The arrival sets' counts into the worker's stats (once a second and at the end, not per arrival):
    /// the whole and, with `scenarios`, each open scenario's by name.
    func gatherArrivals() {
        var all = ArrivalCounts()
        for set in arrivalSets {
            all.add(set.counts)
            if set.scenario >= 0 { stats.scenarioArrivals[config.scenarioNames[set.scenario]] = set.counts }
        }
        stats.arrivals = all
    }

    /// At the stop: arrivals due by now and not started count as scheduled and unstarted, so
    /// scheduled = started + dropped exactly.
    func closeArrivals(at now: UInt64) {
        for a in arrivalSets.indices {
            timers.cancel(arrivalSets[a].timerID)
            var unstarted = arrivalSets[a].next - arrivalSets[a].head
            while let due = arrivalSets[a].dueMicros(arrivalSets[a].next), due <= now {
                arrivalSets[a].next += 1
                arrivalSets[a].counts.scheduled += 1
                unstarted += 1
            }
            arrivalSets[a].head = arrivalSets[a].next
            arrivalSets[a].counts.unstartedAtStop += unstarted
            interval.arrivalsDropped += unstarted
        }
    }
}
