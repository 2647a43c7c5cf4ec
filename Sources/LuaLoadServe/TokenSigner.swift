import LuaLoadHTTP
/// Bearer tokens that validate themselves, so a token issued on one thread is valid on all of them with no shared table:
/// `lt1.<hex of the email>.<16 hex digits of a keyed checksum>`. The key is random per server instance.
struct TokenSigner: Sendable {
    let secret: UInt64

    func checksum<C: Collection>(_ email: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ secret
        for b in email { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return mix64(h ^ secret)
    }

    func issue(email: [UInt8]) -> [UInt8] {
        var t = ByteWriter(capacity: email.count * 2 + 24)
        t.lit("lt1.")
        for b in email { t.append(hexDigit(b >> 4)); t.append(hexDigit(b & 15)) }
        t.append(UInt8(ascii: "."))
        t.hex64(checksum(email))
        return t.bytes
    }

    /// The email a token was issued for, or nil if it is not one of ours.
    func verify(_ b: UnsafePointer<UInt8>, _ r: Range<Int>) -> [UInt8]? {
        guard r.count >= 4 + 2 + 1 + 16, bytesHavePrefix(b, r, "lt1."),
              b[r.upperBound - 17] == UInt8(ascii: ".") else { return nil }
        let hexEnd = r.upperBound - 17
        let hexCount = hexEnd - (r.lowerBound + 4)
        guard hexCount > 0, hexCount % 2 == 0 else { return nil }
        var email: [UInt8] = []
        email.reserveCapacity(hexCount / 2)
        var i = r.lowerBound + 4
        while i < hexEnd {
            guard let hi = hexValue(b[i]), let lo = hexValue(b[i + 1]) else { return nil }
            email.append(hi << 4 | lo)
            i += 2
        }
        var sum: UInt64 = 0
        for k in (hexEnd + 1)..<r.upperBound {
            guard let h = hexValue(b[k]) else { return nil }
            sum = sum << 4 | UInt64(h)
        }
        return sum == checksum(email) ? email : nil
    }
}
