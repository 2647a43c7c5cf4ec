import LuaLoadHTTP
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// Answers: routing a parsed request, fault injection, and writing status line, headers and body.
extension ServeWorker {
    /// Routes one request, counts it, and queues its response (held back by a delay timer if it has one).
    func respond(_ c: ServeConnection, _ head: RequestHead, body bodyRange: Range<Int>) {
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
            writeResponse(c, statsReply(head.method), keepAlive: head.keepAlive, minor: head.minor, headOnly: headOnly)
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

        let delay = responseDelay(delayMs)
        let start = c.out.count
        writeResponse(c, reply, keepAlive: head.keepAlive, minor: head.minor, headOnly: headOnly)
        if !head.keepAlive { c.closeAfterFlush = true }
        if delay > 0 {
            c.heldFrom = start
            timers.arm(c.slot + 1, at: monotonicMicros() + delay)
        }
    }

    /// GET /__stats: the counters of all threads.
    private func statsReply(_ method: HTTPMethod) -> ServeReply {
        guard method == .get || method == .head else {
            return errorReply(405, "method not allowed", allow: "Allow: GET, HEAD\r\n")
        }
        body.bytes = ServeStats.json(shared.stats)
        return ServeReply(status: 200)
    }

    /// How long to hold this response (µs): `?delay_ms=` when given, else the configured latency ± jitter.
    private func responseDelay(_ delayMs: Int?) -> UInt64 {
        if let d = delayMs, d >= 0 { return UInt64(d) * 1000 }
        let o = shared.options
        guard o.latencyMicros > 0 || o.jitterMicros > 0 else { return 0 }
        let j = o.jitterMicros
        let offset = Int64(bitPattern: rng.upTo(2 * j)) - Int64(j)
        return UInt64(max(0, Int64(o.latencyMicros) + offset))
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
        if hasBody && !headOnly { c.out.append(contentsOf: body.bytes) }
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

    /// A request we cannot parse: answer `status`, close after sending. Not counted in "total" (see "rejected").
    func reject(_ c: ServeConnection, _ status: Int) {
        stats.recordRejected()
        switch status {
        case 411: answerAndClose(c, status, "chunked request bodies are not supported: send Content-Length")
        case 413: answerAndClose(c, status, "request body too large")
        case 431: answerAndClose(c, status, "request head too large")
        case 505: answerAndClose(c, status, "HTTP version not supported")
        default: answerAndClose(c, status, "malformed request")
        }
    }

    /// Queues `{"error": message}` with `Connection: close`, drops what is left of the input, and marks the
    /// connection to close once that is sent.
    func answerAndClose(_ c: ServeConnection, _ status: Int, _ message: StaticString) {
        body.removeAll(keepingCapacity: true)
        body.lit("{\"error\":")
        body.jsonString(message)
        body.append(UInt8(ascii: "}"))
        c.head = nil
        c.headSince = 0
        c.rpos = c.rlen
        writeResponse(c, ServeReply(status: status), keepAlive: false, minor: 1, headOnly: false)
        c.closeAfterFlush = true
    }
}
