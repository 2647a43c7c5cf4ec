import CZlib

/// Decodes `Content-Encoding: gzip` and `deflate` bodies with zlib into a reused buffer. One per worker,
/// used only by responses that carry such a header. The z_stream lives at a fixed address, since zlib's
/// state points back at it.
final class ContentDecoder {
    enum Encoding { case gzip, deflate }

    private let stream: UnsafeMutablePointer<z_stream>
    /// The window bits the stream was last set up for (0: not yet).
    private var windowBits: Int32 = 0
    /// The decoded body of the last `decode`.
    private(set) var output = ByteBuffer()

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
    }

    deinit {
        if windowBits != 0 { inflateEnd(stream) }
        stream.deallocate()
        output.free()
    }

    /// Decodes `input` into `output`; false when it is not a valid stream of its encoding (or is cut short).
    /// "deflate" is meant to be a zlib stream, but some servers send raw deflate: both are accepted.
    func decode(_ input: UnsafeRawBufferPointer, _ encoding: Encoding) -> Bool {
        switch encoding {
        case .gzip: return inflate(input, windowBits: 15 + 16)
        case .deflate: return inflate(input, windowBits: 15) || inflate(input, windowBits: -15)
        }
    }

    private func inflate(_ input: UnsafeRawBufferPointer, windowBits bits: Int32) -> Bool {
        guard reset(bits) else { return false }
        output.clear()
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        while true {
            output.reserve(max(input.count * 4, 4096))
            let room = output.capacity - output.count
            stream.pointee.next_out = output.base! + output.count
            stream.pointee.avail_out = uInt(room)
            let rc = CZlib.inflate(stream, Z_NO_FLUSH)
            output.count += room - Int(stream.pointee.avail_out)
            if rc == Z_STREAM_END { return true }
            // Z_BUF_ERROR with input left and no room is only "grow the buffer"; with no input left the body was cut.
            guard rc == Z_OK || (rc == Z_BUF_ERROR && stream.pointee.avail_out == 0) else { return false }
            if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return false }
        }
    }

    private func reset(_ bits: Int32) -> Bool {
        if windowBits == bits { return inflateReset(stream) == Z_OK }
        if windowBits != 0 { inflateEnd(stream) }
        windowBits = 0
        guard czlib_inflate_init2(stream, bits) == Z_OK else { return false }
        windowBits = bits
        return true
    }
}
