import LuaLoadLoop
import CLua
import CLuaShim

/// An HTTP/1.1 response as it is read, and how it settles: complete (its outcome pending until the next frame,
/// the reply to Lua) or failed.
extension SessionWorker where Session == HTTPSession {
    /// Bytes of the response: parsed; false when it is complete or bad (the exchange is over).
    @inline(__always)
    func responseBytes(_ i: Int, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Bool {
        let first = !vus[i].request.gotBytes
        vus[i].request.gotBytes = true
        let err = vus[i].session.response.feed(bytes, count)
        if err != 0 { HTTPSession.fail(self, i, .badResponse(UInt32(err))); return false }
        if vus[i].session.response.complete {
            if vus[i].session.batch.active { batchConnectionResponse(i) } else { completeRequest(i) }   // an http.batch connection's
            return false
        }
        // A response in several reads: its first byte's time is known only now (else it is the end's).
        if first { vus[i].request.clock.first_byte = monotonicMicros() }
        return true
    }

    /// The server closed the connection: the end of a body delimited by it, else a failure (or, on a stale
    /// kept-alive connection, the request goes again on a new one).
    func responseEnded(_ i: Int) {
        vus[i].session.response.feedEOF()
        if vus[i].session.response.complete { return completeRequest(i) }
        if retryOnStaleConnection(i) { return }
        failRequest(i, .closedEarly)
    }

    /// The whole response is in: its outcome waits for the script's next frame; Lua gets the reply.
    func completeRequest(_ i: Int) {
        let end = monotonicMicros()
        vus[i].request.clock.end = end
        let micros = end &- vus[i].request.started &+ vus[i].request.clock.carried
        let waitIsLatency = recordPhases(i)
        // The timeout stays armed: the VU's next request or sleep re-arms it in place, and if it fires first
        // the VU is running Lua and onTimer ignores it. That saves a heap removal per request.
        let status = vus[i].session.response.status
        var body = vus[i].session.response.body
        var failure: Failure? = status >= 400 ? .status(Int32(status)) : nil
        var flags = vus[i].session.response.setsCookie ? Int(LL_FLAG_SET_COOKIE) : 0
        if vus[i].session.response.needsScan {   // a Content-Encoding, or a name cut between two reads
            let scan = HeadScan(vus[i].session.response.head.bytes)
            if scan.setsCookie { flags |= Int(LL_FLAG_SET_COOKIE) }
            if let encoding = scan.encoding, body.count > 0 {
                if decoder.decode(body.bytes, encoding) { body = decoder.output } else { failure = .badEncoding }
            }
        }
        // 301, 302, 303, 307, 308: bits of 0x18E from 300.
        if status >= 301 && status <= 308 && (0x18E >> (status - 300)) & 1 != 0 { flags |= Int(LL_FLAG_REDIRECT) }
        vus[i].pending = PendingOutcome(stat: vus[i].request.stat, micros: micros, bytes: body.count, failure: failure,
                                        waitIsLatency: waitIsLatency)
        if vus[i].dueAt != 0 { timeFromArrival(i) }
        http2Unswap(i)
        // HTTP/2: kept unless GOAWAY came, or frames it had to answer with are still unsent (the socket took
        // them only in part: the connection is still writing).
        if vus[i].session.h2.session != nil ? !vus[i].session.h2.goaway && vus[i].conn.state == .reading : vus[i].session.response.keepAlive {
            vus[i].conn.reused = true
            vus[i].conn.state = .idle
        } else {
            closeConnection(i)
        }
        move(i, to: .runningLua)
        guard let co = vus[i].co else { return }
        pushReply(i, co, status: status, micros: micros, body: body, error: failure == .badEncoding ? failure : nil,
                  head: vus[i].session.response.head, flags: flags)
        resume(i, nargs: Int32(LL_REPLY_COUNT))
    }

    /// The exchange's phases into its row: the TCP connect and TLS handshake when they happened, and the
    /// wait for the first response byte when it is not the latency itself. Returns whether it is.
    @inline(__always)
    func recordPhases(_ i: Int) -> Bool {
        let clock = vus[i].request.clock
        let row = Int(vus[i].request.stat)
        if clock.connect > 0 { _ = stats.rows[row].phases.connect.record(clock.connect) }
        if clock.tls > 0 { _ = stats.rows[row].phases.tls.record(clock.tls) }
        if clock.sent == clock.started && clock.first_byte == 0 && clock.carried == 0 { return true }
        let firstByte = clock.first_byte != 0 ? clock.first_byte : clock.end
        stats.rows[row].phases.recordWaitApart(firstByte &- clock.sent)
        return false
    }

    /// The request failed (transport, timeout, no host): recorded by the default rule unless the script overrides.
    func failRequest(_ i: Int, _ failure: Failure) {
        let started = vus[i].request.started
        let end = monotonicMicros()
        vus[i].request.clock.end = end
        let micros = (started > 0 ? end &- started : 0) &+ vus[i].request.clock.carried
        timers.cancel(i)
        http2Unswap(i)
        closeConnection(i)
        vus[i].pending = PendingOutcome(stat: vus[i].request.stat, micros: micros, bytes: 0, failure: failure)
        if vus[i].dueAt != 0 { timeFromArrival(i) }
        move(i, to: .runningLua)
        guard let co = vus[i].co else { return }
        pushReply(i, co, status: 0, micros: micros, body: ByteBuffer(), error: failure, head: ByteBuffer(), flags: 0)
        resume(i, nargs: Int32(LL_REPLY_COUNT))
    }
}
