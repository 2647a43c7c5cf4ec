#if canImport(Glibc)
import Glibc
#endif

/// Who may use a live server. Bound to 127.0.0.1, ::1 or localhost (the default) anyone on the box may;
/// bound anywhere else every route needs the token: `Authorization: Bearer T`, or `?token=T` on a browser's
/// first load, which then sets an HttpOnly, SameSite=Strict cookie so the page's own requests carry it.
public struct LiveAuth: Sendable {
    public let token: String?
    /// The token was made up here (the caller prints it once).
    public let generated: Bool

    public static let cookieName = "luaload_token"

    /// `token` given: always required. Not given: none on the default loopback addresses, a fresh random one elsewhere.
    public init(host: String, token: String?) {
        if let token, !token.isEmpty {
            self.token = token
            generated = false
        } else if LiveAuth.isDefaultLoopback(host) {
            self.token = nil
            generated = false
        } else {
            self.token = LiveAuth.randomToken()
            generated = true
        }
    }

    public static func isDefaultLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "::1" || host == "[::1]" || host == "localhost"
    }

    /// 32 hex digits from the kernel's CSPRNG.
    public static func randomToken() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        let n = fd >= 0 ? bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) } : -1
        if fd >= 0 { Glibc.close(fd) }
        precondition(n == 16, "cannot read /dev/urandom")
        return bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// Whether a request with these header values and query token may pass.
    func allows(authorization: String, cookie: String, queryToken: String?) -> Bool {
        guard let token else { return true }
        if let q = queryToken, LiveAuth.same(q, token) { return true }
        let bearer = "bearer "
        if authorization.count > bearer.count, authorization.lowercased().hasPrefix(bearer),
           LiveAuth.same(String(authorization.dropFirst(bearer.count)).trimmingSpaces, token) { return true }
        for part in cookie.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingSpacesSub == LiveAuth.cookieName, LiveAuth.same(String(kv[1]).trimmingSpaces, token) { return true }
        }
        return false
    }

    /// Compares in time that does not depend on where the strings differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}

extension String {
    var trimmingSpaces: String { String(trimmingSpacesSub) }
    var trimmingSpacesSub: Substring { self[...].trimmingSpacesSub }
}

extension Substring {
    var trimmingSpacesSub: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
