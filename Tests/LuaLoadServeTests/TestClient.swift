import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny blocking HTTP/1.1 client over plain POSIX sockets, just enough to talk to TargetServer.
final class TestClient {
    struct Response {
        var status: Int
        var headers: [String: String]  // lowercased names
        var body: String
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    enum Failure: Error { case connect(Int32), closed, timeout, malformed(String) }

    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { let e = errno; Glibc.close(fd); throw Failure.connect(e) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) { sendBytes(Array(text.utf8)) }

    func sendBytes(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Sends SO_LINGER 0 + close: the server sees a RST.
    func reset() {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress!, 65536, 0) }
        if n == 0 { throw Failure.closed }
        if n < 0 { throw errno == EAGAIN ? Failure.timeout : Failure.closed }
        buffer.append(contentsOf: chunk[0..<n])
    }

    /// Reads one response (Content-Length framed; no body for HEAD / 204 / 304).
    func readResponse(head: Bool = false) throws -> Response {
        let sep: [UInt8] = [13, 10, 13, 10]
        var end: Int? = nil
        while end == nil {
            if buffer.count >= 4 {
                for i in 0...(buffer.count - 4) where Array(buffer[i..<(i + 4)]) == sep { end = i; break }
            }
            if end == nil { try fill() }
        }
        let headText = String(decoding: buffer[0..<end!], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else {
            throw Failure.malformed(headText)
        }
        var headers: [String: String] = [:]
        for l in lines {
            guard let colon = l.firstIndex(of: ":") else { throw Failure.malformed(headText) }
            headers[l[..<colon].lowercased()] = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        buffer.removeFirst(end! + 4)
        if status == 100 { return try readResponse(head: head) }
        let length = (head || status == 204 || status == 304) ? 0 : Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < length { try fill() }
        let body = String(decoding: buffer[0..<length], as: UTF8.self)
        buffer.removeFirst(length)
        return Response(status: status, headers: headers, body: body)
    }

    /// True when the server has closed the connection (EOF) with nothing more to read.
    func isClosedByServer() -> Bool {
        guard buffer.isEmpty else { return false }
        do { try fill(); return false } catch Failure.closed { return true } catch { return false }
    }

    /// One request on this connection.
    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil) throws -> Response {
        send(TestClient.raw(method, path, headers: headers, body: body))
        return try readResponse(head: method == "HEAD")
    }

    static func raw(_ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil) -> String {
        var s = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: serve-tests\r\n"
        for (k, v) in headers.sorted(by: { $0.key < $1.key }) { s += "\(k): \(v)\r\n" }
        if let body {
            if headers["Content-Type"] == nil { s += "Content-Type: application/json\r\n" }
            s += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            s += "\r\n"
        }
        return s
    }
}
