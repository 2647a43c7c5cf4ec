#if canImport(Glibc)
import Glibc
#endif

/// Checks made before any traffic, so a mistake costs an exit 2 with one line naming the flag or the
/// script, not a run whose results are lost or wrong.
public enum Preflight {
    /// A base URL (-H, the script's `host`, a class's `host`): http(s)://host[:port][/path], with no space or
    /// control character (a request line cannot carry one) and no query or fragment (paths are appended to it).
    public static func checkBaseURL(_ url: String, from origin: String) throws {
        if let bad = url.utf8.first(where: { $0 <= 0x20 || $0 == 0x7F }) {
            let what = bad == 0x20 ? "a space" : "a control character"
            throw UsageError("\(origin): bad host URL \"\(url)\": it has \(what) (percent-encode it, e.g. %20)")
        }
        if url.contains("?") || url.contains("#") {
            throw UsageError("\(origin): bad host URL \"\(url)\": a base URL takes no query or fragment (paths are appended to it)")
        }
        guard URLParts(url) != nil else {
            throw UsageError("\(origin): bad host URL \"\(url)\": expected http://host[:port][/path] or https://host[:port][/path]")
        }
    }
}
