import CNGHTTP2
import CLua
import CLuaShim
import LuaLoadLoop

/// `http.batch` (LL_OP_BATCH): one VU's requests at once, as streams of its HTTP/2 connection, the responses
/// back to Lua in the list's order. Each entry is recorded by the default rule when its stream ends, so a
/// stop mid-batch leaves nothing held: recorded + abandoned (streams sent and unanswered) = served.
/// Entries the engine does not run come back with a nil status and the prelude sends them one after another:
/// all of them when the connection speaks HTTP/1.1, and those to another endpoint than the first entry's.
/// Nothing here is reached by a request that is not in a batch: the session's calls test `batch.active` only
/// on their HTTP/2 or failure branches.
extension SessionWorker where Session == HTTPSession {
    /// The frame's entries encoded into the VU's batch storage, then sent: on the VU's idle HTTP/2 connection
    /// at once, else after connecting (the protocol is known only then, by ALPN). False: a malformed frame.
    func startBatch(_ i: Int, _ frame: Frame) -> Bool {
        let n = frame.integer(LL_SLOT_BATCH_COUNT)
        guard n > 0, n <= Int(LL_BATCH_MAX), Int(frame.count) >= Int(LL_SLOT_BATCH_FIRST) - 1 + n * Int(LL_BATCH_STRIDE) else {
            stats.countScriptError(message: "http.batch: a malformed batch frame", traceback: "")
            frame.pop()
            return false
        }
        let s = sessionPointer(i)
        if s.pointee.batch.entries.count < n {
            s.pointee.batch.entries.append(contentsOf: repeatElement(BatchEntry(), count: n - s.pointee.batch.entries.count))
        }
        s.pointee.batch.count = n
        s.pointee.batch.generation &+= 1
        s.pointee.batch.cancelled = false
        let now = monotonicMicros()
        var first: Int32 = -1, usable = false, earliest = UInt64.max, queued = 0
        for k in 0..<n {
            let base = Int(LL_SLOT_BATCH_FIRST) + k * Int(LL_BATCH_STRIDE) - Int(LL_SLOT_STAT)
            s.pointee.batch.entries[k].phase = .skipped
            let endpoint = batchEndpoint(i, frame, base)
            if first < 0 && endpoint >= 0 {
                first = endpoint
                usable = http2Likely(i, endpoint)
            }
            guard endpoint == first, usable || config.batchPerHost > 0 else { continue }
            prepareEntry(i, k, frame, base, now: now)
            earliest = min(earliest, s.pointee.batch.entries[k].deadline)
            queued += 1
        }
        frame.pop()
        guard queued > 0 else {   // no endpoint, or HTTP/1.1 without --batch-per-host: the prelude sends every entry
            replyBatch(i)
            return true
        }
        s.pointee.batch.active = true
        s.pointee.batch.open = 0
        s.pointee.h2.stream = 0   // no plain stream: the callbacks look every stream up as a batch entry
        s.pointee.layout.endpoint = -1   // request.bytes will hold frames: nothing for the next request to reuse
        vus[i].request.endpoint = first
        vus[i].request.stat = s.pointee.batch.entries.first { $0.phase == .queued }!.stat
        vus[i].request.written = 0
        vus[i].request.clock = ll_timings()
        vus[i].request.retried = false
        vus[i].request.gotBytes = false
        vus[i].request.deadline = earliest
        move(i, to: .inRequest)
        timers.armUnlessSooner(i, at: earliest)
        if !usable {   // HTTP/1.1: the entries on connection slots, else (none free) back to the prelude
            if !batchOnSlots(i) { batchToPrelude(i) }
        } else if s.pointee.h2.session != nil && vus[i].conn.state == .idle && vus[i].conn.endpoint == first {
            guard batchSubmit(i) else { return true }
            vus[i].conn.state = .writing
            write(i)
        } else {
            connect(i)
        }
        return true
    }

    /// The endpoint of the entry whose values start at slot `base + LL_SLOT_STAT`; -1: none (the prelude's
    /// own request then fails as a plain one does). A new stats row is learned here.
    private func batchEndpoint(_ i: Int, _ frame: Frame, _ base: Int) -> Int32 {
        let stat = frame.integer(base + Int(LL_SLOT_STAT))
        if stat >= stats.rows.count {
            let method = frame.text(base + Int(LL_SLOT_METHOD))!, name = frame.text(base + Int(LL_SLOT_NAME))!
            let tags = rowTags(stat)
            while stats.rows.count <= stat { stats.rows.append(RequestStats(method: method, name: name, tags: tags)) }
        }
        var urlLength = 0
        let url = frame.string(base + Int(LL_SLOT_URL), &urlLength)!
        if url[0] == 0x2F { return endpoints.forRelativePath(ofClass: vus[i].classIndex) }
        var target = url, targetLength = urlLength
        return endpoints.forURL(url, length: urlLength, target: &target, targetLength: &targetLength)
    }

    /// Whether a batch to `endpoint` may go as HTTP/2 streams: the VU's connection there speaks it, or
    /// connecting may give it (TLS with ALPN, or prior knowledge). An idle HTTP/1.1 connection says no.
    private func http2Likely(_ i: Int, _ endpoint: Int32) -> Bool {
        guard config.http2 != .off else { return false }
        if vus[i].conn.state == .idle && vus[i].conn.endpoint == endpoint { return vus[i].session.h2.session != nil }
        return endpoints[endpoint].tls || config.http2 == .priorKnowledge
    }

    /// Entry `k` encoded (as HTTP/1.1 bytes, read back into header fields at submit) and queued.
    private func prepareEntry(_ i: Int, _ k: Int, _ frame: Frame, _ base: Int, now: UInt64) {
        var methodLength = 0, urlLength = 0, headersLength = 0, bodyLength = 0
        let method = frame.string(base + Int(LL_SLOT_METHOD), &methodLength)!
        let url = frame.string(base + Int(LL_SLOT_URL), &urlLength)!
        var target = url, targetLength = urlLength
        let endpoint = url[0] == 0x2F ? endpoints.forRelativePath(ofClass: vus[i].classIndex)
            : endpoints.forURL(url, length: urlLength, target: &target, targetLength: &targetLength)
        let headers = frame.string(base + Int(LL_SLOT_HEADERS), &headersLength)
        let body = frame.string(base + Int(LL_SLOT_BODY), &bodyLength)
        var layout = RequestEncoder.Layout()
        let s = sessionPointer(i)
        RequestEncoder.encode(into: &s.pointee.batch.entries[k].source, layout: &layout, endpoint: endpoint,
                              method: method, methodLength: methodLength, target: target, targetLength: targetLength,
                              host: endpoints.hostHeader(endpoint), headers: headers, headersLength: headersLength,
                              body: body, bodyLength: bodyLength)
        let timeout = frame.number(base + Int(LL_SLOT_TIMEOUT)).map { UInt64($0 * 1_000_000) } ?? config.timeoutMicros
        var e = BatchEntry.reset(s.pointee.batch.entries[k])
        e.stat = Int32(frame.integer(base + Int(LL_SLOT_STAT)))
        e.isHead = methodLength == 4 && method[0] == 0x48 && method[1] == 0x45
        e.deadline = now + timeout
        readRedirectFields(&e, frame, base)
        e.phase = .queued
        s.pointee.batch.entries[k] = e
    }

    /// The queued entries submitted as streams (stream user data: index + 1) and the frames pumped into
    /// `request.bytes`. nghttp2 copies header fields at submit, so one reused field buffer serves them all,
    /// and it holds back HEADERS past the server's SETTINGS_MAX_CONCURRENT_STREAMS until streams end.
    /// False when the batch ended here (the session failed).
    func batchSubmit(_ i: Int) -> Bool {
        let s = sessionPointer(i)
        let tls = endpoints[vus[i].request.endpoint].tls
        for k in 0..<s.pointee.batch.count where s.pointee.batch.entries[k].phase == .queued {
            guard let base = s.pointee.batch.entries[k].source.base else { continue }
            let count = s.pointee.batch.entries[k].source.count
            s.pointee.h2.fields.removeAll(keepingCapacity: true)
            s.pointee.h2.names.clear()
            s.pointee.h2.names.reserve(count + 32)
            let parsed = HTTP1Request(base, count)
            s.pointee.h2.field(":method", parsed.method)
            s.pointee.h2.field(":scheme", tls ? HTTP1Request.Span(static: "https") : HTTP1Request.Span(static: "http"))
            s.pointee.h2.field(":authority", parsed.host)
            s.pointee.h2.field(":path", parsed.target)
            parsed.forEachHeader { name, value in s.pointee.h2.header(name, value) }
            s.pointee.batch.entries[k].bodyOffset = parsed.bodyOffset
            s.pointee.batch.entries[k].bodySent = 0
            let user = UnsafeMutableRawPointer(bitPattern: k + 1)
            var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: user), read_callback: http2ReadBatchBody)
            let stream = s.pointee.h2.fields.withUnsafeBufferPointer { nva in
                withUnsafePointer(to: &provider) { body in
                    nghttp2_submit_request(s.pointee.h2.session, nil, nva.baseAddress, nva.count,
                                           parsed.bodyOffset < count ? body : nil, user)
                }
            }
            guard stream > 0 else {
                finishEntry(i, k, .http2(stream))
                continue
            }
            s.pointee.batch.entries[k].stream = stream
            s.pointee.batch.entries[k].phase = .open
            s.pointee.batch.open += 1
        }
        vus[i].request.bytes.clear()
        vus[i].request.written = 0
        return batchPump(i)
    }

    /// What nghttp2 has to send appended to `request.bytes`; entries whose HEADERS just went out are
    /// stamped. False when the session failed (the batch ended).
    func batchPump(_ i: Int) -> Bool {
        while true {
            var p: UnsafePointer<UInt8>? = nil
            let n = nghttp2_session_mem_send(vus[i].session.h2.session, &p)
            if n == 0 { break }
            guard n > 0 else {
                batchFailAll(i, .http2(Int32(n)))
                return false
            }
            vus[i].request.bytes.append(UnsafeRawPointer(p!), n)
        }
        let s = sessionPointer(i)
        let now = monotonicMicros()
        for k in 0..<s.pointee.batch.count where s.pointee.batch.entries[k].phase == .open && !s.pointee.batch.entries[k].sent {
            if nghttp2_session_find_stream(s.pointee.h2.session, s.pointee.batch.entries[k].stream) != nil {
                s.pointee.batch.entries[k].sent = true
                s.pointee.batch.entries[k].started = now
            }
        }
        return true
    }

    /// Frames to send mid-batch (WINDOW_UPDATE, more DATA, HEADERS held back, RST_STREAM) go out now.
    /// False when the batch ended (a failed write settled it).
    func batchFlush(_ i: Int) -> Bool {
        let generation = vus[i].session.batch.generation
        if vus[i].conn.state == .reading {
            vus[i].request.bytes.clear()
            vus[i].request.written = 0
        }
        guard batchPump(i) else { return false }
        if vus[i].conn.state == .reading && vus[i].request.bytes.count > 0 {
            vus[i].conn.state = .writing
            write(i)
        }
        return vus[i].session.batch.active && vus[i].session.batch.generation == generation && vus[i].conn.fd >= 0
    }

    /// The connection is up: on HTTP/2 the queued entries go (false: the batch ended there). On HTTP/1.1
    /// (ALPN's pick) the connection stays idle for the prelude, which sends every entry itself.
    func batchConnected(_ i: Int, alpnH2: Bool) -> Bool {
        if i >= vuCount { return true }   // a connection slot (HTTP/1.1): its request goes
        recordConnectPhases(i)
        let h2 = alpnH2 || (config.http2 == .priorKnowledge && !endpoints[vus[i].request.endpoint].tls)
        guard h2 && config.http2 != .off else {
            setWantsWrite(i, false)
            vus[i].conn.state = .idle
            if !batchOnSlots(i) { batchToPrelude(i) }
            return false
        }
        guard http2Open(i) else {
            batchFailAll(i, .http2(Int32(NGHTTP2_ERR_NOMEM.rawValue)))
            return false
        }
        return batchSubmit(i)
    }

    /// The queued entries back to the prelude, which sends them one after another (the reply's nil values).
    func batchToPrelude(_ i: Int) {
        let s = sessionPointer(i)
        for k in 0..<s.pointee.batch.count where s.pointee.batch.entries[k].phase == .queued {
            s.pointee.batch.entries[k].phase = .skipped
        }
        s.pointee.batch.active = false
        replyBatch(i)
    }

    /// The connection's TCP connect and TLS handshake into the first queued entry's row (once per connection).
    private func recordConnectPhases(_ i: Int) {
        let clock = vus[i].request.clock
        let row = Int(vus[i].request.stat)
        if clock.connect > 0 { _ = stats.rows[row].phases.connect.record(clock.connect) }
        if clock.tls > 0 { _ = stats.rows[row].phases.tls.record(clock.tls) }
        vus[i].request.clock.connect = 0
        vus[i].request.clock.tls = 0
    }

    /// Bytes of the batch's connection: into nghttp2, then the streams that ended are settled.
    func batchReceived(_ i: Int, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Bool {
        vus[i].request.gotBytes = true
        let rv = nghttp2_session_mem_recv(vus[i].session.h2.session, bytes.assumingMemoryBound(to: UInt8.self), count)
        guard rv >= 0 else {
            batchFailAll(i, .http2(Int32(rv)))
            return false
        }
        if nghttp2_session_want_write(vus[i].session.h2.session) != 0 {
            guard batchFlush(i) else { return false }
        }
        return batchSettle(i)
    }
}
