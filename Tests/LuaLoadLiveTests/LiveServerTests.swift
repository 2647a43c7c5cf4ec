import XCTest
import Foundation
import LuaLoadLive
import LuaLoadHTTP
#if canImport(Glibc)
import Glibc
#endif

/// The live server from outside: raw requests over a real socket, what comes back byte for byte.
final class LiveServerTests: XCTestCase {
    /// Sends `request` to host:port, reads until the server closes or `until` appears (`progress` sees what came
    /// so far after each read); returns what came back.
    static func exchange(_ port: UInt16, _ request: String, host: String = "127.0.0.1", until: String? = nil, seconds: Int = 5,
                         progress: ((String) -> Void)? = nil) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &addr.sin_addr)
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { return "connect failed" }
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var got: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            got += buf[0..<n]
            progress?(String(decoding: got, as: UTF8.self))
            if let until, String(decoding: got, as: UTF8.self).contains(until) { break }
        }
        return String(decoding: got, as: UTF8.self)
    }

    func makeServer(host: String = "127.0.0.1", token: String? = nil) throws -> LiveServer {
        let server = try LiveServer(host: host, port: 0, token: token)
        server.route(.get, "/hello") { r in .text("hello \(r.queryValue("who") ?? "you")") }
        server.route(.post, "/swarm") { r in .json("{\"user_count\":\(r.formValue("user_count") ?? "none")}") }
        server.route(.get, "/events") { _ in .eventStream(channel: "tick", initial: LiveHTTP.event("history", data: "[]")) }
        server.start()
        return server
    }

    func testRoutesAndErrors() throws {
        let s = try makeServer()
        defer { s.stop() }
        let ok = Self.exchange(s.port, "GET /hello?who=a%20b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(ok.hasPrefix("HTTP/1.1 200 OK\r\n"), ok)
        XCTAssertTrue(ok.hasSuffix("\r\n\r\nhello a b\n"), ok)
        XCTAssertFalse(ok.lowercased().contains("access-control-allow-origin"))
        let form = "user_count=7&spawn_rate=2"
        let post = Self.exchange(s.port, "POST /swarm HTTP/1.1\r\nHost: localhost:1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\nConnection: close\r\n\r\n\(form)")
        XCTAssertTrue(post.hasSuffix("{\"user_count\":7}"), post)
        func status(_ req: String) -> String { String(Self.exchange(s.port, req, until: "\r\n\r\n").prefix(12)) }
        XCTAssertEqual(status("GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), "HTTP/1.1 404")
        XCTAssertEqual(status("DELETE /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), "HTTP/1.1 405")
        XCTAssertEqual(status("GARBAGE\r\n\r\n"), "HTTP/1.1 400")
        XCTAssertEqual(status("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n"), "HTTP/1.1 400")
        XCTAssertEqual(status("POST /swarm HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999999\r\n\r\n"), "HTTP/1.1 413")
        XCTAssertEqual(status("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + String(repeating: "a", count: 20000) + "\r\n\r\n"), "HTTP/1.1 431")
        // DNS rebinding (a foreign Host) and a cross-site form (a foreign Origin) are refused.
        XCTAssertEqual(status("GET /hello HTTP/1.1\r\nHost: evil.example:8089\r\n\r\n"), "HTTP/1.1 403")
        XCTAssertEqual(status("POST /swarm HTTP/1.1\r\nHost: 127.0.0.1:\(s.port)\r\nOrigin: http://evil.example\r\nContent-Length: 0\r\n\r\n"), "HTTP/1.1 403")
        XCTAssertEqual(status("POST /swarm HTTP/1.1\r\nHost: 127.0.0.1:\(s.port)\r\nOrigin: http://127.0.0.1:\(s.port)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), "HTTP/1.1 200")
        // After all that, the server still answers, two requests on one connection (keep-alive).
        let two = Self.exchange(s.port, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /hello?who=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(two.components(separatedBy: "HTTP/1.1 200 OK").count, 3, two)
    }

    func testTokenOffDefaultLoopback() throws {
        // 127.0.0.2 is loopback but not the default address: a token is generated and required.
        let s = try makeServer(host: "127.0.0.2")
        defer { s.stop() }
        XCTAssertTrue(s.auth.generated)
        let token = try XCTUnwrap(s.auth.token)
        XCTAssertEqual(token.count, 32)
        func get(_ extra: String, _ path: String = "/hello") -> String {
            Self.exchange(s.port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.2\r\n\(extra)Connection: close\r\n\r\n", host: "127.0.0.2")
        }
        XCTAssertTrue(get("").hasPrefix("HTTP/1.1 401"))
        XCTAssertTrue(get("", "/nope").hasPrefix("HTTP/1.1 401"), "401 before 404: routes are not revealed")
        XCTAssertTrue(get("Authorization: Bearer wrong\r\n").hasPrefix("HTTP/1.1 401"))
        XCTAssertTrue(get("Authorization: Bearer \(token)\r\n").hasPrefix("HTTP/1.1 200"))
        let first = get("", "/hello?token=\(token)")
        XCTAssertTrue(first.hasPrefix("HTTP/1.1 200"), first)
        XCTAssertTrue(first.contains("Set-Cookie: luaload_token=\(token); Path=/; HttpOnly; SameSite=Strict"), first)
        XCTAssertTrue(get("Cookie: a=b; luaload_token=\(token)\r\n").hasPrefix("HTTP/1.1 200"))
    }

    func testEventStreamGetsBroadcasts() throws {
        let s = try makeServer()
        defer { s.stop() }
        let done = expectation(description: "stream")
        let box = StringBox()
        let subscribed = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            box.value = Self.exchange(s.port, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", until: "data: 2\n\n") { got in
                if got.hasSuffix("event: history\ndata: []\n\n") { subscribed.signal() }
            }
            done.fulfill()
        }
        // Broadcast once the stream is open (its first event came): a fixed 200 ms could miss "1" on a loaded machine.
        XCTAssertEqual(subscribed.wait(timeout: .now() + 5), .success, "the stream did not open")
        s.broadcast("tick", LiveHTTP.event(nil, data: "1"))
        s.broadcast("other", LiveHTTP.event(nil, data: "x"))
        s.broadcast("tick", LiveHTTP.event(nil, data: "2"))
        wait(for: [done], timeout: 5)
        let got = box.value
        XCTAssertTrue(got.contains("Content-Type: text/event-stream"), got)
        XCTAssertTrue(got.hasSuffix("event: history\ndata: []\n\ndata: 1\n\ndata: 2\n\n"), got)
    }

    func testLatestValueHandoff() {
        let latest = LiveLatest<[Int]>([])
        XCTAssertEqual(latest.version, 0)
        latest.publish([1, 2])
        latest.update { $0.append(3) }
        XCTAssertEqual(latest.value, [1, 2, 3])
        XCTAssertEqual(latest.version, 2)
    }
}

final class StringBox: @unchecked Sendable { var value = "" }
