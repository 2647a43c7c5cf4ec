import LuaLoadHTTP
import CNGHTTP2
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// Why a request failed. Small and hashable, so the hot path counts it without building text; `text`
/// turns it into the one message the reports and `res.error` show.
public enum Failure: Hashable, Sendable {
    /// The response's status was ≥ 400 (the default rule).
    case status(Int32)
    /// The TCP connection could not be made: errno.
    case connect(Int32)
    /// Writing the request failed: errno.
    case send(Int32)
    /// Reading the response failed: errno.
    case receive(Int32)
    /// No complete response within the request's timeout.
    case timeout
    /// The server closed the connection before a whole response.
    case closedEarly
    /// The response parser rejected the response: a `ResponseError`'s raw value.
    case badResponse(UInt32)
    /// The body did not decode with its Content-Encoding (gzip, deflate).
    case badEncoding
    /// The URL's host name did not resolve.
    case resolve
    /// A relative path with neither -H nor a host for the class.
    case noHost
    /// A TLS failure: the index of its text in the worker's table of distinct TLS texts (`WorkerStats.tlsMessages`),
    /// since OpenSSL's reasons are open-ended.
    case tls(Int32)
    /// HTTP/2: the server reset the request's stream (RST_STREAM) with this error code.
    case http2Reset(UInt32)
    /// HTTP/2: the server closed the connection (GOAWAY, this code) without processing the request, twice.
    case http2GoAway(UInt32)
    /// HTTP/2: nghttp2 rejected the connection's frames (a protocol error): its error code.
    case http2(Int32)
    /// HTTP/2: the request's timeout came while the server's flow-control window kept its body from being sent.
    case http2Stalled
    /// `--h2-pool`: the TLS server chose http/1.1 by ALPN; pooled requests need HTTP/2.
    case http2Required

    /// The message, e.g. "HTTP 500 Internal Server Error" or "connect: Connection refused".
    /// `tlsMessages` is the table that `.tls` indexes (the worker's own).
    public func text(tlsMessages: [String] = []) -> String {
        switch self {
        case .status(let code): return "HTTP \(code)" + (reasonPhrase(Int(code)).map { " \($0)" } ?? "")
        case .connect(let e): return "connect: " + Sys.describe(errno: e)
        case .send(let e): return "send: " + Sys.describe(errno: e)
        case .receive(let e): return "receive: " + Sys.describe(errno: e)
        case .timeout: return "timeout: no complete response within the request's timeout"
        case .closedEarly: return "connection closed by the server before a complete response"
        case .badResponse(let e): return "invalid HTTP response: " + (ResponseError(rawValue: UInt8(truncatingIfNeeded: e))?.text ?? "error \(e)")
        case .badEncoding: return "invalid response body: it does not decode as its Content-Encoding says"
        case .resolve: return "cannot resolve the host name"
        case .noHost: return "no host for a relative path: give -H http://host:port or a full URL"
        case .tls(let k): return Int(k) < tlsMessages.count ? tlsMessages[Int(k)] : "TLS error"
        case .http2Reset(let code): return "HTTP/2 stream reset by the server (RST_STREAM " + http2ErrorName(code) + ")"
        case .http2GoAway(let code): return "HTTP/2 connection closed by the server (GOAWAY " + http2ErrorName(code) + ") before the request was processed"
        case .http2(let code): return "HTTP/2 protocol error: " + String(cString: nghttp2_strerror(code))
        case .http2Stalled: return "HTTP/2 flow control: the server kept its window closed, the request body could not be sent before the timeout"
        case .http2Required: return "HTTP/2 required (--h2-pool): the server chose http/1.1 by ALPN"
        }
    }
}

/// An HTTP/2 error code's name (RFC 9113 section 7), e.g. "PROTOCOL_ERROR".
func http2ErrorName(_ code: UInt32) -> String { String(cString: nghttp2_http2_strerror(code)) }
