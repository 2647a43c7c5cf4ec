import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP/1.1 server for `luaload wrk` tests that records every request it receives — method, target,
/// headers, body, connection — and how many whole requests each read brought at once (the pipelining depth).
///   /authenticate   200 with "X-Token: secret-token"
///   /resource       200 when X-Token is secret-token, else 403
///   /slow           200 after 50 ms (one connection serves 20 a second)
///   anything else   200 "ok"
final class RecordingServer: @unchecked Sendable {
    struct Request {
        var method: String, target: String, headers: [String: String], body: String, connection: Int
    }
    let port: UInt16
    private let listenFD: Int32
    private let lock = NSLock()
    private var log: [Request] = []
    private var depths: [Int] = []
    private var nextConnection = 0

    init() throws {
        let (lfd, listenPort) = try listenSocket(backlog: 1024)
        port = UInt16(listenPort)
        listenFD = lfd
        Thread { [self] in
            defer { close(lfd) }
            while true {
                let fd = accept(lfd, nil, nil)
                if fd < 0 { if errno == EINTR { continue } else { return } }
                let id = lock.withLock { nextConnection += 1; return nextConnection }
                Thread { [self] in serve(fd, id) }.start()
            }
        }.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { lock.withLock { log } }
    /// Whole requests per read, for reads that brought any.
    var readDepths: [Int] { lock.withLock { depths } }

    /// Shut down, not closed: the accept thread closes the socket when it wakes. Closing it here let the next
    /// test's listener take the same descriptor number while this thread was still in its loop, which then
    /// accepted the next test's connections (WrkTests saw 0 or half of the requests on a loaded machine).
    func stop() {
        shutdown(listenFD, Int32(SHUT_RDWR))
    }

    private func serve(_ fd: Int32, _ connection: Int) {
        defer { close(fd) }
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
            var parsed: [Request] = []
            while let (request, used) = parse(buffer, connection) {
                parsed.append(request)
                buffer.removeFirst(used)
            }
            guard !parsed.isEmpty else { continue }
            lock.withLock { log += parsed; depths.append(parsed.count) }
            var out = [UInt8]()
            for r in parsed { out += Array(response(r).utf8) }
            var off = 0
            while off < out.count {
                let w = out[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if w <= 0 { return }
                off += w
            }
        }
    }

    private func response(_ r: Request) -> String {
        let path = String(r.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        switch path {
        case "/authenticate": return "HTTP/1.1 200 OK\r\nX-Token: secret-token\r\nContent-Length: 2\r\n\r\nok"
        case "/resource" where r.headers["x-token"] != "secret-token": return "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
        case "/slow":
            usleep(50_000)
            return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        default: return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        }
    }

    /// One whole request at the start of `b` and its length, or nil.
    private func parse(_ b: [UInt8], _ connection: Int) -> (Request, Int)? {
        guard b.count >= 4, let end = (0...(b.count - 4)).first(where: { b[$0] == 13 && b[$0 + 1] == 10 && b[$0 + 2] == 13 && b[$0 + 3] == 10 }) else { return nil }
        var lines = String(decoding: b[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let first = lines.removeFirst().split(separator: " ")
        guard first.count == 3 else { return nil }
        var headers: [String: String] = [:]
        for l in lines {
            guard let c = l.firstIndex(of: ":") else { continue }
            headers[l[..<c].lowercased()] = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard b.count >= end + 4 + length else { return nil }
        let body = String(decoding: b[(end + 4)..<(end + 4 + length)], as: UTF8.self)
        return (Request(method: String(first[0]), target: String(first[1]), headers: headers, body: body, connection: connection), end + 4 + length)
    }
}
