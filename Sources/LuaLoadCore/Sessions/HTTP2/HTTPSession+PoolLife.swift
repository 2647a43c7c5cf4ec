import CNGHTTP2
import CLuaShim
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// The pool's lifecycles: a connection's state (one place, `poolMove`), its loss, and a VU leaving the pool
/// (its response, its timeout, the stop).
extension SessionWorker where Session == HTTPSession {
    /// The one place a pool connection's state changes.
    func poolMove(_ c: Int, to new: PoolConnection.State) {
        let conn = h2pool.connections + c
        assert(PoolConnection.allowed(from: conn.pointee.state, to: new), "pool connection \(c): \(conn.pointee.state) → \(new)")
        switch new {
        case .open:
            h2pool.epoch &+= 1
            conn.pointee.epoch = h2pool.epoch
            conn.pointee.maxStreams = 1
            conn.pointee.goaway = false
            conn.pointee.goawayCode = 0
            conn.pointee.lastStream = .max
            conn.pointee.sentBase = 0
            conn.pointee.closed.removeAll(keepingCapacity: true)
        case .closed:
            closeConnection(poolSlot(c))   // (its nghttp2 session goes with it)
        case .connecting, .draining:
            break
        }
        conn.pointee.state = new
    }

    /// Connection `c` failed (connect, TLS, ALPN's http/1.1, write, read, a protocol error) or the server closed
    /// it: its streams the server did not process (above a GOAWAY's last) go again, the others fail with the
    /// reason (a server's close: "connection closed by the server before a complete response"). When it never opened and no other connection is up or on its way, the waiting VUs fail with it.
    func poolConnectionLost(_ c: Int, _ failure: Failure) {
        let conn = h2pool.connections[c]
        guard conn.state != .closed else { return }
        let opened = conn.state != .connecting
        poolMove(c, to: .closed)
        for i in 0..<vuCount where vus[i].session.seat == .stream(Int32(c)) {
            let stream = vus[i].session.h2.stream
            poolLeave(i, cancel: false)
            if conn.goaway && stream > conn.lastStream {
                poolUnprocessed(i, c)
            } else {
                failRequest(i, failure)   // (processed, as far as the server said: its response is lost)
            }
        }
        if !opened {
            // It never opened: unless another one is up, the waiting VUs fail with it (those their scripts then
            // queue connect again). No reconnection here: a server that refuses is not hammered by the pool.
            if !(0..<h2pool.size).contains(where: { h2pool.connections[$0].state == .open || h2pool.connections[$0].state == .draining }) {
                poolFailQueue(retrying: true, failure)
                poolFailQueue(retrying: false, failure)
            }
        } else if h2pool.waiting.count + h2pool.retrying.count > 0 {
            poolConnectClosed()
        }
    }

    /// The VUs in a queue now fail with `failure` (not inout: their scripts may queue again meanwhile).
    private func poolFailQueue(retrying: Bool, _ failure: Failure) {
        for _ in 0..<(retrying ? h2pool.retrying.count : h2pool.waiting.count) {
            guard (retrying ? h2pool.retrying.count : h2pool.waiting.count) > 0 else { return }
            let i = retrying ? h2pool.retrying.removeFirst() : h2pool.waiting.removeFirst()
            vus[i].session.seat = .none
            failRequest(i, failure)
        }
    }

    /// VU `i` leaves the pool: its place in the queue, or its stream (no more of its frames reach it; reset with
    /// CANCEL when `cancel`: its timeout).
    func poolLeave(_ i: Int, cancel: Bool) {
        switch vus[i].session.seat {
        case .none:
            return
        case .waiting:
            h2pool.waiting.remove(i)
        case .retrying:
            h2pool.retrying.remove(i)
        case .stream(let c32):
            let c = Int(c32)
            h2pool.connections[c].streams -= 1
            vus[i].session.seat = .none
            let stream = vus[i].session.h2.stream
            vus[i].session.h2.stream = 0
            if let session = vus[poolSlot(c)].session.h2.session {
                _ = nghttp2_session_set_stream_user_data(session, stream, nil)
                if h2pool.connections[c].headerStream == stream { h2pool.connections[c].headerVU = nil }
                if cancel {
                    _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, NGHTTP2_CANCEL.rawValue)
                    poolFlush(c)
                    poolServe()
                }
            }
        }
        vus[i].session.seat = .none
    }

    /// The run stops (or a ramp-down retires the VU) with its request in the pool: 1 when its frames are on the
    /// wire (the server may have it). At the stop its connection ends (`poolEndAfterFIN`): what it never
    /// wrote never arrives, and what it wrote does.
    func poolAbandon(_ i: Int) -> Int {
        guard case .stream(let c32) = vus[i].session.seat else {
            poolLeave(i, cancel: false)
            return 0
        }
        let c = Int(c32), h = poolSlot(c)
        var onWire = true
        if case .stopping = phase {
            onWire = h2pool.connections[c].sentBase + vus[h].request.written >= vus[i].session.poolMark
            if h2pool.connections[c].state != .closed { poolEndAfterFIN(c) }
        }
        poolLeave(i, cancel: false)
        return onWire ? 1 : 0
    }

    /// Ends pool connection `c` at the stop with a FIN, then closes it once the server closed its side (it has
    /// read all we wrote), or after 500 ms. A plain close() with responses unread in the socket sends RST,
    /// and a RST makes the server's kernel drop what the server had not read yet: streams counted as abandoned
    /// that the server never saw (1 of 33,990 in HTTP2PoolTests' stop on a loaded box). Only at the stop.
    func poolEndAfterFIN(_ c: Int) {
        let h = poolSlot(c), fd = vus[h].conn.fd
        if fd >= 0 && Glibc.shutdown(fd, Int32(SHUT_WR)) == 0 {
            var sink = [UInt8](repeating: 0, count: 16384)
            let deadline = monotonicMicros() + 500_000
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            while monotonicMicros() < deadline {
                pfd.revents = 0
                guard poll(&pfd, 1, Int32((deadline - min(deadline, monotonicMicros())) / 1000) + 1) > 0 else { break }
                let n = Glibc.recv(fd, &sink, sink.count, Int32(MSG_DONTWAIT))
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { break }   // the server's FIN (or an error)
            }
            vus[h].conn.broken = true   // no close_notify on a socket shut for writing
        }
        poolMove(c, to: .closed)
    }

    /// http.batch of a pooled VU: its entries go back to the prelude, which sends them one after another, each
    /// on the pool (streams of a batch spread over the pool are not built yet).
    func poolBatch(_ i: Int, _ frame: Frame) -> Bool {
        let n = frame.integer(LL_SLOT_BATCH_COUNT)
        frame.pop()
        guard n > 0, n <= Int(LL_BATCH_MAX) else {
            stats.countScriptError(message: "http.batch: a malformed batch frame", traceback: "")
            return false
        }
        let s = sessionPointer(i)
        if s.pointee.batch.entries.count < n {
            s.pointee.batch.entries.append(contentsOf: repeatElement(BatchEntry(), count: n - s.pointee.batch.entries.count))
        }
        s.pointee.batch.count = n
        for k in 0..<n { s.pointee.batch.entries[k].phase = .skipped }
        replyBatch(i)
        return true
    }
}

extension PoolConnection {
    /// The transitions a pool connection makes.
    static func allowed(from old: State, to new: State) -> Bool {
        switch (old, new) {
        case (.closed, .connecting), (.connecting, .open), (.connecting, .closed), (.open, .draining), (.open, .closed),
             (.draining, .closed):
            return true
        default:
            return false
        }
    }
}
