import CPosix
#if canImport(Glibc)
import Glibc
#endif

public struct RunOptions: Sendable {
    public var scriptPath: String
    public var threads: Int
    public var users = 1
    /// Users started per second; nil starts them all at once.
    public var spawnRate: Double?
    /// Seconds; nil runs until Ctrl-C (or until every VU has ended).
    public var duration: Double?
    public var host: String?
    public var timeout: Double = 30
    /// At the stop, running tasks may finish for up to this many seconds (Locust's --stop-timeout).
    public var stopTimeout: Double = 0
    /// Print the live status line on stderr (only when it is a terminal).
    public var live = true
    /// When stderr is not a terminal: print the stats table every 2 s (Locust's headless --print-stats).
    public var printStats = false
    /// Stop after this many task runs in total.
    public var iterations: Int?
    public var tags: [String] = []
    public var excludeTags: [String] = []
    /// Keep a per-name time series (for --csv-full-history): the per-row snapshots are merged each second.
    public var historyByName = false
    public var tls = TLSOptions()

    public init(scriptPath: String, threads: Int) {
        self.scriptPath = scriptPath
        self.threads = threads
    }
}

/// A problem found before any traffic: the CLI prints it and exits with code 2.
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Splits `total` users across classes as Locust does: fixed counts first, then the rest by weight in a
/// smooth weighted round-robin, so counts are proportional and the spawn order interleaves the classes.
public func distributeUsers(total: Int, classes: [UserClassInfo]) -> [Int] {
    var order: [Int] = []
    for (c, info) in classes.enumerated() where info.fixedCount > 0 {
        order.append(contentsOf: repeatElement(c, count: min(info.fixedCount, total - order.count)))
    }
    let weighted = classes.indices.filter { classes[$0].fixedCount == 0 && classes[$0].weight > 0 }
    let sum = weighted.reduce(0) { $0 + classes[$1].weight }
    guard sum > 0 else { return order }
    var current = [Int](repeating: 0, count: classes.count)
    while order.count < total {
        var best = -1
        for c in weighted {
            current[c] += classes[c].weight
            if best < 0 || current[c] > current[best] { best = c }
        }
        current[best] -= sum
        order.append(best)
    }
    return order
}

/// Runs a test: validates the script, starts one Worker thread per `-t`, watches the clock and signals,
/// merges the workers' stats once a second and at the end.
public final class Runner {
    public let options: RunOptions
    public let classes: [UserClassInfo]
    private let endpoint: Endpoint?
    private let classEndpoints: [Endpoint?]
    private let hasSetup: Bool
    private let hasTeardown: Bool
    private let scriptOptions: ScriptOptions

    /// Loads the script once on this thread to check it and read its user classes; resolves the host.
    public init(options: RunOptions) throws {
        self.options = options
        guard access(options.scriptPath, R_OK) == 0 else {
            throw UsageError("cannot read script \(options.scriptPath): \(Sys.describe(errno: errno))")
        }
        scriptOptions = ScriptOptions(tags: options.tags, excludeTags: options.excludeTags)
        let script: LuaScript
        do {
            script = try LuaScript(path: options.scriptPath, options: scriptOptions)
        } catch {
            throw UsageError("\(error)")
        }
        classes = script.classes
        hasSetup = script.hasSetup
        hasTeardown = script.hasTeardown
        if let n = options.iterations, n < 1 { throw UsageError("--iterations must be at least 1") }
        guard options.threads >= 1 else { throw UsageError("--threads must be at least 1") }
        guard options.users >= 1 else { throw UsageError("--users must be at least 1") }
        if let rate = options.spawnRate, !(rate > 0) { throw UsageError("--spawn-rate must be above 0") }
        guard options.timeout > 0 else { throw UsageError("--timeout must be above 0") }
        endpoint = try (options.host ?? script.host).map(Runner.resolve)
        classEndpoints = try classes.map { try $0.host.map(Runner.resolve) }
        // Any script may reach an https URL: check the TLS files now, with a throwaway context, not at the first request.
        do {
            if options.tls.caFile != nil || options.tls.certFile != nil || options.tls.keyFile != nil {
                _ = try TLSContext(options.tls, systemStore: false)
            }
        } catch {
            throw UsageError("\(error)")
        }
    }

    private static func resolve(_ hostURL: String) throws -> Endpoint {
        guard var ep = Endpoint(url: hostURL) else {
            throw UsageError("bad host URL \"\(hostURL)\": expected http://host[:port] or https://host[:port]")
        }
        if let problem = ep.resolve() { throw UsageError(problem) }
        return ep
    }

    private func workerConfig() -> WorkerConfig {
        var config = WorkerConfig(scriptPath: options.scriptPath)
        config.defaultEndpoint = endpoint
        config.classEndpoints = classEndpoints
        config.timeoutMicros = UInt64(options.timeout * 1_000_000)
        config.stopGraceMicros = UInt64(options.stopTimeout * 1_000_000)
        config.classes = classes
        config.script = scriptOptions
        config.tls = options.tls
        return config
    }

    /// Runs setup() or teardown() alone on a worker of its own, to completion.
    private func runHook(_ role: VURole, config: WorkerConfig) -> Worker {
        let worker = Worker(index: 0, config: config, plan: [VUPlan(classIndex: 0, globalID: 0, startOffsetMicros: 0, role: role)])
        pthread_join(spawnThread(worker), nil)
        return worker
    }

    public func run() -> Summary {
        Sys.ignoreSIGPIPE()
        Sys.raiseOpenFilesLimit()
        let threads = min(options.threads, options.users)
        var plans = [[VUPlan]](repeating: [], count: threads)
        for (k, cls) in distributeUsers(total: options.users, classes: classes).enumerated() {
            let offset = options.spawnRate.map { UInt64(Double(k) / $0 * 1_000_000) } ?? 0
            plans[k % threads].append(VUPlan(classIndex: cls, globalID: k, startOffsetMicros: offset))
        }
        var config = workerConfig()
        var hookStats: [WorkerStats] = []
        if hasSetup {
            let setup = runHook(.setup, config: config)
            hookStats.append(setup.mailbox.finalStats!)
            if let failure = setup.setupFailure {
                writeStderr("luaload: \(failure); no users started\n")
                return Summary(workers: hookStats, durationSeconds: 0, users: options.users, threads: threads,
                               stopReason: .setupFailed, history: [])
            }
            if let data = setup.setupResult { config.script.setupJSON = data }
        }

        // Signals go to this thread alone (sigtimedwait); workers inherit the blocked mask.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGUSR1)   // a worker ended
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &signals, &previousMask)
        defer { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }

        let me = pthread_self()
        let workers = (0..<threads).map { k -> Worker in
            var c = config
            if let n = options.iterations {
                // Each thread's exact share of -n, by its share of the users.
                c.iterationLimit = share(n, of: plans, k)
            }
            let worker = Worker(index: k, config: c, plan: plans[k])
            worker.mailbox.notify = me
            return worker
        }
        let start = monotonicMicros()
        let tids = workers.map { spawnThread($0) }

        let live = options.live && isatty(2) != 0
        var history: [HistoryPoint] = []
        var recent: [LatencyHistogram] = []
        var byName: [String: [HistoryPoint]] = [:]
        var previousRows: [String: (requests: Int, failures: Int)] = [:]
        var reason = StopReason.usersFinished
        var stopAt: UInt64? = options.duration.map { start + UInt64($0 * 1_000_000) }
        var stoppedAt: UInt64 = 0
        var nextTick = start + 1_050_000   // just after the workers post their second (they post at +1 s)
        var stopSent = false

        while !workers.allSatisfy({ $0.mailbox.finalStats != nil }) {
            let now = monotonicMicros()
            let wakeAt = stopSent ? now + 50_000 : min(nextTick, stopAt ?? .max)   // after the stop: wait for the workers
            let waitMicros = wakeAt > now ? wakeAt - now : 0
            var ts = timespec(tv_sec: Int(waitMicros / 1_000_000), tv_nsec: Int(waitMicros % 1_000_000) * 1000)
            let sig = sigtimedwait(&signals, nil, &ts)
            if sig == SIGINT || sig == SIGTERM {
                if stopSent { _exit(130) }    // a second Ctrl-C: leave at once
                reason = .interrupted
                stopAt = monotonicMicros()
            }
            let t = monotonicMicros()
            if let s = stopAt, t >= s, !stopSent {
                if reason != .interrupted { reason = .duration }
                stopSent = true
                stoppedAt = t
                for w in workers { w.requestStop() }
                if live { writeStderr("\r\u{1B}[2K") }
            }
            if t >= nextTick {
                nextTick += 1_000_000
                var merged = IntervalSnapshot()
                for w in workers {
                    let snap = w.mailbox.take()
                    merged.requests += snap.requests
                    merged.failures += snap.failures
                    merged.iterations += snap.iterations
                    merged.activeUsers += snap.activeUsers
                    merged.histogram.add(snap.histogram)
                }
                let h = merged.histogram
                func pct(_ p: Double) -> Double { h.totalCount > 0 ? Double(min(h.valueAtPercentile(p), h.max)) / 1000 : 0 }
                history.append(HistoryPoint(elapsed: Double(t - start) / 1e6, users: merged.activeUsers, requests: merged.requests,
                                            failures: merged.failures, p50Ms: pct(50), p95Ms: pct(95), p99Ms: pct(99)))
                history[history.count - 1].latency = SparseHistogram(h)    // for the CSV history and HTML report
                if options.historyByName { appendHistoryByName(&byName, &previousRows, workers, at: history[history.count - 1], second: history.count - 1) }
                recent.append(h)
                if recent.count > 10 { recent.removeFirst() }
                if live && !stopSent { writeStderr(liveLine(history, recent)) }
                if options.printStats && !live && !stopSent && history.count % 2 == 0 {
                    var snapshot = WorkerStats()
                    snapshot.rows = workers.flatMap { $0.mailbox.takeRows() }
                    let current = Summary(workers: [snapshot], durationSeconds: Double(t - start) / 1e6, users: merged.activeUsers,
                                          threads: threads, stopReason: .duration, history: [])
                    writeStderr(ConsoleReport.requestsTable(current) + "\n")
                }
            }
        }
        let end = stopSent ? stoppedAt : monotonicMicros()
        for tid in tids { pthread_join(tid, nil) }
        // Consume the workers' last SIGUSR1 before the mask is restored (its default action would kill us).
        var usr1 = sigset_t()
        sigemptyset(&usr1)
        sigaddset(&usr1, SIGUSR1)
        var zero = timespec()
        while sigtimedwait(&usr1, nil, &zero) == SIGUSR1 {}
        if !stopSent && workers.contains(where: { $0.reachedIterationLimit }) { reason = .iterations }
        var stats = workers.map { $0.mailbox.finalStats! }
        if hasTeardown { stats.append(runHook(.teardown, config: config).mailbox.finalStats!) }
        var summary = Summary(workers: hookStats + stats, durationSeconds: Double(end - start) / 1e6, users: options.users,
                              threads: threads, stopReason: reason, history: history)
        summary.historyByName = byName
        return summary
    }

    /// One point per name for this second: its requests and failures in the second, its percentiles so far.
    private func appendHistoryByName(_ byName: inout [String: [HistoryPoint]], _ previous: inout [String: (requests: Int, failures: Int)],
                                     _ workers: [Worker], at point: HistoryPoint, second: Int) {
        var merged: [String: RequestStats] = [:]
        for w in workers {
            for row in w.mailbox.takeRows() {
                merged[row.method + " " + row.name, default: RequestStats(method: row.method, name: row.name)].merge(row)
            }
        }
        for (key, row) in merged where row.requests > 0 {
            // A name first seen now gets empty points for the seconds before, so every series lines up by second.
            while byName[key, default: []].count < second {
                byName[key, default: []].append(HistoryPoint(elapsed: 0, users: 0, requests: 0, failures: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0))
            }
            let before = previous[key] ?? (0, 0)
            previous[key] = (row.requests, row.failures)
            let r = RowSummary(row)
            byName[key, default: []].append(HistoryPoint(elapsed: point.elapsed, users: point.users, requests: row.requests - before.requests,
                                                         failures: row.failures - before.failures, p50Ms: r.percentileMs(50),
                                                         p95Ms: r.percentileMs(95), p99Ms: r.percentileMs(99)))
        }
    }

    /// Thread k's part of n task runs, in proportion to its users; the parts add up to n exactly.
    private func share(_ n: Int, of plans: [[VUPlan]], _ k: Int) -> Int {
        let before = plans[..<k].reduce(0) { $0 + $1.count }
        let through = before + plans[k].count
        return n * through / options.users - n * before / options.users
    }

    private func liveLine(_ history: [HistoryPoint], _ recent: [LatencyHistogram]) -> String {
        guard let last = history.last else { return "" }
        var window = makeLatencyHistogram()
        for h in recent { window.add(h) }
        let lastTen = history.suffix(10)
        let reqs = lastTen.reduce(0) { $0 + $1.requests }
        let fails = lastTen.reduce(0) { $0 + $1.failures }
        let p50 = window.totalCount > 0 ? Double(min(window.valueAtPercentile(50), window.max)) / 1000 : 0
        let p95 = window.totalCount > 0 ? Double(min(window.valueAtPercentile(95), window.max)) / 1000 : 0
        return "\r\u{1B}[2K" + Format.duration(last.elapsed) + "  users \(last.users)/\(options.users)  "
            + Format.fixed(Double(last.requests), 0) + " req/s  fail "
            + Format.fixed(reqs > 0 ? Double(fails) * 100 / Double(reqs) : 0, 2) + "%  p50 " + Format.fixed(p50, 2)
            + " ms  p95 " + Format.fixed(p95, 2) + " ms (last 10 s)"
    }
}

func writeStderr(_ s: String) {
    var s = s
    s.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
}

private func spawnThread(_ worker: Worker) -> pthread_t {
    var tid = pthread_t()
    let box = Unmanaged.passRetained(worker).toOpaque()
    let rc = pthread_create(&tid, nil, { arg in
        let w = Unmanaged<Worker>.fromOpaque(arg!).takeRetainedValue()
        w.run()
        return nil
    }, box)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    return tid
}
