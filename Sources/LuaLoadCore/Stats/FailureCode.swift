import CHTTPParser
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// Why a request failed, as a number: cheap to count on the hot path, turned into text for reports.
/// Layout: kind * 1_000_000 + detail (an errno, an HTTP status, an http_parser error number).
public enum FailureCode {
    public static let status = 1          // detail: HTTP status ≥ 400
    public static let connect = 2         // detail: errno
    public static let send = 3            // detail: errno
    public static let receive = 4         // detail: errno
    public static let timeout = 5
    public static let closedEarly = 6     // the server closed before a whole response
    public static let badResponse = 7     // detail: http_parser errno
    public static let resolve = 8
    public static let noHost = 9
    public static let tls = 10            // detail: index into the worker's TLS message table

    @inline(__always)
    public static func make(_ kind: Int, _ detail: Int = 0) -> Int { kind * 1_000_000 + detail }

    /// `tlsMessages` is the worker's table of TLS failure texts, which `tls` codes index.
    public static func message(_ code: Int, tlsMessages: [String] = []) -> String {
        let detail = Int32(code % 1_000_000)
        switch code / 1_000_000 {
        case status: return "HTTP \(detail)\(reasonPhrase(Int(detail)).map { " \($0)" } ?? "")"
        case connect: return "connect: " + Sys.describe(errno: detail)
        case send: return "send: " + Sys.describe(errno: detail)
        case receive: return "receive: " + Sys.describe(errno: detail)
        case timeout: return "timeout: no complete response within the request's timeout"
        case closedEarly: return "connection closed by the server before a complete response"
        case badResponse: return "invalid HTTP response: " + String(cString: http_errno_description(http_errno(rawValue: UInt32(detail))))
        case resolve: return "cannot resolve the host name"
        case noHost: return "no host for a relative path: give -H http://host:port or a full URL"
        case tls: return Int(detail) < tlsMessages.count ? tlsMessages[Int(detail)] : "TLS error"
        default: return "error \(code)"
        }
    }
}
