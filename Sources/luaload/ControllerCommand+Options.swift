import LuaLoadCore
#if canImport(Glibc)
import Glibc
#endif

/// Every run option on a controller run means on the whole test what it means on one box — carried to
/// the agents in the run package, or applied by the controller — or is refused here, before any agent is
/// awaited (exit 2, naming the flag and what to do instead). docs/distributed.md, "Options on a controller
/// run"; DistributedOptionsTests holds the table of every option and fails on one it does not classify.
extension RunCommand {
    /// The controller's options (what it cannot give a meaning to was refused first: refuseOptionsWithoutMeaning).
    func controllerOptions() throws -> ControllerOptions {
        let d = distributed
        guard let text = d.controller, let address = LinkAddress(text) else {
            throw UsageError("bad --controller \"\(d.controller ?? "")\": use [host:]port, e.g. 7400 or 0.0.0.0:7400")
        }
        guard let n = d.agents else { throw UsageError("--controller needs --agents N (how many agents run the test)") }
        guard let wait = parseDuration(d.agentsTimeout), wait > 0 else { throw UsageError("bad --agents-timeout \"\(d.agentsTimeout)\"") }
        guard let silence = parseDuration(d.agentSilence), silence >= 2 else {
            throw UsageError("bad --agent-silence \"\(d.agentSilence)\": a duration of 2s or more (agents send a message every second)")
        }
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
        co.agentThreads = threads
        co.tags = try scale.givenTags()
        co.startAt = try scale.resolveStart()
        co.startLateOk = scale.startLateOk
        co.exitCodeOnError = exitCodeOnError
        return co
    }

    /// The dashboard's facts: the controller's --tag, the agents' threads (its -t, or each box's), how many agents.
    func controllerFacts(_ options: RunOptions, _ co: ControllerOptions) -> [(String, String)] {
        var facts = webFacts(options, co.tags)
        if let k = facts.firstIndex(where: { $0.0 == "threads" }) { facts[k].1 = threads.map { "\($0) per agent (-t)" } ?? "each agent's" }
        facts.append(("agents", String(co.agents)))
        return facts
    }

    /// Before anything else (segments, tags, the start time are read): the options a controller run cannot
    /// give a meaning to, and on a plain run the controller's own, refused instead of ignored.
    func refuseOptionsWithoutMeaning(_ arguments: [String]) throws {
        guard distributed.controller != nil else { return try refuseControllerOptions(arguments) }
        if serve { throw UsageError("--serve starts a target on this box, which agents elsewhere cannot reach: start `luaload serve` instead") }
        if scale.segment != nil || scale.segments != nil { throw UsageError("--controller gives the agents their segments: drop --segment/--segments") }
        if getenv("LUALOAD_SEGMENT") != nil { throw UsageError("--controller gives the agents their segments: unset LUALOAD_SEGMENT") }
        if webFlags.wait { throw UsageError("--wait is not for --controller: the test starts when every agent is ready (--start-at starts it at a time)") }
        try scale.refuseSegmentTag()
    }

    /// A plain run: the controller's own options would do nothing (those with a default are looked for in
    /// the arguments).
    private func refuseControllerOptions(_ arguments: [String]) throws {
        let flags = ["--agents", "--agents-timeout", "--agent-silence", "--token", "--by", "--link-cert", "--link-key"]
        let given = flags.filter { flag in arguments.contains { $0 == flag || $0.hasPrefix(flag + "=") } }
        guard let first = given.first else { return }
        throw UsageError("\(first) is an option of --controller (a test run through agents): add --controller [HOST:]PORT, or leave \(given.joined(separator: ", ")) out")
    }
}
