import CNGHTTP2

/// One entry of an `http.batch` (LL_OP_BATCH) run as a stream of the VU's HTTP/2 connection: its request as
/// the encoder wrote it (kept to send it again on a new connection), its stream, and its response.
struct BatchEntry {
    enum Phase: UInt8 {
        case skipped   // not run here (HTTP/1.1, another endpoint, no address): the prelude sends it itself
        case queued    // waits for the connection (first, or again after GOAWAY / REFUSED_STREAM)
        case open      // submitted: a stream of the connection (nghttp2 holds back HEADERS past the server's limit)
        case done      // answered or failed, and recorded
    }

    var phase = Phase.skipped
    var stat: Int32 = 0
    /// The request as HTTP/1.1 bytes (RequestEncoder), read back into header fields at each submit.
    var source = ByteBuffer()
    var bodyOffset = 0
    var bodySent = 0
    var isHead = false
    var stream: Int32 = 0
    /// Its HEADERS went out (the stream exists in nghttp2): the server may have it.
    var sent = false
    /// nghttp2 closed the stream; `errorCode` is its RST_STREAM code (0: a whole response).
    var closed = false
    var errorCode: UInt32 = 0
    /// Already sent again once after the server did not process it.
    var retried = false
    /// HTTP/1.1: the connection slot carrying it (-1: a stream of the VU's HTTP/2 connection, or none).
    var slot: Int32 = -1
    var status = 0
    /// The head as text ("HTTP/2.0 200\r\nname: value\r\n…"), as a plain request's, and the body.
    var head = ByteBuffer()
    var body = ByteBuffer()
    /// µs: when its HEADERS went out, and when it times out.
    var started: UInt64 = 0
    var deadline: UInt64 = 0
    /// A redirect hop: µs its chain took before it (LL_SLOT_FOLLOWS); what its own redirect is (HTTPSession+BatchRedirect).
    var carried: UInt64 = 0
    var redirects = BatchRedirects.record
    /// What the reply carries: latency (µs), failure by the default rule, LL_FLAG_* bits.
    var micros: UInt64 = 0
    var failure: Failure? = nil
    var flags = 0

    mutating func free() {
        source.free()
        head.free()
        body.free()
    }

    /// A fresh entry that keeps `e`'s buffers (the source as it is, head and body emptied).
    static func reset(_ e: BatchEntry) -> BatchEntry {
        var r = BatchEntry()
        r.source = e.source
        r.head = e.head
        r.head.clear()
        r.body = e.body
        r.body.clear()
        return r
    }
}

/// A VU's batch (Sessions/HTTP2/HTTPSession+Batch.swift). Empty until the VU runs one; its entries keep
/// their buffers from one batch to the next. Callbacks find an entry by its stream's user data (index + 1),
/// so the storage never grows while streams are open.
struct HTTP2Batch {
    var entries = ContiguousArray<BatchEntry>()
    /// Entries of the current (or last) batch.
    var count = 0
    /// A batch is in flight: the session's calls go to the batch's functions.
    var active = false
    /// Entries in phase `.open`.
    var open = 0
    /// Bumped at each batch: a write that failed and settled the batch (and resumed Lua) is told apart.
    var generation: UInt32 = 0
    /// A stream of this batch was cancelled (timeout): the connection is not kept.
    var cancelled = false
    /// HTTP/1.1: the batch runs on connection slots (HTTPSession+BatchHTTP1), not on the VU's connection.
    var onSlots = false
    /// In a connection slot: the VU whose entry it carries (-1: free) and that entry (-1: none).
    var owner: Int32 = -1
    var entry: Int32 = -1

    mutating func free() {
        for k in entries.indices { entries[k].free() }
        entries = []
        count = 0
    }
}

/// The options of every HTTP/2 session: until the server's SETTINGS come, one stream at a time (nghttp2
/// assumes 100), so a batch's first flight never goes past a server's SETTINGS_MAX_CONCURRENT_STREAMS and
/// has streams refused; nghttp2 holds the other HEADERS back and sends them as the server allows. A plain
/// request (one stream at a time) is not affected.
let http2Options: OpaquePointer = {
    var option: OpaquePointer? = nil
    nghttp2_option_new(&option)
    nghttp2_option_set_peer_max_concurrent_streams(option, 1)
    return option!
}()

// nghttp2's callbacks (HTTP2State.swift) for a stream that is not the plain request's: an entry of the
// VU's batch, found by the stream's user data. A stream without user data, or left from an earlier batch
// (its entry now holds another stream), is ignored.
@inline(__always)
private func batchEntry(_ s: UnsafeMutablePointer<HTTPSession>, _ session: OpaquePointer?, _ stream: Int32) -> Int? {
    guard let user = nghttp2_session_get_stream_user_data(session, stream) else { return nil }
    let k = Int(bitPattern: user) - 1
    guard k >= 0, k < s.pointee.batch.entries.count, s.pointee.batch.entries[k].stream == stream,
          s.pointee.batch.entries[k].phase == .open else { return nil }
    return k
}

func http2BatchHeader(_ s: UnsafeMutablePointer<HTTPSession>, _ session: OpaquePointer?, _ stream: Int32,
                      _ name: UnsafePointer<UInt8>, _ nameLength: Int, _ value: UnsafePointer<UInt8>, _ valueLength: Int) -> Int32 {
    guard let k = batchEntry(s, session, stream) else { return 0 }
    if nameLength == 7 && name[0] == 0x3A {   // ":status"
        s.pointee.batch.entries[k].head.clear()
        s.pointee.batch.entries[k].head.append("HTTP/2.0 ")
        s.pointee.batch.entries[k].head.append(UnsafeRawPointer(value), valueLength)
        s.pointee.batch.entries[k].head.append("\r\n")
        var status = 0
        for j in 0..<valueLength { status = status * 10 + Int(value[j] &- 0x30) }
        s.pointee.batch.entries[k].status = status
        return 0
    }
    s.pointee.batch.entries[k].head.append(UnsafeRawPointer(name), nameLength)
    s.pointee.batch.entries[k].head.append(": ")
    s.pointee.batch.entries[k].head.append(UnsafeRawPointer(value), valueLength)
    s.pointee.batch.entries[k].head.append("\r\n")
    return 0
}

func http2BatchData(_ s: UnsafeMutablePointer<HTTPSession>, _ session: OpaquePointer?, _ stream: Int32,
                    _ data: UnsafePointer<UInt8>, _ length: Int) {
    guard let k = batchEntry(s, session, stream) else { return }
    s.pointee.batch.entries[k].body.append(UnsafeRawPointer(data), length)
}

func http2BatchClosed(_ s: UnsafeMutablePointer<HTTPSession>, _ session: OpaquePointer?, _ stream: Int32, _ code: UInt32) {
    guard let k = batchEntry(s, session, stream) else { return }
    s.pointee.batch.entries[k].closed = true
    s.pointee.batch.entries[k].errorCode = code
}

/// An entry's request body in DATA frames as flow control allows; `source.ptr` is the entry's index + 1.
func http2ReadBatchBody(_ session: OpaquePointer?, _ stream: Int32, _ buf: UnsafeMutablePointer<UInt8>?, _ length: Int,
                        _ flags: UnsafeMutablePointer<UInt32>?, _ source: UnsafeMutablePointer<nghttp2_data_source>?,
                        _ user: UnsafeMutableRawPointer?) -> Int {
    let s = user!.assumingMemoryBound(to: HTTPSession.self)
    let k = Int(bitPattern: source!.pointee.ptr) - 1
    let e = s.pointee.batch.entries[k]
    let total = e.source.count - e.bodyOffset
    let n = min(length, total - e.bodySent)
    if n > 0 { buf!.update(from: e.source.base! + e.bodyOffset + e.bodySent, count: n) }
    s.pointee.batch.entries[k].bodySent += n
    if e.bodySent + n == total { flags!.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue) }
    return n
}
