/// The one place a VU's state changes. It keeps the worker's counts with it — `active` (VUs started and not
/// ended: running, sleeping, in a request, parked or idle), `parked` (stopped at a task run's end while others
/// drain) and `stopHooks` (active VUs running their on_stop after a ramp-down) — and traps in debug builds on a
/// transition the engine never makes. `inTask` (VUs still inside a task run while draining) follows from them.
extension SessionWorker {
    @inline(__always)
    func move(_ i: Int, to new: VUState) {
        let old = vus[i].state
        assert(VUState.allowed(from: old, to: new), "VU \(i): \(old) → \(new) is not a transition the engine makes")
        if old.isActive != new.isActive {
            let d = new.isActive ? 1 : -1
            active += d
            if vus[i].role == .stopHook { stopHooks += d }
        }
        if (old == .parked) != (new == .parked) { parked += new == .parked ? 1 : -1 }
        vus[i].state = new
    }

    /// A VU's role changes only while it is not active (a retired user becomes a stop hook, and back).
    @inline(__always)
    func setRole(_ i: Int, _ role: VURole) {
        assert(!vus[i].state.isActive, "VU \(i): its role changes only while it is not active")
        vus[i].role = role
    }

    /// While draining: VUs still inside a task run (active and not parked).
    var inTask: Int { active - parked }
}

extension VUState {
    /// Started and not ended: counted in `active`.
    @inline(__always)
    var isActive: Bool {
        switch self {
        case .runningLua, .sleeping, .inRequest, .parked, .idle: return true
        case .notStarted, .retired, .done: return false
        }
    }

    /// The transitions the engine makes (Worker+Lua, +Stop, +Targets, +Arrivals and the sessions).
    static func allowed(from old: VUState, to new: VUState) -> Bool {
        switch (old, new) {
        case (.notStarted, .runningLua), (.retired, .runningLua), (.done, .runningLua):   // start (again), or its on_stop
            return true
        case (.runningLua, .sleeping), (.runningLua, .inRequest), (.runningLua, .idle), (.runningLua, .runningLua),
             (.sleeping, .runningLua), (.inRequest, .runningLua), (.idle, .runningLua),
             (.inRequest, .inRequest):   // (a wrk batch sent again)
            return true
        case (.runningLua, .parked), (.sleeping, .parked), (.idle, .parked):   // draining
            return true
        case (_, .retired):   // a ramp-down, or an on_stop hook's end
            return old.isActive
        case (_, .done):      // the end, or the stop (any state)
            return true
        default:
            return false
        }
    }
}
