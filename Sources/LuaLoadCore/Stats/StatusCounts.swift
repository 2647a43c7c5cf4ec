/// A stats row's requests by outcome: the `status` label of Prometheus' `luaload_requests_total`.
///
/// Rows count requests and failures, not status codes: counting every response's code would cost each
/// request a store for a feature few runs use. What the workers already keep per failure says the rest,
/// so this costs nothing per request:
/// - "ok": requests the run counted as succeeded (any status the default rule or `res:success()` accepted);
/// - "400" … "599" (any code): failed by the default rule on that status;
/// - "error": failed without a status (connect, send, receive, timeout, TLS, a bad response);
/// - "failed": failed by the script (`res:failure(msg)`, `fail(msg)`), whatever the status.
/// They add up to the row's requests exactly.
public struct StatusKey: Hashable, Sendable {
    public var method: String
    public var name: String
    public var status: String

    public init(method: String, name: String, status: String) {
        self.method = method
        self.name = name
        self.status = status
    }
}

extension WorkerStats {
    /// Adds this worker's rows, by outcome, to `out`. `byText`: its failures are all texts (an agent's
    /// seconds, a report read back), labelled by `StatusKey.status(ofFailureText:)`.
    public func addStatusCounts(to out: inout [StatusKey: Int], byText: Bool = false) {
        for row in rows where row.requests > 0 {
            out[StatusKey(method: row.method, name: row.name, status: "ok"), default: 0] += row.requests - row.failures
        }
        for (key, count) in coded where Int(key.stat) < rows.count {
            let row = rows[Int(key.stat)]
            let status: String
            if case .status(let code) = key.failure { status = String(code) } else { status = "error" }
            out[StatusKey(method: row.method, name: row.name, status: status), default: 0] += count
        }
        for (key, count) in custom {
            out[StatusKey(method: key.method, name: key.name, status: byText ? StatusKey.status(ofFailureText: key.error) : "failed"), default: 0] += count
        }
    }
}

extension StatusKey {
    /// The status of a failure known only by its text, as the run that counted it labelled it: an agent's
    /// second and a report read back keep texts, not codes. "HTTP 401 Unauthorized" → "401"; a failure
    /// without a status ("connect: …", "timeout: …", TLS, HTTP/2) → "error"; any other text (the script's
    /// own, `res:failure(msg)`) → "failed". A script message worded exactly as one of luaload's is taken for it.
    public static func status(ofFailureText text: String) -> String {
        if text.hasPrefix("HTTP "), let code = Int32(text.dropFirst(5).prefix(3)), text == Failure.status(code).text() { return String(code) }
        return errorTexts.contains(where: text.hasPrefix) ? "error" : "failed"
    }

    /// The beginnings of `Failure.text` for every failure without a status (TLS texts begin "TLS ").
    static let errorTexts = ["connect: ", "send: ", "receive: ", "invalid HTTP response: ", "HTTP/2 ", "TLS "]
        + [Failure.timeout, .closedEarly, .badEncoding, .resolve, .noHost].map { $0.text() }
}
