import ArgumentParser
import LuaLoadCore
import LuaLoadWeb
#if canImport(Glibc)
import Glibc
#endif

/// --web and its companions: the live dashboard, Locust's web API and the controls (docs/web.md).
struct WebFlags: ParsableArguments {
    @Option(name: .customLong("web"), help: ArgumentHelp("Serve a live dashboard with controls and Locust's web API at [HOST:]PORT (--web alone: 127.0.0.1:8089). Without -d or -n the run goes on until stopped from the page or by Ctrl-C.", valueName: "[host:]port"))
    var web: String?

    @Option(name: .customLong("web-token"), help: ArgumentHelp("The token every --web route needs (default: none on 127.0.0.1, a random one printed once elsewhere).", valueName: "token"))
    var webToken: String?

    @Flag(name: .customLong("web-readonly"), help: "With --web: the page and the stats, without the controls.")
    var webReadonly = false

    @Flag(help: "With --web: wait for the page (or POST /swarm) to start the test, as Locust's UI does.")
    var wait = false

    static let defaultListen = "127.0.0.1:8089"

    /// `--web` with no value (followed by another option, the script or nothing) means the default address.
    static func defaultingBareWeb(_ arguments: [String]) -> [String] {
        var out: [String] = []
        for (k, a) in arguments.enumerated() {
            out.append(a)
            guard a == "--web" else { continue }
            let next = k + 1 < arguments.count ? arguments[k + 1] : nil
            if next.map({ !looksLikeListen($0) }) ?? true { out.append(defaultListen) }
        }
        return out
    }

    static func looksLikeListen(_ s: String) -> Bool {
        guard let port = s.split(separator: ":").last, !port.isEmpty, port.allSatisfy(\.isNumber) else { return false }
        return !s.hasPrefix("-")
    }

    /// Checks the combination and hands the run its control inbox.
    func apply(_ options: inout RunOptions) throws -> RunControls? {
        guard web != nil else {
            if webToken != nil || webReadonly || wait { throw UsageError("--web-token, --web-readonly and --wait need --web") }
            return nil
        }
        if wait && options.iterations != nil { throw UsageError("--wait and -n: the page starts a run whose users it sets; -n fixes them") }
        let controls = RunControls()
        options.controls = controls
        options.waitForStart = wait
        return controls
    }

    /// Binds and starts the dashboard; prints where it is (with the token when one was generated).
    func start(runner: Runner, controls: RunControls?, facts: [(String, String)], title: String) throws -> WebDashboard? {
        guard let web, let controls else { return nil }
        var o = WebDashboard.Options()
        let (host, port) = try WebFlags.parseListen(web)
        o.host = host
        o.port = port
        o.token = webToken
        o.readOnly = webReadonly
        o.waiting = wait
        o.facts = facts
        o.title = title
        let dashboard: WebDashboard
        do { dashboard = try WebDashboard(o, runner: runner, controls: controls) } catch { throw UsageError("--web: \(error)") }
        dashboard.start()
        let token = dashboard.server.auth.generated ? " (token generated for this run; it is in the URL)" : ""
        writeStderr("luaload: dashboard at \(dashboard.openURL)\(token)\(wait ? " (waiting for the page to start the test)" : "")\n")
        return dashboard
    }

    /// --controller --web: the dashboard of the whole test (the controller's merged seconds and its controls).
    func startForController(_ controller: Controller, facts: [(String, String)], title: String) throws -> WebDashboard? {
        guard let web else {
            if webToken != nil || webReadonly || wait { throw UsageError("--web-token, --web-readonly and --wait need --web") }
            return nil
        }
        var o = WebDashboard.Options()
        (o.host, o.port) = try WebFlags.parseListen(web)
        o.token = webToken
        o.readOnly = webReadonly
        o.facts = facts
        o.title = title
        let dashboard: WebDashboard
        do {
            dashboard = try WebDashboard(o, thresholds: controller.thresholds, model: controller.controlModel, controls: controller.controls)
        } catch { throw UsageError("--web: \(error)") }
        dashboard.start()
        let token = dashboard.server.auth.generated ? " (token generated for this run; it is in the URL)" : ""
        writeStderr("luaload controller: dashboard at \(dashboard.openURL)\(token)\n")
        return dashboard
    }

    /// "8089", "127.0.0.1:8089", "[::1]:8089", "0.0.0.0:8089".
    static func parseListen(_ s: String) throws -> (String, UInt16) {
        var host = "127.0.0.1"
        var portText = Substring(s)
        if let colon = s.lastIndex(of: ":") {
            host = String(s[..<colon])
            portText = s[s.index(after: colon)...]
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if host.isEmpty { host = "127.0.0.1" }
        }
        guard let port = UInt16(portText) else { throw UsageError("bad --web \"\(s)\": use [HOST:]PORT, e.g. 8089 or 127.0.0.1:8089") }
        return (host, port)
    }

    /// A run started without -d or -n and stopped from the page: the page stays (its downloads, its last
    /// numbers) until Ctrl-C or SIGTERM. Any other end exits as usual.
    static func linger(_ dashboard: WebDashboard?, _ summary: Summary, interactive: Bool) {
        guard let dashboard, interactive, summary.stopReason == .stopped else { return }
        writeStderr("luaload: the run is over; the dashboard stays at \(dashboard.openURL) until Ctrl-C\n")
        blockTerminationSignals()
        var signals = terminationSignals()
        var received: Int32 = 0
        sigwait(&signals, &received)
    }
}

extension RunCommand {
    /// The run's facts for the dashboard's header.
    func webFacts(_ o: RunOptions, _ tags: [(key: String, value: String)]) -> [(String, String)] {
        var facts: [(String, String)] = [("script", script), ("target", o.host ?? "the script's host"),
                                         ("threads", String(o.threads)), ("users at start", users.map(String.init) ?? "1")]
        if let spawnRate { facts.append(("spawn rate", "\(spawnRate)/s")) }
        if let duration { facts.append(("duration", duration)) }
        if let iterations { facts.append(("iterations", String(iterations))) }
        if let stages { facts.append(("stages", stages)) }
        if let rate { facts.append(("rate", rate)) }
        if let rateStages { facts.append(("rate stages", rateStages)) }
        if o.segment != .whole { facts.append(("segment", "\(o.segment)")) }
        for t in tags { facts.append(("tag " + t.key, t.value)) }
        return facts
    }
}
