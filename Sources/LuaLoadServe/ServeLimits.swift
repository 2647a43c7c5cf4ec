import LuaLoadHTTP

/// Limits on what a client may send to the built-in target.
enum ServeLimits {
    /// Request line plus headers.
    static let maxHead = 16 * 1024
    static let maxHeaders = 100
    /// Content-Length bodies; larger ones get 413 and the connection is closed.
    static let maxBody = 1 << 20
    static let request = RequestLimits(maxHead: maxHead, maxHeaders: maxHeaders, maxBody: maxBody)
}
