import CNGHTTP2

/// Where a VU's request is with respect to the thread's HTTP/2 pool (`--h2-pool N`, HTTPSession.seat).
enum PoolSeat: Equatable {
    /// Not pooled: the VU's own connection, or no request.
    case none
    /// In the pool's FIFO until a connection has a free stream.
    case waiting
    /// The server did not process it (GOAWAY, REFUSED_STREAM): it waits for a connection opened after that
    /// (epoch above this one), ahead of the others.
    case retrying(UInt32)
    /// A stream (`h2.stream`) of pool connection `c`.
    case stream(Int32)
}

/// One connection of the pool (h2load's Client): its VirtualUser slot in the worker's buffer carries the socket,
/// the bytes to write (`request.bytes`) and the nghttp2 session (`session.h2.session`); this record, at a stable
/// address (the session's user data), carries what the pool needs. Its lifecycle moves only through
/// `SessionWorker.poolMove` (HTTPSession+PoolLife.swift).
struct PoolConnection {
    enum State: UInt8 {
        case closed       // no socket: connected when a VU has to wait
        case connecting   // TCP connect and TLS handshake under way
        case open         // takes streams up to `maxStreams`
        case draining     // GOAWAY came: no new stream; closed when its last one ends
    }

    var state = State.closed
    /// Which opening this is (the pool counts them): a stream the server did not process goes again only on a
    /// connection opened after its refusal.
    var epoch: UInt32 = 0
    /// Streams of VUs open on it, and the most the server allows (SETTINGS_MAX_CONCURRENT_STREAMS; 1 until the
    /// server's SETTINGS arrive, as every session of ours, HTTP2Batch.swift's `http2Options`).
    var streams: Int32 = 0
    var maxStreams: Int32 = 1
    /// VU sessions whose stream nghttp2 closed during the last `mem_recv` (filled by the close callback), and the
    /// buffer they are settled from (swapped, so both keep their capacity: nothing allocated per request).
    var closed = ContiguousArray<UnsafeMutableRawPointer>()
    var settling = ContiguousArray<UnsafeMutableRawPointer>()
    /// GOAWAY: streams above `lastStream` were not processed.
    var goaway = false
    var goawayCode: UInt32 = 0
    var lastStream: Int32 = .max
    /// Bytes written on this connection before its current `request.bytes` (a stream is on the wire once
    /// `sentBase + written` passes its mark: the stop counts it as abandoned).
    var sentBase = 0
    /// Frames appended while a read was settled, to write at its end.
    var dirty = false
    /// The stream whose header block is being received and its VU session (nil: none, or the VU left it), looked
    /// up once per block (on_begin_headers) rather than per field: a block's fields arrive with no other frame
    /// between them. poolLeave clears `headerVU` when its VU leaves that stream.
    var headerStream: Int32 = 0
    var headerVU: UnsafeMutablePointer<HTTPSession>? = nil
}

/// VUs waiting for a stream, in FIFO order: a ring of VU indices allocated once (each VU in it at most once).
struct VUQueue {
    private let ring: UnsafeMutablePointer<Int32>
    private let capacity: Int
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        ring = .allocate(capacity: self.capacity)
    }

    func free() { ring.deallocate() }

    var first: Int { Int(ring[head]) }

    mutating func append(_ vu: Int) {
        ring[(head + count) % capacity] = Int32(vu)
        count += 1
    }

    mutating func removeFirst() -> Int {
        let vu = Int(ring[head])
        head = (head + 1) % capacity
        count -= 1
        return vu
    }

    /// Takes `vu` out (its timeout, the stop): O(count), off the request path.
    mutating func remove(_ vu: Int) {
        var kept = 0
        for k in 0..<count where ring[(head + k) % capacity] != Int32(vu) {
            ring[(head + kept) % capacity] = ring[(head + k) % capacity]
            kept += 1
        }
        count = kept
    }
}

/// The thread's pool: N connections to one endpoint (the first eligible one its VUs ask for: TLS, or h2c with
/// prior knowledge), their slots after the VUs and http.batch's slots in the worker's buffer, and the VUs
/// waiting for a stream (those going again first).
struct HTTP2Pool {
    let size: Int
    /// The first connection's slot index in the worker's VU buffer.
    let base: Int
    let connections: UnsafeMutablePointer<PoolConnection>
    var endpoint: Int32 = -1
    var waiting: VUQueue
    var retrying: VUQueue
    /// Connections opened so far (the last one's epoch).
    var epoch: UInt32 = 0
    /// A read is being settled: connections' writes wait for its end (poolFlush).
    var deferring = false

    init(size: Int, base: Int, vuCount: Int) {
        self.size = size
        self.base = base
        connections = .allocate(capacity: max(size, 1))
        connections.initialize(repeating: PoolConnection(), count: size)
        waiting = VUQueue(capacity: size > 0 ? vuCount : 1)
        retrying = VUQueue(capacity: size > 0 ? vuCount : 1)
    }

    func free() {
        connections.deinitialize(count: size)
        connections.deallocate()
        waiting.free()
        retrying.free()
    }

    /// The open connection with the fewest streams and room for one more (streams spread as h2load's -m does),
    /// opened after epoch `after`.
    func pick(after: UInt32 = 0) -> Int? {
        var best = -1, fewest = Int32.max
        for c in 0..<size where connections[c].state == .open && connections[c].streams < connections[c].maxStreams
            && connections[c].streams < fewest && connections[c].epoch > after {
            best = c
            fewest = connections[c].streams
        }
        return best >= 0 ? best : nil
    }

    /// Whether any connection is up or on its way.
    var anyLive: Bool { (0..<size).contains { connections[$0].state != .closed } }
}

/// The callbacks of the pool's sessions. The session's user data is its PoolConnection; a stream's is the VU's
/// HTTPSession (set at submit, cleared when the VU leaves it), whose response parser its frames fill as a
/// plain request's do (HTTP2State.swift). A stream without user data (abandoned, timed out) is ignored.
let http2PoolCallbacks: OpaquePointer = {
    var cbs: OpaquePointer? = nil
    nghttp2_session_callbacks_new(&cbs)
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, { session, frame, user in
        let c = user!.assumingMemoryBound(to: PoolConnection.self)
        c.pointee.headerStream = frame!.pointee.hd.stream_id
        c.pointee.headerVU = pooledStream(session, c.pointee.headerStream)
        return 0
    })
    nghttp2_session_callbacks_set_on_header_callback(cbs, { _, frame, name, nameLength, value, valueLength, _, user in
        let c = user!.assumingMemoryBound(to: PoolConnection.self)
        let stream = frame!.pointee.hd.stream_id
        guard stream == c.pointee.headerStream, let s = c.pointee.headerVU, s.pointee.h2.stream == stream else { return 0 }
        http2ResponseHeader(s, name!, nameLength, value!, valueLength)
        return 0
    })
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, { session, _, stream, data, length, _ in
        pooledStream(session, stream)?.pointee.response.body.append(UnsafeRawPointer(data!), length)
        return 0
    })
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, { session, stream, code, user in
        guard let s = pooledStream(session, stream) else { return 0 }
        s.pointee.h2.streamClosed = true
        s.pointee.h2.errorCode = code
        user!.assumingMemoryBound(to: PoolConnection.self).pointee.closed.append(UnsafeMutableRawPointer(s))
        return 0
    })
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, { _, frame, user in
        if frame!.pointee.hd.type == UInt8(NGHTTP2_GOAWAY.rawValue) {
            let c = user!.assumingMemoryBound(to: PoolConnection.self)
            c.pointee.goaway = true
            c.pointee.goawayCode = frame!.pointee.goaway.error_code
            c.pointee.lastStream = frame!.pointee.goaway.last_stream_id
        }
        return 0
    })
    return cbs!
}()

/// The VU session a pool stream belongs to, if it still does.
@inline(__always)
private func pooledStream(_ session: OpaquePointer?, _ stream: Int32) -> UnsafeMutablePointer<HTTPSession>? {
    guard let user = nghttp2_session_get_stream_user_data(session, stream) else { return nil }
    let s = user.assumingMemoryBound(to: HTTPSession.self)
    return s.pointee.h2.stream == stream ? s : nil
}

/// A pooled request's body in DATA frames; `source.ptr` is the VU's HTTPSession.
func http2ReadPooledBody(_ session: OpaquePointer?, _ stream: Int32, _ buf: UnsafeMutablePointer<UInt8>?, _ length: Int,
                         _ flags: UnsafeMutablePointer<UInt32>?, _ source: UnsafeMutablePointer<nghttp2_data_source>?,
                         _ user: UnsafeMutableRawPointer?) -> Int {
    http2ReadBody(session, stream, buf, length, flags, source, source!.pointee.ptr)
}
