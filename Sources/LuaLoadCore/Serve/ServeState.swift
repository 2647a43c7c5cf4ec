import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Fast per-thread random numbers (splitmix64).
struct ServeRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix64(state)
    }

    /// Uniform in [0, 1).
    @inline(__always)
    mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in 0...n.
    @inline(__always)
    mutating func upTo(_ n: UInt64) -> UInt64 { n == .max ? next() : next() % (n + 1) }
}

@inline(__always)
func mix64(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

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
        var t: [UInt8] = []
        t.reserveCapacity(email.count * 2 + 24)
        t.lit("lt1.")
        for b in email { t.append(hexDigit(b >> 4)); t.append(hexDigit(b & 15)) }
        t.append(UInt8(ascii: "."))
        t.hex64(checksum(email))
        return t
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

/// The fixed test accounts (from the Locust guide) besides "any email with password `password`".
enum ServeAccounts {
    static let fixed: [(email: StaticString, password: StaticString, name: StaticString)] = [
        ("loadtest.user@example.com", "SuperSecurePass123!", "Load Test User"),
        ("uploader@example.com", "UploadFlowPass456!", "Upload Flow User"),
    ]
    /// Accepted by POST /api/v1/events/ingest in addition to login-issued tokens.
    static let ingestToken: StaticString = "lf_ingest_test_token_abc123"

    static func check(email: [UInt8], password: [UInt8]) -> Bool {
        for acct in fixed where acct.email.withUTF8Buffer({ email.elementsEqual($0) }) {
            return acct.password.withUTF8Buffer { password.elementsEqual($0) }
        }
        // Any plausible address ("x@y") with the password "password".
        guard let at = email.firstIndex(of: UInt8(ascii: "@")), at > 0, at < email.count - 1, email.count <= 254 else { return false }
        return password.elementsEqual("password".utf8)
    }
}

/// The demo projects: ids 101...112 (the guide's scripts pick from 101-104).
enum ServeProjects {
    static let firstID = 101
    static let names: [StaticString] = [
        "edge-api", "checkout-service", "analytics-pipeline", "mobile-backend", "marketing-site", "search-index",
        "billing-worker", "auth-gateway", "media-transcoder", "notifications", "admin-console", "data-export",
    ]
    static var ids: ClosedRange<Int> { firstID...(firstID + names.count - 1) }
}

/// One presigned upload, kept in memory.
struct UploadRecord {
    var fileID: [UInt8]
    var owner: [UInt8]
    var filename: [UInt8]
    var contentType: [UInt8]
    var folder: [UInt8]
    var sizeBytes: Int
    var createdMicros: UInt64
    var createdWall: Double
}

/// Uploads created by POST /api/v1/uploads/presign, shared by all threads (a lock per presign/list, never on GET /health).
/// Keeps the most recent `capacity` uploads.
final class UploadStore: Sendable {
    static let capacity = 10_000
    /// An upload counts as "complete" this long after it was presigned (the simulated client has uploaded it by then).
    static let completeAfterMicros: UInt64 = 5_000_000

    private struct Ring {
        var items: [UploadRecord] = []
        var next = 0
    }

    private let ring = Mutex(Ring())

    func add(_ r: UploadRecord) {
        ring.withLock { s in
            if s.items.count < UploadStore.capacity {
                s.items.append(r)
            } else {
                s.items[s.next] = r
            }
            s.next = (s.next + 1) % UploadStore.capacity
        }
    }

    /// The owner's newest uploads first, at most `limit`, filtered by status ("pending"/"complete") when given.
    func list(owner: [UInt8], limit: Int, now: UInt64, includePending: Bool, includeComplete: Bool) -> [(UploadRecord, Bool)] {
        ring.withLock { s in
            var out: [(UploadRecord, Bool)] = []
            let n = s.items.count
            var k = 0
            while k < n && out.count < limit {
                let idx = ((s.next - 1 - k) % n + n) % n
                let r = s.items[idx]
                k += 1
                guard r.owner == owner else { continue }
                let complete = now >= r.createdMicros + UploadStore.completeAfterMicros
                if (complete && includeComplete) || (!complete && includePending) { out.append((r, complete)) }
            }
            return out
        }
    }
}

extension Array where Element == UInt8 {
    /// "2026-11-26T17:00:00.123Z"
    mutating func iso8601(_ wall: Double) {
        var secs = time_t(wall.rounded(.down))
        let millis = Int((wall - wall.rounded(.down)) * 1000)
        var tmv = tm()
        gmtime_r(&secs, &tmv)
        func two(_ v: Int32, _ out: inout [UInt8]) { out.append(48 &+ UInt8(v / 10)); out.append(48 &+ UInt8(v % 10)) }
        int(Int(tmv.tm_year) + 1900)
        append(UInt8(ascii: "-")); two(tmv.tm_mon + 1, &self)
        append(UInt8(ascii: "-")); two(tmv.tm_mday, &self)
        append(UInt8(ascii: "T")); two(tmv.tm_hour, &self)
        append(UInt8(ascii: ":")); two(tmv.tm_min, &self)
        append(UInt8(ascii: ":")); two(tmv.tm_sec, &self)
        append(UInt8(ascii: "."))
        append(48 &+ UInt8(millis / 100)); append(48 &+ UInt8(millis / 10 % 10)); append(48 &+ UInt8(millis % 10))
        append(UInt8(ascii: "Z"))
    }
}
