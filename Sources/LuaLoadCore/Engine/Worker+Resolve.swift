import LuaLoadLoop

/// Host names met in full URLs are resolved off the loop (Resolver): the VU waits, its request timeout
/// running, while the thread's other VUs go on; the wait is the request's dns phase.
extension SessionWorker {
    /// VU `i` needs endpoint `ep`'s address: ask the resolver once per endpoint, and wait.
    func awaitName(_ i: Int, _ ep: Int32) {
        if endpoints.state(ep) == .unresolved {
            endpoints.markPending(ep)
            Resolver.shared.submit(endpoints[ep], index: ep, to: resolverInbox)
        }
        vus[i].conn.generation &+= 1
        vus[i].conn.state = .resolving
        awaitingName[ep, default: []].append((vu: i, generation: vus[i].conn.generation, since: monotonicMicros()))
    }

    /// The resolver answered (the loop was woken): the VUs still waiting connect, or fail.
    func takeResolvedNames() {
        for answer in resolverInbox.take() {
            endpoints.settle(answer.index, with: answer.endpoint, failed: answer.failure != nil)
            let waiting = awaitingName.removeValue(forKey: answer.index) ?? []
            let now = monotonicMicros()
            for w in waiting where vus[w.vu].conn.state == .resolving && vus[w.vu].conn.generation == w.generation {
                vus[w.vu].conn.state = .closed
                vus[w.vu].request.clock.dns = now &- w.since
                if answer.failure != nil { Session.fail(self, w.vu, .resolve) } else { connect(w.vu) }
            }
        }
    }
}
