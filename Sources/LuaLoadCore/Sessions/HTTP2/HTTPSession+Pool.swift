import CNGHTTP2
import LuaLoadLoop

/// `--h2-pool N` (a gateway's traffic): the VUs of a thread share N HTTP/2 connections to the run's endpoint,
/// as many streams each as the server's SETTINGS_MAX_CONCURRENT_STREAMS allows (one until its SETTINGS come).
/// h2load's shape: the worker owns the pool (HTTP2Pool), each connection (PoolConnection, a slot of the VU
/// buffer served by the same connection driver, TLS resumption included) carries an nghttp2 session, and a VU's
/// request is a stream on the connection with the fewest streams; with none free the VU waits in FIFO order.
/// Above the stream everything is the VU's own, as on its own connection: the request is its encoder's bytes
/// (header fields read back from them, as http2Submit does), the response fills its parser, and it completes or
/// fails through completeRequest / failRequest (cookies, redirects, decoding, outcomes, the open model).
/// A request waiting for a stream is timed from when the VU asked: its wait is in its latency, its `sent`
/// phase starts when its HEADERS went out.
extension SessionWorker where Session == HTTPSession {
    @inline(__always)
    func poolSlot(_ c: Int) -> Int { h2pool.base + c }

    /// Whether VU `i`'s request goes on the pool: the pool's endpoint (the first one asked for that speaks
    /// HTTP/2 for sure: TLS, whose ALPN is checked at connect, or h2c by prior knowledge), and not a batch's.
    @inline(__always)
    func poolTakes(_ i: Int) -> Bool {
        guard i < vuCount, h2pool.size > 0, !vus[i].session.batch.active else { return false }
        let ep = vus[i].request.endpoint
        if h2pool.endpoint < 0 {
            guard endpoints[ep].tls || config.http2 == .priorKnowledge else { return false }
            h2pool.endpoint = ep
        }
        return ep == h2pool.endpoint
    }

    /// VU `i`'s encoded request goes as a stream on a connection with room, else waits for one.
    func poolSubmit(_ i: Int) {
        let now = monotonicMicros()
        if vus[i].request.started == 0 { vus[i].request.started = now }
        if let c = h2pool.pick() { return poolStart(i, c, now: now) }
        vus[i].session.seat = .waiting
        h2pool.waiting.append(i)
        poolConnectClosed()
    }

    /// The waiting VUs onto connections with room, in FIFO order: first those going again (each on a connection
    /// opened after its refusal), then the others.
    func poolServe() {
        guard phase != .stopAsked else { return }
        while h2pool.retrying.count > 0, case .retrying(let epoch) = vus[h2pool.retrying.first].session.seat,
              let c = h2pool.pick(after: epoch) {
            let i = h2pool.retrying.removeFirst()
            vus[i].session.seat = .none
            poolStart(i, c, now: monotonicMicros())
        }
        while h2pool.waiting.count > 0, let c = h2pool.pick() {
            let i = h2pool.waiting.removeFirst()
            vus[i].session.seat = .none
            poolStart(i, c, now: monotonicMicros())
        }
    }

    /// Every closed connection connects (the pool's first use, or after a GOAWAY or a loss, when a VU waits).
    func poolConnectClosed() {
        for c in 0..<h2pool.size where h2pool.connections[c].state == .closed {
            poolMove(c, to: .connecting)
            let h = poolSlot(c)
            vus[h].request.endpoint = h2pool.endpoint
            connect(h)
        }
    }

    /// VU `i`'s request as a stream of connection `c`: its header fields (reused when the encoder reused the
    /// bytes) submitted with the VU's session as the stream's user data, then the frames written.
    func poolStart(_ i: Int, _ c: Int, now: UInt64) {
        let s = sessionPointer(i)
        let h = poolSlot(c)
        guard let base = vus[i].request.bytes.base, let session = vus[h].session.h2.session else {
            return failRequest(i, .http2(Int32(NGHTTP2_ERR_INVALID_STATE.rawValue)))
        }
        let stream = http2SubmitRequest(i, base, on: session, read: http2ReadPooledBody, user: UnsafeMutableRawPointer(s))
        guard stream > 0 else { return failRequest(i, .http2(stream)) }
        s.pointee.h2.stream = stream
        s.pointee.seat = .stream(Int32(c))
        h2pool.connections[c].streams += 1
        vus[i].request.clock.sent = now
        poolFlush(c)
        if s.pointee.seat == .stream(Int32(c)) {   // (unless the write failed and failed it)
            s.pointee.poolMark = h2pool.connections[c].sentBase + vus[h].request.bytes.count
        }
    }

    /// What connection `c`'s session has to send, appended to its bytes, and written unless a write is under way
    /// (or the connection is still connecting: the driver writes them once it is up). While a read is being
    /// settled (`h2pool.deferring`) the write waits for its end: the streams the VUs it resumed started go out in
    /// one write per connection, not one per request.
    func poolFlush(_ c: Int) {
        let h = poolSlot(c)
        guard let session = vus[h].session.h2.session else { return }
        if vus[h].request.written == vus[h].request.bytes.count && vus[h].request.written > 0 {   // all out: afresh
            h2pool.connections[c].sentBase += vus[h].request.written
            vus[h].request.bytes.clear()
            vus[h].request.written = 0
        }
        while true {
            var p: UnsafePointer<UInt8>? = nil
            let n = nghttp2_session_mem_send(session, &p)
            if n == 0 { break }
            guard n > 0 else { return poolConnectionLost(c, .http2(Int32(n))) }
            vus[h].request.bytes.append(UnsafeRawPointer(p!), n)
        }
        guard vus[h].conn.state == .reading && vus[h].request.bytes.count > vus[h].request.written else { return }
        if h2pool.deferring {
            h2pool.connections[c].dirty = true
            return
        }
        vus[h].conn.state = .writing
        write(h)
    }

    /// Connection slot `h` is up: HTTP/2 when ALPN picked it or by prior knowledge (else its waiting VUs fail,
    /// named: a pool is HTTP/2 only). Its preface, SETTINGS and first streams are written by the driver.
    func poolConnected(_ h: Int, alpnH2: Bool) -> Bool {
        let c = h - h2pool.base
        guard alpnH2 || (config.http2 == .priorKnowledge && !endpoints[vus[h].conn.endpoint].tls) else {
            poolConnectionLost(c, .http2Required)
            return false
        }
        guard http2Open(h, callbacks: http2PoolCallbacks, user: UnsafeMutableRawPointer(h2pool.connections + c)) else {
            poolConnectionLost(c, .http2(Int32(NGHTTP2_ERR_NOMEM.rawValue)))
            return false
        }
        vus[h].request.bytes.clear()
        vus[h].request.written = 0
        poolMove(c, to: .open)
        poolFlush(c)
        poolServe()
        return vus[h].conn.fd >= 0
    }

    /// Bytes of connection slot `h`: into its session (the callbacks fill the VUs' responses), then the streams
    /// that ended are settled and the frames it answers with written. False: the driver reads no more now
    /// (level-triggered epoll reports what the socket still holds; what TLS holds is read here).
    func poolReceived(_ h: Int, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Bool {
        let c = h - h2pool.base
        let session = vus[h].session.h2.session
        var rv = nghttp2_session_mem_recv(session, bytes.assumingMemoryBound(to: UInt8.self), count)
        while rv >= 0 && vus[h].conn.transport.hasBufferedBytes {
            guard case .done(let n) = vus[h].conn.read(readBuffer, readCapacity) else { break }
            rv = nghttp2_session_mem_recv(session, readBuffer.assumingMemoryBound(to: UInt8.self), n)
        }
        guard rv >= 0 else {
            poolConnectionLost(c, .http2(Int32(rv)))
            return false
        }
        h2pool.connections[c].maxStreams = Int32(clamping: nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS))
        h2pool.deferring = true
        poolSettle(c)
        h2pool.deferring = false
        if vus[h].session.h2.session == session && nghttp2_session_want_write(session) != 0 { h2pool.connections[c].dirty = true }
        for d in 0..<h2pool.size where h2pool.connections[d].dirty {
            h2pool.connections[d].dirty = false
            poolFlush(d)
        }
        return false
    }

    /// The streams nghttp2 closed are settled (each VU's response completes, or fails, or goes again), GOAWAY
    /// drains the connection, and waiting VUs take the streams freed.
    func poolSettle(_ c: Int) {
        let conn = h2pool.connections + c
        // GOAWAY first: a VU whose response settles below starts its next request on another connection.
        if conn.pointee.goaway && conn.pointee.state == .open { poolDrain(c) }
        if !conn.pointee.closed.isEmpty {
            swap(&conn.pointee.closed, &conn.pointee.settling)
            let first = UnsafeMutableRawPointer(sessionPointer(0))
            var k = 0
            while k < conn.pointee.settling.count && phase != .stopAsked {   // (-n reached: the rest are abandoned)
                let i = (conn.pointee.settling[k] - first) / MemoryLayout<VirtualUser<HTTPSession>>.stride
                k += 1
                guard vus[i].state == .inRequest, vus[i].session.seat == .stream(Int32(c)), vus[i].session.h2.streamClosed else { continue }
                poolEnded(i, c)
            }
            conn.pointee.settling.removeAll(keepingCapacity: true)
        }
        if conn.pointee.state == .draining && conn.pointee.streams == 0 {
            poolMove(c, to: .closed)
            if h2pool.waiting.count + h2pool.retrying.count > 0 { poolConnectClosed() }
        }
        poolServe()
    }

    /// VU `i`'s stream closed: a whole response, REFUSED_STREAM (not processed: it may go again), or another
    /// RST_STREAM (a counted failure naming the code).
    private func poolEnded(_ i: Int, _ c: Int) {
        poolLeave(i, cancel: false)
        let code = vus[i].session.h2.errorCode
        guard code == 0 else {
            return code == NGHTTP2_REFUSED_STREAM.rawValue ? poolUnprocessed(i, c) : failRequest(i, .http2Reset(code))
        }
        vus[i].session.response.head.append("\r\n")
        stats.http2Responses += 1
        completeRequest(i)   // (the parser says no keep-alive: the VU's own connection, if any, is closed)
    }

    /// The server did not process VU `i`'s stream on connection `c` (GOAWAY, REFUSED_STREAM): it goes once more,
    /// on a connection opened after now (a server that closes connections every K requests, as nginx's
    /// keepalive_requests, processes it there); a second time it fails with the server's code.
    func poolUnprocessed(_ i: Int, _ c: Int) {
        guard !vus[i].request.retried else {
            let conn = h2pool.connections[c]
            return failRequest(i, conn.goaway ? .http2GoAway(conn.goawayCode) : .http2Reset(NGHTTP2_REFUSED_STREAM.rawValue))
        }
        vus[i].request.retried = true
        vus[i].session.response.reset(bodyless: vus[i].session.response.bodyless)
        vus[i].session.seat = .retrying(h2pool.epoch)
        h2pool.retrying.append(i)
        poolConnectClosed()
    }

    /// GOAWAY on connection `c`: no new stream on it; its streams above the server's last one go again.
    private func poolDrain(_ c: Int) {
        poolMove(c, to: .draining)
        let last = h2pool.connections[c].lastStream
        for i in 0..<vuCount where vus[i].session.seat == .stream(Int32(c)) && vus[i].session.h2.stream > last {
            poolLeave(i, cancel: false)
            poolUnprocessed(i, c)
        }
    }
}
