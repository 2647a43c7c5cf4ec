import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// `luaload agent`: what to connect to and how this box runs its part.
public struct AgentOptions {
    public var address: LinkAddress
    public var token: String
    /// --tag key=value (region first), host: the controller groups by them.
    public var tags: [(key: String, value: String)]
    /// -t; nil: the controller's -t, else the box's cores.
    public var threads: Int?
    /// How long to keep trying to reach the controller (it may come up after its agents).
    public var connectTimeout: Double = 60
    /// TLS on the link (--cacert: the CA that signed the controller's --link-cert); plain TCP when nil.
    public var tls: LinkTLS?
    /// --script-sha256: run only the script with this SHA-256 (hex); the controller refuses the agent otherwise.
    public var scriptSHA256: String?

    public init(address: LinkAddress, token: String, tags: [(key: String, value: String)], threads: Int?) {
        self.address = address
        self.token = token
        self.tags = tags
        self.threads = threads
    }
}

/// What an agent's run came to: its own report, as `luaload --json` would write it.
public struct AgentResult {
    public var summary: Summary
    public var document: String
    public var thresholds: [Threshold]
    /// The exit code when a request failed or a script error occurred (the controller's --exit-code-on-error).
    public var exitCodeOnError: Int32 = 1
    /// Why the link to the controller went down during the run, if it did (the segment still ran to its end).
    public var controllerLost: String?
}

/// One agent: connects, authenticates, receives the run and its segment, waits for the common start,
/// runs its segment with the ordinary Runner and streams its seconds (AgentLink), then sends its report.
public final class Agent {
    public let options: AgentOptions

    public init(options: AgentOptions) { self.options = options }

    public func run(log: (String) -> Void, observer: @escaping (RunEvent) -> Void) throws -> AgentResult {
        Sys.ignoreSIGPIPE()
        let connection = try connect(log: log)
        if let tls = options.tls {
            try connection.startTLS(tls, host: options.address.host)
            try connection.handshake(timeout: 10)
        }
        let sentAt = monotonicMicros()
        try connection.send(LinkMessage.encode("hello") { w in
            w.key("version"); w.string(lualoadVersion)
            w.key("token"); w.string(options.token)
            w.key("tags"); w.object { for t in options.tags { w.key(t.key); w.string(t.value) } }
            if let pin = options.scriptSHA256 { w.key("script_sha256"); w.string(pin.lowercased()) }
        })
        let welcome = try expect(connection, "welcome", timeout: 30)
        let rtt = monotonicMicros() - sentAt
        guard let segment = welcome["segment"]?.string.flatMap(Segment.init) else { throw LinkError("the controller sent no segment") }
        log("agent \(welcome["id"]?.int ?? 0): segment \(segment) of the test at \(options.address)")
        let package = try RunPackage.read(try expect(connection, "run", timeout: 60))
        SecretMask.set(package.options.secrets)   // --secret on the controller: masked in this agent's logs and reports too
        if let pin = options.scriptSHA256?.lowercased(), let script = package.files.first, ScriptDigest.sha256(script.bytes) != pin {
            try? connection.send(LinkMessage.encode("failed") { w in w.key("message"); w.string("not the script this agent was pinned to (--script-sha256)") })
            throw UsageError("the controller sent a script of sha256 \(ScriptDigest.sha256(script.bytes)), not \(pin) (--script-sha256)")
        }
        let folder = try Agent.makeFolder()
        defer { Agent.remove(package, from: folder) }
        let control = RunControls(abortsLocally: false)
        let runner: Runner
        do {
            var run = try package.unpack(into: folder)
            run.threads = threads(package, log: log)
            run.segment = segment
            run.controls = control
            runner = try Runner(options: run)
        } catch {
            try? connection.send(LinkMessage.encode("failed") { w in w.key("message"); w.string("\(error)") })
            throw error
        }
        try connection.send(LinkMessage.encode("ready"))
        let start = try awaitStart(connection, silence: Double(welcome["silence_ms"]?.int ?? 24 * 3_600_000) / 1000)
        let delay = Double(start["delay_ms"]?.int ?? 0) / 1000 - Double(rtt) / 2e6
        if delay > 0 { usleep(UInt32(min(delay, 10) * 1e6)) }
        let link = AgentLink(connection: connection, control: control)
        link.start()
        let deltas = SecondDeltaBuilder()
        var summary = Agent.inFolder(folder) {
            runner.run(observer: { event in
                if case .tick(let p) = event { link.send(deltas.message(p)) }
                // SIGTERM (a pod evicted) or Ctrl-C here: the controller hears it now; the report follows at the end.
                if case .interrupted = event { link.send(LinkMessage.encode("stopping") { w in w.key("reason"); w.string("interrupted") }) }
                observer(event)
            })
        }
        summary.startUnixTime = Int(summary.placement.startUnixMs / 1000)
        var placement = RunPlacement()
        for t in package.withRunTags(options.tags).tags { placement.setTag(t.key, t.value) }   // the controller's --tag too
        if placement.tag("segment") == nil { placement.setTag("segment", segment.description) }
        summary.placement.tags = placement.tags
        summary.evaluate(runner.thresholds)   // again, with its tags: a threshold on its region is its own
        let document = JSONReport.render(summary)
        let lost = link.finish(LinkMessage.final(document))
        return AgentResult(summary: summary, document: document, thresholds: runner.thresholds, exitCodeOnError: package.exitCodeOnError, controllerLost: lost)
    }

    /// Its own -t, else the controller's, else its cores; its own over the controller's is said.
    private func threads(_ package: RunPackage, log: (String) -> Void) -> Int {
        if let mine = options.threads {
            if let theirs = package.agentThreads, theirs != mine { log("runs its own -t \(mine), not the controller's -t \(theirs)") }
            return mine
        }
        return package.agentThreads ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// Tries the controller until it answers or `connectTimeout` is over.
    private func connect(log: (String) -> Void) throws -> LinkConnection {
        let deadline = monotonicMicros() + UInt64(options.connectTimeout * 1e6)
        var said = false
        while true {
            do {
                return try Link.connect(options.address, timeout: 2)
            } catch {
                guard monotonicMicros() < deadline else { throw UsageError("\(error) (tried for \(Int(options.connectTimeout)) s)") }
                if !said { log("waiting for the controller at \(options.address) (\(error))"); said = true }
                usleep(250_000)
            }
        }
    }

    /// The next message, which must be `type` (or the controller's refusal or abort, thrown as its message).
    private func expect(_ c: LinkConnection, _ type: String, timeout: Double) throws -> JSONTree {
        guard let frame = try c.receive(timeout: timeout) else { throw LinkError("no \(type) from the controller in \(Int(timeout)) s") }
        return try Self.check(LinkMessage.decode(frame), is: type)
    }

    /// The start, however long the controller waits for the others (or --start-at), with its pings a second
    /// in between: nothing from it for `silence` (3 × its --agent-silence) and it is taken for gone — its box
    /// vanished or cut off without closing the link — and said, instead of a wait until the 24 h cap.
    private func awaitStart(_ c: LinkConnection, silence: Double) throws -> JSONTree {
        let cap = monotonicMicros() + 24 * 3_600_000_000
        while monotonicMicros() < cap {
            guard let frame = try c.receive(timeout: silence) else {
                throw LinkError("nothing from the controller for \(Format.fixed(silence, 1)) s while waiting for the start (3 × its --agent-silence): its box is gone or cut off")
            }
            let m = try LinkMessage.decode(frame)
            if m.type != "ping" { return try Self.check(m, is: "start") }
        }
        throw LinkError("no start from the controller in 24 h")
    }

    private static func check(_ m: (type: String, body: JSONTree), is type: String) throws -> JSONTree {
        if m.type == "refused" || m.type == "abort" {
            throw UsageError("the controller \(m.type == "refused" ? "refused this agent" : "called the run off"): \(m.body["message"]?.string ?? "no reason given")")
        }
        guard m.type == type else { throw LinkError("expected \(type) from the controller, got \(m.type)") }
        return m.body
    }

    /// A private folder for the run's files ($TMPDIR, else /tmp).
    static func makeFolder() throws -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((base + "/luaload-agent-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw UsageError("cannot create a folder in \(base): \(String(cString: strerror(errno)))")
        }
        return String(cString: template)
    }

    /// Runs `body` with the working directory in `folder`, so a script's io.open of a relative path finds
    /// what the controller sent; the directory is restored after.
    static func inFolder<T>(_ folder: String, _ body: () -> T) -> T {
        let previous = open(".", O_RDONLY | O_CLOEXEC)
        _ = chdir(folder)
        defer { if previous >= 0 { _ = fchdir(previous); Glibc.close(previous) } }
        return body()
    }

    static func remove(_ package: RunPackage, from folder: String) {
        var dirs = Set<String>()
        for f in package.files {
            _ = unlink(folder + "/" + f.path)
            var parts = f.path.split(separator: "/").dropLast()
            while !parts.isEmpty { dirs.insert(parts.joined(separator: "/")); parts = parts.dropLast() }
        }
        for d in dirs.sorted(by: { $0.count > $1.count }) { _ = rmdir(folder + "/" + d) }
        _ = rmdir(folder)
    }
}
