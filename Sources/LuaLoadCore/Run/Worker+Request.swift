import LuaLoadLoop
import CLua
import CLuaShim

/// A request's life in a Worker: the LL_OP_HTTP frame becomes bytes in the VU's reused buffer and goes out on
/// its connection (Worker+Connection); the response, or the failure, goes back to Lua as the reply.
extension Worker {
    /// Encodes the frame's request and sends it on the VU's kept-alive connection, or connects first.
    func startRequest(_ i: Int, _ frame: Frame) {
        let stat = frame.integer(LL_SLOT_STAT)
        if stat >= stats.rows.count { addRows(through: stat, frame) }
        vus[i].request.stat = Int32(stat)
        vus[i].request.written = 0
        vus[i].request.started = 0
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
        RequestEncoder.encode(into: &vus[i].request.bytes, method: method, methodLength: methodLength,
                              target: target, targetLength: targetLength, host: endpoints[endpoint].hostHeader,
                              headers: headers, headersLength: headersLength, body: body, bodyLength: bodyLength)
        let isHead = methodLength == 4 && method[0] == 0x48 && method[1] == 0x45   // "HEAD": a length, no body
        vus[i].request.response.reset(bodyless: isHead)

        let timeout = frame.number(LL_SLOT_TIMEOUT).map { UInt64($0 * 1_000_000) } ?? config.timeoutMicros
        timers.arm(i, at: monotonicMicros() + timeout)
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
        let micros = monotonicMicros() &- vus[i].request.started
        // The timeout stays armed: the VU's next request or sleep re-arms it in place, and if it fires first
        // the VU is running Lua and onTimer ignores it. That saves a heap removal per request.
        let status = vus[i].request.response.status
        vus[i].pending = PendingOutcome(stat: vus[i].request.stat, micros: micros, bytes: vus[i].request.response.body.count,
                                        failure: status >= 400 ? .status(Int32(status)) : nil)
        if vus[i].request.response.keepAlive {
            vus[i].conn.reused = true
            vus[i].conn.state = .idle
        } else {
            closeConnection(i)
        }
        vus[i].state = .runningLua
        guard let co = vus[i].co else { return }
        pushReply(co, status: status, micros: micros, body: vus[i].request.response.body, error: nil, head: vus[i].request.response.head)
        resume(i, nargs: Int32(LL_REPLY_COUNT))
    }

    /// The request failed (transport, timeout, no host): recorded by the default rule unless the script overrides.
    func failRequest(_ i: Int, _ failure: Failure) {
        if rawMode { return failRaw(i, failure) }
        let started = vus[i].request.started
        let micros = started > 0 ? monotonicMicros() &- started : 0
        timers.cancel(i)
        closeConnection(i)
        vus[i].pending = PendingOutcome(stat: vus[i].request.stat, micros: micros, bytes: 0, failure: failure)
        vus[i].state = .runningLua
        guard let co = vus[i].co else { return }
        pushReply(co, status: 0, micros: micros, body: ByteBuffer(), error: failure, head: ByteBuffer())
        resume(i, nargs: Int32(LL_REPLY_COUNT))
    }

    /// Pushes the reply to LL_OP_HTTP in LL_REPLY_* order: status, elapsed ms, body, error text, raw head.
    @inline(__always)
    func pushReply(_ co: OpaquePointer, status: Int, micros: UInt64, body: ByteBuffer, error: Failure?, head: ByteBuffer) {
        lua_pushinteger(co, lua_Integer(status))                                     // LL_REPLY_STATUS
        lua_pushnumber(co, Double(micros) / 1000)                                    // LL_REPLY_ELAPSED
        if body.count > 0 { pushBytes(co, body) } else { lua_pushstring(co, "") }   // LL_REPLY_BODY
        if let error { pushText(co, error) } else { lua_pushnil(co) }                // LL_REPLY_ERROR
        if head.count > 0 { pushBytes(co, head) } else { lua_pushnil(co) }          // LL_REPLY_HEADERS
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
