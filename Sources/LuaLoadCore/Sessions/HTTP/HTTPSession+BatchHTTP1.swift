import LuaLoadLoop
import CLuaShim

/// `http.batch` on HTTP/1.1: a VU's entries go in parallel on up to `--batch-per-host` connections (a browser's
/// 6), each carrying one entry at a time and the next when it is answered (keep-alive). The connections live in
/// **slots**, VirtualUser values after the VUs in the worker's buffer (`vuCount..<slotCount`): the connection
/// driver, TLS and the HTTP/1.1 parser serve a slot as they serve a VU, and the session's calls, seeing
/// `batch.active`, hand its events here. A slot has no coroutine and no timer: its entry's timeout is the owning
/// VU's (`batchFailed`). A thread has `batchPerHost` × min(VUs, 8) slots; a batch that finds none free goes one
/// entry after another (the prelude's). Slots keep their connections between batches.
extension HTTPSession {
    /// A slot's connection offers its owner's TLS session (that of the VU's own connection to the host).
    static func tlsSessionOwner(_ w: SessionWorker<Self>, _ i: Int) -> Int {
        i >= w.vuCount && w.vus[i].session.batch.owner >= 0 ? Int(w.vus[i].session.batch.owner) : i
    }
}

extension SessionWorker where Session == HTTPSession {
    /// VU `i`'s queued entries take free slots (those with an idle connection to its endpoint first). False:
    /// no slot was free, or the endpoint's address is not known yet.
    func batchOnSlots(_ i: Int) -> Bool {
        let endpoint = vus[i].request.endpoint
        guard config.batchPerHost > 0, endpoints.state(endpoint) == .resolved else { return false }
        let s = sessionPointer(i)
        let queued = (0..<s.pointee.batch.count).filter { s.pointee.batch.entries[$0].phase == .queued }.count
        let want = min(config.batchPerHost, queued)
        var taken: [Int] = []
        for warmOnly in [true, false] {
            for h in vuCount..<slotCount where taken.count < want && vus[h].session.batch.owner < 0 {
                if warmOnly && !(vus[h].conn.state == .idle && vus[h].conn.endpoint == endpoint) { continue }
                vus[h].session.batch.owner = Int32(i)
                taken.append(h)
            }
        }
        guard !taken.isEmpty else { return false }
        s.pointee.batch.onSlots = true
        s.pointee.batch.active = true
        let generation = s.pointee.batch.generation
        for h in taken where s.pointee.batch.generation == generation && vus[h].session.batch.owner == Int32(i) {
            slotNext(h)
        }
        return true
    }

    /// Slot `h` takes its owner's next queued entry and sends it (on its kept-alive connection, or a new one);
    /// with none left it is freed, its connection kept.
    func slotNext(_ h: Int) {
        let i = Int(vus[h].session.batch.owner)
        guard i >= 0 else { return }
        let s = sessionPointer(i)
        guard let k = (0..<s.pointee.batch.count).first(where: { s.pointee.batch.entries[$0].phase == .queued }) else {
            return releaseSlot(h)
        }
        s.pointee.batch.entries[k].phase = .open
        s.pointee.batch.entries[k].slot = Int32(h)
        s.pointee.batch.entries[k].started = monotonicMicros()
        s.pointee.batch.open += 1
        vus[h].session.batch.entry = Int32(k)
        vus[h].session.batch.active = true
        vus[h].request.bytes.clear()
        vus[h].request.bytes.append(UnsafeRawPointer(s.pointee.batch.entries[k].source.base!), s.pointee.batch.entries[k].source.count)
        vus[h].request.endpoint = vus[i].request.endpoint
        vus[h].request.stat = s.pointee.batch.entries[k].stat
        vus[h].request.written = 0
        vus[h].request.clock = ll_timings()
        vus[h].request.retried = false
        vus[h].request.gotBytes = false
        vus[h].session.response.reset(bodyless: s.pointee.batch.entries[k].isHead)
        send(h)
    }

    private func releaseSlot(_ h: Int) {
        vus[h].session.batch.owner = -1
        vus[h].session.batch.entry = -1
        vus[h].session.batch.active = false
    }

    /// Slot `h`'s response is complete: it becomes its entry's, the connection stays when the server keeps it,
    /// and the slot takes the next entry.
    func batchConnectionResponse(_ h: Int) {
        let i = Int(vus[h].session.batch.owner), k = Int(vus[h].session.batch.entry)
        let s = sessionPointer(i)
        let response = vus[h].session.response
        s.pointee.batch.entries[k].status = response.status
        s.pointee.batch.entries[k].head.clear()
        if response.head.count > 0 { s.pointee.batch.entries[k].head.append(UnsafeRawPointer(response.head.base!), response.head.count) }
        s.pointee.batch.entries[k].body.clear()
        if response.body.count > 0 { s.pointee.batch.entries[k].body.append(UnsafeRawPointer(response.body.base!), response.body.count) }
        if response.keepAlive {
            vus[h].conn.reused = true
            vus[h].conn.state = .idle
        } else {
            closeConnection(h)
        }
        slotEnded(h, nil)
    }

    /// Slot `h`'s entry ended (`failure` nil: its response is in): recorded, then the slot goes on, and the
    /// owner's batch completes when nothing is left.
    private func slotEnded(_ h: Int, _ failure: Failure?) {
        let i = Int(vus[h].session.batch.owner), k = Int(vus[h].session.batch.entry)
        guard i >= 0, k >= 0 else { return }
        let s = sessionPointer(i)
        recordSlotPhases(h, Int(s.pointee.batch.entries[k].stat))
        vus[h].session.batch.entry = -1
        s.pointee.batch.open -= 1
        finishEntry(i, k, failure)
        let generation = s.pointee.batch.generation
        slotNext(h)
        guard s.pointee.batch.generation == generation, s.pointee.batch.active, s.pointee.batch.open == 0 else { return }
        completeBatch(i)
    }

    private func recordSlotPhases(_ h: Int, _ row: Int) {
        let clock = vus[h].request.clock
        if clock.connect > 0 { _ = stats.rows[row].phases.connect.record(clock.connect) }
        if clock.tls > 0 { _ = stats.rows[row].phases.tls.record(clock.tls) }
    }

    /// The session's calls for a slot (`batch.active`, index past the VUs).
    func slotFailed(_ h: Int, _ failure: Failure) {
        closeConnection(h)
        slotEnded(h, failure)
    }

    func slotClosed(_ h: Int) {
        vus[h].session.response.feedEOF()
        if vus[h].session.response.complete { return batchConnectionResponse(h) }
        if retryOnStaleConnection(h) { return }
        slotFailed(h, .closedEarly)
    }

    func slotRestart(_ h: Int) {
        vus[h].session.response.reset(bodyless: vus[h].session.response.bodyless)
    }

    /// An entry on a slot timed out (the owner's timer): its connection closes (HTTP/1.1 has no other way to
    /// cancel), and the slot is free for the next entry.
    func slotTimedOut(_ h: Int) {
        closeConnection(h)
        vus[h].session.batch.entry = -1
    }

    /// The owner's batch is over: its slots are free (their idle connections kept for the next batch).
    func releaseSlots(of i: Int) {
        for h in vuCount..<slotCount where vus[h].session.batch.owner == Int32(i) {
            if vus[h].session.batch.entry >= 0 { closeConnection(h) }
            releaseSlot(h)
        }
        vus[i].session.batch.onSlots = false
    }

    /// The run stops: entries written on a slot and unanswered are abandoned; the slots' connections close.
    func abandonSlots(of i: Int) -> Int {
        var n = 0
        for h in vuCount..<slotCount where vus[h].session.batch.owner == Int32(i) {
            if vus[h].session.batch.entry >= 0 && vus[h].request.written > 0 { n += 1 }
            closeConnection(h)
            releaseSlot(h)
        }
        vus[i].session.batch.onSlots = false
        return n
    }
}
