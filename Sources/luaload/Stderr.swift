import LuaLoadCore
#if canImport(Glibc)
import Glibc
#endif

/// Writes straight to fd 2, unbuffered: the live line must appear at once, between stdout's lines.
func writeStderr(_ s: String) {
    var s = SecretMask.apply(s)   // --secret
    s.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
}
