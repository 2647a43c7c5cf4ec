import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// `--start-at`: the wall-clock time at which several runs (segments on other machines) begin together.
public enum StartTime {
    /// Unix seconds from "1764288000" / "1764288000.25", or RFC 3339: "2026-11-28T17:00:00Z",
    /// "2026-11-28T17:00:00.250+01:00" (a space for the T, lower-case t and z too). nil when neither.
    public static func parse(_ text: String) -> Double? {
        if let seconds = Double(text), seconds.isFinite, seconds >= 0, text.allSatisfy({ $0.isNumber || $0 == "." }) {
            return seconds
        }
        return parseRFC3339(Array(text.utf8))
    }

    private static func parseRFC3339(_ b: [UInt8]) -> Double? {
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for i in at..<(at + n) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, [84, 116, 32].contains(b[10]), b[13] == 58, b[16] == 58,
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
              let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var pos = 19
        var fraction = 0.0
        if b[pos] == 46 {   // "."
            var scale = 0.1
            pos += 1
            guard pos < b.count, b[pos] >= 48 && b[pos] <= 57 else { return nil }
            while pos < b.count, b[pos] >= 48 && b[pos] <= 57 { fraction += Double(b[pos] - 48) * scale; scale /= 10; pos += 1 }
        }
        guard pos < b.count else { return nil }
        var offset = 0
        if b[pos] == 90 || b[pos] == 122 {   // Z, z
            pos += 1
        } else if b[pos] == 43 || b[pos] == 45, let oh = digits(pos + 1, 2), pos + 3 < b.count, b[pos + 3] == 58,
                  let om = digits(pos + 4, 2), oh < 24, om < 60 {
            offset = (oh * 3600 + om * 60) * (b[pos] == 45 ? -1 : 1)
            pos += 6
        } else {
            return nil
        }
        guard pos == b.count else { return nil }
        var t = tm()
        t.tm_year = Int32(year - 1900)
        t.tm_mon = Int32(month - 1)
        t.tm_mday = Int32(day)
        t.tm_hour = Int32(hour)
        t.tm_min = Int32(minute)
        t.tm_sec = Int32(second)
        let utc = timegm(&t)
        guard t.tm_mday == Int32(day) else { return nil }   // timegm normalised a day the month lacks
        return Double(utc - offset) + fraction
    }

    /// Sleeps until the wall clock reads `unixSeconds` (absolute, so a clock step still lands on time).
    public static func wait(until unixSeconds: Double) {
        var ts = timespec(tv_sec: Int(unixSeconds.rounded(.down)),
                          tv_nsec: Int((unixSeconds - unixSeconds.rounded(.down)) * 1e9))
        while clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }
}
