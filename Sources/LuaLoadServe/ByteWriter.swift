/// The bytes of a response or a body being written: status lines, headers, JSON. A named type rather than an
/// extension on `[UInt8]`, so these writers stay out of the API of every other byte array in the module.
/// `bytes` is open for what an array does best (send from it, drop what was sent).
struct ByteWriter {
    var bytes: [UInt8] = []

    init() {}

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    @inline(__always) var count: Int { bytes.count }

    @inline(__always)
    mutating func removeAll(keepingCapacity keep: Bool) { bytes.removeAll(keepingCapacity: keep) }

    @inline(__always)
    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    @inline(__always)
    mutating func append<C: Collection>(contentsOf other: C) where C.Element == UInt8 { bytes.append(contentsOf: other) }

    @inline(__always)
    mutating func lit(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Decimal integer, no allocation.
    mutating func int(_ value: Int) {
        var v = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        if v < 10 { bytes.append(48 &+ UInt8(v)); return }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch
        Swift.withUnsafeMutableBytes(of: &tmp) { raw in
            var i = 24
            while v > 0 { i -= 1; raw[i] = 48 &+ UInt8(v % 10); v /= 10 }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i..<24]))
        }
    }

    /// `value` with at most `decimals` digits after the point (for small, finite metric values).
    mutating func fixed(_ value: Double, decimals: Int) {
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((value * Double(scale)).rounded())
        if scaled < 0 { bytes.append(UInt8(ascii: "-")) }
        let m = abs(scaled)
        int(m / scale)
        if decimals > 0 {
            bytes.append(UInt8(ascii: "."))
            var frac = m % scale
            var div = scale / 10
            while div > 0 { bytes.append(48 &+ UInt8(frac / div)); frac %= div; div /= 10 }
        }
    }

    /// 16 lowercase hex digits.
    mutating func hex64(_ v: UInt64) {
        var shift = 60
        while shift >= 0 { bytes.append(hexDigit(UInt8((v >> UInt64(shift)) & 15))); shift -= 4 }
    }
}
