import LuaLoadHTTP
#if canImport(Glibc)
import Glibc
#endif

/// From a parsed head to a response: the host and origin checks, the token, the route, the method.
extension LiveServer {
    func answer(_ b: UnsafePointer<UInt8>, _ head: RequestHead) -> LiveResponse {
        let text = { (r: Range<Int>) in String(decoding: UnsafeBufferPointer(start: b + r.lowerBound, count: r.count), as: UTF8.self) }
        let target = Array(UnsafeBufferPointer(start: b + head.target.lowerBound, count: head.target.count))
        let q = target.firstIndex(of: UInt8(ascii: "?"))
        let path = LiveHTTP.decode(target[..<(q ?? target.count)], plusIsSpace: false)
        let query = q.map { LiveHTTP.parsePairs(target[($0 + 1)...]) } ?? []
        // Without a token the server is loopback only: a Host that is not a loopback name is a DNS rebinding
        // page reaching in, refused. A cross-site form's POST carries a foreign Origin: refused.
        let hostHeader = text(head.host)
        if auth.token == nil, !LiveServer.isLoopbackHost(hostHeader) { return LiveServer.errorResponse(403) }
        if head.method == .post, !head.origin.isEmpty, !LiveServer.origin(text(head.origin), matches: hostHeader) {
            return LiveServer.errorResponse(403)
        }
        let queryToken = query.first { $0.name == "token" }?.value
        guard auth.allows(authorization: text(head.authorization), cookie: text(head.cookie), queryToken: queryToken) else {
            var r = LiveServer.errorResponse(401)
            r.headers.append("WWW-Authenticate: Bearer realm=\"luaload\"")
            return r
        }
        guard let handler = routes.first(where: { $0.path == path && $0.method == head.method })?.handler else {
            let methods = routes.filter { $0.path == path }.map { LiveServer.name($0.method) }
            if methods.isEmpty { return LiveServer.errorResponse(404) }
            var r = LiveServer.errorResponse(405)
            r.headers.append("Allow: " + methods.sorted().joined(separator: ", "))
            return r
        }
        let body = Array(UnsafeBufferPointer(start: b + head.headEnd, count: head.contentLength))
        var response = handler(LiveRequest(method: head.method, path: path, query: query, body: body, contentType: text(head.contentType)))
        if let t = auth.token, queryToken == t {
            response.headers.append("Set-Cookie: \(LiveAuth.cookieName)=\(t); Path=/; HttpOnly; SameSite=Strict")
        }
        return response
    }

    static func name(_ m: HTTPMethod) -> String {
        switch m {
        case .get: return "GET"
        case .head: return "HEAD"
        case .post: return "POST"
        case .put: return "PUT"
        case .delete: return "DELETE"
        case .patch: return "PATCH"
        case .options: return "OPTIONS"
        case .other: return "OTHER"
        }
    }

    /// "127.0.0.1:8089", "localhost", "[::1]:8089", …: a name only this box answers to.
    static func isLoopbackHost(_ host: String) -> Bool {
        var name = host
        if name.hasPrefix("[") { name = String(name.dropFirst().prefix { $0 != "]" }) }
        else if let colon = name.lastIndex(of: ":") { name = String(name[..<colon]) }
        if name == "localhost" || name == "::1" || name.hasSuffix(".localhost") { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Whether an Origin ("http://host:port") names the same host:port the request was sent to.
    static func origin(_ origin: String, matches host: String) -> Bool {
        let parts = origin.lowercased().split(separator: "/", omittingEmptySubsequences: true)
        return parts.count == 2 && parts[0].hasSuffix(":") && parts[1] == host.lowercased()
    }
}
