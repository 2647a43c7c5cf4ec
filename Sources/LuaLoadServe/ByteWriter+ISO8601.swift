#if canImport(Glibc)
import Glibc
#endif

/// Timestamps in bodies (an upload's `created_at`).
extension ByteWriter {
    /// "2026-11-26T17:00:00.123Z" from wall-clock seconds since the epoch.
    mutating func iso8601(_ wall: Double) {
        var secs = time_t(wall.rounded(.down))
        let millis = Int((wall - wall.rounded(.down)) * 1000)
        var tmv = tm()
        gmtime_r(&secs, &tmv)
        int(Int(tmv.tm_year) + 1900)
        bytes.append(UInt8(ascii: "-")); twoDigits(tmv.tm_mon + 1)
        bytes.append(UInt8(ascii: "-")); twoDigits(tmv.tm_mday)
        bytes.append(UInt8(ascii: "T")); twoDigits(tmv.tm_hour)
        bytes.append(UInt8(ascii: ":")); twoDigits(tmv.tm_min)
        bytes.append(UInt8(ascii: ":")); twoDigits(tmv.tm_sec)
        bytes.append(UInt8(ascii: "."))
        bytes.append(48 &+ UInt8(millis / 100)); bytes.append(48 &+ UInt8(millis / 10 % 10)); bytes.append(48 &+ UInt8(millis % 10))
        bytes.append(UInt8(ascii: "Z"))
    }

    private mutating func twoDigits(_ v: Int32) {
        bytes.append(48 &+ UInt8(v / 10))
        bytes.append(48 &+ UInt8(v % 10))
    }
}
