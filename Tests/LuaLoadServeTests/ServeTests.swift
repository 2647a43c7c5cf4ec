import Foundation
import XCTest
import LuaLoadLoop
import LuaLoadServe
#if canImport(Glibc)
import Glibc
#endif

final class ServeTests: XCTestCase {
    private func makeServer(threads: Int = 2, _ configure: (inout ServeOptions) -> Void = { _ in }) throws -> TargetServer {
        var o = ServeOptions()
        o.port = 0
        o.threads = threads
        configure(&o)
        let s = try TargetServer(options: o)
        s.start()
        return s
    }

    private func json(_ value: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
    }

    private func login(_ c: TestClient, _ email: String = "loadtest.user@example.com", _ password: String = "SuperSecurePass123!") throws -> String {
        let r = try c.request("POST", "/api/v1/auth/login", body: json(["email": email, "password": password]))
        XCTAssertEqual(r.status, 200, r.body)
        return r.json["access_token"] as? String ?? ""
    }

    func testHealthAndRoot() throws {
        let s = try makeServer()
        defer { s.stop() }
        XCTAssertNotEqual(s.port, 0)
        let c = try TestClient(port: s.port)
        let h = try c.request("GET", "/health")
        XCTAssertEqual(h.status, 200)
        XCTAssertEqual(h.body, #"{"status":"ok"}"#)
        XCTAssertEqual(h.headers["content-type"], "application/json")
        let root = try c.request("GET", "/")
        XCTAssertEqual(root.status, 200)
        XCTAssertTrue(root.body.contains("luaload"))
        let head = try c.request("HEAD", "/health")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["content-length"], "15")
        XCTAssertEqual(try c.request("GET", "/nope").status, 404)
        XCTAssertEqual(try c.request("DELETE", "/health").status, 405)
        XCTAssertEqual(try c.request("GET", "/api/v1/auth/login").status, 405)
    }

    func testLogin() throws {
        let s = try makeServer()
        defer { s.stop() }
        let c = try TestClient(port: s.port)
        let ok = try c.request("POST", "/api/v1/auth/login", body: json(["email": "loadtest.user@example.com", "password": "SuperSecurePass123!"]))
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.json["token_type"] as? String, "bearer")
        XCTAssertFalse((ok.json["access_token"] as? String ?? "").isEmpty)
        let up = try c.request("POST", "/api/v1/auth/login", body: json(["email": "uploader@example.com", "password": "UploadFlowPass456!"]))
        XCTAssertEqual(up.status, 200)
        let any = try c.request("POST", "/api/v1/auth/login", body: #"{"email":"w\u00e9ird\"name@example.com","password":"password"}"#)
        XCTAssertEqual(any.status, 200)
        let bad = try c.request("POST", "/api/v1/auth/login", body: json(["email": "loadtest.user@example.com", "password": "nope"]))
        XCTAssertEqual(bad.status, 401)
        XCTAssertNotNil(bad.json["error"] as? String)
        XCTAssertEqual(try c.request("POST", "/api/v1/auth/login", body: json(["email": "x@y.z", "password": "wrong"])).status, 401)
        XCTAssertEqual(try c.request("POST", "/api/v1/auth/login", body: "{not json").status, 400)
        XCTAssertEqual(try c.request("POST", "/api/v1/auth/login", body: json(["email": "x@y.z"])).status, 400)
        XCTAssertEqual(try c.request("POST", "/api/v1/auth/login", headers: ["Content-Type": "text/plain"], body: "hello").status, 415)

        // The escaped email comes back intact from /me.
        let token = any.json["access_token"] as? String ?? ""
        let me = try c.request("GET", "/api/v1/me", headers: ["Authorization": "Bearer \(token)"])
        XCTAssertEqual(me.status, 200)
        XCTAssertEqual(me.json["email"] as? String, "w\u{e9}ird\"name@example.com")
    }

    func testAuthorizedAPI() throws {
        let s = try makeServer()
        defer { s.stop() }
        let c = try TestClient(port: s.port)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects").status, 401)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects", headers: ["Authorization": "Bearer lt1.61.0000000000000000"]).status, 401)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects", headers: ["Authorization": "Bearer lf_ingest_test_token_abc123"]).status, 401)
        XCTAssertEqual(try c.request("GET", "/api/v1/me").status, 401)
        let token = try login(c)
        // A token issued on one connection (maybe another thread) works on fresh connections.
        for _ in 0..<4 {
            let other = try TestClient(port: s.port)
            let r = try other.request("GET", "/api/v1/projects", headers: ["Authorization": "Bearer \(token)"])
            XCTAssertEqual(r.status, 200)
            let items = r.json["items"] as? [[String: Any]] ?? []
            XCTAssertEqual(items.compactMap { $0["id"] as? Int }, Array(101...112))
            XCTAssertNotNil(items.first?["name"] as? String)
        }
        let auth = ["Authorization": "bearer \(token)"]
        let me = try c.request("GET", "/api/v1/me", headers: auth)
        XCTAssertEqual(me.status, 200)
        XCTAssertEqual(me.json["email"] as? String, "loadtest.user@example.com")
        let m = try c.request("GET", "/api/v1/projects/101/metrics?range=24h&granularity=5m", headers: auth)
        XCTAssertEqual(m.status, 200)
        XCTAssertEqual((m.json["points"] as? [Any])?.count, 288)
        XCTAssertEqual(m.json["project_id"] as? Int, 101)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects/104/metrics", headers: auth).status, 200)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects/999/metrics?range=24h&granularity=5m", headers: auth).status, 404)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects/abc/metrics", headers: auth).status, 404)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects/101/metrics?range=forever&granularity=5m", headers: auth).status, 400)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects/101/metrics?range=24h&granularity=5x", headers: auth).status, 400)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects/101/metrics?range=1h&granularity=1d", headers: auth).status, 400)
    }

    func testIngest() throws {
        let s = try makeServer()
        defer { s.stop() }
        let c = try TestClient(port: s.port)
        let fixed = ["Authorization": "Bearer lf_ingest_test_token_abc123"]
        let event: [String: Any] = [
            "event_id": UUID().uuidString.lowercased(), "tenant_id": "tenant_demo_001", "source": "web",
            "event_type": "page_view", "timestamp": "2026-11-26T17:00:00.123Z", "region_hint": "iad",
            "properties": ["path": "/pricing", "response_time_ms": 120, "plan": "pro"],
        ]
        let ok = try c.request("POST", "/api/v1/events/ingest", headers: fixed, body: json(event))
        XCTAssertEqual(ok.status, 202)
        XCTAssertEqual(ok.json["accepted"] as? Bool, true)
        let token = try login(c)
        XCTAssertEqual(try c.request("POST", "/api/v1/events/ingest", headers: ["Authorization": "Bearer \(token)"], body: json(event)).status, 202)
        XCTAssertEqual(try c.request("POST", "/api/v1/events/ingest", body: json(event)).status, 401)
        XCTAssertEqual(try c.request("POST", "/api/v1/events/ingest", headers: ["Authorization": "Bearer wrong"], body: json(event)).status, 401)
        for field in ["event_id", "tenant_id", "event_type", "timestamp"] {
            var e = event
            e[field] = nil
            let r = try c.request("POST", "/api/v1/events/ingest", headers: fixed, body: json(e))
            XCTAssertEqual(r.status, 400)
            XCTAssertEqual(r.json["error"] as? String, "missing field: \(field)")
            e[field] = 42
            XCTAssertEqual(try c.request("POST", "/api/v1/events/ingest", headers: fixed, body: json(e)).status, 400)
        }
        var e = event
        e["timestamp"] = "yesterday"
        XCTAssertEqual(try c.request("POST", "/api/v1/events/ingest", headers: fixed, body: json(e)).status, 400)
        XCTAssertEqual(try c.request("POST", "/api/v1/events/ingest", headers: fixed, body: "[1,2]").status, 400)
        XCTAssertEqual(try c.request("POST", "/api/v1/events/ingest", headers: fixed, body: #"{"event_id": "a"#).status, 400)
        XCTAssertEqual(try c.request("POST", "/api/v1/events/ingest", headers: fixed, body: "").status, 400)
    }

    func testPresignAndUploads() throws {
        let s = try makeServer()
        defer { s.stop() }
        let c = try TestClient(port: s.port)
        let token = try login(c, "uploader@example.com", "UploadFlowPass456!")
        let auth = ["Authorization": "Bearer \(token)"]
        let good: [String: Any] = ["filename": "report 1.csv", "content_type": "text/csv", "size_bytes": 123_456, "folder": "customer-exports"]
        XCTAssertEqual(try c.request("POST", "/api/v1/uploads/presign", body: json(good)).status, 401)
        let r = try c.request("POST", "/api/v1/uploads/presign", headers: auth, body: json(good))
        XCTAssertEqual(r.status, 200, r.body)
        let fileID = r.json["file_id"] as? String ?? ""
        XCTAssertTrue(fileID.hasPrefix("upl_"))
        XCTAssertTrue((r.json["upload_url"] as? String ?? "").hasPrefix("https://"))
        XCTAssertTrue((r.json["upload_url"] as? String ?? "").contains("report%201.csv"))
        XCTAssertEqual(r.json["expires_in"] as? Int, 900)
        let bad: [[String: Any]] = [
            ["content_type": "text/csv", "size_bytes": 1],
            ["filename": "", "content_type": "text/csv", "size_bytes": 1],
            ["filename": 7, "content_type": "text/csv", "size_bytes": 1],
            ["filename": "a.csv", "size_bytes": 1],
            ["filename": "a.csv", "content_type": "text/csv"],
            ["filename": "a.csv", "content_type": "text/csv", "size_bytes": 0],
            ["filename": "a.csv", "content_type": "text/csv", "size_bytes": -5],
            ["filename": "a.csv", "content_type": "text/csv", "size_bytes": 1.5],
            ["filename": "a.csv", "content_type": "text/csv", "size_bytes": "10"],
        ]
        for b in bad {
            XCTAssertEqual(try c.request("POST", "/api/v1/uploads/presign", headers: auth, body: json(b)).status, 400, json(b))
        }
        let huge: [String: Any] = ["filename": "a.csv", "content_type": "text/csv", "size_bytes": 200 * 1024 * 1024]
        XCTAssertEqual(try c.request("POST", "/api/v1/uploads/presign", headers: auth, body: json(huge)).status, 413)

        let list = try c.request("GET", "/api/v1/uploads?limit=20&status=pending,complete", headers: auth)
        XCTAssertEqual(list.status, 200)
        let items = list.json["items"] as? [[String: Any]] ?? []
        XCTAssertEqual(items.count, 1)
        XCTAssertEqual(items.first?["file_id"] as? String, fileID)
        XCTAssertEqual(items.first?["status"] as? String, "pending")
        XCTAssertEqual(try c.request("GET", "/api/v1/uploads?status=pending%2Ccomplete", headers: auth).json["count"] as? Int, 1)
        XCTAssertEqual(try c.request("GET", "/api/v1/uploads?status=complete", headers: auth).json["count"] as? Int, 0)
        XCTAssertEqual(try c.request("GET", "/api/v1/uploads?status=weird", headers: auth).status, 400)
        XCTAssertEqual(try c.request("GET", "/api/v1/uploads?limit=0", headers: auth).status, 400)
        // Another user does not see it.
        let other = try login(c)
        XCTAssertEqual(try c.request("GET", "/api/v1/uploads", headers: ["Authorization": "Bearer \(other)"]).json["count"] as? Int, 0)
    }

    func testStatusOverrideAndDelay() throws {
        let s = try makeServer()
        defer { s.stop() }
        let c = try TestClient(port: s.port)
        let r = try c.request("GET", "/health?status=503")
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(r.json["injected"] as? Bool, true)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects?status=201").status, 201)
        XCTAssertEqual(try c.request("GET", "/health?status=204").status, 204)
        XCTAssertEqual(try c.request("GET", "/health?status=42").status, 400)
        let t0 = monotonicMicros()
        XCTAssertEqual(try c.request("GET", "/health?delay_ms=200").status, 200)
        let elapsed = monotonicMicros() - t0
        XCTAssertGreaterThanOrEqual(elapsed, 200_000)
        XCTAssertLessThan(elapsed, 1_500_000)
        XCTAssertEqual(try c.request("GET", "/health?delay_ms=abc").status, 400)
    }

    func testConfiguredLatencyDoesNotBlockOtherConnections() throws {
        let s = try makeServer(threads: 1) { $0.latencyMicros = 150_000; $0.jitterMicros = 20_000 }
        defer { s.stop() }
        let clients = try (0..<8).map { _ in try TestClient(port: s.port) }
        let t0 = monotonicMicros()
        for c in clients { c.send(TestClient.raw("GET", "/health")) }
        for c in clients { XCTAssertEqual(try c.readResponse().status, 200) }
        let elapsed = monotonicMicros() - t0
        XCTAssertGreaterThanOrEqual(elapsed, 130_000)
        XCTAssertLessThan(elapsed, 1_000_000, "delays must overlap (timers, not sleeps)")
        // /__stats is never delayed.
        let t1 = monotonicMicros()
        XCTAssertEqual(try clients[0].request("GET", "/__stats").status, 200)
        XCTAssertLessThan(monotonicMicros() - t1, 100_000)
    }

    func testErrorRate() throws {
        let s = try makeServer { $0.errorRate = 1.0 }
        defer { s.stop() }
        let c = try TestClient(port: s.port)
        for _ in 0..<5 { XCTAssertEqual(try c.request("GET", "/health").status, 500) }
        XCTAssertEqual(try c.request("GET", "/__stats").status, 200)
        XCTAssertEqual(s.statsJSON(), #"{"total":5,"rejected":0,"routes":{"GET /health":{"500":5}}}"#)
    }

    func testKeepAliveAndClose() throws {
        let s = try makeServer()
        defer { s.stop() }
        let c = try TestClient(port: s.port)
        for _ in 0..<10 {
            let r = try c.request("GET", "/health")
            XCTAssertEqual(r.status, 200)
            XCTAssertNil(r.headers["connection"])
        }
        let last = try c.request("GET", "/health", headers: ["Connection": "close"])
        XCTAssertEqual(last.status, 200)
        XCTAssertEqual(last.headers["connection"], "close")
        XCTAssertTrue(c.isClosedByServer())

        // HTTP/1.0: closes unless keep-alive is asked for.
        let h10 = try TestClient(port: s.port)
        h10.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(try h10.readResponse().headers["connection"], "keep-alive")
        h10.send("GET /health HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try h10.readResponse().status, 200)
        XCTAssertTrue(h10.isClosedByServer())
    }

    func testPipelinedAndPartialRequests() throws {
        let s = try makeServer()
        defer { s.stop() }
        let c = try TestClient(port: s.port)
        // The delayed first response must still come first.
        c.send(TestClient.raw("GET", "/health?delay_ms=50") + TestClient.raw("GET", "/nope")
               + TestClient.raw("POST", "/api/v1/auth/login", body: #"{"email":"a@b.c","password":"password"}"#)
               + TestClient.raw("GET", "/"))
        XCTAssertEqual(try c.readResponse().status, 200)
        XCTAssertEqual(try c.readResponse().status, 404)
        XCTAssertEqual(try c.readResponse().status, 200)
        XCTAssertEqual(try c.readResponse().status, 200)

        // Byte by byte, body included.
        let raw = Array(TestClient.raw("POST", "/api/v1/auth/login", body: #"{"email":"a@b.c","password":"password"}"#).utf8)
        for b in raw { c.sendBytes([b]); usleep(200) }
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertNotNil(r.json["access_token"])

        // Many pipelined requests in one write.
        c.send(String(repeating: TestClient.raw("GET", "/health"), count: 200))
        for _ in 0..<200 { XCTAssertEqual(try c.readResponse().status, 200) }
    }

    func testGarbageAndBadClients() throws {
        let s = try makeServer()
        defer { s.stop() }
        for garbage in ["HELLO\r\n\r\n", "GET /health HTTP/9.9\r\n\r\n", "GET health HTTP/1.1\r\n\r\n",
                        "GET /health HTTP/1.1\r\nBad Header\r\n\r\n", "\u{1}\u{2}\u{3}\r\n\r\n",
                        "GET /health HTTP/1.1\r\nContent-Length: abc\r\n\r\n"] {
            let c = try TestClient(port: s.port)
            c.send(garbage)
            let r = try c.readResponse()
            XCTAssertTrue(r.status == 400 || r.status == 505, "\(garbage.debugDescription) → \(r.status)")
            XCTAssertEqual(r.headers["connection"], "close")
            XCTAssertTrue(c.isClosedByServer())
        }
        let chunked = try TestClient(port: s.port)
        chunked.send("POST /api/v1/events/ingest HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        XCTAssertEqual(try chunked.readResponse().status, 411)
        let big = try TestClient(port: s.port)
        big.send("GET /health HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 40_000))\r\n\r\n")
        XCTAssertEqual(try big.readResponse().status, 431)
        let tooLong = try TestClient(port: s.port)
        tooLong.send("POST /api/v1/events/ingest HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
        XCTAssertEqual(try tooLong.readResponse().status, 413)

        // Clients that vanish: mid-request, mid-delay, with a reset.
        for _ in 0..<20 {
            let a = try TestClient(port: s.port)
            a.send("POST /api/v1/auth/login HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"em")
            let b = try TestClient(port: s.port)
            b.send(TestClient.raw("GET", "/health?delay_ms=30"))
            b.reset()
            a.reset()
        }
        let random = try TestClient(port: s.port)
        var rng = SystemRandomNumberGenerator()
        random.sendBytes((0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) } + Array("\r\n\r\n".utf8))
        XCTAssertEqual((try? random.readResponse())?.status, 400)
        usleep(100_000)  // let the delayed responses to vanished clients fire
        let after = try TestClient(port: s.port)
        XCTAssertEqual(try after.request("GET", "/health").status, 200)
        XCTAssertGreaterThanOrEqual(try after.request("GET", "/__stats").json["rejected"] as? Int ?? 0, 9)
    }

    func testStatsCountExactly() throws {
        let s = try makeServer(threads: 2)
        defer { s.stop() }
        var clients = try (0..<4).map { _ in try TestClient(port: s.port) }
        for c in clients {
            for _ in 0..<10 { XCTAssertEqual(try c.request("GET", "/health").status, 200) }
            XCTAssertEqual(try c.request("GET", "/health?status=503").status, 503)
            XCTAssertEqual(try c.request("GET", "/does/not/exist").status, 404)
        }
        let c = clients[0]
        let token = try login(c)
        XCTAssertEqual(try c.request("POST", "/api/v1/auth/login", body: #"{"email":"a@b.c","password":"bad"}"#).status, 401)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects/102/metrics?range=1h&granularity=1m", headers: ["Authorization": "Bearer \(token)"]).status, 200)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects/7/metrics", headers: ["Authorization": "Bearer \(token)"]).status, 404)
        XCTAssertEqual(try c.request("GET", "/api/v1/projects").status, 401)
        XCTAssertEqual(try c.request("PUT", "/health").status, 405)
        // Counted even though the client gives up before the delayed answer.
        let quitter = try TestClient(port: s.port)
        quitter.send(TestClient.raw("GET", "/health?delay_ms=2000"))
        usleep(50_000)
        quitter.reset()
        clients.append(quitter)

        let r = try c.request("GET", "/__stats")
        XCTAssertEqual(r.status, 200)
        let expected: [String: Any] = [
            "total": 55,
            "rejected": 0,
            "routes": [
                "GET /health": ["200": 41, "503": 4],
                "other": ["404": 4, "405": 1],
                "POST /api/v1/auth/login": ["200": 1, "401": 1],
                "GET /api/v1/projects/{id}/metrics": ["200": 1, "404": 1],
                "GET /api/v1/projects": ["401": 1],
            ],
        ]
        XCTAssertEqual(json(r.json), json(expected))
        XCTAssertEqual(json(try JSONSerialization.jsonObject(with: Data(s.statsJSON().utf8))), json(expected))
    }

    func testAddressInUse() throws {
        let s = try makeServer()
        defer { s.stop() }
        var o = ServeOptions()
        o.port = s.port
        XCTAssertThrowsError(try TargetServer(options: o)) { e in
            XCTAssertTrue("\(e)".contains("in use"), "\(e)")
        }
    }

    func testStopIsCleanAndIdempotent() throws {
        let s = try makeServer(threads: 2)
        let c = try TestClient(port: s.port)
        c.send(TestClient.raw("GET", "/health?delay_ms=5000"))
        usleep(20_000)
        let t0 = monotonicMicros()
        s.stop()
        s.stop()
        XCTAssertLessThan(monotonicMicros() - t0, 3_000_000, "at once, not after the 5 s delayed answer")
        XCTAssertThrowsError(try c.readResponse())
    }

}
