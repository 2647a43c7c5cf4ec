import ArgumentParser
import LuaLoadCore
import LuaLoadServe
#if canImport(Glibc)
import Glibc
#endif

/// `luaload [options] script.lua`: run a test. (`luaload serve` and `luaload wrk` join as subcommands.)
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "luaload",
        abstract: "Lua-scriptable HTTP load generator: Locust's model at wrk's cost per request.",
        discussion: """
            Subcommands (luaload help COMMAND for each):
              wrk     wrk's command line, scripts and output (luaload wrk -c10 URL)
              merge   merge runs' --json summaries exactly into one report
              compare what changed between two runs' --json summaries
              serve   the built-in target: an example API to try scripts on
              agent   run a share of a --controller's test (luaload agent HOST:PORT)
              help    this help, or a subcommand's

            A script's top-level code runs once per Lua state: one per thread
            (-t), one to check it before the run, one each for setup() and
            teardown(). Per-VU state belongs in on_start (self.x = ...).

            Exit codes: 0 clean run; 1 a request failed or a script error
            occurred; 2 bad usage or script; with thresholds, 0 all hold and
            3 any crossed; 4 a report could not be written (the others were);
            130 stopped at once by a second Ctrl-C (the reports are written).
            Report paths are checked before any traffic; missing parent folders
            are created. --serve runs a script against the built-in target.
            """,
        version: lualoadVersion)

    @Option(name: [.customShort("t"), .long], help: "Threads, each with its own event loop and Lua state (default: cores; with --controller, every agent's without its own -t).")
    var threads: Int?

    @Option(name: [.customShort("u"), .long], help: "Virtual users (VUs) in total (default 1).")
    var users: Int?

    @Option(name: [.customShort("r"), .long], help: "Users started per second (default: all at once).")
    var spawnRate: Double?

    @Option(name: [.customShort("d"), .long], help: "Run time, e.g. 30s, 5m, 1h (default: until Ctrl-C).")
    var duration: String?

    @Option(name: [.customShort("H"), .long], help: "Base URL for relative paths, e.g. http://127.0.0.1:8080.")
    var host: String?

    @Option(help: "Seconds before a request fails with a timeout.")
    var timeout: String = "30"

    @Option(help: "At the stop, let running tasks finish for up to this long (default 0: abandon them).")
    var stopTimeout: String = "0"

    @Flag(name: [.customShort("k"), .long], help: "Do not verify the TLS certificates and names of https servers.")
    var insecure = false

    @Option(help: ArgumentHelp("Trust the CA certificates in this PEM file instead of the system's.", valueName: "file"))
    var cacert: String?

    @Option(help: ArgumentHelp("Client certificate (PEM) for https servers that ask for one.", valueName: "file"))
    var cert: String?

    @Option(help: ArgumentHelp("Private key (PEM) of --cert (default: the --cert file).", valueName: "file"))
    var key: String?

    @Option(help: "Write the summary as JSON to this file.")
    var json: String?

    @Option(name: [.customShort("n"), .long], help: "Stop after this many task runs in total, across all users.")
    var iterations: Int?

    @Option(help: "Run only tasks with any of these tags (comma-separated or repeated).")
    var tags: [String] = []

    @Option(help: "Leave out tasks with any of these tags (comma-separated or repeated).")
    var excludeTags: [String] = []

    @Option(help: "Write Locust's CSV files: PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv, PREFIX_exceptions.csv.")
    var csv: String?

    @Flag(help: "With --csv, add a row per name and second to PREFIX_stats_history.csv.")
    var csvFullHistory = false

    @Option(help: "Write a self-contained HTML report with charts to this file.")
    var html: String?

    @Flag(name: [.customShort("q"), .long], help: "Print the summary only (no live status line).")
    var quiet = false

    @Flag(help: "Print the per-name stats table: redrawn in place each second on a terminal, every 2 s otherwise.")
    var printStats = false

    @Option(help: "Exit code when a request failed or a script error occurred.")
    var exitCodeOnError: Int32 = 1

    @Option(help: ArgumentHelp("Ramp users (closed model): duration:users, linear, e.g. 30s:100,1m:100,30s:0.", valueName: "stages"))
    var stages: String?

    @Option(help: ArgumentHelp("Open model: start task runs at this rate, e.g. 200/s or 600/m, whatever the response times.", valueName: "rate"))
    var rate: String?

    @Option(help: ArgumentHelp("Open model, ramping rate: duration:rate, linear from --rate (default 0), e.g. 1m:100/s,5m:100/s,1m:0.", valueName: "stages"))
    var rateStages: String?

    @Option(name: .customLong("max-vus"), help: "Open model: the VU pool (default -u); with shape(): the most users it may ask for (default 1000).")
    var maxVUs: Int?

    @Option(help: ArgumentHelp("Open model: an arrival with no free VU waits and is timed from when it was due (queue, default), or is dropped and counted (drop).", valueName: "queue|drop"))
    var late: String = "queue"

    @Option(help: ArgumentHelp("A pass/fail threshold, e.g. 'GET /health: p95<200' or 'Aggregated: fail_rate<0.01' (repeatable).", valueName: "name: expr"))
    var threshold: [String] = []

    @Option(help: ArgumentHelp("Write the thresholds' verdicts as JUnit XML (one test case each) to this file.", valueName: "file"))
    var junit: String?

    @Flag(help: "Start the built-in target on a free loopback port and run against it (to try a script out).")
    var serve = false

    @OptionGroup(title: "HTTP/2")
    var http2: HTTP2Flags

    @OptionGroup(title: "Past one box (segments, start, tags)")
    var scale: ScaleOptions

    @OptionGroup(title: "Metrics (Prometheus: docs/prometheus.md)")
    var metrics: MetricsOptions

    @OptionGroup(title: "One test across many boxes (luaload agent; docs/distributed.md)")
    var distributed: DistributedOptions

    @OptionGroup(title: "Live dashboard (--web)")
    var webFlags: WebFlags
    @OptionGroup(title: "Script variables (k6's -e)")
    var envOptions: EnvOptions

    @OptionGroup(title: "Compare with a baseline")
    var baselineOptions: BaselineOptions

    @Argument(help: "The Lua script with the user behaviour.")
    var script: String

    func run() throws {
        try refuseOptionsWithoutMeaning(CommandLine.arguments)
        try ReportWriter.check(reportOutputs)
        var options = RunOptions(scriptPath: script, threads: threads ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        options.users = users ?? 1
        options.usersGiven = users != nil
        options.spawnRate = spawnRate
        try applyProfileOptions(&options)
        if let duration {
            guard let d = parseDuration(duration), d > 0 else { throw UsageError("bad --duration \"\(duration)\": use e.g. 30s, 5m, 1h") }
            options.duration = d
        }
        guard let t = parseDuration(timeout), t > 0 else { throw UsageError("bad --timeout \"\(timeout)\"") }
        options.timeout = t
        guard let st = parseDuration(stopTimeout) else { throw UsageError("bad --stop-timeout \"\(stopTimeout)\"") }
        options.stopTimeout = st
        options.host = host
        var target: TargetServer?
        if serve {
            // Signals must stay with the main thread: block them before the target's threads exist.
            blockTerminationSignals()
            var serveOptions = ServeOptions()
            serveOptions.port = 0
            let server = try TargetServer(options: serveOptions)
            server.start()
            target = server
            if host == nil { options.host = "http://127.0.0.1:\(server.port)" }
        }
        defer { target?.stop() }
        options.iterations = iterations
        // The HTML's chart per name; a controller's --hdr-log has a line per name a second from its agents' seconds per name.
        options.historyByName = (csv != nil && csvFullHistory) || html != nil || (distributed.controller != nil && scale.hdrLog != nil)
        options.tags = tags.flatMap { $0.split(separator: ",").map(String.init) }
        options.excludeTags = excludeTags.flatMap { $0.split(separator: ",").map(String.init) }
        options.tls.insecure = insecure
        options.tls.caFile = cacert
        options.tls.certFile = cert
        options.tls.keyFile = key
        options.http2 = http2.mode
        options.batchPerHost = http2.batchPerHost
        options.h2Pool = http2.h2Pool ?? 0
        options.segment = try scale.resolveSegment()
        let tags = try scale.resolveTags(segment: options.segment)
        (options.env, options.secrets) = try envOptions.resolve()
        SecretMask.set(options.secrets)
        options.baseline = try baselineOptions.resolve()
        let startAt = try scale.resolveStart()

        if distributed.controller != nil { return try runAsController(options) }
        let controls = try webFlags.apply(&options)
        let runner = try Runner(options: options)
        try Threshold.checkTagged(runner.thresholds, runTags: tags)
        let metricsRun = try MetricsRun(metrics, tags: tags, thresholds: runner.thresholds)
        if let warning = runner.descriptorWarning(serving: serve) { writeStderr("luaload: warning: \(warning)\n") }
        let dashboard = try webFlags.start(runner: runner, controls: controls, facts: webFacts(options, tags), title: "luaload: " + script)
        defer { dashboard?.stop() }
        if let startAt { StartTime.wait(until: startAt) }
        let status = LiveStatus(live: !quiet, printStats: printStats && !quiet)
        let hdrLog = scale.hdrLog.map { _ in HdrLogRecorder() }
        let startedAt = time(nil)
        var summary = runner.run(observer: { status.observe($0); hdrLog?.observe($0); dashboard?.observe($0); metricsRun?.observe($0) })
        summary.startUnixTime = Int(startedAt)
        summary.placement.tags = tags
        summary.evaluate(runner.thresholds, part: summary.ownPart(strict: true))   // again, with the run's tags (thresholds per tag)
        summary.placement.command = Format.shellWords(["luaload"] + CommandLine.arguments.dropFirst())
        if let metricsRun { summary.notes += metricsRun.finish(summary) }
        if let failure = summary.setupFailure { writeStderr("luaload: \(failure); no users started\n") }
        for note in summary.notes { writeStderr("luaload: \(note)\n") }
        // With the JSON on stdout (--json -, for `kubectl logs … | luaload merge -`), the console summary goes to stderr.
        if json == "-" { writeStderr(ConsoleReport.render(summary)) } else { print(SecretMask.apply(ConsoleReport.render(summary)), terminator: "") }
        var writer = ReportWriter()
        if let path = scale.hdrLog, let hdrLog { writer.write("--hdr-log", path, hdrLog.render(summary)) }
        writeReports(summary, &writer)
        dashboard?.finish(summary)
        if !runner.stoppedNow { WebFlags.linger(dashboard, summary, interactive: duration == nil && iterations == nil) }
        try exitIfReportsFailed(writer)
        if runner.stoppedNow { throw ExitCode(130) }   // stopped at once by a second signal: reported, and said
        // Thresholds, when given, decide (a run may tolerate failures); otherwise Locust's rule.
        if !runner.thresholds.isEmpty {
            if summary.anyThresholdCrossed { throw ExitCode(3) }
        } else if summary.total.failures > 0 || !summary.errors.isEmpty {
            throw ExitCode(exitCodeOnError)
        }
    }

    /// Every report file asked for, as (flag, path), for the check before any traffic.
    var reportOutputs: [(flag: String, path: String)] { controllerReports.outputs }   // the same five flags as merge's

    /// --json, --csv, --html, --junit: each on its own (one that fails does not stop the others).
    func writeReports(_ summary: Summary, _ writer: inout ReportWriter) {
        if let json { writer.write("--json", json, JSONReport.render(summary)) }
        if let csv {
            for file in CSVReport.files(summary, prefix: csv, fullHistory: csvFullHistory) { writer.write("--csv", file.path, file.text) }
        }
        if let html { writer.write("--html", html, HTMLReport.render(summary, title: "luaload: " + script)) }
        if let junit { writer.write("--junit", junit, JUnitReport.render(summary)) }
    }

    /// --stages, --rate, --rate-stages, --max-vus, --late, --threshold into the options; -u and -r where
    /// they have no meaning are usage errors, not silently ignored.
    func applyProfileOptions(_ options: inout RunOptions) throws {
        if let stages { options.stages = try parseStages(stages, option: "--stages", rates: false) }
        if let rate {
            guard let r = parseRate(rate) else { throw UsageError("bad --rate \"\(rate)\": use e.g. 200/s or 600/m") }
            guard r > 0 else { throw UsageError("--rate \(rate): the rate must be above 0 (for no arrivals, leave --rate out)") }
            options.rate = r
        }
        if let rateStages { options.rateStages = try parseStages(rateStages, option: "--rate-stages", rates: true) }
        if (rate != nil || rateStages != nil) && users != nil && maxVUs != nil {
            throw UsageError("give the open model's pool as --max-vus or -u, not both")
        }
        options.maxVUs = maxVUs
        guard let mode = LateMode(rawValue: late) else { throw UsageError("bad --late \"\(late)\": use queue or drop") }
        options.late = mode
        options.thresholds = try threshold.map { try Threshold(option: $0) }
    }
}

/// "-u -5": a negative number after an option that takes a number (the parser would call it a missing
/// value, taking "-5" for an option of its own).
func negativeNumberProblem(_ arguments: [String]) -> String? {
    for (k, a) in arguments.enumerated().dropFirst() where a.count > 1 && a.hasPrefix("-") && a.dropFirst().first!.isNumber {
        let option = arguments[k - 1]
        guard option.hasPrefix("-"), Double(a.dropFirst().prefix { $0.isNumber || $0 == "." }) != nil else { continue }
        return "\(option) \(a): a negative number makes no sense here (\(option) takes a number above 0)"
    }
    return nil
}

/// Exit 4 when a report could not be written, after naming each (the others were written).
func exitIfReportsFailed(_ writer: ReportWriter) throws {
    guard !writer.failures.isEmpty else { return }
    for failure in writer.failures { writeStderr("luaload: report not written: \(failure)\n") }
    throw ExitCode(4)
}

setvbuf(stdout, nil, _IOLBF, 0)
var arguments = Array(CommandLine.arguments.dropFirst())
// `luaload help [COMMAND]`: the command's --help.
if arguments.first == "help" {
    let topic = arguments.dropFirst().first
    guard topic == nil || ["wrk", "merge", "serve", "compare", "agent", "help"].contains(topic!) else {
        fputs("luaload: no command \"\(topic!)\": luaload help [wrk|merge|serve|compare|agent]\n", stderr)
        exit(2)
    }
    arguments = (topic == nil || topic == "help" ? [] : [topic!]) + ["--help"]
}
if let problem = negativeNumberProblem(arguments) {
    fputs("luaload: \(problem)\n", stderr)
    exit(2)
}
let isServe = arguments.first == "serve"
let isWrk = arguments.first == "wrk"
let isMerge = arguments.first == "merge"
let isCompare = arguments.first == "compare"
let isAgent = arguments.first == "agent"
do {
    if isServe {
        var command = try ServeCommand.parseAsRoot(Array(arguments.dropFirst()))
        try command.run()
    } else if isWrk {
        var command = try WrkCommand.parseAsRoot(splitAttachedValues(Array(arguments.dropFirst())))
        try command.run()
    } else if isCompare {
        var command = try CompareCommand.parseAsRoot(Array(arguments.dropFirst()))
        try command.run()
    } else if isMerge {
        var command = try MergeCommand.parseAsRoot(Array(arguments.dropFirst()))
        try command.run()
    } else if isAgent {
        var command = try AgentCommand.parseAsRoot(Array(arguments.dropFirst()))
        try command.run()
    } else {
        var command = try RunCommand.parseAsRoot(WebFlags.defaultingBareWeb(arguments))
        try command.run()
    }
} catch let error as UsageError {
    fputs(SecretMask.apply("luaload: \(error)\n"), stderr)   // a script's error may quote a --secret value
    exit(2)
} catch let error as ExitCode {
    exit(error.rawValue)
} catch {
    let command: ParsableCommand.Type = isServe ? ServeCommand.self : isWrk ? WrkCommand.self : isMerge ? MergeCommand.self : isCompare ? CompareCommand.self : isAgent ? AgentCommand.self : RunCommand.self
    if command.exitCode(for: error) == .success {
        print(command.fullMessage(for: error))
        exit(0)
    }
    fputs(command.fullMessage(for: error) + "\n", stderr)
    exit(2)
}
