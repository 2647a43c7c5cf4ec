import COpenSSL

/// The script's SHA-256 (hex): what an agent may pin (`luaload agent --script-sha256`) so it runs only
/// that script, and what the controller prints when it listens.
public enum ScriptDigest {
    public static func sha256(_ bytes: [UInt8]) -> String {
        var md = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &md, &length, EVP_sha256(), nil) }
        precondition(ok == 1 && length == 32, "EVP_Digest(sha256) failed")
        return md.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Whether `text` is a SHA-256 in hex (64 digits).
    public static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102) }
    }
}
