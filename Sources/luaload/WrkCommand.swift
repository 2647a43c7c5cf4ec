import ArgumentParser
import LuaLoadCore
#if canImport(Glibc)
import Glibc
#endif

/// `luaload wrk`: wrk's command line, Lua API and output on luaload's engine, plus luaload's reports and TLS checks.
struct WrkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "luaload wrk",
        abstract: "Run like wrk: its flags, its Lua scripts unchanged, its output.",
        discussion: """
            Numeric arguments may include an SI unit (1k, 1M, 1G); time arguments a time unit (2s, 2m, 2h).
            Arguments after `--` go to the script's init(args). Exit codes: 0 the run happened (failed requests
            are in the output, as with wrk), 1 a script error, 2 bad usage or a script that does not load.
            """)

    @Option(name: [.customShort("c"), .long], help: "Connections to keep open, in total across the threads.")
    var connections = "10"

    @Option(name: [.customShort("d"), .long], help: "Duration of the test.")
    var duration = "10s"

    @Option(name: [.customShort("t"), .long], help: "Number of threads to use.")
    var threads = "2"

    @Option(name: [.customShort("s"), .long], help: "Load a wrk Lua script file.")
    var script: String?

    @Option(name: [.customShort("H"), .long], help: ArgumentHelp("Add a header to the requests, \"Name: value\".", valueName: "H"))
    var header: [String] = []

    @Flag(name: [.customShort("L"), .long], help: "Print the latency distribution.")
    var latency = false

    @Option(name: [.customShort("T"), .long], help: "A request with no whole response within this long fails with a timeout.")
    var timeout = "2s"

    @Option(name: [.customShort("R"), .long], help: "wrk2's constant rate: requests per second in total, latency timed from when each was due.")
    var rate: String?

    @Flag(name: [.customShort("U"), .customLong("u_latency")], help: "With -R and --latency: also print the uncorrected latency distribution (wrk2's -U).")
    var uncorrectedLatency = false

    @Flag(name: [.customShort("k"), .long], help: "Do not verify the TLS certificate and name of an https server.")
    var insecure = false

    @Option(help: ArgumentHelp("Trust the CA certificates in this PEM file instead of the system's.", valueName: "file"))
    var cacert: String?

    @Option(help: "Also write the summary as JSON to this file.")
    var json: String?

    @Option(help: "Also write Locust's CSV files with this prefix.")
    var csv: String?

    @Option(help: "Also write a self-contained HTML report to this file.")
    var html: String?

    @Argument(help: "The URL, http://host[:port][/path] or https://…")
    var url: String

    @Argument(parsing: .postTerminator, help: "Arguments for the script's init(args), after `--`.")
    var scriptArgs: [String] = []

    func run() throws {
        try ReportWriter.check([("--json", json), ("--csv", csv.map { $0 + "_stats.csv" }), ("--html", html)]
            .compactMap { flag, path in path.map { (flag, $0) } })
        let options = try runOptions()
        let wrk = options.wrk!
        let runner = try Runner(options: options)
        if let warning = runner.descriptorWarning(serving: false) { writeStderr("luaload: warning: \(warning)\n") }
        print(WrkReport.header(durationSeconds: options.duration!, url: url, threads: wrk.threads, connections: wrk.connections), terminator: "")
        let startedAt = time(nil)
        let status = LiveStatus(live: false, printStats: false)   // only the stop's messages
        var summary = runner.run(observer: status.observe)
        summary.startUnixTime = Int(startedAt)
        let latencyStats = WrkStatsData.latency(summary, connections: wrk.connections)
        let rates = WrkStatsData.rates(summary)
        print(WrkReport.render(summary, latency: latencyStats, rates: rates, distribution: latency,
                               uncorrected: uncorrectedLatency), terminator: "")
        var writer = ReportWriter()
        if let json { writer.write("--json", json, JSONReport.render(summary)) }
        if let csv {
            for file in CSVReport.files(summary, prefix: csv, fullHistory: false) { writer.write("--csv", file.path, file.text) }
        }
        if let html { writer.write("--html", html, HTMLReport.render(summary, title: "luaload wrk: " + url)) }
        try exitIfReportsFailed(writer)
        if runner.stoppedNow { throw ExitCode(130) }
        var failed = false
        if let session = runner.wrk, session.hasDone {
            do {
                try session.done(summary, latency: latencyStats, rates: rates, errors: summary.wrkErrors)
            } catch {
                writeStderr("luaload: done(): \(error)\n")
                failed = true
            }
        }
        for e in summary.errors {
            writeStderr("luaload: script error (\(e.count)×): \(e.message)\n")
            failed = true
        }
        if failed { throw ExitCode(1) }
    }

    /// wrk's checks and defaults (2 threads, 10 connections, 10 s, 2 s timeout), as luaload's RunOptions.
    func runOptions() throws -> RunOptions {
        guard let t = scanMetric(threads), t > 0 else { throw UsageError("bad -t \"\(threads)\": a number of threads >= 1") }
        guard let c = scanMetric(connections), c > 0 else { throw UsageError("bad -c \"\(connections)\": a number of connections") }
        guard c >= t else { throw UsageError("number of connections must be >= threads") }
        guard let d = parseDuration(duration), d > 0 else { throw UsageError("bad -d \"\(duration)\": use e.g. 10s, 2m, 1h") }
        guard let to = parseDuration(timeout), to > 0 else { throw UsageError("bad --timeout \"\(timeout)\": use e.g. 2s") }
        try Preflight.checkNoSpaceOrControl(url, from: "URL")
        var target = try wrkTarget(url)
        for h in header {
            guard let colon = h.firstIndex(of: ":"), h[h.index(after: colon)...].hasPrefix(" "), colon != h.startIndex else {
                throw UsageError("bad -H \"\(h)\": expected \"Name: value\"")
            }
            if h.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) || h[..<colon].contains(" ") {
                throw UsageError("bad -H \"\(h)\": a header name has no space, and neither has a control character")
            }
            target.headers.append((String(h[..<colon]), String(h[h.index(colon, offsetBy: 2)...])))
        }
        var wrk = WrkOptions(target: target, scriptPath: script)
        if let script, access(script, R_OK) != 0 { throw UsageError("cannot read script \(script)") }
        wrk.args = scriptArgs
        wrk.connections = c
        wrk.threads = t
        var options = RunOptions(scriptPath: script ?? "", threads: t)
        options.users = c
        options.duration = d
        options.timeout = to
        options.tls.insecure = insecure
        options.tls.caFile = cacert
        options.wrk = wrk
        if let rate {
            guard let r = scanMetric(rate), r > 0 else { throw UsageError("bad -R \"\(rate)\": a number of requests per second >= 1") }
            options.rate = Double(r)   // the open model, its default --late queue: wrk2's way
        } else if uncorrectedLatency {
            throw UsageError("-U/--u_latency prints wrk2's uncorrected latency: it needs -R")
        }
        return options
    }
}

/// The URL's parts as wrk's Lua API shows them: no port → wrk.port nil; the path runs to the URL's end.
func wrkTarget(_ url: String) throws -> WrkTarget {
    let scheme = url.hasPrefix("https://") ? "https" : "http"
    guard URLParts(url) != nil, url.hasPrefix(scheme + "://") else { throw UsageError("invalid URL: \(url)") }
    let rest = url.dropFirst(scheme.count + 3)
    let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
    let authority = rest[..<authorityEnd]
    var host = Substring(authority), port: String? = nil
    if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
        host = authority[authority.index(after: authority.startIndex)..<close]
        let after = authority[authority.index(after: close)...]
        if after.hasPrefix(":") { port = String(after.dropFirst()) }
    } else if let colon = authority.lastIndex(of: ":") {
        host = authority[..<colon]
        port = String(authority[authority.index(after: colon)...])
    }
    let path = rest[authorityEnd...].hasPrefix("/") ? String(rest[authorityEnd...]) : "/"
    return WrkTarget(url: url, scheme: scheme, host: String(host), port: port, path: path, headers: [])
}

/// wrk's numbers: digits, then optionally k, M, G, T or P (powers of 1000, any case).
func scanMetric(_ s: String) -> Int? {
    let digits = s.prefix(while: { $0.isNumber })
    guard let base = Int(digits) else { return nil }
    let unit = s.dropFirst(digits.count).lowercased()
    let scales = ["": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000, "t": 1_000_000_000_000, "p": 1_000_000_000_000_000]
    guard let scale = scales[unit] else { return nil }
    return base.multipliedReportingOverflow(by: scale).overflow ? nil : base * scale
}

/// wrk's getopt takes a short option's value attached ("-t2", "-c100"); the argument parser wants it apart.
func splitAttachedValues(_ arguments: [String]) -> [String] {
    var out: [String] = []
    for (k, a) in arguments.enumerated() {
        if a == "--" { return out + arguments[k...] }
        if a.count > 2, a.hasPrefix("-"), !a.hasPrefix("--"), "cdtsHTR".contains(a[a.index(after: a.startIndex)]) {
            out.append(String(a.prefix(2)))
            out.append(String(a.dropFirst(2)))
        } else {
            out.append(a)
        }
    }
    return out
}
