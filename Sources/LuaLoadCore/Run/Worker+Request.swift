import LuaLoadLoop
import CLua
import CLuaShim

/// A request's life in a Worker: the LL_OP_HTTP frame becomes bytes in the VU's reused buffer and goes out on
/// its connection (Worker+Connection); the response, or the failure, goes back to Lua as the reply.
extension Worker {
    /// Encodes the frame's request and sends it on the VU's kept-alive connection, or connects first.
    /// `carried`: µs of the redirect hops before it (0 for a request of its own).
    func startRequest(_ i: Int, _ frame: Frame, carried: UInt64) {
        let stat = frame.integer(LL_SLOT_STAT)
        if stat >= stats.rows.count { addRows(through: stat, frame) }
        vus[i].request.stat = Int32(stat)
        vus[i].request.written = 0
        vus[i].request.clock = ll_timings()
        vus[i].request.clock.carried = carried
        vus[i].request.retried = false
        vus[i].request.gotBytes = false
        vus[i].state = .inRequest

        var methodLength = 0, urlLength = 0, headersLength = 0, bodyLength = 0
        let method = frame.string(LL_SLOT_METHOD, &methodLength)!
        let url = frame.string(LL_SLOT_URL, &urlLength)!
        var target = url, targetLength = urlLength
        let endpoint: Int32
        if url[0] == 0x2F {   // "/": the class's host, else -H / the script's `host`
            endpoint = endpoints.forRelativePath(ofClass: vus[i].classIndex)
            guard endpoint >= 0 else { return failRequest(i, .noHost) }
        } else {
            endpoint = endpoints.forURL(url, length: urlLength, target: &target, targetLength: &targetLength)
            guard endpoint >= 0 else { return failRequest(i, .resolve) }
        }
        vus[i].request.endpoint = endpoint
        let headers = frame.string(LL_SLOT_HEADERS, &headersLength)
        let body = frame.string(LL_SLOT_BODY, &bodyLength)
        if !RequestEncoder.reuses(vus[i].request.bytes, vus[i].request.layout, endpoint: endpoint, method: method,
                                  methodLength: methodLength, target: target, targetLength: targetLength,
                                  headers: headers, headersLength: headersLength, body: body) {
            RequestEncoder.encode(into: &vus[i].request.bytes, layout: &vus[i].request.layout, endpoint: endpoint,
                                  method: method, methodLength: methodLength, target: target, targetLength: targetLength,
                                  host: endpoints.hostHeader(endpoint), headers: headers, headersLength: headersLength,
                                  body: body, bodyLength: bodyLength)
        }
        let isHead = methodLength == 4 && method[0] == 0x48 && method[1] == 0x45   // "HEAD": a length, no body
        vus[i].request.response.reset(bodyless: isHead)

        let timeout = frame.number(LL_SLOT_TIMEOUT).map { UInt64($0 * 1_000_000) } ?? config.timeoutMicros
        // The former request's timeout, if still armed, is sooner: it stays, and fires only to be set again
        // (once a timeout period), so a request moves nothing in the heap.
        vus[i].request.deadline = monotonicMicros() + timeout
        timers.armUnlessSooner(i, at: vus[i].request.deadline)
        if vus[i].conn.state == .idle && vus[i].conn.endpoint == endpoint {
            vus[i].conn.state = .writing
            write(i)
        } else {
            connect(i)
        }
    }

    /// A stats row's first request: the engine learns its method and name (rows are numbered in Lua).
    func addRows(through stat: Int, _ frame: Frame) {
        let method = frame.text(LL_SLOT_METHOD)!
        let name = frame.text(LL_SLOT_NAME)!
        while stats.rows.count <= stat { stats.rows.append(RequestStats(method: method, name: name)) }
    }

    /// The whole response is in: its outcome waits for the script's next frame; Lua gets the reply.
    func completeRequest(_ i: Int) {
        let end = monotonicMicros()
        vus[i].request.clock.end = end
        let micros = end &- vus[i].request.started &+ vus[i].request.clock.carried
        let waitIsLatency = recordPhases(i)
        // The timeout stays armed: the VU's next request or sleep re-arms it in place, and if it fires first
        // the VU is running Lua and onTimer ignores it. That saves a heap removal per request.
        let status = vus[i].request.response.status
        var body = vus[i].request.response.body
        var failure: Failure? = status >= 400 ? .status(Int32(status)) : nil
        var flags = vus[i].request.response.setsCookie ? Int(LL_FLAG_SET_COOKIE) : 0
        if vus[i].request.response.needsScan {   // a Content-Encoding, or a name cut between two reads
            let scan = HeadScan(vus[i].request.response.head.bytes)
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
        if vus[i].request.response.keepAlive {
            vus[i].conn.reused = true
            vus[i].conn.state = .idle
        } else {
            closeConnection(i)
        }
        vus[i].state = .runningLua
        guard let co = vus[i].co else { return }
        pushReply(i, co, status: status, micros: micros, body: body, error: failure == .badEncoding ? failure : nil,
                  head: vus[i].request.response.head, flags: flags)
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
        if rawMode { return failRaw(i, failure) }
        let started = vus[i].request.started
        let end = monotonicMicros()
        vus[i].request.clock.end = end
        let micros = (started > 0 ? end &- started : 0) &+ vus[i].request.clock.carried
        timers.cancel(i)
        closeConnection(i)
        vus[i].pending = PendingOutcome(stat: vus[i].request.stat, micros: micros, bytes: 0, failure: failure)
        if vus[i].dueAt != 0 { timeFromArrival(i) }
        vus[i].state = .runningLua
        guard let co = vus[i].co else { return }
        pushReply(i, co, status: 0, micros: micros, body: ByteBuffer(), error: failure, head: ByteBuffer(), flags: 0)
        resume(i, nargs: Int32(LL_REPLY_COUNT))
    }

    /// Pushes the reply to LL_OP_HTTP in LL_REPLY_* order: status, elapsed ms, body, error text, raw head, flags.
    @inline(__always)
    func pushReply(_ i: Int, _ co: OpaquePointer, status: Int, micros: UInt64, body: ByteBuffer, error: Failure?, head: ByteBuffer, flags: Int) {
        lua_pushinteger(co, lua_Integer(status))                                     // LL_REPLY_STATUS
        lua_pushnumber(co, Double(micros) / 1000)                                    // LL_REPLY_ELAPSED
        if body.count > 0 { pushKept(co, body, slot: 2 * i + 2) } else { lua_pushstring(co, "") }   // LL_REPLY_BODY
        if let error { pushText(co, error) } else { lua_pushnil(co) }                // LL_REPLY_ERROR
        if head.count > 0 { pushKept(co, head, slot: 2 * i + 1) } else { lua_pushnil(co) }         // LL_REPLY_HEADERS
        lua_pushinteger(co, lua_Integer(flags))                                      // LL_REPLY_FLAGS
    }

    /// Long strings (over 40 bytes; Lua interns shorter ones itself) up to 16 KB: the VU's last one again
    /// when the bytes are the same (`ll_push_kept`), which spares an allocation, a copy and its collection.
    /// Bigger bodies are not kept, so a VU never holds a download beyond its own response's life.
    @inline(__always)
    func pushKept(_ co: OpaquePointer, _ bytes: ByteBuffer, slot: Int) {
        guard bytes.count > 40 && bytes.count <= 16_384 else { return pushBytes(co, bytes) }
        ll_push_kept(co, script.keptRef, lua_Integer(slot), UnsafeRawPointer(bytes.base!).assumingMemoryBound(to: CChar.self), bytes.count)
    }

    @inline(__always)
    func pushBytes(_ co: OpaquePointer, _ bytes: ByteBuffer) {
        lua_pushlstring(co, UnsafeRawPointer(bytes.base!).assumingMemoryBound(to: CChar.self), bytes.count)
    }

    /// A failure's text, made once per thread and kept as a C string.
    func pushText(_ co: OpaquePointer, _ failure: Failure) {
        if failureTexts[failure] == nil {
            failureTexts[failure] = ContiguousArray(failure.text(tlsMessages: stats.tlsMessages).utf8CString)
        }
        failureTexts[failure]!.withUnsafeBufferPointer { _ = lua_pushstring(co, $0.baseAddress) }
    }
}
