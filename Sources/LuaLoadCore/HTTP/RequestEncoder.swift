/// Writes an HTTP/1.1 request into a reused buffer: request line, Host, the script's header lines,
/// Content-Length when there is a body (or the method is POST/PUT/PATCH), the blank line, the body.
/// Byte copies only: no String is built per request.
enum RequestEncoder {
    @inline(__always)
    static func encode(into out: inout ByteBuffer, method: UnsafePointer<CChar>, methodLength: Int,
                       target: UnsafePointer<CChar>, targetLength: Int, host: [UInt8],
                       headers: UnsafePointer<CChar>?, headersLength: Int,
                       body: UnsafePointer<CChar>?, bodyLength: Int) {
        out.clear()
        out.append(method, methodLength)
        out.append(0x20)
        if targetLength > 0 { out.append(target, targetLength) } else { out.append(0x2F) }
        out.append(" HTTP/1.1\r\nHost: ")
        host.withUnsafeBytes { out.append($0.baseAddress!, $0.count) }
        out.append("\r\n")
        if let headers { out.append(headers, headersLength) }
        if body != nil || method[0] == 0x50 {   // POST, PUT, PATCH carry a length even when empty
            out.append("Content-Length: ")
            out.appendDecimal(body != nil ? bodyLength : 0)
            out.append("\r\n")
        }
        out.append("\r\n")
        if let body { out.append(body, bodyLength) }
    }
}
