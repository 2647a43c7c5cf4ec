import CPosix
import CLua
import CLuaShim
#if canImport(Glibc)
import Glibc
#endif

/// What every worker is told.
public struct WorkerConfig: @unchecked Sendable {
    public var scriptPath: String
    public var defaultEndpoint: Endpoint?
    public var timeoutMicros: UInt64 = 30_000_000
    /// At a timed or Ctrl-C stop, how long running tasks may go on to their end (0: abandon them at once).
    public var stopGraceMicros: UInt64 = 0
    /// How long on_stop hooks may run after the stop.
    public var hookTimeoutMicros: UInt64 = 10_000_000
    public var script = ScriptOptions()
    public var classes: [UserClassInfo] = []
    /// Per class: its own base URL (`user{ host = ... }`), resolved; nil uses `defaultEndpoint`.
    public var classEndpoints: [Endpoint?] = []
    /// This worker's share of `-n`: it stops after that many task runs.
    public var iterationLimit: Int?
    public var tls = TLSOptions()

    public init(scriptPath: String) { self.scriptPath = scriptPath }
}

/// One thread's whole engine: its epoll loop, its Lua state, its share of the VUs and its stats (h2load's Worker).
/// The whole request path is in this file: Lua yields a request → encode → connect/send → read/parse →
/// record → resume Lua with the response.
public final class Worker: @unchecked Sendable {
    let index: Int
    let config: WorkerConfig
    let mailbox = WorkerMailbox()
    let loop = EventLoop(capacity: 512)
    var script: LuaScript!
    var L: OpaquePointer { script.L }

    var vus: UnsafeMutablePointer<VirtualUser>
    let vuCount: Int
    var timers: TimerHeap
    var ready: [Int32] = []          // VUs to resume with no I/O (zero waits)
    var readyNext: [Int32] = []
    var endpoints: [Endpoint] = []
    var endpointIndex: [String: Int32] = [:]
    var endpointResolved: [Bool] = []
    let readBuffer: UnsafeMutableRawPointer
    let readCapacity = 65536

    public internal(set) var stats = WorkerStats()
    var interval = IntervalSnapshot()
    var active = 0                    // VUs started and not done
    var stopAsked = false
    var stopping = false
    var stopDeadline: UInt64 = .max
    /// Letting running tasks finish (--stop-timeout): until `inTask` reaches 0 or the grace ends.
    var draining = false
    var inTask = 0
    /// A hard stop was asked and not begun: handle no more events, so nothing more completes (exact -n).
    var halting: Bool { stopAsked && !stopping && !draining }
    var runStart: UInt64 = 0
    var nextPublish: UInt64 = 0
    var messages: [Int: ContiguousArray<CChar>] = [:]
    var classEndpoint: [Int32] = []      // class → endpoint index, -1: none
    /// What setup() returned (JSON), or why it failed; read by the Runner after the worker ends.
    public private(set) var setupResult: String?
    public private(set) var setupFailure: String?
    public private(set) var reachedIterationLimit = false
    var tls: TLSContext?              // made at the first https connection
    static let maxTLSMessages = 256

    public init(index: Int, config: WorkerConfig, plan: [VUPlan]) {
        self.index = index
        self.config = config
        vuCount = plan.count
        vus = .allocate(capacity: max(plan.count, 1))
        for (i, p) in plan.enumerated() {
            (vus + i).initialize(to: VirtualUser(classIndex: Int32(p.classIndex), globalID: Int32(p.globalID), startOffset: p.startOffsetMicros))
            (vus + i).pointee.response.bind(&(vus + i).pointee.response)
        }
        timers = TimerHeap(capacity: max(plan.count, 1))
        readBuffer = .allocate(byteCount: readCapacity, alignment: 16)
        if let ep = config.defaultEndpoint {
            endpoints.append(ep)
            endpointResolved.append(ep.addressLength > 0)
        }
        for ep in config.classEndpoints {
            if let ep {
                classEndpoint.append(Int32(endpoints.count))
                endpoints.append(ep)
                endpointResolved.append(ep.addressLength > 0)
            } else {
                classEndpoint.append(config.defaultEndpoint != nil ? 0 : -1)
            }
        }
        for (i, p) in plan.enumerated() { vus[i].role = p.role }
    }

    deinit {
        for i in 0..<vuCount {
            closeConnection(i)
            if let session = vus[i].session { TLS.free(session: session) }
            vus[i].request.free()
            vus[i].response.head.free()
            vus[i].response.body.free()
        }
        vus.deinitialize(count: vuCount)
        vus.deallocate()
        readBuffer.deallocate()
    }

    /// Asks the worker to stop (any thread): in-flight requests are abandoned, on_stop hooks run.
    public func requestStop() {
        mailbox.stopRequested()
        loop.wake()
    }

    // MARK: - The loop

    public func run() {
        do {
            script = try LuaScript(path: config.scriptPath, seed: Int(monotonicMicros() & 0x7fff_ffff) ^ (index &* 7919), options: config.script)
        } catch {
            stats.countScriptError(message: "\(error)", traceback: "")
            mailbox.finish(stats)
            return
        }
        runStart = monotonicMicros()
        nextPublish = runStart + 1_000_000
        for i in 0..<vuCount { timers.arm(i, at: runStart + vus[i].startOffset) }
        var pendingVUs = vuCount

        while true {
            if stopAsked && !stopping && !draining {
                if config.stopGraceMicros > 0 && !reachedIterationLimit { beginDrain() } else { beginStop() }
            }
            if draining && (inTask == 0 || monotonicMicros() >= stopDeadline) {
                draining = false
                beginStop()
            }
            if stopping && (active == 0 || monotonicMicros() >= stopDeadline) { break }
            if !stopping && pendingVUs == 0 && active == 0 { break }    // every VU ended by itself

            var now = monotonicMicros()
            while !halting, let id = timers.popExpired(now: now) {
                if vus[id].state == .notStarted { pendingVUs -= 1 }
                onTimer(id)
                now = monotonicMicros()
            }
            runReady()
            if now >= nextPublish { publish(now) }

            let deadline = ready.isEmpty ? min(timers.earliest ?? .max, nextPublish, stopDeadline) : now
            let n = loop.wait(timeoutMs: EventLoop.timeoutMs(until: deadline, now: now))
            for e in 0..<n where !halting {
                let ev = loop.events[e]
                if ev.data.u64 == EventLoop.wakeToken {
                    loop.drainWake()
                    if mailbox.isStopRequested { stopAsked = true }
                    continue
                }
                onSocketEvent(token: ev.data.u64, events: ev.events)
            }
        }
        finishAll()
        publish(monotonicMicros())
        mailbox.finish(stats)
    }

    func runReady() {
        guard !ready.isEmpty else { return }
        swap(&ready, &readyNext)
        for id in readyNext where vus[Int(id)].state == .runningLua && !halting {
            resume(Int(id), nargs: 0)
        }
        readyNext.removeAll(keepingCapacity: true)
    }

    func publish(_ now: UInt64) {
        interval.activeUsers = active
        mailbox.post(&interval, rows: stats.rows)
        nextPublish = now + 1_000_000
    }

    func onTimer(_ i: Int) {
        switch vus[i].state {
        case .notStarted:
            switch vus[i].role {
            case .user: startVU(i, function: script.vuMainRef)
            case .setup: startVU(i, function: script.setupRef, arguments: false)
            case .teardown: startVU(i, function: script.teardownRef, arguments: false)
            }
        case .sleeping:
            vus[i].state = .runningLua
            resume(i, nargs: 0)
        case .connecting, .handshaking, .writing, .reading:
            failRequest(i, code: FailureCode.make(FailureCode.timeout))
        case .runningLua, .parked, .done:
            break
        }
    }

    // MARK: - Lua

    func startVU(_ i: Int, function: Int32, arguments: Bool = true) {
        guard let co = lua_newthread(L) else { return }
        vus[i].co = co
        vus[i].coRef = luaL_ref(L, ll_registryindex())
        lua_rawgeti(co, ll_registryindex(), lua_Integer(function))
        if arguments {
            lua_pushinteger(co, lua_Integer(vus[i].classIndex + 1))
            lua_pushinteger(co, lua_Integer(vus[i].globalID + 1))
        }
        vus[i].state = .runningLua
        active += 1
        resume(i, nargs: arguments ? 2 : 0)
    }

    /// Resumes VU `i` with `nargs` values on its stack, then acts on what it yields. Script errors reported
    /// by the prelude (OP_ERROR) are recorded and the VU resumed at once, so this loops rather than recurses.
    func resume(_ i: Int, nargs: Int32) {
        guard let co = vus[i].co else { return }
        vus[i].inWait = false
        var nargs = nargs
        var inlineZeroWait = true   // one zero wait goes straight on; a VU that loops without I/O queues behind others
        while true {
            var nres: Int32 = 0
            let rc = lua_resume(co, L, nargs, &nres)
            guard rc == LUA_YIELD || rc == LUA_OK else {
                // An error the prelude could not catch (e.g. out of memory): the VU ends.
                var len = 0
                let msg = ll_tostring(co, -1, &len).map { String(cString: $0) } ?? "error in the VU"
                ll_traceback(L, co, msg)
                let tb = ll_tostring(L, -1, &len).map { String(cString: $0) } ?? msg
                ll_pop(L, 1)
                stats.countScriptError(message: msg, traceback: tb)
                endVU(i)
                return
            }
            let base = lua_gettop(co) - nres + 1
            let op = Int(lua_tointegerx(co, base, nil))
            settle(i, co, base + 1)
            let finished = Int(lua_tointegerx(co, base + 2, nil))
            if finished > 0 && draining && op == Prelude.opHTTP {
                // A new task run begins (zero wait) while stopping: park here, its request unsent.
                stats.iterations += finished
                interval.iterations += finished
                lua_settop(co, base - 1)
                park(i)
                return
            }
            if finished > 0 {
                stats.iterations += finished
                interval.iterations += finished
                if let limit = config.iterationLimit, stats.iterations >= limit {
                    // -n reached: stop here (this VU's next request is not sent), before any other VU
                    // can finish another task run.
                    lua_settop(co, base - 1)
                    reachedIterationLimit = true
                    stopAsked = true
                    return
                }
            }
            switch op {
            case Prelude.opHTTP:
                startRequest(i, co, base)
                lua_settop(co, base - 1)
                return
            case Prelude.opSleep, Prelude.opWait:
                let seconds = lua_tonumberx(co, base + 3, nil)
                lua_settop(co, base - 1)
                vus[i].inWait = op == Prelude.opWait
                if draining && op == Prelude.opWait {
                    park(i)
                } else if seconds > 0 {
                    vus[i].state = .sleeping
                    timers.arm(i, at: monotonicMicros() + UInt64(seconds * 1_000_000))
                } else if inlineZeroWait && !stopping {
                    inlineZeroWait = false
                    nargs = 0
                    continue
                } else {
                    ready.append(Int32(i))
                }
                return
            case Prelude.opError:
                var len = 0
                let msg = ll_tostring(co, base + 3, &len).map { String(cString: $0) } ?? "error"
                let tb = ll_tostring(co, base + 4, &len).map { String(cString: $0) } ?? msg
                lua_settop(co, base - 1)
                stats.countScriptError(message: msg, traceback: tb)
                nargs = 0
            default:   // OP_STOPPED: the coroutine returned
                if vus[i].role == .setup {
                    var len = 0
                    setupResult = ll_tostring(co, base + 3, &len).map { String(cString: $0) }
                    setupFailure = ll_tostring(co, base + 4, &len).map { String(cString: $0) }
                }
                lua_settop(co, base - 1)
                endVU(i)
                return
            }
        }
    }

    /// Records the VU's previous response with the outcome the script gave it (nil: the default rule).
    @inline(__always)
    func settle(_ i: Int, _ co: OpaquePointer, _ outcomeIndex: Int32) {
        let stat = Int(vus[i].pendingStat)
        guard stat >= 0 else { return }
        vus[i].pendingStat = -1
        let micros = vus[i].pendingMicros
        switch lua_type(co, outcomeIndex) {
        case LUA_TNIL, LUA_TNONE:
            recordByDefault(i, stat)
        case LUA_TSTRING:
            var len = 0
            let message = String(cString: ll_tostring(co, outcomeIndex, &len)!)
            stats.rows[stat].record(micros: micros, failed: true, bytes: vus[i].pendingBytes)
            stats.custom[FailureKey(method: stats.rows[stat].method, name: stats.rows[stat].name, error: message), default: 0] += 1
            countInterval(micros, failed: true)
        default:   // true: res:success()
            stats.rows[stat].record(micros: micros, failed: false, bytes: vus[i].pendingBytes)
            countInterval(micros, failed: false)
        }
    }

    /// Failed on a transport error, a timeout or a status ≥ 400 (the code says which), else a success.
    @inline(__always)
    func recordByDefault(_ i: Int, _ stat: Int) {
        let code = vus[i].pendingCode
        stats.rows[stat].record(micros: vus[i].pendingMicros, failed: code != 0, bytes: vus[i].pendingBytes)
        if code != 0 { stats.countCodedFailure(stat: stat, code: code) }
        countInterval(vus[i].pendingMicros, failed: code != 0)
    }

    @inline(__always)
    func countInterval(_ micros: UInt64, failed: Bool) {
        interval.requests &+= 1
        if failed { interval.failures &+= 1 }
        _ = interval.histogram.record(max(micros, 1))
    }

    func endVU(_ i: Int) {
        closeConnection(i)
        timers.cancel(i)
        if vus[i].coRef != -2 {
            luaL_unref(L, ll_registryindex(), vus[i].coRef)
            vus[i].coRef = -2
        }
        vus[i].co = nil
        if vus[i].state != .done {
            if draining && vus[i].state != .parked { inTask -= 1 }
            vus[i].state = .done
            active -= 1
        }
    }

    // MARK: - Requests

    /// Stack of `co` from `base`: op, outcome, finished, stat id, method, url, headers, body, timeout, name.
    func startRequest(_ i: Int, _ co: OpaquePointer, _ base: Int32) {
        let stat = Int(lua_tointegerx(co, base + 3, nil))
        var methodLen = 0, urlLen = 0
        let method = ll_tostring(co, base + 4, &methodLen)!
        let url = ll_tostring(co, base + 5, &urlLen)!
        if stat >= stats.rows.count {
            var nameLen = 0
            let name = String(cString: ll_tostring(co, base + 9, &nameLen)!)
            while stats.rows.count <= stat {
                stats.rows.append(RequestStats(method: String(cString: method), name: name))
            }
        }
        vus[i].stat = Int32(stat)
        vus[i].written = 0
        vus[i].started = 0
        vus[i].retried = false
        vus[i].gotBytes = false

        // Which endpoint, and the request target (path and query) within it.
        var targetStart = url
        var targetLen = urlLen
        let endpoint: Int32
        if url[0] == 0x2F {   // "/": the class's host, else -H / the script's `host`
            let classIndex = Int(vus[i].classIndex)
            let classHost = classIndex < classEndpoint.count ? classEndpoint[classIndex] : (config.defaultEndpoint != nil ? 0 : -1)
            guard classHost >= 0 else {
                failRequest(i, code: FailureCode.make(FailureCode.noHost))
                return
            }
            endpoint = classHost
        } else {
            endpoint = endpointFor(url: url, length: urlLen, target: &targetStart, targetLength: &targetLen)
            if endpoint < 0 {
                failRequest(i, code: FailureCode.make(FailureCode.resolve))
                return
            }
        }
        vus[i].target = endpoint

        let vu = vus + i   // stable memory: the request is encoded in place
        vu.pointee.request.clear()
        vu.pointee.request.append(method, methodLen)
        vu.pointee.request.append(0x20)
        if targetLen > 0 { vu.pointee.request.append(targetStart, targetLen) } else { vu.pointee.request.append(0x2F) }
        vu.pointee.request.append(" HTTP/1.1\r\nHost: ")
        endpoints[Int(endpoint)].hostHeader.withUnsafeBytes { vu.pointee.request.append($0.baseAddress!, $0.count) }
        vu.pointee.request.append("\r\n")
        var len = 0
        if let headers = ll_tostring(co, base + 6, &len) { vu.pointee.request.append(headers, len) }
        let body = ll_tostring(co, base + 7, &len)
        let bodyLen = len
        let isHead = methodLen == 4 && method[0] == 0x48 && method[1] == 0x45   // "HEAD"
        if body != nil || method[0] == 0x50 {   // POST, PUT, PATCH carry a length even when empty
            vu.pointee.request.append("Content-Length: ")
            vu.pointee.request.appendDecimal(body != nil ? bodyLen : 0)
            vu.pointee.request.append("\r\n")
        }
        vu.pointee.request.append("\r\n")
        if let body { vu.pointee.request.append(body, bodyLen) }
        vus[i].response.reset(bodyless: isHead)

        var isnum: Int32 = 0
        let t = lua_tonumberx(co, base + 8, &isnum)
        let timeout = isnum != 0 ? UInt64(t * 1_000_000) : config.timeoutMicros
        timers.arm(i, at: monotonicMicros() + timeout)

        if vus[i].fd >= 0 && vus[i].endpoint == endpoint {
            vus[i].state = .writing
            write(i)
        } else {
            connect(i)
        }
    }

    /// The endpoint of an absolute URL, added on first use; sets the target to its path and query.
    func endpointFor(url: UnsafePointer<CChar>, length: Int, target: inout UnsafePointer<CChar>, targetLength: inout Int) -> Int32 {
        // Find the end of "scheme://authority".
        var p = 0
        while p + 2 < length && !(url[p] == 0x3A && url[p + 1] == 0x2F && url[p + 2] == 0x2F) { p += 1 }
        p += 3
        while p < length && url[p] != 0x2F && url[p] != 0x3F { p += 1 }
        target = url + p
        targetLength = length - p
        let key = String(decoding: UnsafeRawBufferPointer(start: url, count: p), as: UTF8.self)
        if let known = endpointIndex[key] { return endpointResolved[Int(known)] ? known : -1 }
        var ep = Endpoint(url: key)
        var ok = ep != nil
        if ok { ok = ep!.resolve() == nil }
        let index = Int32(endpoints.count)
        endpoints.append(ep ?? Endpoint(url: "http://invalid")!)
        endpointResolved.append(ok)
        endpointIndex[key] = index
        return ok ? index : -1
    }

    func connect(_ i: Int) {
        closeConnection(i)
        let ep = Int(vus[i].target)
        if !endpointResolved[ep] {
            if endpoints[ep].resolve() != nil {
                failRequest(i, code: FailureCode.make(FailureCode.resolve))
                return
            }
            endpointResolved[ep] = true
        }
        let fd = Sys.tcpSocket(family: endpoints[ep].family)
        if fd < 0 {
            failRequest(i, code: FailureCode.make(FailureCode.connect, Int(-fd)))
            return
        }
        vus[i].fd = fd
        vus[i].generation &+= 1
        vus[i].endpoint = Int32(ep)
        vus[i].reused = false
        vus[i].wantsWrite = true
        vus[i].state = .connecting
        _ = loop.add(fd, events: EPOLLIN.rawValue | EPOLLOUT.rawValue, token: token(i))
        let length = endpoints[ep].addressLength
        let rc = withUnsafePointer(to: &endpoints[ep].address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Sys.connect(fd, $0, length) }
        }
        if rc != 0 && rc != -EINPROGRESS {
            failRequest(i, code: FailureCode.make(FailureCode.connect, Int(-rc)))
        }
        // Connected or under way: EPOLLOUT reports it.
    }

    @inline(__always)
    func token(_ i: Int) -> UInt64 { UInt64(vus[i].generation) << 32 | UInt64(i) }

    func onSocketEvent(token: UInt64, events: UInt32) {
        let i = Int(token & 0xffff_ffff)
        guard i < vuCount, vus[i].fd >= 0, UInt64(vus[i].generation) == token >> 32 else { return }
        switch vus[i].state {
        case .reading:
            read(i)
        case .writing:
            write(i)
        case .connecting:
            if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
                let err = Sys.socketError(vus[i].fd)
                failRequest(i, code: FailureCode.make(FailureCode.connect, Int(err != 0 ? err : ECONNREFUSED)))
                return
            }
            guard events & EPOLLOUT.rawValue != 0 else { return }
            if endpoints[Int(vus[i].endpoint)].tls {
                startHandshake(i)
            } else {
                vus[i].state = .writing
                write(i)
            }
        case .handshaking:
            handshake(i)
        default:
            // An idle kept-alive connection became readable: the server closed it (or misbehaved). Drop it
            // now, so the next request opens a fresh one instead of failing on a dead socket. (On TLS, a
            // session ticket is read here and keeps the connection: OpenSSL then wants more, -EAGAIN.)
            let n = receive(i)
            if n != -Int(EAGAIN) { closeConnection(i) }
        }
    }

    /// Keeps EPOLLOUT in the interest set only while a call waits for the socket to be writable:
    /// the set is level-triggered, so a writable socket would wake the loop for nothing.
    @inline(__always)
    func setWantsWrite(_ i: Int, _ on: Bool) {
        guard vus[i].wantsWrite != on else { return }
        vus[i].wantsWrite = on
        _ = loop.modify(vus[i].fd, events: on ? EPOLLIN.rawValue | EPOLLOUT.rawValue : EPOLLIN.rawValue, token: token(i))
    }

    /// The connection's bytes in and out: through OpenSSL when the connection is TLS, else the plain
    /// syscalls. Both return bytes, or -errno (-EAGAIN: not now); TLS adds `TLS.wantRead/wantWrite/failed`.
    @inline(__always)
    func receive(_ i: Int) -> Int {
        guard let ssl = vus[i].ssl else { return Sys.read(vus[i].fd, readBuffer, readCapacity) }
        let n = TLS.read(ssl, readBuffer, readCapacity)
        if TLS.isFatal(n) { vus[i].tlsBroken = true }
        return n
    }

    @inline(__always)
    func transmit(_ i: Int, _ buf: UnsafeRawPointer, _ count: Int) -> Int {
        guard let ssl = vus[i].ssl else { return Sys.send(vus[i].fd, buf, count) }
        let n = TLS.write(ssl, buf, count)
        if TLS.isFatal(n) { vus[i].tlsBroken = true }
        return n
    }

    func write(_ i: Int) {
        if vus[i].written == 0 { vus[i].started = monotonicMicros() }
        let remaining = vus[i].request.count - vus[i].written
        let n = transmit(i, vus[i].request.base! + vus[i].written, remaining)
        if n >= 0 {
            vus[i].written += n
            if n == remaining { vus[i].state = .reading }
            setWantsWrite(i, n != remaining)
            return
        }
        if n == -Int(EAGAIN) { setWantsWrite(i, true); return }
        if n == TLS.wantRead { setWantsWrite(i, false); return }   // EPOLLIN is always in the set
        if retryOnStaleConnection(i) { return }
        failRequest(i, code: n == TLS.failed ? tlsFailure(i, "TLS write", n) : FailureCode.make(FailureCode.send, -n))
    }

    func read(_ i: Int) {
        var n = receive(i)
        while n > 0 {
            vus[i].gotBytes = true
            let err = vus[i].response.feed(readBuffer, n)
            if err != 0 {
                failRequest(i, code: FailureCode.make(FailureCode.badResponse, err))
                return
            }
            if vus[i].response.complete {
                completeRequest(i)
                return
            }
            // OpenSSL may already hold the next bytes, which epoll cannot see: take them now.
            guard let ssl = vus[i].ssl, TLS.hasPending(ssl) else { return }
            n = receive(i)
        }
        if n == -Int(EAGAIN) { setWantsWrite(i, false); return }
        if n == TLS.wantWrite { setWantsWrite(i, true); return }
        if n == 0 {
            vus[i].response.feedEOF()
            if vus[i].response.complete {
                completeRequest(i)
                return
            }
            if retryOnStaleConnection(i) { return }
            failRequest(i, code: FailureCode.make(FailureCode.closedEarly))
            return
        }
        if retryOnStaleConnection(i) { return }
        failRequest(i, code: n == TLS.failed ? tlsFailure(i, "TLS read", n) : FailureCode.make(FailureCode.receive, -n))
    }

    /// A request sent on a kept-alive connection the server had already closed never reached it:
    /// resend it once on a new connection rather than fail it.
    func retryOnStaleConnection(_ i: Int) -> Bool {
        guard vus[i].reused, !vus[i].retried, !vus[i].gotBytes else { return false }
        vus[i].retried = true
        vus[i].written = 0
        vus[i].started = 0
        vus[i].response.reset(bodyless: vus[i].response.bodyless)
        connect(i)
        return true
    }

    func completeRequest(_ i: Int) {
        let micros = monotonicMicros() &- vus[i].started
        // The timeout stays armed: the VU's next request or sleep re-arms it in place, and if it fires first
        // the VU is running Lua and onTimer ignores it. That saves a heap removal per request.
        let status = vus[i].response.status
        vus[i].pendingStat = vus[i].stat
        vus[i].pendingMicros = micros
        vus[i].pendingCode = status >= 400 ? FailureCode.make(FailureCode.status, status) : 0
        vus[i].pendingBytes = vus[i].response.body.count
        if vus[i].response.keepAlive {
            vus[i].reused = true
        } else {
            closeConnection(i)
        }
        vus[i].written = 0
        vus[i].state = .runningLua
        guard let co = vus[i].co else { return }
        lua_pushinteger(co, lua_Integer(status))
        lua_pushnumber(co, Double(micros) / 1000)
        let body = vus[i].response.body
        if body.count > 0 { lua_pushlstring(co, UnsafeRawPointer(body.base!).assumingMemoryBound(to: CChar.self), body.count) } else { lua_pushstring(co, "") }
        lua_pushnil(co)
        let headers = vus[i].response.head
        if headers.count > 0 { lua_pushlstring(co, UnsafeRawPointer(headers.base!).assumingMemoryBound(to: CChar.self), headers.count) } else { lua_pushnil(co) }
        resume(i, nargs: 5)
    }

    func failRequest(_ i: Int, code: Int) {
        let micros = vus[i].started > 0 ? monotonicMicros() &- vus[i].started : 0
        timers.cancel(i)
        closeConnection(i)
        vus[i].pendingStat = vus[i].stat
        vus[i].pendingMicros = micros
        vus[i].pendingCode = code
        vus[i].pendingBytes = 0
        vus[i].written = 0
        vus[i].state = .runningLua
        guard let co = vus[i].co else { return }
        lua_pushinteger(co, 0)
        lua_pushnumber(co, Double(micros) / 1000)
        lua_pushstring(co, "")
        pushMessage(co, code)
        lua_pushnil(co)
        resume(i, nargs: 5)
    }

    func pushMessage(_ co: OpaquePointer, _ code: Int) {
        if messages[code] == nil { messages[code] = ContiguousArray(FailureCode.message(code, tlsMessages: stats.tlsMessages).utf8CString) }
        messages[code]!.withUnsafeBufferPointer { _ = lua_pushstring(co, $0.baseAddress) }
    }

    func closeConnection(_ i: Int) {
        guard vus[i].fd >= 0 else { return }
        if let ssl = vus[i].ssl {
            TLS.close(ssl, cleanly: !vus[i].tlsBroken)
            vus[i].ssl = nil
        }
        Sys.close(vus[i].fd)   // close also drops it from the epoll set
        vus[i].fd = -1
        vus[i].endpoint = -1
        vus[i].reused = false
        vus[i].generation &+= 1
    }
}
