import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// What works on HTTP/1.1 works on HTTP/2 (issue #22), checked against nginx's http2 module: certificate
/// verification and its options, TLS session resumption across reconnects, the open model's exact counts,
/// segments and `luaload merge`, whose per-protocol counts are summed exactly. Each nginx server logs every
/// request as "$server_protocol $ssl_session_reused $connection $request_uri $status", so the counts asserted
/// are what the server saw, down to which connections resumed a TLS session.
final class HTTP2MoreTests: XCTestCase {
    private static var fixture: ClassFixture<NginxFixture>!
    var nginx: NginxFixture!

    override class func setUp() {
        super.setUp()
        fixture = ClassFixture("luaload-h2more") { dir in
            guard NginxFixture.isInstalled else { throw XCTSkip("nginx is not installed") }
            try TestCertificates.make(in: dir, leaves: [("server", "DNS:localhost,IP:127.0.0.1"), ("wronghost", "DNS:wrong.example")])
            return try startNginx(dir)
        }
    }

    override class func tearDown() {
        fixture.end { $0.stop() }
        super.tearDown()
    }

    override func setUpWithError() throws { nginx = try Self.fixture.get() }

    /// Two VUs, ten task runs each (the script stops them), one GET each: 20 requests, none in flight at the end.
    private static let tenEach = """
        task(function(self)
          local res = http.get("/health")
          self.n = (self.n or 0) + 1
          if self.n == 1 then print("FIRST " .. tostring(res.proto) .. " " .. tostring(res.error)) end
          if self.n >= 10 then stop() end
        end)
        """

    // MARK: - TLS verification

    /// A certificate the client cannot verify fails the handshake before any HTTP/2 frame, with the same message
    /// as on HTTP/1.1; --cacert makes it pass (h2 by ALPN), -k skips verification, a wrong name still fails.
    func testCertificateVerificationOverH2() throws {
        let script = Luaload.script(Self.tenEach)
        let untrusted = try run(["-H", url("normal")], script)
        XCTAssertEqual(untrusted.requests, 20)
        XCTAssertEqual(untrusted.failuresCount, 20)
        XCTAssertEqual(untrusted.failureErrors(), ["TLS handshake: certificate verify failed: unable to get local issuer certificate"])
        XCTAssertEqual(Self.protocols(untrusted), ["HTTP/1.1": 0, "HTTP/2.0": 0])
        XCTAssertTrue(untrusted.stdout.contains("FIRST nil TLS handshake: certificate verify failed"), untrusted.stdout)

        let before = served("normal").count
        let trusted = try run(["-H", url("normal"), "--cacert", path("ca.crt")], script)
        XCTAssertEqual(trusted.failuresCount, 0, "\(trusted.failures)")
        XCTAssertEqual(Self.protocols(trusted), ["HTTP/1.1": 0, "HTTP/2.0": 20])
        XCTAssertTrue(trusted.stdout.contains("FIRST HTTP/2.0 nil"), trusted.stdout)
        settledCount(before + 20) { served("normal").count }   // nginx logs a request just after its response
        let lines = served("normal").dropFirst(before)
        XCTAssertEqual(lines.count, 20, "the untrusted runs reached no HTTP at all; the trusted one 20 requests")
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("HTTP/2.0 ") }, "\(lines)")

        let insecure = try run(["-H", url("wronghost"), "-k"], script)
        XCTAssertEqual(insecure.failuresCount, 0, "\(insecure.failures)")
        XCTAssertEqual(Self.protocols(insecure)["HTTP/2.0"], 20)

        let wrongName = try run(["-H", url("wronghost"), "--cacert", path("ca.crt")], script)
        XCTAssertEqual(wrongName.failuresCount, 20)
        XCTAssertEqual(wrongName.failureErrors(), ["TLS handshake: certificate verify failed: hostname mismatch"])
    }

    // MARK: - TLS resumption

    /// nginx ends each HTTP/2 connection after its third request (keepalive_requests 3: GOAWAY), so each VU's ten
    /// requests take four connections; the later ones resume the TLS session. luaload's handshake and resumption
    /// counts are the server's: its distinct connections, and those on which $ssl_session_reused is "r".
    func testSessionResumptionAcrossReconnectsOverH2() throws {
        let before = served("keepalive3").count
        let r = try run(["-H", url("keepalive3"), "--cacert", path("ca.crt")], Luaload.script(Self.tenEach))
        XCTAssertEqual(r.failuresCount, 0, "\(r.failures)")
        XCTAssertEqual(Self.protocols(r), ["HTTP/1.1": 0, "HTTP/2.0": 20])
        settledCount(before + 20) { served("keepalive3").count }
        let lines = served("keepalive3").dropFirst(before).map { $0.split(separator: " ") }
        XCTAssertEqual(lines.count, 20)
        XCTAssertTrue(lines.allSatisfy { $0.first == "HTTP/2.0" }, "\(lines)")
        let connections = Set(lines.map { $0[2] })
        let resumedConnections = Set(lines.filter { $0[1] == "r" }.map { $0[2] })
        let tls = r.json["tls"] as? [String: Any] ?? [:]
        let handshakes = tls["handshakes"] as? Int ?? -1, resumed = tls["resumed"] as? Int ?? -1
        XCTAssertEqual(connections.count, 8)
        XCTAssertEqual(handshakes, connections.count)
        XCTAssertEqual(resumed, resumedConnections.count)
        XCTAssertGreaterThan(resumed * 2, handshakes, "resumed \(resumed) of \(handshakes)")
    }

    /// http.batch on HTTP/1.1 over TLS (this server offers no h2): the VU's own request makes a full handshake,
    /// then the batch's six extra connections offer the VU's session, and nginx resumes it on each of them.
    func testBatchConnectionsResumeTheVUsTLSSession() throws {
        let before = served("tls11").count
        let script = Luaload.script("""
            task(function()
              http.get("/health")
              local rs = http.batch({ "/health", "/health", "/health", "/health", "/health", "/health" })
              print("BATCH " .. rs[6].status .. " " .. rs[6].proto)
            end)
            """)
        let r = try Luaload.run(["-t", "1", "-u", "1", "-n", "1", "--timeout", "5", "--cacert", path("ca.crt"), "-H", url("tls11")], script: script)
        XCTAssertEqual(r.failuresCount, 0, "\(r.failures)")
        XCTAssertTrue(r.stdout.contains("BATCH 200 HTTP/1.1"), r.stdout)
        settledCount(before + 7) { served("tls11").count }   // nginx logs a request just after its response
        let lines = served("tls11").dropFirst(before).map { $0.split(separator: " ") }
        XCTAssertEqual(lines.count, 7)
        let connections = Set(lines.map { $0[2] })
        let resumedConnections = Set(lines.filter { $0[1] == "r" }.map { $0[2] })
        XCTAssertEqual(connections.count, 7, "the VU's connection and six for the batch")
        XCTAssertEqual(resumedConnections.count, 6, "every batch connection resumed the VU's session: \(lines)")
        let tls = r.json["tls"] as? [String: Any] ?? [:]
        XCTAssertEqual(tls["handshakes"] as? Int, 7)
        XCTAssertEqual(tls["resumed"] as? Int, 6)
    }

    // MARK: - The open model

    /// --rate over h2c: every scheduled arrival started or dropped, and recorded + abandoned = requests started =
    /// what the server saw, all over HTTP/2.
    func testOpenModelOverH2HasExactCounts() throws {
        let before = served("h2c").count
        let r = try Luaload.run(["-t", "1", "--rate", "100/s", "-d", "2s", "--max-vus", "10", "--http2-prior-knowledge",
                                 "-H", "http://127.0.0.1:\(nginx.ports["h2c"]!)"],
                                script: Luaload.script("task(function() http.get('/health') end)"))
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        let a = r.json["arrivals"] as? [String: Any] ?? [:]
        let scheduled = a["scheduled"] as? Int ?? -1, started = a["started"] as? Int ?? -1, dropped = a["dropped"] as? Int ?? -1
        settledCount(before + started) { served("h2c").count }
        XCTAssertEqual(scheduled, 200)
        XCTAssertEqual(started + dropped, 200)
        XCTAssertGreaterThanOrEqual(started, 180, "unstarted at the stop only what a loaded machine lags (200 ms)")
        XCTAssertEqual(r.requests + r.abandoned, started, "one request per task run")
        XCTAssertEqual(served("h2c").count - before, started)
        XCTAssertEqual(Self.protocols(r)["HTTP/2.0"], r.requests)
        XCTAssertEqual(r.failuresCount, 0, "\(r.failures)")
    }

    // MARK: - Segments and merge

    /// Two segments of one test over h2c, merged: the merge's requests and per-protocol counts are the
    /// segments' sums, and the server saw exactly those requests.
    func testSegmentsMergeOverH2() throws {
        let before = served("h2c").count
        let script = Luaload.script("""
            task(function(self)
              http.get("/health")
              self.n = (self.n or 0) + 1
              if self.n >= 5 then stop() end
            end)
            """)
        var files: [String] = []
        for segment in 0..<2 {
            let json = path("segment-\(segment).json")
            let r = try Luaload.run(["-t", "1", "-u", "4", "--segment", "\(segment)/2", "--http2-prior-knowledge",
                                     "-H", "http://127.0.0.1:\(nginx.ports["h2c"]!)"], script: script)
            XCTAssertEqual(r.exitCode, 0, r.stderr)
            XCTAssertEqual(r.requests, 10, "segment \(segment)")
            try save(r, json)
            files.append(json)
        }
        XCTAssertEqual(settledCount(before + 20) { served("h2c").count } - before, 20, "4 VUs in two segments, 5 requests each")
        let m = try merge(files)
        XCTAssertEqual((m["total"] as? [String: Any])?["requests"] as? Int, 20)
        XCTAssertEqual(m["protocols"] as? [String: Int], ["HTTP/1.1": 0, "HTTP/2.0": 20])
    }

    /// The merge sums each protocol's count as the runs wrote it: an h2c run with redirects (hops counted), an
    /// HTTP/1.1 run and a run whose every connection failed (no response over either protocol).
    func testMergeSumsProtocolCountsExactly() throws {
        let redirects = Luaload.script("""
            task(function(self)
              http.get("/redir")
              self.n = (self.n or 0) + 1
              if self.n >= 5 then stop() end
            end)
            """)
        let h2 = path("m-h2.json"), h1 = path("m-h1.json"), refused = path("m-refused.json")
        let closedPort = try freePort()
        let runs: [([String], String, [String: Int])] = [
            (["--http2-prior-knowledge", "-H", "http://127.0.0.1:\(nginx.ports["h2c"]!)"], h2, ["HTTP/1.1": 0, "HTTP/2.0": 20]),
            (["-H", "http://127.0.0.1:\(nginx.ports["h1"]!)"], h1, ["HTTP/1.1": 20, "HTTP/2.0": 0]),
            (["--http2-prior-knowledge", "-H", "http://127.0.0.1:\(closedPort)"], refused, ["HTTP/1.1": 0, "HTTP/2.0": 0]),
        ]
        for (args, json, expected) in runs {
            let r = try Luaload.run(["-t", "1", "-u", "2"] + args, script: redirects)
            XCTAssertEqual(r.requests, 10, r.stderr)
            XCTAssertEqual(Self.protocols(r), expected, json)
            try save(r, json)
        }
        let m = try merge([h2, h1, refused])
        XCTAssertEqual((m["total"] as? [String: Any])?["requests"] as? Int, 30)
        XCTAssertEqual((m["total"] as? [String: Any])?["failures"] as? Int, 10)
        XCTAssertEqual(m["protocols"] as? [String: Int], ["HTTP/1.1": 20, "HTTP/2.0": 20])
        // A merge read back into another merge sums the same way.
        let pair = path("m-pair.json")
        _ = try merge([h2, h1], to: pair)
        let again = try merge([pair, refused])
        XCTAssertEqual(again["protocols"] as? [String: Int], ["HTTP/1.1": 20, "HTTP/2.0": 20])
    }

    // MARK: - Helpers

    static func protocols(_ r: LualoadRun) -> [String: Int] { r.json["protocols"] as? [String: Int] ?? [:] }

    private func run(_ args: [String], _ script: String) throws -> LualoadRun {
        try Luaload.run(["-t", "1", "-u", "2", "--timeout", "5"] + args, script: script)
    }

    /// A run's JSON summary (Luaload.run reads and removes its file) written back for `luaload merge`.
    func save(_ r: LualoadRun, _ file: String) throws {
        try JSONSerialization.data(withJSONObject: r.json).write(to: URL(fileURLWithPath: file))
    }

    /// `luaload merge FILES --json OUT`, its JSON parsed.
    @discardableResult
    func merge(_ files: [String], to out: String? = nil) throws -> [String: Any] {
        let out = out ?? path("merged-\(UUID().uuidString).json")
        let r = try runProcess(Luaload.binary, ["merge"] + files + ["--json", out])
        XCTAssertTrue(r.code == 0 || r.code == 1, "exit \(r.code): \(r.stderr)")   // 1: the runs had failures
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func path(_ name: String) -> String { "\(nginx.dir)/\(name)" }
    func url(_ server: String) -> String { "https://localhost:\(nginx.ports[server]!)" }

    /// One server's access log: "protocol reused connection uri status" per request.
    func served(_ name: String) -> [String] { nginx.log(name) }

    /// One server per name, each logging "protocol reused connection uri status" to NAME.log.
    private static func startNginx(_ d: String) throws -> NginxFixture {
        try NginxFixture(dir: d, servers: ["normal", "wronghost", "keepalive3", "h2c", "h1", "h2c-ka10", "tls-h1", "tls11"]) { ports in
            func server(_ name: String, _ listen: String, _ extra: String = "") -> String {
                """
                  server { listen 127.0.0.1:\(ports[name]!) \(listen); access_log \(d)/\(name).log proto; \(extra)
                           location = /health { default_type text/plain; return 200 "ok\\n"; }
                           location = /redir { return 302 /health; } }

                """
            }
            return """
                  log_format proto '$server_protocol $ssl_session_reused $connection $request_uri $status';
                  ssl_certificate \(d)/server.crt; ssl_certificate_key \(d)/server.key;
                  ssl_session_cache shared:SSL:1m; ssl_session_tickets on;
                \(server("normal", "ssl http2"))\
                \(server("wronghost", "ssl http2", "ssl_certificate \(d)/wronghost.crt; ssl_certificate_key \(d)/wronghost.key;"))\
                \(server("keepalive3", "ssl http2", "keepalive_requests 3;"))\
                \(server("h2c", "http2"))\
                \(server("h1", ""))\
                \(server("h2c-ka10", "http2", "keepalive_requests 10;"))\
                \(server("tls-h1", "ssl"))\
                \(server("tls11", "ssl"))
                """
        }
    }
}
