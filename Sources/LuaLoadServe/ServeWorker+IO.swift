import LuaLoadHTTP
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// A connection's reading, parsing and writing: edge-triggered, so each step goes on until EAGAIN.
extension ServeWorker {
    /// Reads, answers and writes as far as possible; called on every readiness event and when a delay ends.
    func service(_ c: ServeConnection) {
        while true {
            let backlogged = (c.paused || c.closeAfterFlush) ? false : process(c)
            guard flush(c) else { close(c); return }
            if c.paused { return }  // the delay timer resumes us
            if c.closeAfterFlush {
                if c.unsent == 0 { linger(c) }
                return  // else EPOLLOUT resumes us
            }
            if c.unsent > ServeWorker.outputBacklogLimit { return }
            if backlogged { continue }  // output drained: answer the rest of the pipeline
            if c.peerEOF {
                if c.unsent == 0 { close(c) }
                return
            }
            guard c.makeRoom() else { reject(c, 413); continue }
            let n = Sys.read(c.fd, c.rbuf + c.rlen, c.rcap - c.rlen)
            if n > 0 { c.rlen += n; c.lastActive = now; continue }
            if n == 0 { c.peerEOF = true; continue }
            if n == -Int(EAGAIN) { return }
            if n == -Int(EINTR) { continue }
            close(c)
            return
        }
    }

    /// Answers every complete request in the buffer, in order. Stops at a delayed response, a request that
    /// closes the connection, or too much unsent output (then returns true).
    private func process(_ c: ServeConnection) -> Bool {
        while true {
            if c.paused || c.closeAfterFlush { return false }
            if c.unsent > ServeWorker.outputBacklogLimit { return true }
            var head: RequestHead
            if let pending = c.head {
                head = pending
            } else {
                guard let parsed = nextHead(c) else { return false }
                head = parsed
            }
            let bodyEnd = head.headEnd + head.contentLength
            if bodyEnd > c.rlen {
                c.head = head
                if head.expectContinue && !c.continueSent {
                    c.out.lit("HTTP/1.1 100 Continue\r\n\r\n")
                    c.continueSent = true
                }
                return false
            }
            c.head = nil
            c.continueSent = false
            respond(c, head, body: head.headEnd..<bodyEnd)
            c.rpos = bodyEnd
            c.scanPos = bodyEnd
        }
    }

    /// The next complete, well-formed head in the buffer; nil when there is none yet (the header timeout then
    /// runs) or it was rejected.
    private func nextHead(_ c: ServeConnection) -> RequestHead? {
        // Blank lines between requests are allowed (RFC 9112 2.2).
        while c.rpos < c.rlen, c.rbuf[c.rpos] == 0x0D || c.rbuf[c.rpos] == 0x0A { c.rpos += 1 }
        if c.rpos == c.rlen {
            c.rpos = 0; c.rlen = 0; c.scanPos = 0
            c.headSince = 0
            return nil
        }
        guard let end = HTTPRequestParser.findHeadEnd(c.rbuf, start: c.rpos, scanFrom: &c.scanPos, end: c.rlen) else {
            if c.rlen - c.rpos > ServeLimits.maxHead { reject(c, 431) } else { headStarted(c) }
            return nil
        }
        c.headSince = 0
        if end - c.rpos > ServeLimits.maxHead { reject(c, 431); return nil }
        switch HTTPRequestParser.parseHead(c.rbuf, start: c.rpos, headEnd: end, limits: ServeLimits.request) {
        case .bad(let status): reject(c, status); return nil
        case .ok(let h): return h
        }
    }

    /// Sends pending output up to the held part. false on a write error (the connection is gone).
    private func flush(_ c: ServeConnection) -> Bool {
        let limit = c.heldFrom >= 0 ? c.heldFrom : c.out.count
        while c.outSent < limit {
            let n = c.out.bytes.withUnsafeBytes { Sys.send(c.fd, $0.baseAddress! + c.outSent, limit - c.outSent) }
            if n > 0 { c.outSent += n; c.lastActive = now; continue }
            if n == -Int(EAGAIN) { break }  // EPOLLOUT (edge) tells us when to go on
            if n == -Int(EINTR) { continue }
            return false
        }
        if c.outSent == c.out.count {
            c.out.removeAll(keepingCapacity: true)
            c.outSent = 0
        } else if c.outSent > 0 && (c.outSent >= 64 * 1024 || c.outSent == limit) {
            c.out.bytes.removeFirst(c.outSent)
            if c.heldFrom >= 0 { c.heldFrom -= c.outSent }
            c.outSent = 0
        }
        return true
    }

    /// All sent and the connection must close: FIN our side, then read and discard until the peer closes (or 2 s),
    /// so unread request bytes do not make the kernel answer with a RST that could destroy our last response.
    private func linger(_ c: ServeConnection) {
        if c.peerEOF { close(c); return }
        ServerSys.shutdownWrite(c.fd)
        c.draining = true
        timers.arm(c.slot + 1, at: monotonicMicros() + ServeWorker.lingerMicros)
        drain(c)
    }

    func drain(_ c: ServeConnection) {
        while true {
            let n = Sys.read(c.fd, c.rbuf, c.rcap)
            if n > 0 { continue }
            if n == -Int(EAGAIN) { return }
            if n == -Int(EINTR) { continue }
            close(c)
            return
        }
    }
}
