/// Ramps (--stages, shape()): the Runner posts the run's target user count and each worker follows it
/// with its own VUs, which are dealt in global spawn order (VU k on thread k mod T), so the first N of the
/// whole run are the ones that run. Costs nothing per request: it happens at the mailbox's wake-ups.
extension SessionWorker {
    /// `targets`: per scenario (one in a single model). Scenario.windDown: the scenario ended, its VUs stop
    /// at their task run's end (graceful_stop); an open scenario's VUs follow its arrivals until that, or 0.
    func follow(targets: [Int]) {
        for i in 0..<vuCount where vus[i].role == .user || vus[i].role == .stopHook {
            let target = targets[Int(vus[i].scenario)]
            if vus[i].arrivalSet >= 0 && target > 0 { continue }
            let wanted = Int(vus[i].globalID) < target
            switch vus[i].state {
            case .notStarted, .retired:
                if wanted && vus[i].role == .user { startVU(i, function: script.vuMainRef) }
            case .done, .parked:
                break   // ended by itself (stop()): a ramp does not bring it back, as in Locust
            case .runningLua, .sleeping, .inRequest, .idle:
                guard !wanted && vus[i].role == .user else { break }
                if target == Scenario.windDown { windDown(i) } else { retire(i) }
            }
        }
        for (s, target) in targets.enumerated() where target == Scenario.windDown && (s >= winding.count || winding[s] == 0) {
            mailbox.markWoundDown(scenario: s)
        }
    }

    /// Its scenario ended: VU `i` stops now when between task runs, else at its task run's end (countFinished).
    func windDown(_ i: Int) {
        let s = Int(vus[i].scenario)
        if winding.count <= s { winding += [Int](repeating: 0, count: s + 1 - winding.count) }
        if vus[i].inWait || vus[i].state == .idle { return retire(i) }
        if !vus[i].windingDown {
            vus[i].windingDown = true
            winding[s] += 1
        }
    }

    /// A winding-down VU's task run ended (or the grace is over): it stops; the last of its scenario here tells the Runner.
    func woundDown(_ i: Int) {
        vus[i].windingDown = false
        let s = Int(vus[i].scenario)
        winding[s] -= 1
        if winding[s] == 0 { mailbox.markWoundDown(scenario: s) }
    }

    /// A ramp-down stops VU `i` at once wherever it is (Locust stops users mid-task too): a request in
    /// flight is abandoned and counted, a response not yet settled is recorded, then its on_stop runs in a
    /// fresh coroutine on the same slot (`stopHook`), after which the VU is `retired`.
    func retire(_ i: Int) {
        if vus[i].windingDown { woundDown(i) }
        countIfAbandoned(i)
        recordUnsettled(i)
        closeConnection(i)
        timers.cancel(i)
        releaseCoroutine(i)
        move(i, to: .retired)
        guard config.classes[Int(vus[i].classIndex)].hasOnStop else { return }
        setRole(i, .stopHook)
        startVU(i, function: script.vuStopRef)
    }
}
