import CPosix
import CLua
import CLuaShim
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// What every worker is told.
public struct WorkerConfig: @unchecked Sendable {
    /// The user's script, loaded into the worker's own Lua state.
    public var scriptPath: String
    /// Where relative paths go (-H, or the script's `host`); nil: none.
    public var defaultEndpoint: Endpoint?
    /// A request's timeout unless the script gives one (--timeout).
    public var timeoutMicros: UInt64 = 30_000_000
    /// At a timed or Ctrl-C stop, how long running tasks may go on to their end (0: abandon them at once).
    public var stopGraceMicros: UInt64 = 0
    /// How long on_stop hooks may run after the stop.
    public var hookTimeoutMicros: UInt64 = 10_000_000
    /// What the script's Lua state is told before it runs (tags, setup data).
    public var script = ScriptOptions()
    /// What the script declared about its user classes (read once by the Runner).
    public var classes: [UserClassInfo] = []
    /// Per class: its own base URL (`user{ host = ... }`), resolved; nil uses `defaultEndpoint`.
    public var classEndpoints: [Endpoint?] = []
    /// This worker's share of `-n`: it stops after that many task runs.
    public var iterationLimit: Int?
    /// -k, --cacert, --cert, --key.
    public var tls = TLSOptions()
    /// How the VUs are driven: fixed users, a target the Runner moves, or arrivals.
    public var mode = WorkerMode.fixed
    /// `luaload wrk`: the one stats row (method, URL) every response is recorded in; nil in Locust's model.
    public var wrkRow: (method: String, name: String)? = nil
    /// Whether and how HTTP/2 is spoken (Sessions/HTTP2).
    public var http2 = HTTP2Mode.off
    /// http.batch on HTTP/1.1: connections per host of one VU's batch (0: one after another).
    public var batchPerHost = 0
    /// `scenarios`: their names, in order (each open one's arrivals are reported by name).
    public var scenarioNames: [String] = []
    /// `--h2-pool N`: the thread's VUs share N HTTP/2 connections (0: each VU its own).
    public var h2Pool = 0
    /// `scenarios`: where each scenario's VU ids begin (Lua's `self.id` is unique in the run).
    public var scenarioIDBases: [Int] = [0]
    /// The run drives the script's `scenarios` (not replaced by -u, --stages, --rate): VUs carry their tags.
    public var runsScenarios = false
    /// Per scenario: the task runs this worker's VUs of it may start (its share of `iterations`, or each
    /// VU's `iterations_per_user`); nil: unbounded.
    public var iterationQuotas: [Scenario.Iterations?] = []

    public init(scriptPath: String) { self.scriptPath = scriptPath }
}

/// Where a worker is in its life. It only moves forward: running → stopAsked → (draining →) stopping.
enum WorkerPhase: Equatable {
    /// VUs start, run tasks and make requests.
    case running
    /// A stop was asked (by the Runner, or -n reached here) and not begun: no more events are handled,
    /// so nothing more completes (an exact -n).
    case stopAsked
    /// --stop-timeout: VUs between task runs are parked; the others may finish their task run until then.
    case draining(until: UInt64)
    /// In-flight requests are abandoned; on_stop hooks run until they end or until then.
    case stopping(until: UInt64)
}

/// One thread's engine as the Runner sees it (h2load's Worker): started on its own thread (`run`), stopped
/// from any thread, read through its mailbox. Which protocol session its VUs carry is the subclass's
/// (`SessionWorker<Session>`); `make` picks it.
public class Worker: @unchecked Sendable {
    let index: Int
    let config: WorkerConfig
    let mailbox = WorkerMailbox()
    let loop = EventLoop(capacity: 512)
    /// What setup() returned (JSON), or why it failed; read by the Runner after the worker ends.
    public internal(set) var setupResult: String?
    public internal(set) var setupFailure: String?
    public internal(set) var reachedIterationLimit = false
    /// `luaload wrk`: the thread's Lua state, made on the main thread (setup(thread) and init(args) ran in it).
    public var preparedScript: LuaScript?
    static let maxTLSMessages = 256

    init(index: Int, config: WorkerConfig) {
        self.index = index
        self.config = config
    }

    /// The worker for `config`: wrk's pipelined raw batches for `luaload wrk`, else HTTP requests (Locust's model).
    public static func make(index: Int, config: WorkerConfig, plan: [VUPlan]) -> Worker {
        if config.wrkRow != nil { return RawWorker(index: index, config: config, plan: plan) }
        return HTTPWorker(index: index, config: config, plan: plan)
    }

    /// The thread's body: runs the loop until the worker stops, then posts its final stats.
    public func run() { fatalError("Worker.run: a SessionWorker runs") }

    /// Asks the worker to stop (any thread): in-flight requests are abandoned, on_stop hooks run.
    public func requestStop() {
        mailbox.stopRequested()
        loop.wake()
    }

    /// A second SIGINT / SIGTERM: the loop ends at its next turn (no grace, no more on_stop); finishAll
    /// then counts what is in flight as abandoned.
    public func requestStopNow() {
        mailbox.stopNowRequested()
        loop.wake()
    }
}

/// A Worker whose VUs carry `Session` (Sessions/): its epoll loop, its Lua state, its share of the VUs and its
/// stats. One request goes: Lua yields a frame (Worker+Lua) → the session encodes it and the connection driver
/// (Worker+Connection, Worker+TLS) connects and writes → bytes read go to the session → it settles the
/// exchange and resumes Lua with the reply. Generic rather than a protocol existential, so each session's
/// calls are specialised and inlined: the hot path has no dynamic dispatch. Its concrete subclasses below
/// only enter the loop: a generic class's overridden method runs unspecialised (from the vtable, types read
/// from metadata at run time: +540 instructions a request, callgrind), a concrete one's calls are specialised.
class SessionWorker<Session: VUSession>: Worker, @unchecked Sendable {
    var script: LuaScript!
    var L: OpaquePointer { script.L }

    /// The VUs, in one buffer allocated once: their addresses are stable (parsers and OpenSSL point into them).
    var vus: UnsafeMutablePointer<VirtualUser<Session>>
    let vuCount: Int
    /// `http.batch`'s HTTP/1.1 connections: slots after the VUs in the same buffer (vuCount..<slotCount), so
    /// the connection driver serves them as it serves a VU's (Sessions/HTTP/HTTPSession+BatchHTTP1.swift).
    let slotCount: Int
    /// Then `--h2-pool`'s connections (slotCount..<bufferCount, Sessions/HTTP2/HTTPSession+Pool.swift).
    var h2pool: HTTP2Pool
    let bufferCount: Int
    /// One timer per VU: its spawn time, wait, sleep or request timeout.
    var timers: TimerHeap
    /// VUs to resume with no I/O (zero waits), this turn and the next.
    var ready: [Int32] = []
    var readyNext: [Int32] = []
    var endpoints: EndpointTable
    let readBuffer: UnsafeMutableRawPointer
    let readCapacity = 65536

    var stats = WorkerStats()
    var interval = IntervalSnapshot()
    var phase = WorkerPhase.running
    /// VUs started and not done; of them, those parked; of them, those running on_stop (Worker+VUState keeps these).
    var active = 0
    var parked = 0
    var stopHooks = 0
    /// VUs whose spawn timer has not fired yet.
    var pendingVUs = 0
    var runStart: UInt64 = 0
    var nextPublish: UInt64 = 0
    /// Each failure's text as a C string, made on first use, for `res.error`.
    var failureTexts: [Failure: ContiguousArray<CChar>] = [:]
    /// Made at the first https connection.
    var tls: TLSContext?
    /// Decodes gzip and deflate bodies; made at the first one.
    lazy var decoder = ContentDecoder()
    /// nghttp2's allocator for this worker's HTTP/2 sessions (made at the first one; freed after them).
    lazy var http2Memory = HTTP2Memory()
    /// Where the resolver thread answers this worker's host names.
    lazy var resolverInbox = ResolverInbox(loop: loop)
    /// VUs waiting for an endpoint's address: endpoint → (VU, its connection's generation, since when).
    var awaitingName: [Int32: [(vu: Int, generation: UInt32, since: UInt64)]] = [:]
    /// The open model's schedules, queues and free VUs (one per open scenario); empty in the closed model.
    var arrivalSets: [ArrivalState] = []
    /// `scenarios`: per scenario, its VUs here told to stop at their task run's end (graceful_stop) and not stopped yet.
    var winding: [Int] = []

    init(index: Int, config: WorkerConfig, plan: [VUPlan]) {
        vuCount = plan.count
        // A thread's batch connections: --batch-per-host for each of up to 8 VUs batching at once (~0.7 KB each).
        slotCount = plan.count + config.batchPerHost * min(plan.count, 8)
        bufferCount = slotCount + config.h2Pool
        h2pool = HTTP2Pool(size: config.h2Pool, base: slotCount, vuCount: plan.count)
        vus = .allocate(capacity: max(bufferCount, 1))
        for (i, p) in plan.enumerated() {
            (vus + i).initialize(to: VirtualUser(classIndex: Int32(p.classIndex), globalID: Int32(p.globalID), startOffset: p.startOffsetMicros))
            vus[i].role = p.role
            vus[i].scenario = UInt8(p.scenario)
        }
        for h in plan.count..<bufferCount { (vus + h).initialize(to: VirtualUser(classIndex: 0, globalID: -1, startOffset: 0)) }
        timers = TimerHeap(capacity: plan.count + max(config.mode.arrivalTimers, 1))   // + the open model's arrival timers
        readBuffer = .allocate(byteCount: readCapacity, alignment: 16)
        endpoints = EndpointTable(default: config.defaultEndpoint, classes: config.classEndpoints)
        super.init(index: index, config: config)
    }

    deinit {
        for i in 0..<bufferCount {
            vus[i].conn.release()
            vus[i].request.bytes.free()
            vus[i].session.free()
        }
        vus.deinitialize(count: bufferCount)
        vus.deallocate()
        h2pool.free()
        endpoints.free()
        readBuffer.deallocate()
    }

    /// Where VU `i`'s session lives (the VU buffer never moves): parsers and C callbacks point at it.
    @inline(__always)
    func sessionPointer(_ i: Int) -> UnsafeMutablePointer<Session> {
        (UnsafeMutableRawPointer(vus + i) + MemoryLayout<VirtualUser<Session>>.offset(of: \VirtualUser<Session>.session)!)
            .assumingMemoryBound(to: Session.self)
    }

    // MARK: - The loop

    /// The thread's body (called by the concrete subclass's `run`, so it is specialised for `Session`).
    final func runLoop() {
        do {
            if let prepared = preparedScript { script = prepared } else {
                script = try LuaScript(path: config.scriptPath, seed: Int(monotonicMicros() & 0x7fff_ffff) ^ (index &* 7919), options: config.script)
            }
        } catch {
            stats.countScriptError(message: "\(error)", traceback: "")
            mailbox.finish(stats)
            return
        }
        runStart = monotonicMicros()
        nextPublish = runStart + 1_000_000
        beginMode()
        while advancePhase() {
            var now = monotonicMicros()
            while phase != .stopAsked, let id = timers.popExpired(now: now) {
                onTimer(id)
                now = monotonicMicros()
            }
            runReady()
            if now >= nextPublish { publish(now) }
            let deadline = ready.isEmpty ? min(timers.earliest ?? .max, nextPublish, phase.deadline) : now
            let n = arrivalSets.isEmpty ? loop.wait(timeoutMs: EventLoop.timeoutMs(until: deadline, now: now))
                : loop.wait(timeoutMicros: deadline == .max ? nil : (deadline > now ? min(deadline - now, 60_000_000) : 0))
            for e in 0..<n where phase != .stopAsked {
                let ev = loop.events[e]
                if ev.data.u64 == EventLoop.wakeToken {
                    loop.drainWake()
                    if mailbox.isStopRequested { askStop() }
                    if mailbox.isStopNowRequested { stopNow() }
                    if !awaitingName.isEmpty { takeResolvedNames() }
                    if phase == .running, let targets = mailbox.takeTargets() { follow(targets: targets) }
                    if phase == .running { adoptSchedule() }
                } else {
                    onSocketEvent(token: ev.data.u64, events: ev.events)
                }
            }
        }
        finishAll()
        publish(monotonicMicros())
        mailbox.finish(stats)
    }

    /// Takes the stop a step further when its time has come; false when the loop is over.
    func advancePhase() -> Bool {
        if phase == .stopAsked {
            closeArrivals(at: monotonicMicros())
            if config.stopGraceMicros > 0 && !reachedIterationLimit { beginDrain() } else { beginStop() }
        }
        if case .draining(let until) = phase, inTask == 0 || monotonicMicros() >= until { beginStop() }
        if case .stopping(let until) = phase { return active > 0 && monotonicMicros() < until }
        return pendingVUs > 0 || active > 0 || config.mode.runsUntilStopped    // else every VU ended by itself
    }

    /// A stop begins at the loop's next turn (a stop asked while one is under way changes nothing).
    func askStop() {
        if phase == .running { phase = .stopAsked }
    }

    func runReady() {
        guard !ready.isEmpty else { return }
        swap(&ready, &readyNext)
        for id in readyNext where vus[Int(id)].state == .runningLua && phase != .stopAsked {
            resume(Int(id), nargs: 0)
        }
        readyNext.removeAll(keepingCapacity: true)
    }

    func publish(_ now: UInt64) {
        if !arrivalSets.isEmpty { gatherArrivals() }
        interval.activeUsers = active - stopHooks
        interval.errorsSoFar = LiveErrors(stats)
        stats.script.takePending(from: L, nowMs: RunPlacement.unixMs(atMonotonic: now))   // check(), metrics.*
        mailbox.post(&interval, stats: stats)
        nextPublish = now + 1_000_000
    }

    func onTimer(_ i: Int) {
        if i >= vuCount { return onArrivals(i - vuCount, now: monotonicMicros()) }
        switch vus[i].state {
        case .notStarted:
            pendingVUs -= 1
            switch vus[i].role {
            case .user: startVU(i, function: script.vuMainRef)
            case .setup: startVU(i, function: script.setupRef, arguments: false)
            case .teardown: startVU(i, function: script.teardownRef, arguments: false)
            case .stopHook: break
            }
        case .sleeping:
            move(i, to: .runningLua)
            resume(i, nargs: 0)
        case .inRequest:
            let deadline = vus[i].request.deadline   // (0 for `luaload wrk`'s batches: they arm their own)
            if deadline > monotonicMicros() { return timers.arm(i, at: deadline) }
            Session.fail(self, i, .timeout)
        case .runningLua, .parked, .idle, .retired, .done:
            break   // a request's timeout left armed after its response (see completeRequest)
        }
    }
}

/// Locust's model: HTTP requests.
final class HTTPWorker: SessionWorker<HTTPSession>, @unchecked Sendable {
    override func run() { runLoop() }
}

/// `luaload wrk`: raw pipelined batches.
final class RawWorker: SessionWorker<RawSession>, @unchecked Sendable {
    override func run() { runLoop() }
}

extension WorkerPhase {
    /// When the current stop step ends, for the loop's wait.
    var deadline: UInt64 {
        switch self {
        case .draining(let until), .stopping(let until): return until
        default: return .max
        }
    }
}
