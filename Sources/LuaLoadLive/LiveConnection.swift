/// One client of the live server: what it sent and not yet handled, what waits to be sent.
final class LiveConnection {
    let fd: Int32
    let gen: UInt32
    var input: [UInt8] = []
    var out: [UInt8] = []
    var outSent = 0
    /// An event stream: broadcasts to this channel are appended to `out`.
    var channel: String?
    var closeAfterFlush = false
    /// When it last completed a request or connected (monotonic µs): the idle timeout counts from here.
    var lastActive: UInt64
    /// Whether EPOLLOUT is in its interest set (only while output waits).
    var watchingWrites = false

    init(fd: Int32, gen: UInt32, now: UInt64) {
        self.fd = fd
        self.gen = gen
        lastActive = now
    }

    var token: UInt64 { UInt64(gen) << 32 | UInt64(UInt32(bitPattern: fd)) }
}
