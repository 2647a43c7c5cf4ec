/// What the live view shows beside the requests: script errors (with the first one's message, which
/// names its `file:line`) and connection failures. Workers post their totals once a second (read from
/// their stats then: nothing per request); the Runner adds the workers' and hands the view this second's.
public struct LiveErrors: Sendable {
    public var scriptErrors = 0
    /// Failures to connect, resolve, or do a TLS handshake (no request reached a server).
    public var connectionFailures = 0
    /// The first script error's message, as Lua raised it ("script.lua:12: attempt to index a nil value").
    public var firstScriptError: String?

    public init() {}

    /// A worker's totals so far, once a second.
    init(_ stats: WorkerStats) {
        scriptErrors = stats.scriptErrorCount
        firstScriptError = stats.firstScriptError
        for (key, n) in stats.coded {
            switch key.failure {
            case .connect, .resolve, .noHost, .tls: connectionFailures += n
            default: break
            }
        }
    }

    mutating func add(_ o: LiveErrors) {
        scriptErrors += o.scriptErrors
        connectionFailures += o.connectionFailures
        if firstScriptError == nil { firstScriptError = o.firstScriptError }
    }
}

extension Runner {
    /// The workers' totals as of this tick, and into `progress` what happened since the last tick.
    static func describeErrors(_ totals: LiveErrors, since previous: inout LiveErrors, into p: inout RunProgress) {
        p.scriptErrorsTotal = totals.scriptErrors
        p.scriptErrors = totals.scriptErrors - previous.scriptErrors
        p.connectionFailures = totals.connectionFailures - previous.connectionFailures
        p.firstScriptError = totals.firstScriptError
        previous = totals
    }
}
