import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// HTTP/2 end to end against nginx's http2 module (a real third-party HTTP/2 server): over TLS by ALPN and on
/// cleartext by prior knowledge (h2c). Each server logs every request with its protocol, so the counts asserted
/// are what the server saw.
final class HTTP2Tests: XCTestCase {
    private static var fixture: ClassFixture<NginxFixture>!
    private var nginx: NginxFixture!
    private var dir: String { Self.fixture.dir }

    override class func setUp() {
        super.setUp()
        fixture = ClassFixture("luaload-h2") { dir in
            guard NginxFixture.isInstalled else { throw XCTSkip("nginx is not installed") }
            guard NginxFixture.hasHTTP2 else { throw XCTSkip("nginx has no http_v2_module") }
            try TestCertificates.make(in: dir, leaves: [("server", "IP:127.0.0.1")])   // the servers' (with -k)
            _ = FileManager.default.createFile(atPath: "\(dir)/big.bin", contents: Data(repeating: 0x61, count: 10_000_000))
            return try startNginx(dir)
        }
    }

    override class func tearDown() {
        fixture.end { $0.stop() }
        super.tearDown()
    }

    override func setUpWithError() throws { nginx = try Self.fixture.get() }

    // MARK: - Tests

    func testTLSNegotiatesH2ByALPNAndTheServerCountsMatch() throws {
        let before = served("tls")
        let r = try Luaload.run(["-t", "2", "-u", "4", "-n", "40", "-k", "-H", "https://127.0.0.1:\(nginx.ports["tls"]!)"], script: Luaload.script("""
            task(function(self)
              local res = http.get("/health")
              if not self.shown then self.shown = true; print("PROTO " .. tostring(res.proto)) end
            end)
            """))
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual(r.requests, 40)
        XCTAssertEqual(r.failuresCount, 0)
        XCTAssertEqual(Self.protocols(r), ["HTTP/1.1": 0, "HTTP/2.0": 40])
        // Recorded + abandoned (in flight at -n's stop) = what the server saw, all of it over HTTP/2.
        settledCount(before.count + 40 + r.abandoned) { served("tls").count }   // nginx logs just after responding
        let lines = served("tls").dropFirst(before.count)
        XCTAssertEqual(lines.count, 40 + r.abandoned)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("HTTP/2.0 /health 200") }, "\(lines)")
        XCTAssertTrue(r.stdout.contains("PROTO HTTP/2.0"), r.stdout)
    }

    func testHTTP11FlagKeepsTLSOnHTTP1() throws {
        let before = served("tls").count
        let r = try Luaload.run(["-u", "2", "-n", "10", "-k", "--http1.1", "-H", "https://127.0.0.1:\(nginx.ports["tls"]!)"],
                                script: Luaload.script("task(function() local r = http.get('/health'); print('PROTO ' .. r.proto) end)"))
        XCTAssertEqual(r.requests, 10)
        XCTAssertEqual(Self.protocols(r), ["HTTP/1.1": 10, "HTTP/2.0": 0])
        settledCount(before + 10 + r.abandoned) { served("tls").count }
        let lines = served("tls").dropFirst(before)
        XCTAssertEqual(lines.count, 10 + r.abandoned)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("HTTP/1.1 /health 200") }, "\(lines)")
        XCTAssertTrue(r.stdout.contains("PROTO HTTP/1.1") && !r.stdout.contains("PROTO HTTP/2.0"), r.stdout)
        let bad = try Luaload.run(["-n", "1", "--http1.1", "--http2-prior-knowledge", "-H", "http://127.0.0.1:1"], script: Luaload.script("task(function() end)"))
        XCTAssertNotEqual(bad.exitCode, 0)
        XCTAssertTrue(bad.stderr.contains("--http1.1 and --http2-prior-knowledge exclude each other"), bad.stderr)
    }

    /// Cookies, a redirect, a POST with headers and body: above the session, the same as on HTTP/1.1.
    func testPriorKnowledgeH2cCarriesCookiesRedirectsAndBodies() throws {
        let before = served("h2c").count
        let r = try Luaload.run(["-u", "2", "-n", "6", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(nginx.ports["h2c"]!)"], script: Luaload.script("""
            task(function()
              http.get("/cookie")
              local e = http.post("/echo", { body = "hello", headers = { ["X-Test"] = "yes" } })
              local d = http.get("/redir")
              print("ECHO " .. e.body:gsub("\\n", "") .. " " .. d.status .. " " .. d.url .. " " .. d.proto)
            end)
            """))
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual(r.requests, 18)
        XCTAssertEqual(r.failuresCount, 0)
        XCTAssertEqual(r.json["redirects"] as? Int, 6)
        XCTAssertEqual(Self.protocols(r), ["HTTP/1.1": 0, "HTTP/2.0": 24])   // 18 requests + 6 redirect hops
        XCTAssertTrue(r.stdout.contains("ECHO sid=abc|POST|5|yes 200 http://127.0.0.1:\(nginx.ports["h2c"]!)/health HTTP/2.0"), r.stdout)
        settledCount(before + 24 + r.abandoned) { served("h2c").count }
        let lines = served("h2c").dropFirst(before)
        XCTAssertEqual(lines.count, 24 + r.abandoned)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("HTTP/2.0 ") }, "\(lines)")
    }

    func testRSTStreamIsACountedFailureWithTheServersCode() throws {
        let r = try Luaload.run(["-u", "1", "-n", "3", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(nginx.ports["h2c"]!)"], script: Luaload.script("""
            task(function()
              local a = http.get("/reset")
              local b = http.get("/health")
              print("AFTER " .. b.status .. " " .. tostring(a.error))
            end)
            """))
        XCTAssertEqual(r.requests, 6)
        XCTAssertEqual(r.failures("/reset"), 3)
        XCTAssertEqual(r.failures("/health"), 0)
        XCTAssertEqual(r.failureErrors(), ["HTTP/2 stream reset by the server (RST_STREAM PROTOCOL_ERROR)"])
        XCTAssertTrue(r.stdout.contains("AFTER 200 HTTP/2 stream reset by the server (RST_STREAM PROTOCOL_ERROR)"), r.stdout)
    }

    /// nginx sends GOAWAY after every 5th request on a connection (keepalive_requests 5): the run goes on, on new
    /// connections, with no failure and exactly the requests the server saw.
    func testGoawayMidRunLosesNothing() throws {
        let before = served("goaway").count
        let r = try Luaload.run(["-u", "3", "-n", "60", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(nginx.ports["goaway"]!)"],
                                script: Luaload.script("task(function() http.get('/health') end)"))
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual(r.requests, 60)
        XCTAssertEqual(r.failuresCount, 0, "\(r.failures)")
        XCTAssertEqual(Self.protocols(r)["HTTP/2.0"], 60)
        XCTAssertEqual(settledCount(before + 60 + r.abandoned) { served("goaway").count } - before, 60 + r.abandoned)
    }

    /// A server (Tests/helpers/h2_goaway.py, on the `h2` library) answers a request with GOAWAY(last_stream_id 0):
    /// not processed, so it goes again on a new connection — once; a server that always does so fails it, named.
    func testUnprocessedStreamAfterGoawayGoesOnceOnANewConnection() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".venv-test/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else { return XCTFail("no \(python): run scripts/install-deps.sh --test") }
        let script = Luaload.script("task(function() http.get('/health') end)")
        for (mode, failures) in [("first", 0), ("always", 3)] {
            let log = "\(dir)/goaway-\(mode).log"
            let (port, server) = try launchOnFreePort(python) { [root.appendingPathComponent("Tests/helpers/h2_goaway.py").path, "\($0)", mode, log] }
            defer { stopProcess(server) }
            let r = try Luaload.run(["-u", "1", "-n", "3", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(port)"], script: script)
            XCTAssertEqual(r.requests, 3, mode)
            XCTAssertEqual(r.failuresCount, failures, "\(mode): \(r.failures)")
            let events = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
            if mode == "first" {
                XCTAssertEqual(events, ["goaway", "served", "served", "served"])
                XCTAssertEqual(Self.protocols(r)["HTTP/2.0"], 3)
            } else {
                XCTAssertEqual(events.count, 6)   // each request twice: the retry, then the failure
                XCTAssertEqual(r.failureErrors(), ["HTTP/2 connection closed by the server (GOAWAY NO_ERROR) before the request was processed"])
            }
        }
    }

    /// The same server in "stall" mode: its SETTINGS shut the flow-control window and it never opens it, so a
    /// 100 kB body cannot go; the request's timeout names the stall.
    func testFlowControlStallIsANamedFailure() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".venv-test/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else { return XCTFail("no \(python): run scripts/install-deps.sh --test") }
        let log = "\(dir)/stall.log"
        let (port, server) = try launchOnFreePort(python) { [root.appendingPathComponent("Tests/helpers/h2_goaway.py").path, "\($0)", "stall", log] }
        defer { stopProcess(server) }
        let r = try Luaload.run(["-u", "1", "-n", "1", "--timeout", "1s", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(port)"],
                                script: Luaload.script("task(function() http.post('/upload', { body = string.rep('x', 100000) }) end)"))
        XCTAssertEqual(r.requests, 1)
        XCTAssertEqual(r.failureErrors(), ["HTTP/2 flow control: the server kept its window closed, the request body could not be sent before the timeout"])
        XCTAssertEqual((try? String(contentsOfFile: log, encoding: .utf8)) ?? "", "headers\n")
    }

    func testTenMegabytesEachWay() throws {
        let r = try Luaload.run(["-u", "1", "-n", "1", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(nginx.ports["h2c"]!)"], script: Luaload.script("""
            task(function()
              local d = http.get("/big")
              local u = http.post("/upload", { body = string.rep("x", 10000000) })
              print("SIZES " .. #d.body .. " " .. u.status .. " " .. u.body:gsub("\\n", ""))
            end)
            """), timeLimit: 60)
        XCTAssertEqual(r.failuresCount, 0, "\(r.failures)")
        XCTAssertTrue(r.stdout.contains("SIZES 10000000 200 10000000"), r.stdout)
    }

    /// nghttpd (Debian's nghttp2-server), nghttp2's own server, over TLS (ALPN) and h2c: its verbose log has one
    /// ":path" line per request it received.
    func testNghttpdCountsOverTLSAndH2c() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nghttpd") else { throw XCTSkip("nghttpd is not installed (nghttp2-server)") }
        let root = "\(dir)/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "hello\n".write(toFile: "\(root)/index.html", atomically: true, encoding: .utf8)
        let script = Luaload.script("""
            task(function(self)
              local r = http.get("/index.html")
              if not self.shown then self.shown = true; print("GOT " .. r.proto .. " " .. r.body:gsub("\\n", "")) end
            end)
            """)
        for tls in [true, false] {
            let log = "\(dir)/nghttpd-\(tls).log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let (port, server) = try launchOnFreePort("/usr/sbin/nghttpd", stdout: FileHandle(forWritingAtPath: log)) { port in
                tls ? ["-v", "-a", "127.0.0.1", "-d", root, "\(port)", "\(dir)/server.key", "\(dir)/server.crt"]
                    : ["-v", "-a", "127.0.0.1", "--no-tls", "-d", root, "\(port)"]
            }
            defer { stopProcess(server) }
            let r = try runH2(tls: tls, port: port, iterations: 20, script: script, expecting: "GOT HTTP/2.0 hello")
            // Its log is written as it goes, a moment after the responses.
            let seen = settledCount(20 + r.abandoned) {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: ":path: /index.html").count - 1
            }
            XCTAssertEqual(seen, 20 + r.abandoned, "tls \(tls)")
        }
    }

    /// hypercorn (PyPI, in .venv-test), a Python HTTP/2 server, running Tests/helpers/h2_app.py: it logs each
    /// request with the HTTP version it came over. TLS by ALPN and h2c; a cookie it sets comes back on the POST.
    func testHypercornCountsOverTLSAndH2c() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let hypercorn = root.appendingPathComponent(".venv-test/bin/hypercorn").path
        guard FileManager.default.isExecutableFile(atPath: hypercorn) else {
            return XCTFail("no \(hypercorn): run scripts/install-deps.sh --test (scripts/test.sh does)")
        }
        let script = Luaload.script("""
            task(function(self)
              local a = http.get("/health")
              local b = http.post("/echo", { body = "abc" })
              if not self.shown then self.shown = true; print("GOT " .. a.proto .. " " .. b.body:gsub("\\n", "")) end
            end)
            """)
        for tls in [true, false] {
            let log = "\(dir)/hypercorn-\(tls).log"
            let (port, server) = try launchOnFreePort(hypercorn, cwd: root.appendingPathComponent("Tests/helpers"), env: ["H2_APP_LOG": log, "PATH": "/usr/bin:/bin"]) {
                ["--bind", "127.0.0.1:\($0)"] + (tls ? ["--certfile", "\(dir)/server.crt", "--keyfile", "\(dir)/server.key"] : []) + ["h2_app:app"]
            }
            defer { stopProcess(server) }
            let r = try runH2(tls: tls, port: port, iterations: 10, script: script, expecting: "GOT HTTP/2.0 POST|3|hc=1")
            let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
            XCTAssertEqual(lines.count, 20 + r.abandoned, "tls \(tls)")
            XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("HTTP/2 /") }, "\(lines)")
        }
    }

    // MARK: - Helpers

    private static func protocols(_ r: LualoadRun) -> [String: Int] { r.json["protocols"] as? [String: Int] ?? [:] }

    /// Two VUs, `iterations` task runs of `script` (two requests each for hypercorn's, one for nghttpd's) over TLS
    /// by ALPN or h2c: every request recorded over HTTP/2, none failed, `expecting` printed.
    private func runH2(tls: Bool, port: Int, iterations: Int, script: String, expecting: String) throws -> LualoadRun {
        let r = try Luaload.run(["-u", "2", "-n", "\(iterations)", "-k"] + (tls ? [] : ["--http2-prior-knowledge"])
                                + ["-H", "\(tls ? "https" : "http")://127.0.0.1:\(port)"], script: script)
        XCTAssertEqual(r.requests, 20, "tls \(tls): \(r.stderr)")
        XCTAssertEqual(r.failuresCount, 0, "tls \(tls): \(r.failures)")
        XCTAssertEqual(Self.protocols(r)["HTTP/2.0"], 20)
        XCTAssertTrue(r.stdout.contains(expecting), r.stdout)
        return r
    }

    /// The server's access log of one server: "protocol uri status" per request.
    private func served(_ name: String) -> [String] { nginx.log(name) }

    private static func startNginx(_ d: String) throws -> NginxFixture {
        try NginxFixture(dir: d, servers: ["tls", "h2c", "goaway", "upstream"]) { ports in
            let routes = """
                location = /health { default_type text/plain; return 200 "ok\\n"; }
                location = /cookie { add_header Set-Cookie "sid=abc; Path=/"; return 200 "c\\n"; }
                location = /redir { return 302 /health; }
                location = /echo { default_type text/plain; return 200 "$http_cookie|$request_method|$content_length|$http_x_test\\n"; }
                location = /reset { return 444; }
                location = /big { alias \(d)/big.bin; }
                location = /upload { proxy_pass http://127.0.0.1:\(ports["upstream"]!)/length; }
                """
            return """
                  log_format proto '$server_protocol $request_uri $status';
                  client_max_body_size 20m;
                  server { listen 127.0.0.1:\(ports["tls"]!) ssl http2; ssl_certificate \(d)/server.crt; ssl_certificate_key \(d)/server.key;
                           access_log \(d)/tls.log proto; \(routes) }
                  server { listen 127.0.0.1:\(ports["h2c"]!) http2; access_log \(d)/h2c.log proto; \(routes) }
                  server { listen 127.0.0.1:\(ports["goaway"]!) http2; keepalive_requests 5; access_log \(d)/goaway.log proto; \(routes) }
                  server { listen 127.0.0.1:\(ports["upstream"]!); access_log off;
                           location = /length { default_type text/plain; return 200 "$content_length\\n"; } }

                """
        }
    }
}
