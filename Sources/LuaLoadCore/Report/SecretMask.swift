/// `--secret NAME`: the values of those script variables (`-e`, `--env-file`) are replaced by "***" in every
/// report file (ReportWriter), the console summary, luaload's messages on stderr and the script's print().
/// Set once, before any thread starts; read-only afterwards.
public enum SecretMask {
    public private(set) static var values: [[UInt8]] = []

    /// The values to hide (empty ones are ignored); the longest first, so one that contains another goes whole.
    public static func set(_ secrets: [String]) {
        values = secrets.filter { !$0.isEmpty }.map { Array($0.utf8) }.sorted { $0.count > $1.count }
    }

    /// `text` with every secret value replaced by "***".
    public static func apply(_ text: String) -> String {
        guard !values.isEmpty else { return text }
        var bytes = Array(text.utf8)
        for secret in values { bytes = replace(bytes, secret) }
        return String(decoding: bytes, as: UTF8.self)
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
