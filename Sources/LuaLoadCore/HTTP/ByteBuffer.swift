#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer in malloc'd memory, reused across requests: no ARC, no copy-on-write,
/// and no allocation once it has grown to the size of the largest message it held.
public struct ByteBuffer {
    public private(set) var base: UnsafeMutablePointer<UInt8>?
    public var count = 0
    public private(set) var capacity = 0

    public init() {}

    public mutating func free() {
        Glibc.free(base)
        base = nil
        count = 0
        capacity = 0
    }

    @inline(__always)
    public mutating func clear() { count = 0 }

    @inline(__always)
    public mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        var newCapacity = max(capacity * 2, 256)
        while newCapacity < needed { newCapacity *= 2 }
        base = realloc(base, newCapacity).assumingMemoryBound(to: UInt8.self)
        capacity = newCapacity
    }

    @inline(__always)
    public mutating func append(_ bytes: UnsafeRawPointer, _ length: Int) {
        guard length > 0 else { return }
        reserve(length)
        (base! + count).update(from: bytes.assumingMemoryBound(to: UInt8.self), count: length)
        count += length
    }

    @inline(__always)
    public mutating func append(_ bytes: UnsafePointer<CChar>, _ length: Int) {
        append(UnsafeRawPointer(bytes), length)
    }

    @inline(__always)
    public mutating func append(_ byte: UInt8) {
        reserve(1)
        base![count] = byte
        count += 1
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0.baseAddress!, $0.count) }
    }

    /// Appends a static ASCII string (compile-time literals: no allocation).
    @inline(__always)
    public mutating func append(_ s: StaticString) {
        append(UnsafeRawPointer(s.utf8Start), s.utf8CodeUnitCount)
    }

    /// Appends a non-negative integer in decimal.
    public mutating func appendDecimal(_ value: Int) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = max(value, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - n] = UInt8(48 + v % 10)
                v /= 10
                n += 1
            } while v > 0
            append(d.baseAddress! + (20 - n), n)
        }
    }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
