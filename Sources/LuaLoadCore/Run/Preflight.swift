#if canImport(Glibc)
import Glibc
#endif

/// Checks made before any traffic, so a mistake costs an exit 2 with one line naming the flag or the
/// script, not a run whose results are lost or wrong.
public enum Preflight {
    /// A base URL (-H, the script's `host`, a class's `host`): http(s)://host[:port][/path], with no space or
    /// control character (a request line cannot carry one) and no query or fragment (paths are appended to it).
    public static func checkBaseURL(_ url: String, from origin: String) throws {
        try checkNoSpaceOrControl(url, from: origin, what: "host URL")
        if url.contains("?") || url.contains("#") {
            throw UsageError("\(origin): bad host URL \"\(url)\": a base URL takes no query or fragment (paths are appended to it)")
        }
        guard URLParts(url) != nil else {
            throw UsageError("\(origin): bad host URL \"\(url)\": expected http://host[:port][/path] or https://host[:port][/path]")
        }
    }

    /// A URL a request line will carry: no space or control character.
    public static func checkNoSpaceOrControl(_ url: String, from origin: String, what: String = "URL") throws {
        if let bad = url.utf8.first(where: { $0 <= 0x20 || $0 == 0x7F }) {
            let kind = bad == 0x20 ? "a space" : "a control character"
            throw UsageError("\(origin): bad \(what) \"\(url)\": it has \(kind) (percent-encode it, e.g. %20)")
        }
    }
}
