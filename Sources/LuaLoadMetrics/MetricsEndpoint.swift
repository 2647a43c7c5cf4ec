import LuaLoadCore
import LuaLoadLive

/// --metrics-listen: GET /metrics on a LiveServer of its own (its thread, its limits; loopback by default,
/// a token anywhere else). A scrape renders the publisher's newest set, in the format the scraper's Accept
/// header asks for; it never reaches the Runner or a worker.
public final class MetricsEndpoint {
    public let server: LiveServer

    /// Binds now: a taken port is a usage error before any traffic.
    public init(listen: ListenAddress, token: String?, publisher: MetricsPublisher) throws {
        do {
            server = try LiveServer(host: listen.host, port: listen.port, token: token)
        } catch {
            throw UsageError("--metrics-listen \(listen.text): \(error)")
        }
        server.route(.get, "/metrics") { request in
            let format = ExpositionFormat(accept: request.accept)
            return LiveResponse(contentType: format.contentType, body: Array(Exposition.render(publisher.latest, format).utf8),
                                headers: ["Cache-Control: no-store"])
        }
    }

    public func start() { server.start() }
    public func stop() { server.stop() }
}

/// [HOST:]PORT: a bare port listens on 127.0.0.1; "[::1]:9464" and "0.0.0.0:9464" name the address.
public struct ListenAddress: Sendable {
    public var host: String
    public var port: UInt16
    public var text: String

    public init(parsing text: String) throws {
        self.text = text
        let bad = UsageError("bad --metrics-listen \"\(text)\": use [HOST:]PORT, e.g. 9464, 0.0.0.0:9464 or [::1]:9464")
        var hostPart = "127.0.0.1", portPart = Substring(text)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw bad }
            portPart = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = String(text[..<colon])
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, let port = UInt16(portPart) else { throw bad }
        host = hostPart
        self.port = port
    }
}
