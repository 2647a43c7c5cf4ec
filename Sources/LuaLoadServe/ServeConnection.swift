import LuaLoadHTTP
#if canImport(Glibc)
import Glibc
#endif

/// One client connection of a serve worker. Slots are reused; `gen` tells a stale epoll event from a live one.
final class ServeConnection {
    static let initialReadCapacity = 4096
    /// Largest read buffer: one head plus the largest body.
    static let maxReadCapacity = ServeLimits.maxHead + ServeLimits.maxBody + 4096

    let slot: Int
    var fd: Int32 = -1
    var gen: UInt32 = 0

    /// Bytes read: [rpos, rlen) not yet consumed.
    var rbuf: UnsafeMutablePointer<UInt8>
    var rcap: Int
    var rlen = 0
    var rpos = 0
    /// Where the search for the end of the current head resumes (so a slow client is not rescanned from the start).
    var scanPos = 0
    /// A parsed head whose body has not fully arrived.
    var head: RequestHead?
    var continueSent = false

    /// Responses: [outSent, out.count) not yet sent; bytes from heldFrom on wait for the delay timer.
    var out = ByteWriter()
    var outSent = 0
    var heldFrom = -1

    /// Send what is left, then close (Connection: close, HTTP/1.0, malformed request).
    var closeAfterFlush = false
    /// The peer sent FIN: answer what is buffered, then close.
    var peerEOF = false
    /// Write side shut down; reading and discarding until the peer closes (so our last response is not lost to a RST).
    var draining = false

    /// When a byte last moved either way (the worker's loop time, µs): the idle timeout counts from here.
    var lastActive: UInt64 = 0
    /// When the current request head was first seen incomplete (0: no partial head): the header timeout counts from here.
    var headSince: UInt64 = 0

    init(slot: Int) {
        self.slot = slot
        rcap = ServeConnection.initialReadCapacity
        rbuf = .allocate(capacity: rcap)
    }

    deinit { rbuf.deallocate() }

    @inline(__always) var paused: Bool { heldFrom >= 0 }
    @inline(__always) var unsent: Int { out.count - outSent }

    var token: UInt64 { UInt64(gen) << 32 | UInt64(slot) }

    func reset(fd: Int32, now: UInt64) {
        self.fd = fd
        lastActive = now; headSince = 0
        gen &+= 1
        rlen = 0; rpos = 0; scanPos = 0
        head = nil; continueSent = false
        out.removeAll(keepingCapacity: true); outSent = 0; heldFrom = -1
        closeAfterFlush = false; peerEOF = false; draining = false
    }

    /// After close: give back memory a large request or response made us take.
    func release() {
        fd = -1
        if rcap > 64 * 1024 {
            rbuf.deallocate()
            rcap = ServeConnection.initialReadCapacity
            rbuf = .allocate(capacity: rcap)
        }
        if out.bytes.capacity > 256 * 1024 { out = ByteWriter() } else { out.removeAll(keepingCapacity: true) }
        outSent = 0; heldFrom = -1; head = nil
    }

    /// Makes room to read: moves unconsumed bytes to the front, then grows. false when the buffer is at its maximum.
    func makeRoom() -> Bool {
        if rlen < rcap { return true }
        if rpos > 0 {
            let shift = rpos
            let keep = rlen - rpos
            if keep > 0 { memmove(rbuf, rbuf + shift, keep) }
            rpos = 0
            rlen = keep
            scanPos = max(0, scanPos - shift)
            head?.shift(by: -shift)
            if rlen < rcap { return true }
        }
        guard rcap < ServeConnection.maxReadCapacity else { return false }
        let newCap = min(rcap * 2, ServeConnection.maxReadCapacity)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCap)
        bigger.update(from: rbuf, count: rlen)
        rbuf.deallocate()
        rbuf = bigger
        rcap = newCap
        return true
    }
}
