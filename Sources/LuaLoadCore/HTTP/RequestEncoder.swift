#if canImport(Glibc)
import Glibc
#endif

/// Writes an HTTP/1.1 request into a reused buffer: request line, Host, the script's header lines,
/// Content-Length when there is a body (or the method is POST/PUT/PATCH), the blank line, the body.
/// Byte copies only: no String is built per request. A VU that repeats the same bodiless request (the
/// same method, target, endpoint and header lines) sends the bytes it already has: `reuses` checks that with
/// two memcmp, cheaper than encoding again.
enum RequestEncoder {
    /// Where the parts of the last encoded request lie in its buffer.
    struct Layout {
        /// The endpoint it went to; -1: nothing to reuse (a body, or nothing encoded yet).
        var endpoint: Int32 = -1
        var methodLength = 0
        var targetLength = 0
        var headersOffset = 0
        var headersLength = 0
    }

    @inline(__always)
    static func encode(into out: inout ByteBuffer, layout: inout Layout, endpoint: Int32,
                       method: UnsafePointer<CChar>, methodLength: Int,
                       target: UnsafePointer<CChar>, targetLength: Int, host: UnsafeRawBufferPointer,
                       headers: UnsafePointer<CChar>?, headersLength: Int,
                       body: UnsafePointer<CChar>?, bodyLength: Int) {
        out.clear()
        out.append(method, methodLength)
        out.append(0x20)
        if targetLength > 0 { out.append(target, targetLength) } else { out.append(0x2F) }
        out.append(" HTTP/1.1\r\nHost: ")
        out.append(host.baseAddress!, host.count)
        out.append("\r\n")
        let headersOffset = out.count
        if let headers { out.append(headers, headersLength) }
        if body != nil || method[0] == 0x50 {   // POST, PUT, PATCH carry a length even when empty
            out.append("Content-Length: ")
            out.appendDecimal(body != nil ? bodyLength : 0)
            out.append("\r\n")
        }
        out.append("\r\n")
        if let body { out.append(body, bodyLength) }
        let reusable = body == nil && targetLength > 0
        layout = Layout(endpoint: reusable ? endpoint : -1, methodLength: methodLength, targetLength: targetLength,
                        headersOffset: headersOffset, headersLength: headers != nil ? headersLength : 0)
    }

    /// Whether `out` already holds this request (bodiless, as laid out by `layout`).
    @inline(__always)
    static func reuses(_ out: ByteBuffer, _ layout: Layout, endpoint: Int32,
                       method: UnsafePointer<CChar>, methodLength: Int, target: UnsafePointer<CChar>, targetLength: Int,
                       headers: UnsafePointer<CChar>?, headersLength: Int, body: UnsafePointer<CChar>?) -> Bool {
        guard layout.endpoint == endpoint, body == nil, layout.methodLength == methodLength,
              layout.targetLength == targetLength, layout.headersLength == (headers != nil ? headersLength : 0),
              let base = out.base else { return false }
        return memcmp(base, method, methodLength) == 0
            && memcmp(base + methodLength + 1, target, targetLength) == 0
            && (headersLength == 0 || memcmp(base + layout.headersOffset, headers!, headersLength) == 0)
    }
}
