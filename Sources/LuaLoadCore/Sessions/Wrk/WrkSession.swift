import CLua
import CLuaShim
#if canImport(Glibc)
import Glibc
#endif

/// `luaload wrk`'s Lua side around a run: the main state (setup(thread) before the threads start, done()
/// after), and each thread's state, made here on the main thread so setup() can reach it (thread:set) and
/// done() can read it after the run (thread:get). Threads take their state over when they start.
public final class WrkSession {
    public let options: WrkOptions
    private var main: LuaScript!
    /// Thread k's state and the struct its Lua `thread` objects point to (stable addresses, freed last).
    private(set) var states: [LuaScript] = []
    private let threads: UnsafeMutablePointer<ll_wrk_thread>
    /// wrk.method after init on the first thread: the stats row's method.
    public private(set) var method = "GET"

    /// Loads the main state and every thread's state, runs setup(thread) and init(args) for each, in wrk's
    /// order. Any error (the script's, with its file:line, or no reachable address) comes before any traffic.
    public init(_ options: WrkOptions) throws {
        self.options = options
        threads = .allocate(capacity: options.threads)
        threads.initialize(repeating: ll_wrk_thread(), count: options.threads)
        do {
            main = try LuaScript(path: options.scriptPath, wrk: options.target)
            for k in 0..<options.threads {
                let state = try LuaScript(path: options.scriptPath, seed: Int(time(nil)) ^ (k &* 7919), wrk: options.target)
                states.append(state)
                threads[k].L = state.L
                try main.wrkSetup(threads + k)
                let m = try state.wrkInit(threads + k, url: options.target.url, args: options.args)
                if k == 0 { method = m }
            }
        } catch {
            throw UsageError("\(error)")
        }
    }

    deinit {
        main = nil   // first: its thread objects point into `threads` and at the thread states
        states.removeAll()
        threads.deallocate()
    }

    /// Thread k's state, for its Worker.
    func state(_ k: Int) -> LuaScript { states[k] }

    /// The endpoint thread k connects to: the URL's, at the address setup() left in thread.addr.
    func endpoint(_ k: Int, base: Endpoint) -> Endpoint {
        var ep = base
        guard threads[k].has_addr != 0 else { return ep }
        ep.address = threads[k].addr
        ep.addressLength = threads[k].addrlen
        ep.family = Int32(threads[k].addr.ss_family)
        return ep
    }

    public var hasDone: Bool { main.wrkHasDone() }

    /// done(summary, latency, requests) on the main state, with the run's merged results.
    public func done(_ summary: Summary, latency: WrkStatsData, rates: WrkStatsData, errors: WrkErrors) throws {
        let pairs = [("connect", errors.connect), ("read", errors.read), ("write", errors.write),
                     ("status", errors.status), ("timeout", errors.timeout)]
        try main.wrkDone(durationMicros: UInt64(summary.durationSeconds * 1e6), requests: errors.completed,
                         bytes: summary.bytesRead, errors: pairs, latency: latency, rates: rates)
    }
}
