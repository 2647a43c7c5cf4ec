import LuaLoadLoop

extension Runner {
    /// Applies what came through `options.control` since the last wake-up (RunControl.swift).
    func applyControl(_ workers: [Worker], _ state: inout RunState) {
        guard let control = options.control else { return }
        for command in control.take() {
            switch command {
            case .stop(let reason, let note):
                guard !state.stopSent, state.stopAt.map({ $0 > monotonicMicros() }) ?? true else { continue }
                state.stopAt = monotonicMicros()
                state.reason = reason
                if let note { state.abortedBy = note }
            case .users(let n):
                guard !state.stopSent else { continue }
                let target = max(0, min(n, poolSize))
                state.ramp.next = .max   // the ramp (stages, shape()) stops here: the new target holds
                state.ramp.posted = target
                state.ramp.peak = max(state.ramp.peak, target)
                for w in workers { w.setTargetUsers(target) }
            }
        }
    }
}
