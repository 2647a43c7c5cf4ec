import ArgumentParser
import LuaLoadCore
#if canImport(Glibc)
import Glibc
#endif

/// `luaload agent [HOST:]PORT`: one box's part of a test a controller (`luaload --controller`) shares out.
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "luaload agent",
        abstract: "Run a segment of a test a controller shares out (luaload --controller); stream its seconds there.",
        discussion: """
            The controller sends the script, the files it opens and the run options, and says when to start.
            If the controller goes away, the agent finishes its segment on its own (and writes --json).
            SIGTERM (a pod evicted) or Ctrl-C stops it as a run, and it still sends the controller its report.
            Exit codes: as a run's; 2 when the controller refuses the agent or calls the run off.
            """)

    @Argument(help: ArgumentHelp("The controller's link address (default host: 127.0.0.1).", valueName: "[host:]port"))
    var controller: String

    @Option(help: ArgumentHelp("The controller's token (default: $LUALOAD_TOKEN).", valueName: "token"))
    var token: String?

    @Option(name: .customLong("tag"), help: ArgumentHelp("A tag the controller groups by (repeatable); region defaults to $FLY_REGION; it stands over the controller's --tag of the same key.", valueName: "key=value"))
    var tag: [String] = []

    @Option(help: ArgumentHelp("Also write this agent's own JSON summary here (- for stdout), for `luaload merge`.", valueName: "file"))
    var json: String?

    @Option(name: [.customShort("t"), .long], help: "Threads, each with its own event loop and Lua state (default: the controller's -t, else cores).")
    var threads: Int?

    @Option(help: ArgumentHelp("Keep trying to reach the controller this long, e.g. 60s.", valueName: "duration"))
    var connectTimeout: String = "60s"

    @Option(help: ArgumentHelp("TLS on the link: trust the CA certificates in this PEM file for the controller's --link-cert.", valueName: "file"))
    var cacert: String?

    @Option(help: ArgumentHelp("Run only the script with this SHA-256 (hex; the controller prints its script's): another is refused.", valueName: "hex"))
    var scriptSha256: String?

    @Flag(name: [.customShort("q"), .long], help: "Print the summary only (no live status line).")
    var quiet = false

    @OptionGroup(title: "Metrics of this agent's own part (Prometheus: docs/prometheus.md; the controller exports the whole test)")
    var metrics: MetricsOptions

    func run() throws {
        if let json { try ReportWriter.check([("--json", json)]) }   // before connecting: no run to lose
        guard let address = LinkAddress(controller), address.port != 0 else {
            throw UsageError("bad controller address \"\(controller)\": use [host:]port, e.g. 10.0.0.5:7400")
        }
        guard let token = token ?? getenv("LUALOAD_TOKEN").map({ String(cString: $0) }), !token.isEmpty else {
            throw UsageError("give the controller's token: --token, or LUALOAD_TOKEN (the controller prints it)")
        }
        guard let wait = parseDuration(connectTimeout), wait >= 0 else { throw UsageError("bad --connect-timeout \"\(connectTimeout)\"") }
        let scale = try ScaleOptions.parse(tag.flatMap { ["--tag", $0] })
        try scale.refuseSegmentTag()
        if let s = getenv("LUALOAD_SEGMENT") { writeStderr("luaload agent: note: LUALOAD_SEGMENT=\(String(cString: s)) is not used: the controller gives each agent its segment\n") }
        var tags = try scale.resolveTags(segment: .whole)
        tags.removeAll { $0.key == "segment" }   // the controller assigns it
        var options = AgentOptions(address: address, token: token, tags: tags, threads: threads)
        options.connectTimeout = wait
        if let pin = scriptSha256 {
            guard ScriptDigest.isSHA256(pin) else { throw UsageError("bad --script-sha256 \"\(pin)\": 64 hex digits (sha256sum script.lua)") }
            options.scriptSHA256 = pin
        }
        options.tls = try cacert.map { try LinkTLS(caFile: $0) }
        let status = LiveStatus(live: !quiet, printStats: false)
        let metricsRun = try MetricsRun(metrics, tags: tags, thresholds: [])   // its part: region, host, its --tag
        let result = try Agent(options: options).run(log: { writeStderr("luaload agent: \($0)\n") }, observer: { status.observe($0); metricsRun?.observe($0) })
        var summary = result.summary
        if let metricsRun { summary.notes += metricsRun.finish(summary) }
        if let lost = result.controllerLost { writeStderr("luaload agent: lost the controller (\(lost)): the segment ran to its end on its own\n") }
        for note in summary.notes { writeStderr("luaload agent: \(note)\n") }
        if json == "-" { writeStderr(ConsoleReport.render(summary)) } else { print(SecretMask.apply(ConsoleReport.render(summary)), terminator: "") }
        var writer = ReportWriter()
        if let json { writer.write("--json", json, result.document) }
        try exitIfReportsFailed(writer)
        if !result.thresholds.isEmpty {
            if summary.anyThresholdCrossed { throw ExitCode(3) }
        } else if summary.total.failures > 0 || !summary.errors.isEmpty {
            throw ExitCode(result.exitCodeOnError)
        }
    }
}
