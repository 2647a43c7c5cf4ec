/// `luaload wrk`: failures sorted into wrk's error counters, and the responses that completed.
public struct WrkErrors: Sendable {
    /// Connections that could not be made (TCP or TLS handshake; TLS failures all count here).
    public var connect = 0
    /// Reading failed, the server closed early, or the response was not HTTP.
    public var read = 0
    public var write = 0
    /// Statuses above 399 (completed responses all the same).
    public var status = 0
    /// No whole response within --timeout.
    public var timeout = 0
    /// Responses received, whatever their status (wrk's "requests").
    public var completed = 0

    public init() {}

    /// Sorts a worker's coded failures; `recorded` is its recorded requests (completed + transport failures).
    mutating func add(_ w: WorkerStats) {
        var transport = 0
        for (key, n) in w.coded {
            switch key.failure {
            case .status: status += n; continue
            case .connect, .resolve, .noHost, .tls, .http2Required: connect += n
            case .send: write += n
            case .receive, .closedEarly, .badResponse, .badEncoding, .http2Reset, .http2GoAway, .http2: read += n
            case .timeout, .http2Stalled: timeout += n
            }
            transport += n
        }
        completed += w.rows.reduce(0) { $0 + $1.requests } - transport
    }

    /// Any socket error (wrk then prints its "Socket errors" line).
    public var anySocketError: Bool { connect + read + write + timeout > 0 }
}
