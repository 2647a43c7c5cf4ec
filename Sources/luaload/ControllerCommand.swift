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
        let co = try controllerOptions()   // every run option carried, applied or refused (ControllerCommand+Options.swift)
        let (address, n) = (co.address, co.agents)
        let controller = try Controller(options: co, run: options)
        for note in controller.packageNotes { writeStderr("luaload controller: note: \(note)\n") }
        let dashboard = try webFlags.startForController(controller, facts: controllerFacts(options, co), title: "luaload: " + script + " (\(n) agents)")
        defer { dashboard?.stop() }
        let metricsRun = try controllerMetrics(options, controller)   // ControllerCommand+Metrics
        // Said once nothing more can fail before the agents come (--web's and --metrics-listen's ports are bound).
        writeStderr("luaload controller: listening on \(LinkAddress("\(address.host):\(controller.port)")!) for \(n) agents (script sha256 \(controller.scriptSHA256))\n")
        let status = LiveStatus(live: !quiet, printStats: printStats && !quiet)
        let byTag = printStats && !quiet && isatty(2) == 0
        var result = try controller.run(log: { writeStderr("luaload controller: \($0)\n") }, observer: { event in
            status.observe(event)
            dashboard?.observe(event)
            metricsRun?.observe(event)
            // --print-stats: the breakdown by tag under the stats table, every 2 s.
            if byTag, case .tick(let p) = event, !p.stopping, p.tick % 2 == 0 {
                let groups = MergeGroups(tag: d.by, groups: controller.liveGroups(elapsed: p.elapsed))
                writeStderr(groups.console(total: p.currentStats()) + "\n")
            }
        })
        if let metricsRun { result.total.notes += metricsRun.finish(result) }
        let total = result.total
        dashboard?.finish(total, groups: result.groups.map { LiveGroups($0, agents: result.agents) })
        for note in total.notes { writeStderr("luaload controller: \(note)\n") }
        try writeControllerReports(result, agents: n)   // `luaload merge --by` of the agents' files, with "agents"
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
