/// JSONWriter's API over bytes, for the page's snapshot (built every table, pushed to every page): escaping and
/// numbers digit by digit into one buffer. JSONWriter builds Strings scalar by scalar and formats numbers with
/// String arithmetic; for a snapshot that cost ~0.5 M instructions under callgrind. Numbers are written as
/// Format.fixed writes them (rounded half away from zero), so the page shows what the JSON report holds.
final class WebJSONWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = [false]
    private var pendingKey = false

    init() { bytes.reserveCapacity(4096) }

    var output: String { String(decoding: bytes, as: UTF8.self) }

    private func separate() {
        if pendingKey { pendingKey = false; needsComma[needsComma.count - 1] = true; return }
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    func object(_ body: () -> Void) {
        separate(); bytes.append(UInt8(ascii: "{")); needsComma.append(false)
        body()
        needsComma.removeLast(); bytes.append(UInt8(ascii: "}"))
    }

    func array(_ body: () -> Void) {
        separate(); bytes.append(UInt8(ascii: "[")); needsComma.append(false)
        body()
        needsComma.removeLast(); bytes.append(UInt8(ascii: "]"))
    }

    func key(_ k: String) {
        separate()
        quoted(k)
        bytes.append(UInt8(ascii: ":"))
        pendingKey = true
    }

    func string(_ s: String) { separate(); quoted(s) }
    func int(_ v: Int) { separate(); digits(v.magnitude, negative: v < 0) }
    func bool(_ v: Bool) { separate(); bytes += (v ? "true" : "false").utf8 }
    func raw(_ json: String) { separate(); bytes += json.utf8 }

    func number(_ v: Double, decimals: Int = 3) {
        separate()
        guard v.isFinite else { bytes += "null".utf8; return }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(v) * scale).rounded()
        guard scaled < 9e18 else { bytes += String(v).utf8; return }
        let n = UInt64(scaled), unit = UInt64(scale)
        digits(UInt(n / unit), negative: v < 0 && n != 0)
        guard decimals > 0 else { return }
        bytes.append(UInt8(ascii: "."))
        var frac = n % unit, div = unit / 10
        while div > 0 { bytes.append(48 &+ UInt8(frac / div)); frac %= div; div /= 10 }
    }

    private func digits(_ value: UInt, negative: Bool) {
        if negative { bytes.append(UInt8(ascii: "-")) }
        var v = value, tmp: [UInt8] = []
        repeat { tmp.append(48 &+ UInt8(v % 10)); v /= 10 } while v > 0
        bytes += tmp.reversed()
    }

    private func quoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes += "\\\"".utf8
            case UInt8(ascii: "\\"): bytes += "\\\\".utf8
            case 0x0A: bytes += "\\n".utf8
            case 0x0D: bytes += "\\r".utf8
            case 0x09: bytes += "\\t".utf8
            case 0..<0x20:
                bytes += "\\u00".utf8
                bytes.append(hex(b >> 4)); bytes.append(hex(b & 15))
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private func hex(_ n: UInt8) -> UInt8 { n < 10 ? 48 + n : 87 + n }
}
