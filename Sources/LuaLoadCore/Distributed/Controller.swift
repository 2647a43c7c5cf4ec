import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// `luaload --controller`: where agents connect and how long to wait for them.
public struct ControllerOptions {
    public var address: LinkAddress
    public var agents: Int
    /// How long to wait for every agent to be ready (then the run is called off, exit 2).
    public var agentsTimeout: Double = 60
    public var token: String
    /// The tag the reports break the test down by.
    public var by = "region"
    /// An agent heard from neither a second nor a ping for this long is lost.
    public var silenceTimeout: Double = 10
    /// From the start message to the agents' common start (they take half the link's round trip off).
    public var startDelay: Double = 0.5
    /// Ctrl-C / SIGTERM stop every agent (a second one exits): the command line's; tests run without.
    public var handleSignals = false
    /// TLS on the link (--link-cert, --link-key); plain TCP when nil.
    public var tls: LinkTLS?
    /// The controller's -t: the threads of an agent started without its own -t (RunPackage.agentThreads).
    public var agentThreads: Int?
    /// The controller's --tag: every agent's tags, under an agent's own tag of the same key (RunPackage.runTags).
    public var tags: [(key: String, value: String)] = []
    /// --start-at (Unix seconds): the agents start then (Controller+StartAt.swift); more than 1 s past it is
    /// an error unless `startLateOk`.
    public var startAt: Double?
    public var startLateOk = false
    /// The controller's --exit-code-on-error: also each agent's when a request failed (RunPackage.exitCodeOnError).
    public var exitCodeOnError: Int32 = 1

    public init(address: LinkAddress, agents: Int, token: String) {
        self.address = address
        self.agents = agents
        self.token = token
    }
}

/// One agent as the controller sees it.
public struct AgentReport {
    public enum State: String { case joined, ready, running, done, lost }
    public var id: Int
    public var peer: String
    public var segment: Segment
    public var tags: [(key: String, value: String)]
    public var state: State
    /// Seconds into the run when it was lost, and why.
    public var lostAt: Double?
    public var lostReason: String?
    /// Seconds into the run when it ended on its own before the test did (SIGTERM or Ctrl-C on its box: a pod
    /// evicted): its report up to then is in, and the others went on.
    public var stoppedAt: Double?
    /// Its latest users (a level) and seconds received.
    public var users: Int
}

/// A controller: runs no VUs of its own; waits for N agents, sends each the run and its segment k/N,
/// starts them together, merges their seconds into one live view (the Runner's own RunProgress, so the
/// console and later the web page plug in unchanged), judges abort_on_fail thresholds on the whole test,
/// and makes the final reports from the agents' own documents with `luaload merge`'s code.
public final class Controller {
    public let options: ControllerOptions
    public let run: RunOptions
    /// The test's thresholds (the script's and --threshold's), judged on the whole test.
    public let thresholds: [Threshold]
    /// The port the link listens on (the one asked for, or the free one found for port 0).
    public let port: UInt16
    /// The script's SHA-256 (hex): agents started with --script-sha256 must name it.
    public let scriptSHA256: String
    /// Controls for every agent (`.setUsers`, `.stop`, `.stopFor`) from any thread; taken by the controller's
    /// loop within 200 ms (it polls, so nothing needs waking).
    public let controls = RunControls()
    let profile: LoadProfile
    let package: RunPackage
    let listener: Int32
    var agents: [ControlledAgent] = []
    /// Connections that have not said hello yet, with their deadline.
    var newcomers: [(connection: LinkConnection, deadline: UInt64)] = []
    var nextID = 1
    var live = LiveMerge()
    /// Before the start: when agents waiting for it are pinged next (Controller+Gather.pingWaiting).
    var nextWaitingPing: UInt64 = 0

    /// Checks the test as a plain run would (script, options, thresholds, every segment's share), reads
    /// the files to send, and listens.
    public init(options: ControllerOptions, run: RunOptions) throws {
        guard options.agents >= 1 else { throw UsageError("--agents must be at least 1") }
        guard run.wrk == nil else { throw UsageError("luaload wrk runs on one box: use a Locust-model script with --controller") }
        var check = run
        check.segment = Segment(index: options.agents - 1, count: options.agents)!   // the smallest share
        let runner: Runner
        do {
            runner = try Runner(options: check)
        } catch let e as UsageError where e.description.hasPrefix("segment ") {
            throw UsageError("--agents \(options.agents): \(e.description.replacingOccurrences(" segments", " agents"))")
        }
        self.options = options
        self.run = run
        thresholds = runner.thresholds
        profile = runner.profile
        package = try RunPackage.collect(run).carrying(options)
        scriptSHA256 = ScriptDigest.sha256(package.files[0].bytes)
        do {
            (listener, port) = try Link.listen(options.address)
        } catch let e as LinkError {
            throw UsageError("--controller: \(e)")   // exit 2, the flag named (another controller on the port?)
        }
    }

    deinit { Sys.close(listener) }

    /// Runs the test to its end; `log` hears one-line messages (agents joining, refused, lost), `observer`
    /// the merged seconds. Throws a UsageError when the agents do not all come (or one cannot run it).
    public func run(log: (String) -> Void, observer: (RunEvent) -> Void) throws -> ControllerResult {
        Sys.ignoreSIGPIPE()
        let signals = options.handleSignals ? ControllerSignals.block() : nil
        defer { signals?.restore() }
        try gather(log: log, signals: signals)
        try checkTaggedThresholds()
        try holdUntilStartTime(log: log, signals: signals)
        start()
        follow(log: log, signals: signals, observer: observer)
        return try finish(log: log)
    }

    /// What a control may change: the whole test's users when the agents' runs follow them (they always have
    /// controls: a fixed -u without -n, pool --max-vus or max(-u, 1000)), or the open model's rate.
    public var controlModel: ControlModel {
        if case .fixed = profile, run.iterations == nil { return .users(max: run.maxVUs ?? max(run.users, 1000)) }
        return Runner.uncontrolledModel(profile, run)
    }

    /// What the controller could not check about the files it sends (a computed name, an absolute one): to say once.
    public var packageNotes: [String] { package.notes }

    /// The agents as they are now (for a live view).
    public var agentReports: [AgentReport] { agents.map(\.report) }
}

extension String {
    fileprivate func replacingOccurrences(_ a: String, _ b: String) -> String {
        var out = "", rest = Substring(self)
        while let r = rest.firstRange(of: a) { out += rest[..<r.lowerBound] + b; rest = rest[r.upperBound...] }
        return out + rest
    }
}

/// One connected agent, from its hello to its report.
final class ControlledAgent {
    let connection: LinkConnection
    var report: AgentReport
    var ledger = AgentLedger()
    /// Its own JSON document, once it came.
    var document: String?
    var lastHeard = monotonicMicros()
    /// When its report came (seconds into the run), if that was before the controller sent a stop.
    var reportedBeforeStop: Double?
    /// When it said it was stopping on its own (SIGTERM or Ctrl-C on its box), seconds into the run.
    var stoppingAt: Double?

    init(connection: LinkConnection, report: AgentReport) {
        self.connection = connection
        self.report = report
    }

    var isActive: Bool { report.state == .ready || report.state == .running }

    /// "agent 2 (region=eu, 10.0.0.5:41234)"
    var name: String {
        let tags = report.tags.filter { $0.key != "host" && $0.key != "segment" }.map { "\($0.key)=\($0.value)" }
        return "agent \(report.id) (" + (tags + [report.peer]).joined(separator: ", ") + ")"
    }

    func send(_ message: [UInt8]) -> Bool {
        (try? connection.send(message, timeout: 5)) != nil
    }
}

/// SIGINT and SIGTERM taken by the controller's loop (sigtimedwait, polled): Ctrl-C stops every agent.
struct ControllerSignals {
    private var watched = sigset_t()
    private var previous = sigset_t()

    static func block() -> ControllerSignals {
        var s = ControllerSignals()
        sigemptyset(&s.watched)
        sigaddset(&s.watched, SIGINT)
        sigaddset(&s.watched, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &s.watched, &s.previous)
        return s
    }

    /// A pending SIGINT/SIGTERM, if one came.
    func pending() -> Bool {
        var set = watched
        var zero = timespec()
        return sigtimedwait(&set, nil, &zero) > 0
    }

    /// The test is over: a Ctrl-C still pending or coming while the reports are written is ignored rather than
    /// killing the process before they are (as a plain run's RunSignals.restore).
    func restore() {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        var mask = previous
        pthread_sigmask(SIG_SETMASK, &mask, nil)
    }
}
