import CPosix
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// Runs a test: validates the script, starts one Worker thread per `-t`, watches the clock and signals,
/// merges the workers' stats once a second and at the end. It prints nothing: progress goes to the
/// observer passed to `run`, and the results come back as a Summary.
public final class Runner {
    public let options: RunOptions
    public let classes: [UserClassInfo]
    private let endpoint: Endpoint?
    private let classEndpoints: [Endpoint?]
    let hasSetup: Bool
    let hasTeardown: Bool
    let scriptOptions: ScriptOptions
    /// How the load is shaped (fixed users, a ramp, shape(), arrivals).
    public let profile: LoadProfile
    /// The script's thresholds, then --threshold's; all parsed before any traffic.
    public let thresholds: [Threshold]
    /// The Lua state this thread loaded the script into, kept to call shape() (nil without one).
    let shapeScript: LuaScript?
    /// `luaload wrk`: the Lua states of wrk's phases; nil in Locust's model.
    public let wrk: WrkSession?
    /// -u, --stages or --rate replaced the script's `scenarios` with one model (the summary says so).
    var replacedScenarios = false
    /// A second SIGINT / SIGTERM stopped the run at once (its reports hold what was recorded until then).
    public internal(set) var stoppedNow = false

    /// Loads the script once on this thread to check it and read its user classes; resolves the host.
    /// `luaload wrk` (options.wrk): one class of `-c` users, each a wrk connection, after setup and init.
    public init(options: RunOptions) throws {
        self.options = options
        if let wrkOptions = options.wrk {
            classes = [UserClassInfo(weight: 1, fixedCount: 0, hasOnStop: false)]
            hasSetup = false
            hasTeardown = false
            scriptOptions = ScriptOptions()
            endpoint = try Runner.resolve(wrkOptions.target.url)
            classEndpoints = [nil]
            // -R: wrk2's constant rate is the open model's (--rate, --late queue): its connections are the pool.
            profile = try Runner.resolveProfile(options, DeclaredProfile(), script: wrkOptions.scriptPath ?? "")
            thresholds = []
            shapeScript = nil
            wrk = try WrkSession(wrkOptions)
            try Runner.checkTLSFiles(options.tls)
            try Runner.checkH2Pool(options, endpoint: endpoint)
            return
        }
        wrk = nil
        guard access(options.scriptPath, R_OK) == 0 else {
            throw UsageError("cannot read script \(options.scriptPath): \(Sys.describe(errno: errno))")
        }
        var scriptOptions = ScriptOptions(tags: options.tags, excludeTags: options.excludeTags)
        (scriptOptions.env, scriptOptions.secrets) = (options.env, options.secrets)
        let script: LuaScript
        do {
            script = try LuaScript(path: options.scriptPath, options: scriptOptions)
        } catch {
            throw UsageError("\(error)")
        }
        scriptOptions.host = options.host ?? script.host
        self.scriptOptions = scriptOptions
        classes = script.classes
        hasSetup = script.hasSetup
        hasTeardown = script.hasTeardown
        profile = try Runner.resolveProfile(options, script.declared, script: options.scriptPath)
        replacedScenarios = Runner.scenariosReplaced(options, script.declared)
        thresholds = try Runner.resolveThresholds(options, script.declared, script: options.scriptPath)
        shapeScript = profile.isShape || profile.hasScenarioShape ? script : nil
        if let n = options.iterations, n < 1 { throw UsageError("--iterations must be at least 1") }
        guard options.threads >= 1 else { throw UsageError("--threads must be at least 1") }
        guard options.users >= 1 else { throw UsageError("--users must be at least 1") }
        if let n = options.maxVUs, n < 1 { throw UsageError("--max-vus must be at least 1") }
        if let rate = options.spawnRate, !(rate > 0) { throw UsageError("--spawn-rate must be above 0") }
        guard options.timeout > 0 else { throw UsageError("--timeout must be above 0") }
        if let h = options.host { try Preflight.checkBaseURL(h, from: "-H") }
        if options.host == nil, let h = script.host { try Preflight.checkBaseURL(h, from: "\(options.scriptPath): host") }
        for (k, c) in classes.enumerated() { if let h = c.host { try Preflight.checkBaseURL(h, from: "\(options.scriptPath): user class #\(k + 1): host") } }
        endpoint = try (options.host ?? script.host).map(Runner.resolve)
        classEndpoints = try classes.map { try $0.host.map(Runner.resolve) }
        try checkSegment()
        try checkScenarioSegments()
        try Runner.checkTLSFiles(options.tls)
        try Runner.checkH2Pool(options, endpoint: endpoint)
    }

    /// --h2-pool's combinations, refused before any traffic: a pool is HTTP/2 only.
    private static func checkH2Pool(_ options: RunOptions, endpoint: Endpoint?) throws {
        guard options.h2Pool != 0 else { return }
        guard options.h2Pool >= 1 else { throw UsageError("--h2-pool must be at least 1, got \(options.h2Pool)") }
        if options.wrk != nil { throw UsageError("--h2-pool is not for `luaload wrk`: its pipelined batches are HTTP/1.1") }
        if options.http2 == .off { throw UsageError("--h2-pool needs HTTP/2: it excludes --http1.1") }
        if let endpoint, !endpoint.tls, options.http2 != .priorKnowledge {
            throw UsageError("--h2-pool with an http:// target needs --http2-prior-knowledge (h2c); https:// negotiates h2 by ALPN")
        }
    }

    /// Any script may reach an https URL: the TLS files are checked now, with a throwaway context, not at the first request.
    private static func checkTLSFiles(_ tls: TLSOptions) throws {
        do {
            if tls.caFile != nil || tls.certFile != nil || tls.keyFile != nil {
                _ = try TLSContext(tls, systemStore: false)
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
        config.scenarioIDBases = Runner.scenarioIDBases(profile)
        if case .scenarios(let list) = profile { (config.runsScenarios, config.scenarioNames) = (true, list.map(\.name)) }
        config.script = scriptOptions
        config.tls = options.tls
        config.wrkRow = wrk.map { ($0.method, $0.options.target.url) }
        config.http2 = wrk == nil ? options.http2 : .off   // (wrk's raw batches are HTTP/1.1 bytes)
        config.tls.offerH2 = config.http2 != .off
        config.batchPerHost = wrk == nil ? options.batchPerHost : 0
        config.h2Pool = wrk == nil ? options.h2Pool : 0
        return config
    }

    /// Runs the test to its end: setup(), the users, teardown(). `observer` hears each second and the stop,
    /// on this thread. When setup() fails no user starts: the Summary says why (`setupFailure`).
    public func run(observer: (RunEvent) -> Void = { _ in }) -> Summary {
        Sys.ignoreSIGPIPE()
        Sys.raiseOpenFilesLimit()
        LuaScript.resetDataFeeders()   // every run hands out a data file's rows from its first
        var goal: RunControl?
        if options.waitForStart {
            goal = waitForStart()
            if goal == nil { return Summary(workers: [], durationSeconds: 0, users: 0, threads: 0, stopReason: .stopped, history: []) }
        }
        let plans = planUsers()
        var config = workerConfig()
        let setup = runSetup(&config)
        if let failure = setup.failure {
            var summary = Summary(workers: setup.stats, durationSeconds: 0, users: segmentUsers, threads: plans.count,
                                  stopReason: .setupFailed, history: [])
            summary.setupFailure = failure
            summary.placement.startUnixMs = RunPlacement.unixMs(atMonotonic: monotonicMicros())
            summary.placement.endUnixMs = summary.placement.startUnixMs
            return summary
        }
        let signals = RunSignals.block()   // before any worker thread exists: they inherit the mask
        defer { detachControls(signals); signals.restore() }
        var state = RunState(start: monotonicMicros(), duration: runDuration)
        beginControls(&state, start: goal)
        let workers = makeWorkers(plans, config: config, origin: state.start)
        stepProfile(workers, at: state.start, &state)   // the first target, before the workers start
        let tids = workers.map { spawnThread($0) }
        monitor(workers, &state, signals, observer: observer)
        return finish(workers, threads: tids, state, signals: signals, hookStats: setup.stats, config: config)
    }
}
