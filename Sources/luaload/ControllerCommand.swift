import ArgumentParser
import LuaLoadCore
#if canImport(Glibc)
import Glibc
#endif

/// `luaload --controller [HOST:]PORT --agents N … script.lua`: the options of a test run by agents.
struct DistributedOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run no users here: listen for agents (luaload agent) on this address (default host: 127.0.0.1) and run the test through them.", valueName: "[host:]port"))
    var controller: String?

    @Option(help: ArgumentHelp("With --controller: how many agents the test needs; each runs segment k/N.", valueName: "N"))
    var agents: Int?

    @Option(help: ArgumentHelp("With --controller: how long to wait for every agent, e.g. 60s (then exit 2).", valueName: "duration"))
    var agentsTimeout: String = "60s"

    @Option(help: ArgumentHelp("With --controller: an agent heard from neither a second nor a ping this long is lost, e.g. 10s (at least 2s: agents speak every second).", valueName: "duration"))
    var agentSilence: String = "10s"

    @Option(help: ArgumentHelp("With --controller: the token agents must give (default: $LUALOAD_TOKEN, else one is made up and printed).", valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp("With --controller: break the reports down by this agent tag.", valueName: "tag"))
    var by: String = "region"

    @Option(help: ArgumentHelp("With --controller: TLS on the link with this PEM certificate (agents verify it with --cacert).", valueName: "file"))
    var linkCert: String?

    @Option(help: ArgumentHelp("With --controller: the private key (PEM) of --link-cert (default: the --link-cert file).", valueName: "file"))
    var linkKey: String?
}

extension RunCommand {
    /// The test through agents: same options, same reports (merged exactly from the agents' own).
    func runAsController(_ options: RunOptions) throws {
        let d = distributed
        guard let text = d.controller, let address = LinkAddress(text) else {
            throw UsageError("bad --controller \"\(d.controller ?? "")\": use [host:]port, e.g. 7400 or 0.0.0.0:7400")
        }
        guard let n = d.agents else { throw UsageError("--controller needs --agents N (how many agents run the test)") }
        guard let wait = parseDuration(d.agentsTimeout), wait > 0 else { throw UsageError("bad --agents-timeout \"\(d.agentsTimeout)\"") }
        guard let silence = parseDuration(d.agentSilence), silence >= 2 else {
            throw UsageError("bad --agent-silence \"\(d.agentSilence)\": a duration of 2s or more (agents send a message every second)")
        }
        if serve { throw UsageError("--serve starts a target on this box, which agents elsewhere cannot reach: start `luaload serve` instead") }
        if scale.segment != nil || scale.segments != nil { throw UsageError("--controller gives the agents their segments: drop --segment/--segments") }
        var token = d.token ?? getenv("LUALOAD_TOKEN").map { String(cString: $0) } ?? ""
        if token.isEmpty {
            token = Self.newToken()
            writeStderr("luaload controller: agents' token: \(token)\n")
        }
        var co = ControllerOptions(address: address, agents: n, token: token)
        co.agentsTimeout = wait
        co.silenceTimeout = silence
        co.by = d.by
        co.handleSignals = true
        if let cert = d.linkCert { co.tls = try LinkTLS(certificate: cert, key: d.linkKey ?? cert) }
        else if d.linkKey != nil { throw UsageError("--link-key needs --link-cert") }
        let controller = try Controller(options: co, run: options)
        for note in controller.packageNotes { writeStderr("luaload controller: note: \(note)\n") }
        writeStderr("luaload controller: listening on \(LinkAddress("\(address.host):\(controller.port)")!) for \(n) agents (script sha256 \(controller.scriptSHA256))\n")
        var facts = webFacts(options, [])
        facts.append(("agents", String(n)))
        let dashboard = try webFlags.startForController(controller, facts: facts, title: "luaload: " + script + " (\(n) agents)")
        defer { dashboard?.stop() }
        let status = LiveStatus(live: !quiet, printStats: printStats && !quiet)
        let hdrLog = scale.hdrLog.map { _ in HdrLogRecorder() }
        let byTag = printStats && !quiet && isatty(2) == 0
        let result = try controller.run(log: { writeStderr("luaload controller: \($0)\n") }, observer: { event in
            status.observe(event)
            hdrLog?.observe(event)
            dashboard?.observe(event)
            // --print-stats: the breakdown by tag under the stats table, every 2 s.
            if byTag, case .tick(let p) = event, !p.stopping, p.tick % 2 == 0 {
                let groups = MergeGroups(tag: d.by, groups: controller.liveGroups(elapsed: p.elapsed))
                writeStderr(groups.console(total: p.currentStats()) + "\n")
            }
        })
        let total = result.total
        dashboard?.finish(total, groups: result.groups.map { LiveGroups($0, agents: result.agents) })
        for note in total.notes { writeStderr("luaload controller: \(note)\n") }
        if json == "-" { writeStderr(result.console()) } else { print(result.console(), terminator: "") }
        var writer = ReportWriter()   // each report on its own: one that fails neither stops the others nor passes unseen
        if let path = scale.hdrLog, let hdrLog { writer.write("--hdr-log", path, hdrLog.render(total)) }
        if let json { writer.write("--json", json, result.json()) }
        if let csv {
            for file in CSVReport.files(total, prefix: csv, fullHistory: false) { writer.write("--csv", file.path, file.text) }
        }
        if let html {
            let title = "luaload: " + script + " (\(n) agents)"
            writer.write("--html", html, result.groups?.htmlPage(total: total, title: title) ?? HTMLReport.render(total, title: title))
        }
        if let junit { writer.write("--junit", junit, JUnitReport.render(total)) }
        try exitIfReportsFailed(writer)
        if result.stoppedNow { throw ExitCode(130) }   // a second Ctrl-C: reported, and said (as a plain run)
        if !total.thresholdResults.isEmpty && total.anyThresholdCrossed { throw ExitCode(3) }
        if result.incomplete { throw ExitCode(exitCodeOnError == 0 ? 1 : exitCodeOnError) }
        if total.thresholdResults.isEmpty && (total.total.failures > 0 || !total.errors.isEmpty) { throw ExitCode(exitCodeOnError) }
    }

    /// 128 random bits, hex.
    static func newToken() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        if let f = fopen("/dev/urandom", "rb") { _ = fread(&bytes, 1, bytes.count, f); fclose(f) }
        return bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
