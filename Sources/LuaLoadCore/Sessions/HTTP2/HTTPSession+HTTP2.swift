import CNGHTTP2
import LuaLoadLoop

/// HTTP/2 under Locust's model (one connection per VU, one stream at a time): the request, encoded as HTTP/1.1
/// by the same encoder, is translated into HEADERS (+ DATA) frames on the VU's nghttp2 session; its response
/// fills the same parser buffers, so the reply, cookies, redirects and outcomes above are the HTTP/1.1 path's.
extension SessionWorker where Session == HTTPSession {
    /// The connection is up (TCP, or TLS with the server's ALPN pick `alpnH2`): HTTP/2 begins here when it was
    /// chosen; its preface, SETTINGS and the request's frames replace the HTTP/1.1 bytes to write. False when
    /// that failed (the request failed).
    func http2Begin(_ i: Int, alpnH2: Bool) -> Bool {
        guard alpnH2 || (config.http2 == .priorKnowledge && !endpoints[vus[i].request.endpoint].tls) else { return true }
        guard http2Open(i) else {
            failRequest(i, .http2(Int32(NGHTTP2_ERR_NOMEM.rawValue)))
            return false
        }
        return http2Submit(i)
    }

    /// The connection's nghttp2 session, its SETTINGS submitted. False: out of memory. (A pool connection's has
    /// the pool's callbacks and its PoolConnection as user data.)
    func http2Open(_ i: Int, callbacks: OpaquePointer = http2Callbacks, user: UnsafeMutableRawPointer? = nil) -> Bool {
        var session: OpaquePointer? = nil
        var mem = http2Memory.mem
        guard nghttp2_session_client_new3(&session, callbacks, user ?? UnsafeMutableRawPointer(sessionPointer(i)), http2Options, &mem) == 0 else {
            return false
        }
        vus[i].session.h2.session = session
        vus[i].session.h2.goaway = false
        vus[i].session.h2.lastStream = .max
        // No push; a 16 MB window for the stream and the connection, so a big download is not paced by our
        // WINDOW_UPDATEs (nghttp2 still sends them as the window is consumed).
        var settings = [nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
                        nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: 1 << 24)]
        _ = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
        _ = nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, 1 << 24)
        return true
    }

    /// Turns the HTTP/1.1 request in `request.bytes` into a stream on the VU's session and puts the frames to
    /// write in its place (the HTTP/1.1 bytes are kept in `h2.source`). False when it failed (the request failed).
    /// An equal request (the encoder reused the bytes) reuses its header fields: measured, reading the bytes
    /// back cost ~2,100 instructions a request (callgrind, nginx h2c /health, -u 1).
    func http2Submit(_ i: Int) -> Bool {
        let s = sessionPointer(i)
        guard !s.pointee.h2.swapped, let base = vus[i].request.bytes.base else { return true }
        let stream = http2SubmitRequest(i, base, on: s.pointee.h2.session, read: http2ReadBody, user: nil)
        guard stream > 0 else {
            failRequest(i, .http2(stream))
            return false
        }
        s.pointee.h2.stream = stream
        swap(&vus[i].request.bytes, &s.pointee.h2.source)
        s.pointee.h2.swapped = true
        vus[i].request.bytes.clear()
        return http2Pump(i)
    }

    /// VU `i`'s request (its HTTP/1.1 bytes at `base`) submitted as a stream of `session`: its header fields
    /// (reused while valid), its body read by `read`; `user`: the stream's user data and the body's source (a pool
    /// stream's: the VU's session). The stream id, or nghttp2's error (< 0).
    @inline(__always)
    func http2SubmitRequest(_ i: Int, _ base: UnsafeMutablePointer<UInt8>, on session: OpaquePointer?,
                            read: nghttp2_data_source_read_callback, user: UnsafeMutableRawPointer?) -> Int32 {
        let s = sessionPointer(i)
        let count = vus[i].request.bytes.count
        if !s.pointee.h2.fieldsValid { http2Fields(i, base, count) }
        s.pointee.h2.bodyBase = UnsafeRawPointer(base + s.pointee.h2.bodyOffset)
        s.pointee.h2.bodyLength = count - s.pointee.h2.bodyOffset
        s.pointee.h2.bodySent = 0
        s.pointee.h2.streamClosed = false
        s.pointee.h2.errorCode = 0
        var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: user), read_callback: read)
        let carriesBody = s.pointee.h2.bodyLength > 0
        return s.pointee.h2.fields.withUnsafeBufferPointer { nva in
            withUnsafePointer(to: &provider) { body in
                nghttp2_submit_request(session, nil, nva.baseAddress, nva.count, carriesBody ? body : nil, user)
            }
        }
    }

    /// The header fields of the HTTP/1.1 request at `base` (pseudo-headers first, names lowercased, connection
    /// headers left out), pointing into those bytes and `h2.names`.
    @inline(never)
    func http2Fields(_ i: Int, _ base: UnsafeMutablePointer<UInt8>, _ count: Int) {
        let s = sessionPointer(i)
        s.pointee.h2.fields.removeAll(keepingCapacity: true)
        s.pointee.h2.names.clear()
        s.pointee.h2.names.reserve(count + 32)   // no reallocation below: the fields point into it
        let tls = endpoints[vus[i].request.endpoint].tls
        let parsed = HTTP1Request(base, count)
        s.pointee.h2.field(":method", parsed.method)
        s.pointee.h2.field(":scheme", tls ? HTTP1Request.Span(static: "https") : HTTP1Request.Span(static: "http"))
        s.pointee.h2.field(":authority", parsed.host)
        s.pointee.h2.field(":path", parsed.target)
        parsed.forEachHeader { name, value in s.pointee.h2.header(name, value) }
        s.pointee.h2.bodyOffset = parsed.bodyOffset
        s.pointee.h2.fieldsValid = true
    }

    /// What the session has to send (frames, more DATA as windows open) appended to `request.bytes`.
    func http2Pump(_ i: Int) -> Bool {
        while true {
            var p: UnsafePointer<UInt8>? = nil
            let n = nghttp2_session_mem_send(vus[i].session.h2.session, &p)
            if n == 0 { return true }
            guard n > 0 else {
                failRequest(i, .http2(Int32(n)))
                return false
            }
            vus[i].request.bytes.append(UnsafeRawPointer(p!), n)
        }
    }

    /// Bytes of the connection: into nghttp2, which answers (SETTINGS ACK, WINDOW_UPDATE, more DATA) and fills
    /// the response. False when the exchange is over.
    func http2Received(_ i: Int, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Bool {
        let first = !vus[i].request.gotBytes
        vus[i].request.gotBytes = true
        let rv = nghttp2_session_mem_recv(vus[i].session.h2.session, bytes.assumingMemoryBound(to: UInt8.self), count)
        guard rv >= 0 else {
            failRequest(i, .http2(Int32(rv)))
            return false
        }
        if nghttp2_session_want_write(vus[i].session.h2.session) != 0 {
            // Frames after the request (it was written whole: the connection reads): out now, the request's clock untouched.
            vus[i].request.bytes.clear()
            vus[i].request.written = 0
            guard http2Pump(i) else { return false }
            if vus[i].request.bytes.count > 0 {
                vus[i].conn.state = .writing
                write(i)
                guard vus[i].conn.fd >= 0 else { return false }   // the write failed: the request did
            }
        }
        if vus[i].session.h2.streamClosed { return http2StreamEnded(i) }
        if vus[i].session.h2.goaway && vus[i].session.h2.stream > vus[i].session.h2.lastStream {
            http2Unprocessed(i)
            return false
        }
        if first { vus[i].request.clock.first_byte = monotonicMicros() }
        return true
    }

    /// The stream closed: a whole response, or RST_STREAM (a counted failure naming the server's error code).
    /// REFUSED_STREAM says the server did not process it (RFC 9113 8.7; nghttp2 also closes so the streams a
    /// GOAWAY left out): it may go again.
    func http2StreamEnded(_ i: Int) -> Bool {
        let code = vus[i].session.h2.errorCode
        guard code == 0 else {
            if code == NGHTTP2_REFUSED_STREAM.rawValue { http2Unprocessed(i) } else { failRequest(i, .http2Reset(code)) }
            return false
        }
        vus[i].session.response.head.append("\r\n")
        stats.http2Responses += 1
        completeRequest(i)
        return false
    }

    /// The server did not process the request's stream (GOAWAY, REFUSED_STREAM): it goes once on a new
    /// connection, as on a stale keep-alive; a second time it fails with the server's code.
    func http2Unprocessed(_ i: Int) {
        guard !vus[i].request.retried else {
            let h2 = vus[i].session.h2
            return failRequest(i, h2.goaway ? .http2GoAway(h2.goawayCode) : .http2Reset(h2.errorCode))
        }
        vus[i].request.retried = true
        vus[i].request.written = 0
        vus[i].request.started = 0
        vus[i].request.gotBytes = false
        HTTPSession.restart(self, i)
        connect(i)
    }

    /// The request's body is not all out and the server's window (the stream's or the connection's) is shut.
    func http2Stalled(_ i: Int) -> Bool {
        let h2 = vus[i].session.h2
        guard let session = h2.session, h2.swapped, h2.bodySent < h2.bodyLength else { return false }
        return nghttp2_session_get_stream_remote_window_size(session, h2.stream) <= 0
            || nghttp2_session_get_remote_window_size(session) <= 0
    }

    /// The server closed the connection before the stream ended.
    func http2Closed(_ i: Int) {
        if vus[i].session.h2.goaway && vus[i].session.h2.stream > vus[i].session.h2.lastStream { return http2Unprocessed(i) }
        if retryOnStaleConnection(i) { return }
        failRequest(i, vus[i].session.h2.goaway ? .http2GoAway(vus[i].session.h2.goawayCode) : .closedEarly)
    }

    /// Frames between requests on the VU's HTTP/2 connection: nghttp2 takes them and answers at once (PING,
    /// SETTINGS); after a GOAWAY, an error, the server's close, or an answer the socket cannot take whole,
    /// the connection closes and the next request opens a new one.
    func http2Idle(_ i: Int) {
        let session = vus[i].session.h2.session
        var result = vus[i].conn.read(readBuffer, readCapacity)
        while case .done(let n) = result {
            guard nghttp2_session_mem_recv(session, readBuffer.assumingMemoryBound(to: UInt8.self), n) >= 0 else { return closeConnection(i) }
            guard vus[i].conn.transport.hasBufferedBytes else { break }
            result = vus[i].conn.read(readBuffer, readCapacity)
        }
        if case .done = result {} else if result != .wantRead { return closeConnection(i) }
        if vus[i].session.h2.goaway { return closeConnection(i) }
        while true {
            var p: UnsafePointer<UInt8>? = nil
            let n = nghttp2_session_mem_send(session, &p)
            if n == 0 { return }
            guard n > 0, vus[i].conn.write(UnsafeRawPointer(p!), n) == .done(n) else { return closeConnection(i) }
        }
    }

    /// The request's HTTP/1.1 bytes back in `request.bytes` (to be reused by an equal next request, or resent).
    @inline(__always)
    func http2Unswap(_ i: Int) {
        guard vus[i].session.h2.swapped else { return }
        swap(&vus[i].request.bytes, &vus[i].session.h2.source)
        vus[i].session.h2.swapped = false
    }
}

extension HTTP2State {
    /// The fields' bytes outlive the stream's HEADERS (they are the request's HTTP/1.1 bytes, kept until the
    /// response), so nghttp2 need not copy them; names are lowercased already, as NO_COPY_NAME requires.
    static let noCopy = UInt8(NGHTTP2_NV_FLAG_NO_COPY_NAME.rawValue | NGHTTP2_NV_FLAG_NO_COPY_VALUE.rawValue)

    /// Adds a pseudo-header field (static name).
    mutating func field(_ name: StaticString, _ value: HTTP1Request.Span) {
        fields.append(nghttp2_nv(name: UnsafeMutablePointer(mutating: name.utf8Start), value: UnsafeMutablePointer(mutating: value.base),
                                 namelen: name.utf8CodeUnitCount, valuelen: value.length, flags: HTTP2State.noCopy))
    }

    /// Adds a header field of the request, its name lowercased (HTTP/2 requires it); HTTP/1.1's connection
    /// headers (and Host, which became :authority) are left out.
    mutating func header(_ name: HTTP1Request.Span, _ value: HTTP1Request.Span) {
        if HTTP1Request.isConnectionSpecific(name) { return }
        let start = names.count
        for k in 0..<name.length { let c = name.base[k]; names.append(c >= 0x41 && c <= 0x5A ? c | 0x20 : c) }
        fields.append(nghttp2_nv(name: names.base! + start, value: UnsafeMutablePointer(mutating: value.base),
                                 namelen: name.length, valuelen: value.length, flags: HTTP2State.noCopy))
    }
}
