import CNGHTTP2
#if canImport(Glibc)
import Glibc
#endif

/// How a run speaks HTTP/2 (curl's and k6's options).
public enum HTTP2Mode: Sendable {
    /// HTTP/1.1 only (`--http1.1`): TLS offers only http/1.1 by ALPN.
    case off
    /// Over TLS, ALPN offers h2 and http/1.1 and the server picks (browsers', k6's default); cleartext is HTTP/1.1.
    case alpn
    /// Cleartext HTTP/2 without negotiation (`--http2-prior-knowledge`, h2c); TLS still negotiates by ALPN.
    case priorKnowledge
}

/// A VU's HTTP/2 connection inside its HTTPSession: the nghttp2 session (framing, HPACK, flow control) and the
/// one stream the VU has open. The response's status, head and body go into the HTTPSession's response parser's
/// buffers, the head as an HTTP/1.1-style text ("HTTP/2.0 200\r\nname: value\r\n…\r\n"), so everything above
/// the session (cookies, redirects, decoding, `res.headers`) is the same for both protocols.
struct HTTP2State {
    /// nghttp2_session*; nil: the connection speaks HTTP/1.1 (or there is none).
    var session: OpaquePointer? = nil
    /// The stream of the request in flight (0: none).
    var stream: Int32 = 0
    /// The stream closed; `errorCode` is its RST_STREAM code (0: a whole response).
    var streamClosed = false
    var errorCode: UInt32 = 0
    /// The server sent GOAWAY: streams above `lastStream` were not processed (and may go again elsewhere).
    var goaway = false
    var goawayCode: UInt32 = 0
    var lastStream: Int32 = .max
    /// `request.bytes` holds HTTP/2 frames, and `source` the request as HTTP/1.1 bytes (the encoder's, kept to
    /// send it again on a new connection).
    var swapped = false
    var source = ByteBuffer()
    /// The request body being sent in DATA frames, and how far.
    var bodyBase: UnsafeRawPointer? = nil
    var bodyLength = 0
    var bodySent = 0
    /// Header fields of the request in flight (pointers into `source`, names lowercased in `names`, both passed
    /// to nghttp2 with NO_COPY flags). They stay valid while the HTTP/1.1 bytes do: the encoder clears
    /// `fieldsValid` when it writes new ones, and an equal next request submits the same fields.
    var fields = ContiguousArray<nghttp2_nv>()
    var names = ByteBuffer()
    var fieldsValid = false
    /// Where the body begins in the HTTP/1.1 bytes (their count when there is none).
    var bodyOffset = 0

    mutating func free() {
        if let session { nghttp2_session_del(session) }
        session = nil
        source.free()
        names.free()
    }
}

/// The callbacks every HTTP/2 session of the process uses (nghttp2 copies them at session creation). Each gets
/// `user_data`: the VU's HTTPSession, at its stable address in the worker's VU buffer.
let http2Callbacks: OpaquePointer = {
    var cbs: OpaquePointer? = nil
    nghttp2_session_callbacks_new(&cbs)
    nghttp2_session_callbacks_set_on_header_callback(cbs, { session, frame, name, nameLength, value, valueLength, _, user in
        let s = user!.assumingMemoryBound(to: HTTPSession.self)
        guard frame!.pointee.hd.stream_id == s.pointee.h2.stream else {   // an http.batch stream (HTTP2Batch.swift)
            return http2BatchHeader(s, session, frame!.pointee.hd.stream_id, name!, nameLength, value!, valueLength)
        }
        http2ResponseHeader(s, name!, nameLength, value!, valueLength)
        return 0
    })
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, { session, _, stream, data, length, user in
        let s = user!.assumingMemoryBound(to: HTTPSession.self)
        if stream == s.pointee.h2.stream {
            s.pointee.response.body.append(UnsafeRawPointer(data!), length)
        } else {
            http2BatchData(s, session, stream, data!, length)
        }
        return 0
    })
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, { session, stream, code, user in
        let s = user!.assumingMemoryBound(to: HTTPSession.self)
        if stream == s.pointee.h2.stream {
            s.pointee.h2.streamClosed = true
            s.pointee.h2.errorCode = code
        } else {
            http2BatchClosed(s, session, stream, code)
        }
        return 0
    })
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, { _, frame, user in
        let s = user!.assumingMemoryBound(to: HTTPSession.self)
        if frame!.pointee.hd.type == UInt8(NGHTTP2_GOAWAY.rawValue) {
            s.pointee.h2.goaway = true
            s.pointee.h2.goawayCode = frame!.pointee.goaway.error_code
            s.pointee.h2.lastStream = frame!.pointee.goaway.last_stream_id
        }
        return 0
    })
    return cbs!
}()

/// A response header field of the stream carrying `s`'s request, into its parser's head (plain and pooled).
@inline(__always)
func http2ResponseHeader(_ s: UnsafeMutablePointer<HTTPSession>, _ name: UnsafePointer<UInt8>, _ nameLength: Int,
                         _ value: UnsafePointer<UInt8>, _ valueLength: Int) {
    if nameLength == 7 && name[0] == 0x3A {   // ":status": the first field of a response (or of a 1xx)
        s.pointee.response.head.clear()   // a 1xx's head and what it said go
        s.pointee.response.setsCookie = false
        s.pointee.response.needsScan = false
        s.pointee.response.head.append("HTTP/2.0 ")
        s.pointee.response.head.append(UnsafeRawPointer(value), valueLength)
        s.pointee.response.head.append("\r\n")
        var status = 0
        for k in 0..<valueLength { status = status * 10 + Int(value[k] &- 0x30) }
        s.pointee.response.status = status
        return
    }
    // Names arrive lowercased (nghttp2 checks it): what HeadScan would look for on HTTP/1.1 is known here.
    let field = HTTP1Request.Span(name, nameLength)
    if nameLength == 10 && field.equalsLowercased("set-cookie") { s.pointee.response.setsCookie = true }
    if nameLength == 16 && field.equalsLowercased("content-encoding") { s.pointee.response.needsScan = true }
    // "name: value\r\n" in one reservation; memcpy and wrapping arithmetic, as nghttp2 bounds both lengths
    // (update(from:) tests for overlap and traps on overflow: ~20 instructions a field, callgrind).
    let line = nameLength &+ valueLength &+ 4
    s.pointee.response.head.reserve(line)
    let p = s.pointee.response.head.base! + s.pointee.response.head.count
    memcpy(p, name, nameLength)
    p[nameLength] = 0x3A
    p[nameLength &+ 1] = 0x20
    memcpy(p + (nameLength &+ 2), value, valueLength)
    p[line &- 2] = 0x0D
    p[line &- 1] = 0x0A
    s.pointee.response.head.count &+= line
}

/// The request body, in DATA frames as flow control allows.
func http2ReadBody(_ session: OpaquePointer?, _ stream: Int32, _ buf: UnsafeMutablePointer<UInt8>?, _ length: Int,
                   _ flags: UnsafeMutablePointer<UInt32>?, _ source: UnsafeMutablePointer<nghttp2_data_source>?,
                   _ user: UnsafeMutableRawPointer?) -> Int {
    let s = user!.assumingMemoryBound(to: HTTPSession.self)
    let n = min(length, s.pointee.h2.bodyLength - s.pointee.h2.bodySent)
    if n > 0 { buf!.update(from: (s.pointee.h2.bodyBase! + s.pointee.h2.bodySent).assumingMemoryBound(to: UInt8.self), count: n) }
    s.pointee.h2.bodySent += n
    if s.pointee.h2.bodySent == s.pointee.h2.bodyLength { flags!.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue) }
    return n
}
