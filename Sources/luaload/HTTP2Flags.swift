import ArgumentParser
import LuaLoadCore

/// HTTP/2 (docs/http2.md): over TLS ALPN offers h2 and http/1.1 unless --http1.1; --http2-prior-knowledge speaks
/// h2c on cleartext (curl's names).
struct HTTP2Flags: ParsableArguments {
    @Flag(name: .customLong("http1.1"), help: "Speak HTTP/1.1 only: TLS offers only http/1.1 by ALPN.")
    var http11 = false

    @Flag(name: .customLong("http2-prior-knowledge"), help: "Speak HTTP/2 on cleartext http:// too (h2c, no upgrade).")
    var priorKnowledge = false

    @Option(name: .customLong("batch-per-host"), help: "http.batch on HTTP/1.1: connections per host a VU's batch opens (a browser's 6); 0: one after another.")
    var batchPerHost = 6

    @Option(name: .customLong("h2-pool"), help: ArgumentHelp("Each thread's VUs share N HTTP/2 connections, as many streams each as the server allows (a gateway's traffic); default: a connection per VU.", valueName: "N"))
    var h2Pool: Int?

    func validate() throws {
        if http11 && priorKnowledge { throw ValidationError("--http1.1 and --http2-prior-knowledge exclude each other") }
        if let n = h2Pool, n < 1 { throw ValidationError("--h2-pool must be at least 1, got \(n)") }
        if http11 && h2Pool != nil { throw ValidationError("--h2-pool needs HTTP/2: it excludes --http1.1") }
        if !(0...64).contains(batchPerHost) { throw ValidationError("--batch-per-host must be between 0 and 64, got \(batchPerHost)") }
    }

    var mode: HTTP2Mode { http11 ? .off : (priorKnowledge ? .priorKnowledge : .alpn) }
}
