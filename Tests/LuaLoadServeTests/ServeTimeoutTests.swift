import Foundation
import XCTest
import LuaLoadLoop
import LuaLoadServe
#if canImport(Glibc)
import Glibc
#endif

/// The idle and header-read timeouts, against real sockets: who gets closed, and when.
final class ServeTimeoutTests: XCTestCase {
    private func makeServer(idle: UInt64, header: UInt64) throws -> TargetServer {
        var o = ServeOptions()
        o.port = 0
        o.threads = 2
        o.idleTimeoutMicros = idle
        o.headerTimeoutMicros = header
        let s = try TargetServer(options: o)
        s.start()
        return s
    }

    /// Reads until the server closes (recv returns 0), sending `trickle` one byte per 50 ms meanwhile.
    /// Returns what was read and the seconds it took; nil if still open after `limit` seconds.
    private func readUntilClosed(_ c: TestClient, limit: Double, trickle: [UInt8] = []) -> (text: String, seconds: Double)? {
        var tv = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let t0 = monotonicMicros()
        var got: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 4096), next = 0
        while Double(monotonicMicros() - t0) / 1e6 < limit {
            if next < trickle.count { c.sendBytes([trickle[next]]); next += 1 }
            let n = chunk.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress!, 4096, 0) }
            if n > 0 { got.append(contentsOf: chunk[0..<n]); continue }
            if n == 0 || (errno != EAGAIN && errno != EINTR) {
                return (String(decoding: got, as: UTF8.self), Double(monotonicMicros() - t0) / 1e6)
            }
        }
        return nil
    }

    func testSilentConnectionIsClosedAfterTheIdleTimeout() throws {
        let s = try makeServer(idle: 300_000, header: 10_000_000)
        defer { s.stop() }
        let fresh = try TestClient(port: s.port)
        let closed = try XCTUnwrap(readUntilClosed(fresh, limit: 2), "a silent connection stayed open")
        XCTAssertEqual(closed.text, "", "closed without an answer")
        XCTAssertGreaterThanOrEqual(closed.seconds, 0.25)

        // Kept alive after an answer: the same, counted from the answer.
        let kept = try TestClient(port: s.port)
        XCTAssertEqual(try kept.request("GET", "/health").status, 200)
        let after = try XCTUnwrap(readUntilClosed(kept, limit: 2), "an idle kept-alive connection stayed open")
        XCTAssertEqual(after.text, "")
        XCTAssertGreaterThanOrEqual(after.seconds, 0.25)
        XCTAssertEqual(s.statsJSON(), #"{"total":1,"rejected":0,"routes":{"GET /health":{"200":1}}}"#)
    }

    func testIncompleteHeadIsAnswered408AndClosedAfterTheHeaderTimeout() throws {
        let s = try makeServer(idle: 5_000_000, header: 300_000)
        defer { s.stop() }
        let partial = try TestClient(port: s.port)
        partial.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        let closed = try XCTUnwrap(readUntilClosed(partial, limit: 2), "a half-sent head held the connection")
        XCTAssertTrue(closed.text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), closed.text)
        XCTAssertTrue(closed.text.contains("Connection: close\r\n"), closed.text)
        XCTAssertGreaterThanOrEqual(closed.seconds, 0.25)

        // A client trickling its head (slowloris) keeps moving bytes, yet the head's clock does not restart.
        let slow = try TestClient(port: s.port)
        let trickled = try XCTUnwrap(readUntilClosed(slow, limit: 2, trickle: Array("GET /health HTTP/1.1\r\nX-Slow: ".utf8)
                                                          + [UInt8](repeating: UInt8(ascii: "a"), count: 100)))
        XCTAssertTrue(trickled.text.hasPrefix("HTTP/1.1 408 "), trickled.text)
        XCTAssertLessThan(trickled.seconds, 1.0)

        // Timed-out requests are not requests: /__stats counts neither a total nor a rejection.
        XCTAssertEqual(s.statsJSON(), #"{"total":0,"rejected":0,"routes":{}}"#)
    }

    func testStalledBodyIsAnswered408AfterTheIdleTimeout() throws {
        let s = try makeServer(idle: 300_000, header: 10_000_000)
        defer { s.stop() }
        let c = try TestClient(port: s.port)
        c.send("POST /api/v1/auth/login HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"em")
        let closed = try XCTUnwrap(readUntilClosed(c, limit: 2), "a stalled body held the connection")
        XCTAssertTrue(closed.text.hasPrefix("HTTP/1.1 408 "), closed.text)
        XCTAssertGreaterThanOrEqual(closed.seconds, 0.25)
    }

    func testSteadyKeepAliveClientIsNotClosed() throws {
        // Timeouts of 500 ms against pauses of 100 ms: a loaded machine may oversleep a pause by 400 ms (300 ms
        // timeouts left it 200 ms) before the server rightly closes the connection.
        let s = try makeServer(idle: 500_000, header: 500_000)
        defer { s.stop() }
        let c = try TestClient(port: s.port)
        // 15 requests 100 ms apart: 1.5 s, three idle timeouts, on one connection.
        for _ in 0..<15 {
            XCTAssertEqual(try c.request("GET", "/health").status, 200)
            usleep(100_000)
        }
        // A head split in two parts 100 ms apart is within the header timeout.
        c.send("GET /health HTTP/1.1\r\n")
        usleep(100_000)
        c.send("Host: 127.0.0.1\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 200)
        // A response delayed past the idle timeout is a request under way, not idleness.
        XCTAssertEqual(try c.request("GET", "/health?delay_ms=700").status, 200)
        XCTAssertEqual(try c.request("GET", "/health").status, 200)
        XCTAssertEqual(s.statsJSON(), #"{"total":18,"rejected":0,"routes":{"GET /health":{"200":18}}}"#)
        // Then silence: closed after the idle timeout, counted from the last answer.
        let closed = try XCTUnwrap(readUntilClosed(c, limit: 2), "the connection was not closed once idle")
        XCTAssertGreaterThanOrEqual(closed.seconds, 0.25)
    }
}
