import ArgumentParser
import LuaLoadCore
import LuaLoadServe
#if canImport(Glibc)
import Glibc
#endif

/// `luaload serve`: the built-in target (the example SaaS API of the guide), with fault injection.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "luaload serve",
        abstract: "The built-in target: the example SaaS API that the scripts in scripts/ exercise.",
        discussion: "Routes, credentials and /__stats: Sources/LuaLoadServe/README.md. Stop with Ctrl-C.")

    @Option(help: "Address and port to listen on.")
    var listen = "127.0.0.1:8080"

    @Option(name: [.customShort("t"), .long], help: "Event-loop threads.")
    var threads = 1

    @Option(help: "Added to every response, e.g. 20ms.")
    var latency = "0"

    @Option(help: "Random ± spread around --latency, e.g. 5ms.")
    var jitter = "0"

    @Option(help: "Share of requests answered 500, 0 to 1.")
    var errorRate = 0.0

    @Option(help: "Close a connection with no request under way, or whose client moves no byte, after this long; 0: never.")
    var idleTimeout = "60s"

    @Option(help: "Answer 408 and close when a request head is still incomplete this long after it began; 0: never.")
    var headerTimeout = "10s"

    func run() throws {
        var options = ServeOptions()
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
            throw UsageError("bad --listen \"\(listen)\": use host:port, e.g. 127.0.0.1:8080")
        }
        options.host = String(listen[..<colon]).trimmingCharacters(in: "[]")
        options.port = port
        options.threads = threads
        guard let l = parseDuration(latency), let j = parseDuration(jitter) else { throw UsageError("bad --latency or --jitter") }
        options.latencyMicros = UInt64(l * 1_000_000)
        options.jitterMicros = UInt64(j * 1_000_000)
        options.errorRate = errorRate
        guard let idle = parseDuration(idleTimeout) else { throw UsageError("bad --idle-timeout \"\(idleTimeout)\"") }
        guard let header = parseDuration(headerTimeout) else { throw UsageError("bad --header-timeout \"\(headerTimeout)\"") }
        options.idleTimeoutMicros = UInt64(idle * 1_000_000)
        options.headerTimeoutMicros = UInt64(header * 1_000_000)
        blockTerminationSignals()
        let server: TargetServer
        do { server = try TargetServer(options: options) } catch { throw UsageError("\(error)") }
        server.start()
        print("luaload serve: listening on http://\(listen.hasPrefix("[") ? listen : (options.host.contains(":") ? "[\(options.host)]:\(server.port)" : "\(options.host):\(server.port)")) (Ctrl-C stops)")
        var signals = terminationSignals()
        var received: Int32 = 0
        sigwait(&signals, &received)
        server.stop()
        print(server.statsJSON())
    }
}

func terminationSignals() -> sigset_t {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    return set
}

func blockTerminationSignals() {
    var set = terminationSignals()
    pthread_sigmask(SIG_BLOCK, &set, nil)
}

extension String {
    func trimmingCharacters(in chars: String) -> String {
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
