/// Eight bytes as one little-endian 64-bit word, tested all at once (SWAR): a test's result has the high bit of
/// each byte that matched set. Only the lowest flag of a result is exact (a borrow can set flags above it), so
/// callers take `trailingZeroBitCount >> 3`, the offset of the first byte that matched.
enum Word {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always)
    static func load(_ p: UnsafePointer<UInt8>) -> UInt64 { UnsafeRawPointer(p).loadUnaligned(as: UInt64.self) }

    /// Two bytes, as `load` reads them: CRLF is 0x0A0D.
    @inline(__always)
    static func load16(_ p: UnsafePointer<UInt8>) -> UInt16 { UnsafeRawPointer(p).loadUnaligned(as: UInt16.self) }

    /// The eight bytes at `p` with ASCII letters lowered (and other bytes changed alike, as `matches` does).
    @inline(__always)
    static func lowered(_ p: UnsafePointer<UInt8>) -> UInt64 { load(p) | (0x20 &* ones) }

    /// The first eight bytes of a literal of at least eight, as `load` reads them; folded to a constant.
    @inline(__always)
    static func of(_ s: StaticString) -> UInt64 { UnsafeRawPointer(s.utf8Start).loadUnaligned(as: UInt64.self) }

    /// Bytes other than ASCII letters and '-'. The tests work on the bytes' low seven bits, so that no sum carries
    /// into the next byte (bytes from 0x80 are flagged through `x`): a lowered byte l is a letter when both
    /// 0xFA - l (l <= 'z') and l + 0x1F (l >= 'a') have their high bit set; y = t ^ '-' is 0 only for '-', and
    /// y + 0x7F has its high bit set for every other y.
    @inline(__always)
    static func notLetterOrDash(_ x: UInt64) -> UInt64 {
        let t = x & (0x7F &* ones)
        let l = t | (0x20 &* ones)   // letters lowered; no other byte becomes a letter
        let letters = ((0x7F + 0x7B) &* ones &- l) & (l &+ (0x7F - 0x60) &* ones)
        let notDashes = (t ^ (0x2D &* ones)) &+ (0x7F &* ones)
        return (notDashes & ~letters | x) & highs
    }

    /// The first byte below 0x20 or equal to 0x7F: with t the byte's low seven bits, t + 1 is 0x80 for DEL and
    /// below 0x21 for a control, so that t + 1 - 0x21 borrows. Bytes from 0x80 are masked through `~x`, but their
    /// borrow can flag a blank just above them, a false stop the callers check for.
    @inline(__always)
    static func firstControl(_ x: UInt64) -> UInt64 {
        let u = (x & (0x7F &* ones)) &+ ones
        return (u &- 0x21 &* ones | u) & ~x & highs
    }
}
