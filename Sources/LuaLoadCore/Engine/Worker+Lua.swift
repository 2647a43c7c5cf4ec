import LuaLoadLoop
import CLua
import CLuaShim

/// The Lua side of a Worker: VUs are coroutines; each yield is a frame (yield_protocol.h) that settles the
/// previous response, counts finished task runs and asks for the next operation.
extension SessionWorker {
    func startVU(_ i: Int, function: Int32, arguments: Bool = true) {
        guard let co = lua_newthread(L) else { return }
        vus[i].co = co
        vus[i].coRef = luaL_ref(L, ll_registryindex())
        lua_rawgeti(co, ll_registryindex(), lua_Integer(function))
        ll_set_timings(co, timingsPointer(i))
        if arguments {
            let scenario = Int(vus[i].scenario)
            lua_pushinteger(co, lua_Integer(vus[i].classIndex + 1))
            lua_pushinteger(co, lua_Integer(Int(vus[i].globalID) + config.scenarioIDBases[scenario] + 1))
            lua_pushboolean(co, vus[i].arrivalSet >= 0 ? 1 : 0)   // vu_main's `open`: one task run per arrival
            lua_pushinteger(co, lua_Integer(config.runsScenarios ? scenario + 1 : 0))   // its scenario's tags (scenarios.lua)
            if scenario < config.iterationQuotas.count, let quota = config.iterationQuotas[scenario] {   // its task runs
                lua_pushinteger(co, lua_Integer(quota.count))
                lua_pushboolean(co, quota.perUser ? 1 : 0)
            } else {
                lua_pushnil(co)
                lua_pushboolean(co, 0)
            }
        }
        move(i, to: .runningLua)
        resume(i, nargs: arguments ? 6 : 0)
    }

    /// Resumes VU `i` with `nargs` values on its stack, then acts on the frame it yields. A recorded script
    /// error or an inline zero wait resumes it again at once, so this loops rather than recurses.
    func resume(_ i: Int, nargs: Int32) {
        guard let co = vus[i].co else { return }
        vus[i].inWait = false
        var nargs = nargs
        var inlineZeroWait = true   // one zero wait goes straight on; a VU that loops without I/O queues behind others
        while true {
            var nres: Int32 = 0
            let rc = lua_resume(co, L, nargs, &nres)
            guard rc == LUA_YIELD || rc == LUA_OK else {
                recordUncaughtError(i, co)
                return
            }
            let frame = Frame(co, results: nres)
            let op = frame.op
            var carried: UInt64 = 0
            if op == Int(LL_OP_HTTP) && frame.follows { carried = takeRedirectHop(i, frame) } else { settle(i, frame) }
            guard countFinished(i, frame) else { return }
            switch op {
            case Int(LL_OP_HTTP), Int(LL_OP_RAW):   // the session sends it
                let sent = Session.start(self, i, frame, carried: carried)
                frame.pop()
                if !sent { endVU(i) }
                return
            case Int(LL_OP_BATCH):   // http.batch: the session reads and pops the frame
                if !Session.startBatch(self, i, frame) { endVU(i) }
                return
            case Int(LL_OP_SLEEP), Int(LL_OP_WAIT):
                if onWait(i, frame, inline: &inlineZeroWait) { nargs = 0; continue }
                return
            case Int(LL_OP_THREAD_STOP):   // thread:stop(): this whole worker stops
                frame.pop()
                askStop()
                return
            case Int(LL_OP_IDLE):
                frame.pop()
                if onIdle(i, inline: &inlineZeroWait) { nargs = 0; continue }
                return
            case Int(LL_OP_ERROR):
                stats.countScriptError(message: frame.text(LL_SLOT_MESSAGE) ?? "error", traceback: frame.text(LL_SLOT_TRACEBACK) ?? "")
                frame.pop()
                nargs = 0
            default:   // LL_OP_STOPPED: the coroutine returned
                if vus[i].role == .setup {
                    setupResult = frame.text(LL_SLOT_SETUP_JSON)
                    setupFailure = frame.text(LL_SLOT_SETUP_FAILURE)
                }
                frame.pop()
                endVU(i)
                return
            }
        }
    }

    /// Counts the task runs the frame says finished; false when the VU must not go on: a new task run would
    /// begin while draining (the VU parks, its request unsent), -n is reached (the run stops here, before
    /// any other VU can finish another task run), or its scenario ended (it stops: graceful_stop).
    @inline(__always)
    func countFinished(_ i: Int, _ frame: Frame) -> Bool {
        let finished = frame.integer(LL_SLOT_FINISHED)
        guard finished > 0 else { return true }
        stats.iterations += finished
        interval.iterations += finished
        if case .draining = phase, frame.op == Int(LL_OP_HTTP) || frame.op == Int(LL_OP_BATCH) {
            frame.pop()
            park(i)
            return false
        }
        if let limit = config.iterationLimit, stats.iterations >= limit {
            frame.pop()
            reachedIterationLimit = true
            askStop()
            return false
        }
        if vus[i].windingDown {   // its scenario ended (graceful_stop): no new task run
            frame.pop()
            retire(i)
            return false
        }
        return true
    }

    /// A sleep or the wait after a task run; true when the VU goes straight on (an inline zero wait).
    @inline(__always)
    func onWait(_ i: Int, _ frame: Frame, inline: inout Bool) -> Bool {
        let seconds = frame.number(LL_SLOT_SECONDS) ?? 0
        let isWait = frame.op == Int(LL_OP_WAIT)
        frame.pop()
        vus[i].inWait = isWait
        if case .draining = phase, isWait {
            park(i)
        } else if seconds > 0 {
            move(i, to: .sleeping)
            timers.arm(i, at: monotonicMicros() + UInt64(seconds * 1_000_000))
        } else if inline, phase == .running {
            inline = false
            return true
        } else {
            ready.append(Int32(i))
        }
        return false
    }

    /// An error the prelude could not catch (e.g. out of memory): recorded, and the VU ends.
    func recordUncaughtError(_ i: Int, _ co: OpaquePointer) {
        var len = 0
        let msg = ll_tostring(co, -1, &len).map { String(cString: $0) } ?? "error in the VU"
        ll_traceback(L, co, msg)
        let tb = ll_tostring(L, -1, &len).map { String(cString: $0) } ?? msg
        ll_pop(L, 1)
        stats.countScriptError(message: msg, traceback: tb)
        endVU(i)
    }

    /// Records the VU's previous response with the outcome the frame gives it: nil or false, the default
    /// rule; a message, `res:failure(msg)` or `fail(msg)`; true, `res:success()`.
    @inline(__always)
    func settle(_ i: Int, _ frame: Frame) {
        let p = vus[i].pending
        let stat = Int(p.stat)
        guard stat >= 0 else { return }
        vus[i].pending.stat = -1
        if stats.uncorrected != nil { recordUncorrected(p) }
        guard frame.bool(LL_SLOT_OUTCOME) else { return recordByDefault(p) }   // nil or false: the default rule
        // A message: res:failure(msg) or fail(msg); true: res:success().
        let message = frame.type(LL_SLOT_OUTCOME) == LUA_TSTRING ? frame.text(LL_SLOT_OUTCOME) : nil
        record(p, failed: message != nil)
        if let message {
            stats.custom[FailureKey(method: stats.rows[stat].method, name: stats.rows[stat].name, error: message), default: 0] += 1
        }
    }

    /// The previous response was a redirect the prelude follows: not a request of its own but a hop of
    /// the next one, which carries its time. It counts as a redirect (the server saw it). A number in
    /// LL_SLOT_FOLLOWS: the hop of an http.batch entry, whose redirect the batch counted; the ms it carries
    /// are its chain's so far, and the previous response is settled as a plain frame settles it.
    @inline(never)
    func takeRedirectHop(_ i: Int, _ frame: Frame) -> UInt64 {
        if frame.type(LL_SLOT_FOLLOWS) == LUA_TNUMBER {
            settle(i, frame)
            return UInt64(((frame.number(LL_SLOT_FOLLOWS) ?? 0) * 1000).rounded())
        }
        let p = vus[i].pending
        guard p.stat >= 0 else { return 0 }
        vus[i].pending.stat = -1
        stats.rows[Int(p.stat)].redirects += 1
        if p.waitIsLatency { stats.rows[Int(p.stat)].phases.recordWaitApart(p.micros) }   // no latency of its own
        return p.micros
    }

    /// A new stats row's tags ("k:v,k2:v2"; "" untagged): the prelude keeps a tagged row's in
    /// `luaload.row_tags[stat]` when it makes the row, so a tagged request's frame is a plain one. Once per row;
    /// only calls that cannot raise (lua_getfield with names the prelude holds, on tables it made; lua_rawgeti).
    func rowTags(_ stat: Int) -> String {
        lua_getfield(L, ll_registryindex(), "luaload")
        defer { ll_pop(L, 1) }
        guard lua_type(L, -1) == LUA_TTABLE else { return "" }
        lua_getfield(L, -1, "row_tags")
        defer { ll_pop(L, 1) }
        guard lua_type(L, -1) == LUA_TTABLE else { return "" }
        lua_rawgeti(L, -1, lua_Integer(stat))
        defer { ll_pop(L, 1) }
        var length = 0
        guard lua_type(L, -1) == LUA_TSTRING, let text = ll_tostring(L, -1, &length) else { return "" }
        return String(cString: text)
    }

    /// Where VU `i`'s request phases are kept, for `res.timings` (the VU buffer never moves).
    func timingsPointer(_ i: Int) -> UnsafeMutablePointer<ll_timings> {
        (UnsafeMutableRawPointer(vus + i) + MemoryLayout<VirtualUser<Session>>.offset(of: \VirtualUser<Session>.request.clock)!)
            .assumingMemoryBound(to: ll_timings.self)
    }

    /// Failed on a transport error, a timeout or a status ≥ 400 (the failure says which), else a success.
    @inline(__always)
    func recordByDefault(_ p: PendingOutcome) {
        record(p, failed: p.failure != nil)
        if let failure = p.failure { stats.count(failure, stat: Int(p.stat)) }
    }

    /// The response's latency in its row (and its wait, when apart) and in the second's counts.
    @inline(__always)
    func record(_ p: PendingOutcome, failed: Bool) {
        let stat = Int(p.stat)
        stats.rows[stat].record(micros: p.micros, failed: failed, bytes: p.bytes)
        if !p.waitIsLatency { stats.rows[stat].phases.recordLatencyApart(p.micros) }
        countInterval(failed: failed, micros: p.micros)
    }

    /// The second's counts and latencies. Each latency is recorded here as well as in its row (~30
    /// instructions): deriving the second from the cumulative rows instead cost the main thread two walks
    /// of every row's histogram, a subtraction and three 180 KB allocations a second.
    @inline(__always)
    func countInterval(failed: Bool, micros: UInt64) {
        interval.requests &+= 1
        if failed { interval.failures &+= 1 }
        _ = interval.histogram.record(max(micros, 1))
    }

    func endVU(_ i: Int) {
        if vus[i].windingDown { woundDown(i) }
        closeConnection(i)
        timers.cancel(i)
        releaseCoroutine(i)
        guard vus[i].state.isActive else { return }
        if vus[i].role == .stopHook {   // its on_stop after a ramp-down ended: a ramp-up may start it again
            move(i, to: .retired)
            setRole(i, .user)
        } else {
            move(i, to: .done)
            // (a scenario's end, or a controlled run's: once per VU, never per request)
            if vus[i].role == .user { mailbox.countEnded(scenario: Int(vus[i].scenario)) }
        }
    }

    func releaseCoroutine(_ i: Int) {
        if vus[i].coRef != -2 {
            luaL_unref(L, ll_registryindex(), vus[i].coRef)
            vus[i].coRef = -2
        }
        vus[i].co = nil
    }
}
