/// `--secret NAME`: the values of those script variables (`-e`, `--env-file`) are replaced by "***" in every
/// report file (ReportWriter), the console summary, luaload's messages on stderr and the script's print().
/// Set once, before any thread starts; read-only afterwards.
public enum SecretMask {
    public private(set) static var values: [[UInt8]] = []

    /// The values to hide (empty ones are ignored); the longest first, so one that contains another goes whole.
    /// Each value also as JSON, HTML, a Prometheus label and a URL write it (`a"b` is `a\"b`, `a&amp;b`, `a%22b`
    /// there): a page, an API answer or a scrape carries the escaped form.
    public static func set(_ secrets: [String]) {
        var all: Set<[UInt8]> = []
        for s in secrets where !s.isEmpty {
            all.insert(Array(s.utf8))
            all.insert(Array(JSONWriter.quote(s).utf8.dropFirst().dropLast()))
            all.insert(Array(HTMLReport.esc(s).utf8))
            if let encoded = s.addingPercentEncodingForMask() { all.insert(Array(encoded.utf8)) }
        }
        values = all.sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
    }

    /// Whether any --secret value is set (masking costs a pass over the text only then).
    public static var isActive: Bool { !values.isEmpty }

    /// `text` with every secret value replaced by "***".
    public static func apply(_ text: String) -> String {
        guard !values.isEmpty else { return text }
        return String(decoding: apply(bytes: Array(text.utf8)), as: UTF8.self)
    }

    /// The same over bytes (a web answer, an event-stream message).
    public static func apply(bytes: [UInt8]) -> [UInt8] {
        guard !values.isEmpty else { return bytes }
        var bytes = bytes
        for secret in values { bytes = replace(bytes, secret) }
        return bytes
    }

    static func replace(_ bytes: [UInt8], _ secret: [UInt8]) -> [UInt8] {
        guard bytes.count >= secret.count, let first = secret.first else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == first, i + secret.count <= bytes.count, bytes[i..<(i + secret.count)].elementsEqual(secret) {
                out += Array("***".utf8)
                i += secret.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}

private extension String {
    /// RFC 3986's unreserved characters kept, every other byte as %XX (nil when nothing changes).
    func addingPercentEncodingForMask() -> String? {
        var out = "", changed = false
        for b in utf8 {
            let keep = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
            if keep { out.unicodeScalars.append(Unicode.Scalar(b)) } else {
                changed = true
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return changed ? out : nil
    }
}
