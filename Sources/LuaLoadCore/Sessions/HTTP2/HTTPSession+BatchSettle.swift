import CNGHTTP2
import CLua
import CLuaShim
import LuaLoadLoop

/// How a batch's entries end (a response, RST_STREAM, a timeout, the connection's failure), how the ones the
/// server did not process go again, and the reply: every entry's values in order, once none is open.
extension SessionWorker where Session == HTTPSession {
    /// Streams that ended are settled; false when the batch is over (replied, or reconnecting for retries).
    func batchSettle(_ i: Int) -> Bool {
        let s = sessionPointer(i)
        for k in 0..<s.pointee.batch.count where s.pointee.batch.entries[k].phase == .open && s.pointee.batch.entries[k].closed {
            s.pointee.batch.open -= 1
            let code = s.pointee.batch.entries[k].errorCode
            if code == 0 {
                finishEntry(i, k, nil)
            } else if code == NGHTTP2_REFUSED_STREAM.rawValue {
                unprocessed(i, k)
            } else {
                finishEntry(i, k, .http2Reset(code))
            }
        }
        if s.pointee.h2.goaway {   // streams above the last one the server processes: not processed
            for k in 0..<s.pointee.batch.count where s.pointee.batch.entries[k].phase == .open
                && s.pointee.batch.entries[k].stream > s.pointee.h2.lastStream {
                s.pointee.batch.open -= 1
                unprocessed(i, k)
            }
        }
        guard s.pointee.batch.open == 0 else { return true }
        batchNext(i)
        return false
    }

    /// No stream is open: entries to send again go on a new connection, else the batch is over.
    func batchNext(_ i: Int) {
        let s = sessionPointer(i)
        if (0..<s.pointee.batch.count).contains(where: { s.pointee.batch.entries[$0].phase == .queued }) {
            vus[i].request.written = 0
            vus[i].request.started = 0
            vus[i].request.gotBytes = false
            connect(i)
        } else {
            completeBatch(i)
        }
    }

    /// The server did not process entry `k` (REFUSED_STREAM, or above GOAWAY's last stream): it goes once
    /// more on a new connection; a second time it fails with the server's code.
    private func unprocessed(_ i: Int, _ k: Int) {
        let s = sessionPointer(i)
        guard !s.pointee.batch.entries[k].retried else {
            let h2 = s.pointee.h2
            return finishEntry(i, k, h2.goaway ? .http2GoAway(h2.goawayCode) : .http2Reset(s.pointee.batch.entries[k].errorCode))
        }
        requeue(i, k, retried: true)
    }

    /// Entry `k` queued to go again on a new connection: its request kept, its stream and response emptied.
    private func requeue(_ i: Int, _ k: Int, retried: Bool) {
        let s = sessionPointer(i)
        var e = BatchEntry.reset(s.pointee.batch.entries[k])
        e.stat = s.pointee.batch.entries[k].stat
        e.isHead = s.pointee.batch.entries[k].isHead
        e.deadline = s.pointee.batch.entries[k].deadline
        e.carried = s.pointee.batch.entries[k].carried
        e.redirects = s.pointee.batch.entries[k].redirects
        e.retried = retried
        e.phase = .queued
        s.pointee.batch.entries[k] = e
    }

    /// Entry `k` ended (a whole response when `failure` is nil): recorded now by the default rule (or counted
    /// as a redirect hop), its values kept for the reply. Open model: timed from the arrival, as a plain request;
    /// a hop's latency carries its chain's.
    func finishEntry(_ i: Int, _ k: Int, _ failure: Failure?) {
        let s = sessionPointer(i)
        let end = monotonicMicros()
        if s.pointee.batch.entries[k].started == 0 { s.pointee.batch.entries[k].started = end }
        let started = s.pointee.batch.entries[k].started
        var failure = failure
        var flags = 0
        let http2 = s.pointee.batch.entries[k].slot < 0
        if failure == nil {
            let status = s.pointee.batch.entries[k].status
            if http2 { s.pointee.batch.entries[k].head.append("\r\n") }   // (an HTTP/1.1 head has its blank line)
            let scan = HeadScan(s.pointee.batch.entries[k].head.bytes)
            if scan.setsCookie { flags |= Int(LL_FLAG_SET_COOKIE) }
            if let encoding = scan.encoding, s.pointee.batch.entries[k].body.count > 0 {
                if decoder.decode(s.pointee.batch.entries[k].body.bytes, encoding) {
                    s.pointee.batch.entries[k].body.clear()
                    if decoder.output.count > 0 { s.pointee.batch.entries[k].body.append(UnsafeRawPointer(decoder.output.base!), decoder.output.count) }
                } else {
                    failure = .badEncoding
                }
            }
            if status >= 301 && status <= 308 && (0x18E >> (status - 300)) & 1 != 0 { flags |= Int(LL_FLAG_REDIRECT) }
            if failure == nil && status >= 400 { failure = .status(Int32(status)) }
            if http2 { stats.http2Responses += 1 }
        }
        let own = end &- started, carried = s.pointee.batch.entries[k].carried
        let late = vus[i].dueAt != 0 && started > vus[i].dueAt ? started - vus[i].dueAt : 0
        let stat = s.pointee.batch.entries[k].stat
        // Its latency counts the lateness and the chain's earlier hops; its wait is its own.
        if late > 0 || carried > 0 { stats.rows[Int(stat)].phases.recordWaitApart(own) }
        let micros = own &+ carried &+ late
        s.pointee.batch.entries[k].micros = micros
        s.pointee.batch.entries[k].failure = failure
        s.pointee.batch.entries[k].flags = flags
        s.pointee.batch.entries[k].phase = .done
        let p = PendingOutcome(stat: stat, micros: micros, bytes: s.pointee.batch.entries[k].body.count, failure: failure,
                               waitIsLatency: late == 0 && carried == 0, late: late)
        if flags & Int(LL_FLAG_REDIRECT) != 0 && failure == nil && batchRedirect(i, k, p) { return }
        if stats.uncorrected != nil { recordUncorrected(p) }
        recordByDefault(p)
    }

    /// The connection failed (connect, TLS, write, read, nghttp2): every entry not ended fails with it.
    func batchFailAll(_ i: Int, _ failure: Failure) {
        closeConnection(i)
        let s = sessionPointer(i)
        for k in 0..<s.pointee.batch.count where s.pointee.batch.entries[k].phase == .open || s.pointee.batch.entries[k].phase == .queued {
            finishEntry(i, k, failure)
        }
        s.pointee.batch.open = 0
        completeBatch(i)
    }

    /// The session's `fail` during a batch: a timeout ends only the entries past their deadline.
    func batchFailed(_ i: Int, _ failure: Failure) {
        if i >= vuCount { return slotFailed(i, failure) }
        guard failure == .timeout else { return batchFailAll(i, failure) }
        let s = sessionPointer(i)
        let now = monotonicMicros()
        var next = UInt64.max
        var freed: [Int] = []
        for k in 0..<s.pointee.batch.count where s.pointee.batch.entries[k].phase == .open || s.pointee.batch.entries[k].phase == .queued {
            guard s.pointee.batch.entries[k].deadline <= now else {
                next = min(next, s.pointee.batch.entries[k].deadline)
                continue
            }
            if s.pointee.batch.entries[k].phase == .open && s.pointee.batch.entries[k].slot >= 0 {
                s.pointee.batch.open -= 1
                let h = Int(s.pointee.batch.entries[k].slot)
                slotTimedOut(h)
                freed.append(h)
            } else if s.pointee.batch.entries[k].phase == .open {
                s.pointee.batch.open -= 1
                s.pointee.batch.cancelled = true
                _ = nghttp2_submit_rst_stream(s.pointee.h2.session, UInt8(NGHTTP2_FLAG_NONE.rawValue),
                                              s.pointee.batch.entries[k].stream, NGHTTP2_CANCEL.rawValue)
            }
            finishEntry(i, k, .timeout)
        }
        guard next != .max else {
            if !s.pointee.batch.onSlots { closeConnection(i) }
            return completeBatch(i)
        }
        vus[i].request.deadline = next
        timers.arm(i, at: next)
        if s.pointee.batch.onSlots {   // the freed slots take the queued entries
            let generation = s.pointee.batch.generation
            for h in freed where s.pointee.batch.generation == generation && vus[h].session.batch.owner == Int32(i) { slotNext(h) }
            return
        }
        let state = vus[i].conn.state
        if s.pointee.h2.session != nil && (state == .reading || state == .writing) {
            guard batchFlush(i) else { return }
            if s.pointee.batch.open == 0 { batchNext(i) }
        }
    }

    /// The server closed the connection mid-batch: streams it did not process go again, the others fail.
    func batchClosed(_ i: Int) {
        if i >= vuCount { return slotClosed(i) }
        let s = sessionPointer(i)
        if s.pointee.h2.goaway {
            for k in 0..<s.pointee.batch.count where s.pointee.batch.entries[k].phase == .open
                && s.pointee.batch.entries[k].stream > s.pointee.h2.lastStream {
                s.pointee.batch.open -= 1
                unprocessed(i, k)
            }
        }
        if s.pointee.batch.open > 0 && retryOnStaleConnection(i) { return }
        let failure: Failure = s.pointee.h2.goaway ? .http2GoAway(s.pointee.h2.goawayCode) : .closedEarly
        closeConnection(i)
        for k in 0..<s.pointee.batch.count where s.pointee.batch.entries[k].phase == .open { finishEntry(i, k, failure) }
        s.pointee.batch.open = 0
        batchNext(i)
    }

    /// A stale kept-alive connection: the open entries go again on a new one (the driver connects).
    func batchRestart(_ i: Int) {
        if i >= vuCount { return slotRestart(i) }
        let s = sessionPointer(i)
        for k in 0..<s.pointee.batch.count where s.pointee.batch.entries[k].phase == .open {
            requeue(i, k, retried: s.pointee.batch.entries[k].retried)
        }
        s.pointee.batch.open = 0
    }

    /// The batch is over: the connection kept when it can be, then Lua gets every entry's values.
    func completeBatch(_ i: Int) {
        let s = sessionPointer(i)
        s.pointee.batch.active = false
        if s.pointee.batch.onSlots {
            releaseSlots(of: i)   // the VU's own connection was not used
        } else if s.pointee.h2.session != nil && !s.pointee.h2.goaway && !s.pointee.batch.cancelled && vus[i].conn.state == .reading {
            vus[i].conn.reused = true
            vus[i].conn.state = .idle
        } else {
            closeConnection(i)
        }
        vus[i].dueAt = 0
        replyBatch(i)
    }

    /// The reply: per entry LL_REPLY_COUNT values in LL_REPLY_* order, nil values for an entry not run here.
    func replyBatch(_ i: Int) {
        if vus[i].state == .inRequest { move(i, to: .runningLua) }
        guard let co = vus[i].co else { return }
        let s = sessionPointer(i)
        let n = s.pointee.batch.count
        guard lua_checkstack(co, Int32(n * Int(LL_REPLY_COUNT) + 8)) != 0 else {
            stats.countScriptError(message: "http.batch: no room on the Lua stack for \(n) replies", traceback: "")
            return endVU(i)
        }
        for k in 0..<n {
            let e = s.pointee.batch.entries[k]
            guard e.phase == .done else {
                for _ in 0..<Int(LL_REPLY_COUNT) { lua_pushnil(co) }
                continue
            }
            // A transport failure (RST_STREAM, timeout, the connection's) has no status, as a plain request's.
            let transport = e.failure.map { !isStatusFailure($0) && $0 != .badEncoding } ?? false
            lua_pushinteger(co, lua_Integer(transport ? 0 : e.status))
            lua_pushnumber(co, Double(e.micros) / 1000)
            if e.body.count > 0 && !transport { pushBytes(co, e.body) } else { lua_pushstring(co, "") }
            if let failure = e.failure, !isStatusFailure(failure) { pushText(co, failure) } else { lua_pushnil(co) }
            if e.head.count > 0 && !transport { pushBytes(co, e.head) } else { lua_pushnil(co) }
            lua_pushinteger(co, lua_Integer(e.flags))
        }
        resume(i, nargs: Int32(n * Int(LL_REPLY_COUNT)))
    }

    private func isStatusFailure(_ f: Failure) -> Bool {
        if case .status = f { return true }
        return false
    }

    /// The run stops with the batch out: streams sent and unanswered are abandoned (the rest were recorded,
    /// or never reached the server).
    func batchAbandon(_ i: Int) -> Int {
        let s = sessionPointer(i)
        s.pointee.batch.active = false
        var n = s.pointee.batch.onSlots ? abandonSlots(of: i) : 0
        for k in 0..<s.pointee.batch.count where s.pointee.batch.entries[k].phase == .open && s.pointee.batch.entries[k].sent { n += 1 }
        return n
    }
}
