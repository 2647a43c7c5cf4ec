/// Ramps (--stages, shape()): the Runner posts the run's target user count and each worker follows it
/// with its own VUs, which are dealt in global spawn order (VU k on thread k mod T), so the first N of the
/// whole run are the ones that run. Costs nothing per request: it happens at the mailbox's wake-ups.
extension SessionWorker {
    /// `targets`: per scenario (one in a single model); an open scenario's VUs follow its arrivals instead.
    func follow(targets: [Int]) {
        for i in 0..<vuCount where (vus[i].role == .user || vus[i].role == .stopHook) && vus[i].arrivalSet < 0 {
            let wanted = Int(vus[i].globalID) < targets[Int(vus[i].scenario)]
            switch vus[i].state {
            case .notStarted, .retired:
                if wanted && vus[i].role == .user { startVU(i, function: script.vuMainRef) }
            case .done, .parked:
                break   // ended by itself (stop()): a ramp does not bring it back, as in Locust
            case .runningLua, .sleeping, .inRequest, .idle:
                if !wanted && vus[i].role == .user { retire(i) }
            }
        }
    }

    /// A ramp-down stops VU `i` at once wherever it is (Locust stops users mid-task too): a request in
    /// flight is abandoned and counted, a response not yet settled is recorded, then its on_stop runs in a
    /// fresh coroutine on the same slot (`stopHook`), after which the VU is `retired`.
    func retire(_ i: Int) {
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
