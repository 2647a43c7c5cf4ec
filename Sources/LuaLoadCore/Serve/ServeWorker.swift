import CPosix
import Synchronization
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// What all serve threads share: settings, the listening socket, the stop flag and the little state that must be global.
final class ServeShared: Sendable {
    let options: ServeOptions
    let listenFD: Int32
    let stopping = Atomic<Bool>(false)
    let signer: TokenSigner
    let uploads = UploadStore()
    /// One table per thread, read together by /__stats.
    let stats: [ServeStats]

    init(options: ServeOptions, listenFD: Int32, signer: TokenSigner, stats: [ServeStats]) {
        self.options = options
        self.listenFD = listenFD
        self.signer = signer
        self.stats = stats
    }
}

/// One serve thread: its own epoll loop, connections, timers (response delays, lingering closes) and counters.
final class ServeWorker: @unchecked Sendable {
    static let listenToken: UInt64 = .max - 1
    /// Timer id 0 re-enables accepting after running out of file descriptors; connection slot s uses s + 1.
    static let listenerTimer = 0
    /// Stop parsing pipelined requests while this much output waits for the client to read.
    static let outputBacklogLimit = 256 * 1024
    static let lingerMicros: UInt64 = 2_000_000

    let index: Int
    let shared: ServeShared
    let loop: EventLoop
    let stats: ServeStats
    var timers = TimerHeap(capacity: 256)
    var conns: [ServeConnection] = []
    var freeSlots: [Int] = []
    var rng: ServeRandom
    /// Scratch for response bodies, reused.
    var body: [UInt8] = []
    var thread: pthread_t?

    init(index: Int, shared: ServeShared) {
        self.index = index
        self.shared = shared
        self.stats = shared.stats[index]
        loop = EventLoop(capacity: 512)
        rng = ServeRandom(seed: monotonicMicros() &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(index + 1) &* 0xD1B5_4A32_D192_ED03)
        body.reserveCapacity(16 * 1024)
    }

    // MARK: - Loop

    func run() {
        _ = addListener()
        while !shared.stopping.load(ordering: .acquiring) {
            let timeout = EventLoop.timeoutMs(until: timers.earliest, now: monotonicMicros())
            let n = loop.wait(timeoutMs: timeout)
            for i in 0..<n {
                let ev = loop.events[i]
                let token = ev.data.u64
                if token == EventLoop.wakeToken { loop.drainWake(); continue }
                if token == ServeWorker.listenToken { acceptAll(); continue }
                let slot = Int(token & 0xFFFF_FFFF)
                guard slot < conns.count else { continue }
                let c = conns[slot]
                guard c.fd >= 0, c.gen == UInt32(truncatingIfNeeded: token >> 32) else { continue }
                if ev.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { close(c); continue }
                if c.draining { drain(c) } else { service(c) }
            }
            if !timers.isEmpty {
                let now = monotonicMicros()
                while let id = timers.popExpired(now: now) { fire(id) }
            }
        }
        for c in conns where c.fd >= 0 { close(c) }
        _ = Sys.epollCtl(loop.epfd, EPOLL_CTL_DEL, shared.listenFD, 0, 0)
    }

    private func addListener() -> Bool {
        // EPOLLEXCLUSIVE: one waiting thread is woken per new connection, not all of them.
        loop.add(shared.listenFD, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue, token: ServeWorker.listenToken) == 0
    }

    private func acceptAll() {
        var budget = 256
        while budget > 0 {
            let fd = Sys.accept(shared.listenFD)
            if fd >= 0 {
                budget -= 1
                adopt(fd)
                continue
            }
            if fd == -EINTR || fd == -ECONNABORTED { continue }
            if fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM {
                // Out of descriptors: stop watching the listener for a moment instead of spinning on it.
                _ = Sys.epollCtl(loop.epfd, EPOLL_CTL_DEL, shared.listenFD, 0, 0)
                timers.arm(ServeWorker.listenerTimer, at: monotonicMicros() + 100_000)
            }
            return  // EAGAIN (another thread took it) or an error for this round
        }
    }

    private func adopt(_ fd: Int32) {
        Sys.setNoDelay(fd)
        let c: ServeConnection
        if let slot = freeSlots.popLast() {
            c = conns[slot]
        } else {
            c = ServeConnection(slot: conns.count)
            conns.append(c)
            timers.reserve(ids: conns.count + 1)
        }
        c.reset(fd: fd)
        // Edge-triggered, registered once: the connection reads until EAGAIN and writes until EAGAIN.
        let events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        if loop.add(fd, events: events, token: c.token) != 0 {
            Sys.close(fd)
            c.release()
            freeSlots.append(c.slot)
            return
        }
        service(c)  // data may already be waiting
    }

    private func fire(_ id: Int) {
        if id == ServeWorker.listenerTimer { _ = addListener(); return }
        let c = conns[id - 1]
        guard c.fd >= 0 else { return }
        if c.draining { close(c); return }
        if c.paused {
            c.heldFrom = -1
            service(c)
        }
    }

    func close(_ c: ServeConnection) {
        timers.cancel(c.slot + 1)
        Sys.close(c.fd)
        c.release()
        freeSlots.append(c.slot)
    }

    // MARK: - Connection

    /// Reads, answers and writes as far as possible; called on every readiness event and when a delay ends.
    private func service(_ c: ServeConnection) {
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
            if n > 0 { c.rlen += n; continue }
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
                // Blank lines between requests are allowed (RFC 9112 2.2).
                while c.rpos < c.rlen, c.rbuf[c.rpos] == 0x0D || c.rbuf[c.rpos] == 0x0A { c.rpos += 1 }
                if c.rpos == c.rlen {
                    c.rpos = 0; c.rlen = 0; c.scanPos = 0
                    return false
                }
                guard let end = HTTPRequestParser.findHeadEnd(c.rbuf, start: c.rpos, scanFrom: &c.scanPos, end: c.rlen) else {
                    if c.rlen - c.rpos > ServeLimits.maxHead { reject(c, 431) }
                    return false
                }
                if end - c.rpos > ServeLimits.maxHead { reject(c, 431); return false }
                switch HTTPRequestParser.parseHead(c.rbuf, start: c.rpos, headEnd: end) {
                case .bad(let status): reject(c, status); return false
                case .ok(let h): head = h
                }
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

    /// A request we cannot parse: answer `status`, close after sending. Not counted in "total" (see "rejected").
    private func reject(_ c: ServeConnection, _ status: Int) {
        stats.recordRejected()
        body.removeAll(keepingCapacity: true)
        body.lit("{\"error\":")
        switch status {
        case 411: body.jsonString("chunked request bodies are not supported: send Content-Length")
        case 413: body.jsonString("request body too large")
        case 431: body.jsonString("request head too large")
        case 505: body.jsonString("HTTP version not supported")
        default: body.jsonString("malformed request")
        }
        body.append(UInt8(ascii: "}"))
        c.head = nil
        c.rpos = c.rlen
        writeResponse(c, ServeReply(status: status), keepAlive: false, minor: 1, headOnly: false)
        c.closeAfterFlush = true
    }

    /// Sends pending output up to the held part. false on a write error (the connection is gone).
    private func flush(_ c: ServeConnection) -> Bool {
        let limit = c.heldFrom >= 0 ? c.heldFrom : c.out.count
        while c.outSent < limit {
            let n = c.out.withUnsafeBytes { Sys.send(c.fd, $0.baseAddress! + c.outSent, limit - c.outSent) }
            if n > 0 { c.outSent += n; continue }
            if n == -Int(EAGAIN) { break }  // EPOLLOUT (edge) tells us when to go on
            if n == -Int(EINTR) { continue }
            return false
        }
        if c.outSent == c.out.count {
            c.out.removeAll(keepingCapacity: true)
            c.outSent = 0
        } else if c.outSent > 0 && (c.outSent >= 64 * 1024 || c.outSent == limit) {
            c.out.removeFirst(c.outSent)
            if c.heldFrom >= 0 { c.heldFrom -= c.outSent }
            c.outSent = 0
        }
        return true
    }

    /// All sent and the connection must close: FIN our side, then read and discard until the peer closes (or 2 s),
    /// so unread request bytes do not make the kernel answer with a RST that could destroy our last response.
    private func linger(_ c: ServeConnection) {
        if c.peerEOF { close(c); return }
        Sys.shutdownWrite(c.fd)
        c.draining = true
        timers.arm(c.slot + 1, at: monotonicMicros() + ServeWorker.lingerMicros)
        drain(c)
    }

    private func drain(_ c: ServeConnection) {
        while true {
            let n = Sys.read(c.fd, c.rbuf, c.rcap)
            if n > 0 { continue }
            if n == -Int(EAGAIN) { return }
            if n == -Int(EINTR) { continue }
            close(c)
            return
        }
    }

    // MARK: - Responses

    /// Routes one request, counts it, and queues its response (held back by a delay timer if it has one).
    private func respond(_ c: ServeConnection, _ head: RequestHead, body bodyRange: Range<Int>) {
        let b = UnsafePointer(c.rbuf)
        var pathEnd = head.target.upperBound
        var query = pathEnd..<pathEnd
        if let q = memchr(b + head.target.lowerBound, Int32(UInt8(ascii: "?")), head.target.count) {
            pathEnd = b.distance(to: q.assumingMemoryBound(to: UInt8.self))
            query = (pathEnd + 1)..<head.target.upperBound
        }
        let req = ServeRequest(b: b, head: head, path: head.target.lowerBound..<pathEnd, query: query, body: bodyRange)
        let headOnly = head.method == .head
        body.removeAll(keepingCapacity: true)

        // The control endpoint: never counted, never delayed or failed on purpose.
        if bytesEqual(b, req.path, "/__stats") {
            let reply: ServeReply
            if head.method == .get || head.method == .head {
                body = ServeStats.json(shared.stats)
                reply = ServeReply(status: 200)
            } else {
                reply = errorReply(405, "method not allowed", allow: "Allow: GET, HEAD\r\n")
            }
            writeResponse(c, reply, keepAlive: head.keepAlive, minor: head.minor, headOnly: headOnly)
            if !head.keepAlive { c.closeAfterFlush = true }
            return
        }

        let matched = ServeRouter.match(b, req.path)
        var route = matched?.0 ?? .other
        var methodAllowed = true
        if let (_, isGet) = matched {
            methodAllowed = isGet ? (head.method == .get || head.method == .head) : head.method == .post
            if !methodAllowed { route = .other }  // "other": no route for this method and path
        }

        // Fault injection: ?delay_ms=N, ?status=N (a number; "?status=pending" is the uploads filter), errorRate.
        let delayMs = req.queryInt("delay_ms")
        var statusOverride = req.queryInt("status")
        if let s = statusOverride, s < 0 { statusOverride = nil }  // not a number: a filter, not an override

        let reply: ServeReply
        if let d = delayMs, d < 0 || d > 600_000 {
            reply = errorReply(400, "delay_ms must be an integer from 0 to 600000")
        } else if let s = statusOverride {
            if s >= 200 && s <= 599 {
                reply = injectedReply(s)
            } else {
                reply = errorReply(400, "status must be an integer from 200 to 599")
            }
        } else if shared.options.errorRate > 0 && rng.nextDouble() < shared.options.errorRate {
            reply = injectedReply(500)
        } else if !methodAllowed {
            let allow: StaticString = matched!.isGet ? "Allow: GET, HEAD\r\n" : "Allow: POST\r\n"
            reply = errorReply(405, "method not allowed", allow: allow)
        } else {
            reply = handle(route, req)
        }
        stats.record(route, status: reply.status)

        var delay: UInt64 = 0
        if let d = delayMs, d >= 0 {
            delay = UInt64(d) * 1000
        } else {
            let o = shared.options
            if o.latencyMicros > 0 || o.jitterMicros > 0 {
                let j = o.jitterMicros
                let offset = Int64(bitPattern: rng.upTo(2 * j)) - Int64(j)
                delay = UInt64(max(0, Int64(o.latencyMicros) + offset))
            }
        }
        let start = c.out.count
        writeResponse(c, reply, keepAlive: head.keepAlive, minor: head.minor, headOnly: headOnly)
        if !head.keepAlive { c.closeAfterFlush = true }
        if delay > 0 {
            c.heldFrom = start
            timers.arm(c.slot + 1, at: monotonicMicros() + delay)
        }
    }

    func writeResponse(_ c: ServeConnection, _ reply: ServeReply, keepAlive: Bool, minor: Int, headOnly: Bool) {
        let status = reply.status
        c.out.lit("HTTP/1.1 ")
        c.out.int(status)
        c.out.append(0x20)
        c.out.lit(reasonPhrase(status) ?? "Status")
        c.out.lit("\r\n")
        let hasBody = status != 204 && status != 304 && status >= 200
        if hasBody {
            c.out.lit("Content-Type: ")
            c.out.lit(reply.contentType)
            c.out.lit("\r\nContent-Length: ")
            c.out.int(body.count)
            c.out.lit("\r\n")
        }
        c.out.lit(reply.extraHeaders)
        if !keepAlive {
            c.out.lit("Connection: close\r\n")
        } else if minor == 0 {
            c.out.lit("Connection: keep-alive\r\n")
        }
        c.out.lit("\r\n")
        if hasBody && !headOnly { c.out.append(contentsOf: body) }
    }

    /// `{"error": "..."}` with the given status.
    func errorReply(_ status: Int, _ message: StaticString, allow: StaticString = "") -> ServeReply {
        body.removeAll(keepingCapacity: true)
        body.lit("{\"error\":")
        body.jsonString(message)
        body.append(UInt8(ascii: "}"))
        return ServeReply(status: status, extraHeaders: allow)
    }

    /// The small body of ?status=N and errorRate answers.
    private func injectedReply(_ status: Int) -> ServeReply {
        body.removeAll(keepingCapacity: true)
        body.lit("{\"status\":")
        body.int(status)
        if status >= 400 {
            body.lit(",\"error\":")
            body.jsonString(reasonPhrase(status) ?? "Status")
        }
        body.lit(",\"injected\":true}")
        return ServeReply(status: status)
    }
}
