import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 server on 127.0.0.1 for tests: a thread per connection, behaviours chosen by path,
/// and exact counts of what it received, so tests compare luaload's numbers with the server's.
///   /ok              200 "ok"
///   /status/N        status N
///   /every/N         200, except every Nth request to it (in the order the server took them), 500
///   /drop            closes the connection without answering
///   /slow?ms=N       answers after N ms
///   /serial?ms=N     a server of fixed capacity: one such request at a time, each N ms (20 ms: 50/s)
///   /close           200 with Connection: close
///   /silent-close    200 keep-alive, then closes the socket anyway (a stale kept-alive connection)
///   /chunked         a chunked body "hello world"
///   /nocontent       204
///   /echo            JSON: method, target, headers (lower-case names), body
///   /json            {"items":[1,2,3],"name":"x"}
///   /set-cookie?c=V  200 with one Set-Cookie: V per `c` (percent-decoded)
///   /redirect/N      302 to /redirect/N-1; /redirect/0 answers 200 "done"
///   /redirect-to?status=S&url=U   status S with Location: U
///   /loop            302 to itself, for ever
///   /gzip, /deflate, /raw-deflate   a compressed text body with its Content-Encoding
///   /late-body       the head at once, the body 200 ms later (a wait much shorter than the latency)
/// Every request is also kept whole (`received`), so tests check what the server saw.
final class TestHTTPServer: @unchecked Sendable {
    /// One request as the server read it: header names lower-case (repeated headers joined with ", ").
    struct Received {
        var method: String
        var target: String
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        /// When the server had it whole (the scenario tests compare start times server-side).
        var at = Date()
    }
    let port: UInt16
    private let listenFD: Int32
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var log: [Received] = []
    private var connectionCount = 0
    private var everyCount = 0
    private var open: Set<Int32> = []
    private var stopped = false
    /// /serial's one worker: requests wait their turn in arrival order.
    private let serial = DispatchQueue(label: "TestHTTPServer.serial")

    init() throws {
        let (lfd, listenPort) = try listenSocket(backlog: 1024)
        port = UInt16(listenPort)
        listenFD = lfd
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Requests fully received, per path (without the query).
    func count(_ path: String) -> Int { lock.withLock { counts[path, default: 0] } }
    var total: Int { lock.withLock { counts.values.reduce(0, +) } }
    var connections: Int { lock.withLock { connectionCount } }
    /// Every request received so far, in order of arrival (per connection), optionally only those to `path`.
    func received(_ path: String? = nil) -> [Received] { lock.withLock { log.filter { path == nil || $0.path == path } } }

    func stop() {
        lock.withLock { stopped = true }
        // Shut down, not closed: the accept thread closes it when it wakes, so its number cannot go to the next
        // test's listener first (that thread would then accept the next test's connections).
        shutdown(listenFD, Int32(SHUT_RDWR))
        lock.withLock { for fd in open { shutdown(fd, Int32(SHUT_RDWR)) } }
    }

    private func acceptLoop() {
        defer { close(listenFD) }
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if lock.withLock({ stopped }) { return }
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(4))
            lock.withLock { connectionCount += 1; open.insert(fd) }
            let t = Thread { [self] in serve(fd) }
            t.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { lock.withLock { _ = open.remove(fd) }; close(fd) }
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            // Read one request head (and body, by Content-Length).
            var headEnd: Int? = nil
            while headEnd == nil {
                if let r = find(buffer, [13, 10, 13, 10]) { headEnd = r; break }
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let requestLine = lines.removeFirst().split(separator: " ")
            guard requestLine.count == 3 else { return }
            var headers: [String: String] = [:]
            for l in lines {
                guard let c = l.firstIndex(of: ":") else { continue }
                let name = l[..<c].lowercased(), value = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)
                headers[name] = headers[name].map { $0 + ", " + value } ?? value
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while buffer.count < headEnd! + 4 + length {
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            let body = Array(buffer[(headEnd! + 4)..<(headEnd! + 4 + length)])
            buffer.removeFirst(headEnd! + 4 + length)
            let method = String(requestLine[0])
            let target = String(requestLine[1])
            let path = String(target.split(separator: "?", maxSplits: 1).first ?? "")
            let query = target.contains("?") ? String(target.split(separator: "?", maxSplits: 1)[1]) : ""
            lock.withLock {
                counts[path, default: 0] += 1
                log.append(Received(method: method, target: target, path: path, headers: headers, body: body))
            }

            func respond(_ status: Int, _ body: String, extra: String = "", close: Bool = false) -> Bool {
                respondBytes(status, Array(body.utf8), extra: extra, close: close)
            }
            func respondBytes(_ status: Int, _ bytes: [UInt8], extra: String = "", close: Bool = false) -> Bool {
                let isHead = method == "HEAD"
                var text = "HTTP/1.1 \(status) X\r\nContent-Length: \(bytes.count)\r\n\(extra)"
                if close { text += "Connection: close\r\n" }
                text += "\r\n"
                var out = Array(text.utf8)
                if !isHead && status != 204 && status != 304 { out += bytes }
                return writeAll(fd, out)
            }
            switch path {
            case "/ok":
                guard respond(200, "ok") else { return }
            case "/drop":
                return
            case "/slow":
                let ms = Int(query.replacingOccurrences(of: "ms=", with: "")) ?? 1000
                usleep(useconds_t(ms * 1000))
                guard respond(200, "slow") else { return }
            case "/serial":
                let ms = Int(query.replacingOccurrences(of: "ms=", with: "")) ?? 20
                serial.sync { usleep(useconds_t(ms * 1000)) }
                guard respond(200, "served") else { return }
            case "/close":
                _ = respond(200, "bye", close: true)
                return
            case "/silent-close":
                _ = respond(200, "ok")
                usleep(2000)
                return
            case "/chunked":
                let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                guard writeAll(fd, Array(text.utf8)) else { return }
            case "/nocontent":
                guard respond(204, "") else { return }
            case "/json":
                guard respond(200, #"{"items":[1,2,3],"name":"x"}"#, extra: "Content-Type: application/json\r\nX-Custom-Thing: abc\r\n") else { return }
            case "/echo":
                let obj: [String: Any] = ["method": method, "target": target, "headers": headers, "body": String(decoding: body, as: UTF8.self)]
                let data = try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
                guard respond(200, String(decoding: data, as: UTF8.self)) else { return }
            case "/set-cookie":
                let cookies = queryValues(query, "c").map { "Set-Cookie: \($0)\r\n" }.joined()
                guard respond(200, "set", extra: cookies) else { return }
            case "/redirect-to":
                let status = Int(queryValues(query, "status").first ?? "302") ?? 302
                guard respond(status, "moved", extra: "Location: \(queryValues(query, "url").first ?? "/")\r\n") else { return }
            case "/late-body":
                guard writeAll(fd, Array("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n".utf8)) else { return }
                usleep(200_000)   // 40 ms left a loaded machine's scheduling delays too close to the bounds
                guard writeAll(fd, Array("late".utf8)) else { return }
            case "/loop":
                guard respond(302, "again", extra: "Location: /loop\r\n") else { return }
            case "/gzip":
                guard respondBytes(200, gzipHello, extra: "Content-Encoding: gzip\r\n") else { return }
            case "/deflate":
                guard respondBytes(200, deflateHello, extra: "Content-Encoding: deflate\r\n") else { return }
            case "/raw-deflate":
                guard respondBytes(200, rawDeflateHello, extra: "Content-Encoding: deflate\r\n") else { return }
            default:
                if path.hasPrefix("/redirect/"), let n = Int(path.dropFirst(10)) {
                    let ok = n > 0 ? respond(302, "", extra: "Location: /redirect/\(n - 1)\r\n") : respond(200, "done")
                    guard ok else { return }
                } else if path.hasPrefix("/every/"), let n = Int(path.dropFirst(7)), n > 0 {
                    let k = lock.withLock { everyCount += 1; return everyCount }
                    guard respond(k % n == 0 ? 500 : 200, "request \(k)") else { return }
                } else if path.hasPrefix("/status/"), let s = Int(path.dropFirst(8)) {
                    guard respond(s, "status \(s)") else { return }
                } else {
                    guard respond(404, "not found") else { return }
                }
            }
        }
    }
}

/// The values of `name` in a query string, percent-decoded.
private func queryValues(_ query: String, _ name: String) -> [String] {
    query.split(separator: "&").compactMap { part in
        let kv = part.split(separator: "=", maxSplits: 1)
        guard kv.count == 2, kv[0] == name else { return nil }
        return String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

/// "hello from gzip " × 8, gzip-compressed (Python's gzip.compress, mtime 0).
let gzipHello: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 87, 72, 43, 202, 207, 85, 72, 175, 202, 44, 80,
                          200, 160, 51, 31, 0, 111, 239, 205, 72, 128, 0, 0, 0]
/// "hello from deflate " × 8 as a zlib stream (what "deflate" means).
let deflateHello: [UInt8] = [120, 156, 203, 72, 205, 201, 201, 87, 72, 43, 202, 207, 85, 72, 73, 77, 203, 73, 44, 73, 85, 200, 24,
                             12, 66, 0, 198, 20, 55, 233]
/// "hello from raw deflate" as raw deflate (what some servers send as "deflate").
let rawDeflateHello: [UInt8] = [203, 72, 205, 201, 201, 87, 72, 43, 202, 207, 85, 40, 74, 44, 87, 72, 73, 77, 203, 73, 44, 73, 5, 0]

private func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
        if Array(haystack[i..<(i + needle.count)]) == needle { return i }
    }
    return nil
}

private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var off = 0
    while off < bytes.count {
        let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n <= 0 { return false }
        off += n
    }
    return true
}
