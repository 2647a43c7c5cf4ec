import LuaLoadLoop
import CNGHTTP2
import CLua
import CLuaShim

/// Locust's model: one HTTP request at a time per VU, on its kept-alive connection. The LL_OP_HTTP frame becomes
/// bytes in the VU's reused buffer, which the connection driver writes; the response is parsed as it is read
/// (HTTPSession+Response) and goes back to Lua as the reply, its outcome settled by the next frame (Worker+Lua).
struct HTTPSession: VUSession {
    /// How the last request was laid out in `request.bytes`: the next one, when the same, is sent as it is.
    var layout = RequestEncoder.Layout()
    var response = ClientResponseParser()
    /// The connection's HTTP/2 session when it speaks HTTP/2 (Sessions/HTTP2).
    var h2 = HTTP2State()
    /// `http.batch`'s entries (Sessions/HTTP2/HTTPSession+Batch): empty unless the VU ran one.
    var batch = HTTP2Batch()
    /// `--h2-pool`: where its request is in the thread's pool, and (a stream's) the pool connection's byte count
    /// its frames end at (HTTPSession+Pool).
    var seat = PoolSeat.none
    var poolMark = 0

    init() {}

    mutating func free() {
        response.head.free()
        response.body.free()
        h2.free()
        batch.free()
    }

    @inline(__always)
    static func start(_ w: SessionWorker<Self>, _ i: Int, _ frame: Frame, carried: UInt64) -> Bool {
        w.startRequest(i, frame, carried: carried)
        return true
    }

    @inline(__always)
    static func received(_ w: SessionWorker<Self>, _ i: Int, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Bool {
        if w.vus[i].session.h2.session != nil {
            if w.vus[i].session.batch.active { return w.batchReceived(i, bytes, count) }
            return i < w.vuCount ? w.http2Received(i, bytes, count) : w.poolReceived(i, bytes, count)   // (a pool connection's)
        }
        return w.responseBytes(i, bytes, count)
    }

    static func peerClosed(_ w: SessionWorker<Self>, _ i: Int) {
        if i >= w.h2pool.base { return w.poolConnectionLost(i - w.h2pool.base, .closedEarly) }
        if w.vus[i].session.batch.active { return w.batchClosed(i) }
        if w.vus[i].session.h2.session != nil { return w.http2Closed(i) }
        w.responseEnded(i)
    }

    /// HTTP/2 begins here when ALPN picked it, or by prior knowledge on cleartext.
    static func connected(_ w: SessionWorker<Self>, _ i: Int, alpnH2: Bool) -> Bool {
        if i >= w.h2pool.base { return w.poolConnected(i, alpnH2: alpnH2) }
        if w.vus[i].session.batch.active { return w.batchConnected(i, alpnH2: alpnH2) }
        return w.config.http2 == .off ? true : w.http2Begin(i, alpnH2: alpnH2)
    }

    static func idleReadable(_ w: SessionWorker<Self>, _ i: Int) -> Bool {
        guard w.vus[i].session.h2.session != nil else { return false }
        w.http2Idle(i)
        return true
    }

    /// The connection's HTTP/2 session goes with it.
    @inline(__always)
    static func connectionClosed(_ w: SessionWorker<Self>, _ i: Int) {
        if w.vus[i].session.h2.session != nil {
            nghttp2_session_del(w.vus[i].session.h2.session)
            w.vus[i].session.h2.session = nil
        }
    }

    static func fail(_ w: SessionWorker<Self>, _ i: Int, _ failure: Failure) {
        if i >= w.h2pool.base { return w.poolConnectionLost(i - w.h2pool.base, failure) }
        if w.vus[i].session.seat != .none { w.poolLeave(i, cancel: true) }   // its timeout: its stream or place goes
        if w.vus[i].session.batch.active { return w.batchFailed(i, failure) }
        w.failRequest(i, failure == .timeout && w.http2Stalled(i) ? .http2Stalled : failure)
    }

    static func restart(_ w: SessionWorker<Self>, _ i: Int) {
        if w.vus[i].session.batch.active { return w.batchRestart(i) }
        w.http2Unswap(i)
        w.vus[i].session.response.reset(bodyless: w.vus[i].session.response.bodyless)
    }

    /// One request per exchange.
    static func unanswered(_ w: SessionWorker<Self>, _ i: Int) -> Int { 1 }

    static func startBatch(_ w: SessionWorker<Self>, _ i: Int, _ frame: Frame) -> Bool {
        w.h2pool.size > 0 ? w.poolBatch(i, frame) : w.startBatch(i, frame)
    }

    /// `--h2-pool`: a request to the pool's endpoint becomes a stream of a pool connection instead of connecting.
    @inline(__always)
    static func connectsElsewhere(_ w: SessionWorker<Self>, _ i: Int) -> Bool {
        guard w.poolTakes(i) else { return false }
        w.poolSubmit(i)
        return true
    }

    static func abandon(_ w: SessionWorker<Self>, _ i: Int) -> Int {
        if w.vus[i].session.seat != .none { return w.poolAbandon(i) }
        if w.vus[i].session.batch.active { return w.batchAbandon(i) }
        return w.vus[i].request.written > 0 ? 1 : 0
    }
}

extension SessionWorker where Session == HTTPSession {
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
        move(i, to: .inRequest)

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
        if !RequestEncoder.reuses(vus[i].request.bytes, vus[i].session.layout, endpoint: endpoint, method: method,
                                  methodLength: methodLength, target: target, targetLength: targetLength,
                                  headers: headers, headersLength: headersLength, body: body) {
            RequestEncoder.encode(into: &vus[i].request.bytes, layout: &vus[i].session.layout, endpoint: endpoint,
                                  method: method, methodLength: methodLength, target: target, targetLength: targetLength,
                                  host: endpoints.hostHeader(endpoint), headers: headers, headersLength: headersLength,
                                  body: body, bodyLength: bodyLength)
            vus[i].session.h2.fieldsValid = false   // HTTP/2's header fields pointed into the former bytes
        }
        let isHead = methodLength == 4 && method[0] == 0x48 && method[1] == 0x45   // "HEAD": a length, no body
        vus[i].session.response.reset(bodyless: isHead)

        let timeout = frame.number(LL_SLOT_TIMEOUT).map { UInt64($0 * 1_000_000) } ?? config.timeoutMicros
        // The former request's timeout, if still armed, is sooner: it stays, and fires only to be set again
        // (once a timeout period), so a request moves nothing in the heap.
        vus[i].request.deadline = monotonicMicros() + timeout
        timers.armUnlessSooner(i, at: vus[i].request.deadline)
        if vus[i].session.h2.session != nil && vus[i].conn.state == .idle && vus[i].conn.endpoint == endpoint {
            guard http2Submit(i) else { return }   // a new stream on the VU's HTTP/2 connection
        }
        send(i)
    }

    /// A stats row's first request: the engine learns its method and name (rows are numbered in Lua).
    func addRows(through stat: Int, _ frame: Frame) {
        let method = frame.text(LL_SLOT_METHOD)!
        let name = frame.text(LL_SLOT_NAME)!
        let tags = rowTags(stat)
        while stats.rows.count <= stat { stats.rows.append(RequestStats(method: method, name: name, tags: tags)) }
    }
}
