import LuaLoadLoop
import CLua
import CLuaShim

/// `luaload wrk`'s session: one batch of raw requests on a VU's connection. Its bytes go out whole, and the
/// responses that come back are recorded one by one, each with the time since the batch's first byte was
/// written (wrk's start), until as many arrived as the bytes held requests.
struct RawSession: VUSession {
    var parser = PipelinedResponseParser()
    /// Requests in the bytes (the pipelining depth) and responses received so far.
    var expected = 0
    var received = 0
    /// The script has response(): each response's status, head and body go back to Lua.
    var want = false
    /// A static request: resent by the engine after each batch, Lua resumed only after a failure.
    var repeats = false
    /// Values pushed on the coroutine's stack for the reply.
    var replyValues: Int32 = 0
    /// The request string whose depth was counted last (the coroutine keeps it alive, so its address is unique).
    var countedBase: UnsafeRawPointer? = nil
    var countedLength = 0
    /// -R (the open model): when the arrival this batch serves was due (monotonic µs); 0 in the closed model.
    var due: UInt64 = 0

    init() {}

    mutating func free() {
        parser.head.free()
        parser.body.free()
    }

    static func start(_ w: SessionWorker<Self>, _ i: Int, _ frame: Frame, carried: UInt64) -> Bool { w.startRaw(i, frame) }

    @inline(__always)
    static func received(_ w: SessionWorker<Self>, _ i: Int, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Bool {
        w.rawBytes(i, bytes, count)
    }

    static func peerClosed(_ w: SessionWorker<Self>, _ i: Int) { w.rawEnded(i) }

    static func fail(_ w: SessionWorker<Self>, _ i: Int, _ failure: Failure) { w.failRaw(i, failure) }

    static func restart(_ w: SessionWorker<Self>, _ i: Int) { w.resetRawParser(i) }

    /// A batch: its requests not answered yet.
    static func unanswered(_ w: SessionWorker<Self>, _ i: Int) -> Int { w.vus[i].session.expected - w.vus[i].session.received }
}

extension SessionWorker where Session == RawSession {
    /// LL_OP_RAW: counts the requests in the bytes (once per string), copies them into the VU's buffer and
    /// sends them. False when the bytes are not whole requests: a script error is recorded.
    func startRaw(_ i: Int, _ frame: Frame) -> Bool {
        var length = 0
        guard let bytes = frame.string(LL_SLOT_RAW_BYTES, &length) else { return false }
        let base = UnsafeRawPointer(bytes)
        if base != vus[i].session.countedBase || length != vus[i].session.countedLength {
            switch RequestCounter.count(base, length) {
            case .requests(let n):
                vus[i].session.expected = n
                vus[i].session.countedBase = base
                vus[i].session.countedLength = length
            case .invalid(let what, let line, let column):
                stats.countScriptError(message: "request() returned bytes that are not whole HTTP requests: \(what) at \(line):\(column) of the request", traceback: "")
                return false
            }
        }
        if stats.rows.isEmpty { stats.rows.append(RequestStats(method: config.wrkRow!.method, name: config.wrkRow!.name)) }
        vus[i].session.due = vus[i].dueAt   // set by the arrival that started this cycle (-R), else 0
        vus[i].dueAt = 0
        vus[i].session.want = lua_toboolean(frame.co, frame.index(LL_SLOT_RAW_WANT)) != 0
        vus[i].session.repeats = lua_toboolean(frame.co, frame.index(LL_SLOT_RAW_REPEAT)) != 0
        vus[i].request.bytes.clear()
        vus[i].request.bytes.append(base, length)
        sendRaw(i)
        return true
    }

    /// Sends the VU's batch on its kept-alive connection, or connects first (Worker+Connection's write path).
    func sendRaw(_ i: Int) {
        vus[i].request.stat = 0
        vus[i].request.endpoint = 0
        vus[i].request.written = 0
        vus[i].request.started = 0
        vus[i].request.retried = false
        vus[i].request.gotBytes = false
        vus[i].session.received = 0
        vus[i].session.replyValues = 0
        resetRawParser(i)
        move(i, to: .inRequest)
        timers.arm(i, at: monotonicMicros() + config.timeoutMicros)
        send(i)
    }

    @inline(__always)
    func resetRawParser(_ i: Int) {
        let p = (UnsafeMutableRawPointer(sessionPointer(i)) + MemoryLayout<RawSession>.offset(of: \RawSession.parser)!)
            .assumingMemoryBound(to: PipelinedResponseParser.self)
        p.pointee.reset(p, keep: vus[i].session.want)
    }

    /// Bytes read while a batch is out: every response in them is taken in order. False when the batch is
    /// over (answered, failed, or resent).
    @inline(__always)
    func rawBytes(_ i: Int, _ bytes: UnsafeMutableRawPointer, _ n: Int) -> Bool {
        vus[i].request.gotBytes = true
        stats.bytesRead &+= UInt64(n)
        var offset = 0
        while offset < n {
            let used = vus[i].session.parser.feed(bytes + offset, n - offset)
            guard used >= 0 else { failRaw(i, .badResponse(UInt32(-used))); return false }
            offset += used
            guard vus[i].session.parser.complete else { break }
            guard onRawResponse(i) else { return false }
        }
        return true
    }

    /// The server closed the connection: the end of a response delimited by it, else the batch fails (or, on
    /// a stale kept-alive connection with nothing answered, goes again on a new one).
    func rawEnded(_ i: Int) {
        vus[i].session.parser.feedEOF()
        if vus[i].session.parser.complete { _ = onRawResponse(i); return }
        if retryOnStaleConnection(i) { return }
        failRaw(i, .closedEarly)
    }

    /// One whole response: recorded, and kept for the reply when the script wants it. True when the batch
    /// goes on (more responses are due on this connection).
    func onRawResponse(_ i: Int) -> Bool {
        let (micros, late) = rawLatency(i, now: monotonicMicros())
        let status = vus[i].session.parser.status
        let failed = status > 399
        stats.rows[0].record(micros: micros, failed: failed, bytes: vus[i].session.parser.bodyBytes)
        if stats.uncorrected != nil { stats.uncorrected!.record(micros: micros - late, failed: failed) }
        if failed { stats.count(.status(Int32(status)), stat: 0) }
        countInterval(failed: failed, micros: micros)
        if vus[i].session.want, let co = vus[i].co, lua_checkstack(co, 3) != 0 {
            lua_pushinteger(co, lua_Integer(status))                        // LL_RAW_REPLY_STATUS
            pushBytes(co, vus[i].session.parser.head)                           // LL_RAW_REPLY_HEAD
            if vus[i].session.parser.body.count > 0 { pushBytes(co, vus[i].session.parser.body) } else { lua_pushstring(co, "") }
            vus[i].session.replyValues += Int32(LL_RAW_REPLY_STRIDE)
        }
        vus[i].session.received += 1
        let keepAlive = vus[i].session.parser.keepAlive
        if vus[i].session.received < vus[i].session.expected {
            guard keepAlive else { failRaw(i, .closedEarly); return false }   // the rest will not be answered
            resetRawParser(i)
            return true
        }
        if keepAlive {
            vus[i].conn.reused = true
            vus[i].conn.state = .idle
        } else {
            closeConnection(i)
        }
        if vus[i].session.repeats {
            sendRaw(i)
        } else {
            move(i, to: .runningLua)
            resume(i, nargs: vus[i].session.replyValues)
        }
        return false
    }

    /// The batch failed (connect, write, read, timeout): each request still unanswered is recorded as failed.
    /// The responses that came before go back to Lua now; with none, the VU resumes at the loop's next turn,
    /// so a connection that keeps failing at once never recurses.
    func failRaw(_ i: Int, _ failure: Failure) {
        let (micros, late) = rawLatency(i, now: monotonicMicros())
        if stats.rows.isEmpty { stats.rows.append(RequestStats(method: config.wrkRow!.method, name: config.wrkRow!.name)) }
        for _ in vus[i].session.received..<max(vus[i].session.expected, vus[i].session.received) {
            stats.rows[0].record(micros: micros, failed: true)
            if stats.uncorrected != nil { stats.uncorrected!.record(micros: micros - late, failed: true) }
            stats.count(failure, stat: 0)
            countInterval(failed: true, micros: micros)
        }
        vus[i].session.received = vus[i].session.expected
        timers.cancel(i)
        closeConnection(i)
        move(i, to: .runningLua)
        if vus[i].session.replyValues > 0 {
            resume(i, nargs: vus[i].session.replyValues)
        } else {
            ready.append(Int32(i))
        }
    }

    /// The batch's latency so far: from its first byte written (0 when none was), or with -R from when its
    /// arrival was due (wrk2's correction for coordinated omission); `late` is the part before the first byte.
    @inline(__always)
    func rawLatency(_ i: Int, now: UInt64) -> (micros: UInt64, late: UInt64) {
        let started = vus[i].request.started, due = vus[i].session.due
        let first = started > 0 ? started : (due > 0 ? now : 0)
        guard first > 0 else { return (0, 0) }
        let late = due > 0 && first > due ? first - due : 0
        return (now &- first &+ late, late)
    }
}
