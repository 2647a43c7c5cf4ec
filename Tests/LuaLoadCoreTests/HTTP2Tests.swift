import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// HTTP/2 end to end against nginx's http2 module (a real third-party HTTP/2 server): over TLS by ALPN and on
/// cleartext by prior knowledge (h2c). Each server logs every request with its protocol, so the counts asserted
/// are what the server saw.
final class HTTP2Tests: XCTestCase {
    private static var dir: String!
    private static var nginx: Process?
    private static var ports: [String: Int] = [:]
    private static var setupProblem: String?

    override class func setUp() {
        super.setUp()
        dir = NSTemporaryDirectory() + "luaload-h2-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") else { setupProblem = "nginx is not installed"; return }
            guard try sh(["/usr/sbin/nginx", "-V"]).contains("http_v2_module") else { setupProblem = "nginx has no http_v2_module"; return }
            _ = try sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", "\(dir!)/key.pem", "-out", "\(dir!)/cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"])
            FileManager.default.createFile(atPath: "\(dir!)/big.bin", contents: Data(repeating: 0x61, count: 10_000_000))
            try startNginx()
        } catch {
            setupProblem = "setup failed: \(error)"
        }
    }

    override class func tearDown() {
        if let nginx, nginx.isRunning {
            nginx.terminate()
            nginx.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dir)
        super.tearDown()
    }

    override func setUpWithError() throws {
        if let problem = Self.setupProblem {
            if problem.hasPrefix("nginx") { throw XCTSkip(problem) }
            XCTFail(problem)
        }
    }

    // MARK: - Tests

    func testTLSNegotiatesH2ByALPNAndTheServerCountsMatch() throws {
        let before = served("tls")
        let r = try Luaload.run(["-t", "2", "-u", "4", "-n", "40", "-k", "-H", "https://127.0.0.1:\(Self.ports["tls"]!)"], script: Luaload.script("""
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
        let lines = served("tls").dropFirst(before.count)
        XCTAssertEqual(lines.count, 40 + r.abandoned)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("HTTP/2.0 /health 200") }, "\(lines)")
        XCTAssertTrue(r.stdout.contains("PROTO HTTP/2.0"), r.stdout)
    }

    func testHTTP11FlagKeepsTLSOnHTTP1() throws {
        let before = served("tls").count
        let r = try Luaload.run(["-u", "2", "-n", "10", "-k", "--http1.1", "-H", "https://127.0.0.1:\(Self.ports["tls"]!)"],
                                script: Luaload.script("task(function() local r = http.get('/health'); print('PROTO ' .. r.proto) end)"))
        XCTAssertEqual(r.requests, 10)
        XCTAssertEqual(Self.protocols(r), ["HTTP/1.1": 10, "HTTP/2.0": 0])
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
        let r = try Luaload.run(["-u", "2", "-n", "6", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(Self.ports["h2c"]!)"], script: Luaload.script("""
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
        XCTAssertTrue(r.stdout.contains("ECHO sid=abc|POST|5|yes 200 http://127.0.0.1:\(Self.ports["h2c"]!)/health HTTP/2.0"), r.stdout)
        let lines = served("h2c").dropFirst(before)
        XCTAssertEqual(lines.count, 24 + r.abandoned)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("HTTP/2.0 ") }, "\(lines)")
    }

    func testRSTStreamIsACountedFailureWithTheServersCode() throws {
        let r = try Luaload.run(["-u", "1", "-n", "3", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(Self.ports["h2c"]!)"], script: Luaload.script("""
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
        let r = try Luaload.run(["-u", "3", "-n", "60", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(Self.ports["goaway"]!)"],
                                script: Luaload.script("task(function() http.get('/health') end)"))
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual(r.requests, 60)
        XCTAssertEqual(r.failuresCount, 0, "\(r.failures)")
        XCTAssertEqual(Self.protocols(r)["HTTP/2.0"], 60)
        XCTAssertEqual(served("goaway").count - before, 60 + r.abandoned)
    }

    /// A server (Tests/helpers/h2_goaway.py, on the `h2` library) answers a request with GOAWAY(last_stream_id 0):
    /// not processed, so it goes again on a new connection — once; a server that always does so fails it, named.
    func testUnprocessedStreamAfterGoawayGoesOnceOnANewConnection() throws {
        try Self.checkUnprocessedGoesOnce([], logs: Self.dir)
    }

    /// h2_goaway.py in modes "first" (one GOAWAY, then served) and "always": 3 requests of one VU with `extra`
    /// options (a connection per VU, or --h2-pool) go once more after the GOAWAY, and fail the second time.
    static func checkUnprocessedGoesOnce(_ extra: [String], logs: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".venv-test/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else { return XCTFail("no \(python): run scripts/install-deps.sh --test") }
        let script = Luaload.script("task(function() http.get('/health') end)")
        for (mode, failures) in [("first", 0), ("always", 3)] {
            let port = try freePort()
            let log = "\(logs)/goaway-\(mode)\(extra.joined()).log"
            let server = try launch(python, [root.appendingPathComponent("Tests/helpers/h2_goaway.py").path, "\(port)", mode, log], ports: [port])
            defer { server.terminate(); server.waitUntilExit() }
            let r = try Luaload.run(["-u", "1", "-n", "3", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(port)"] + extra, script: script)
            XCTAssertEqual(r.requests, 3, mode)
            XCTAssertEqual(r.failuresCount, failures, "\(mode): \(r.failures)")
            let events = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
            if mode == "first" {
                XCTAssertEqual(events, ["goaway", "served", "served", "served"])
                XCTAssertEqual(protocols(r)["HTTP/2.0"], 3)
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
        let port = try freePort()
        let log = "\(Self.dir!)/stall.log"
        let server = try Self.launch(python, [root.appendingPathComponent("Tests/helpers/h2_goaway.py").path, "\(port)", "stall", log], ports: [port])
        defer { server.terminate(); server.waitUntilExit() }
        let r = try Luaload.run(["-u", "1", "-n", "1", "--timeout", "1s", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(port)"],
                                script: Luaload.script("task(function() http.post('/upload', { body = string.rep('x', 100000) }) end)"))
        XCTAssertEqual(r.requests, 1)
        XCTAssertEqual(r.failureErrors(), ["HTTP/2 flow control: the server kept its window closed, the request body could not be sent before the timeout"])
        XCTAssertEqual((try? String(contentsOfFile: log, encoding: .utf8)) ?? "", "headers\n")
    }

    func testTenMegabytesEachWay() throws {
        let r = try Luaload.run(["-u", "1", "-n", "1", "--http2-prior-knowledge", "-H", "http://127.0.0.1:\(Self.ports["h2c"]!)"], script: Luaload.script("""
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
        let root = "\(Self.dir!)/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "hello\n".write(toFile: "\(root)/index.html", atomically: true, encoding: .utf8)
        let script = Luaload.script("""
            task(function(self)
              local r = http.get("/index.html")
              if not self.shown then self.shown = true; print("GOT " .. r.proto .. " " .. r.body:gsub("\\n", "")) end
            end)
            """)
        for tls in [true, false] {
            let port = try freePort()
            let log = "\(Self.dir!)/nghttpd-\(tls).log"
            FileManager.default.createFile(atPath: log, contents: nil)
            let server = try Self.launch("/usr/sbin/nghttpd", (tls ? ["-v", "-a", "127.0.0.1", "-d", root, "\(port)", "\(Self.dir!)/key.pem", "\(Self.dir!)/cert.pem"]
                                                                    : ["-v", "-a", "127.0.0.1", "--no-tls", "-d", root, "\(port)"]),
                                         ports: [port], stdout: FileHandle(forWritingAtPath: log))
            defer { server.terminate(); server.waitUntilExit() }
            let r = try runH2(tls: tls, port: port, iterations: 20, script: script, expecting: "GOT HTTP/2.0 hello")
            usleep(100_000)   // its log is written as it goes
            let seen = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: ":path: /index.html").count - 1
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
            let port = try freePort()
            let log = "\(Self.dir!)/hypercorn-\(tls).log"
            let server = try Self.launch(hypercorn, ["--bind", "127.0.0.1:\(port)"]
                                            + (tls ? ["--certfile", "\(Self.dir!)/cert.pem", "--keyfile", "\(Self.dir!)/key.pem"] : []) + ["h2_app:app"],
                                         ports: [port], cwd: root.appendingPathComponent("Tests/helpers"), env: ["H2_APP_LOG": log, "PATH": "/usr/bin:/bin"])
            defer { server.terminate(); server.waitUntilExit() }
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

    /// Starts a server and waits (up to 10 s) until each of `ports` accepts.
    static func launch(_ exe: String, _ args: [String], ports: [Int], cwd: URL? = nil, env: [String: String]? = nil,
                               stdout: FileHandle? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        if let env { p.environment = env }
        p.standardOutput = stdout ?? FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(10)
        while !ports.allSatisfy(canConnect) {
            guard p.isRunning, Date() < deadline else {
                p.terminate()
                throw NSError(domain: "HTTP2Tests", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(exe) did not start: \(args)"])
            }
            usleep(20_000)
        }
        return p
    }

    /// The server's access log of one server: "protocol uri status" per request.
    private func served(_ name: String) -> [String] {
        let text = (try? String(contentsOfFile: "\(Self.dir!)/\(name).log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    @discardableResult
    private static func sh(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    private static func startNginx() throws {
        for name in ["tls", "h2c", "goaway", "upstream"] { ports[name] = try freePort() }
        let d = dir!
        let routes = """
            location = /health { default_type text/plain; return 200 "ok\\n"; }
            location = /cookie { add_header Set-Cookie "sid=abc; Path=/"; return 200 "c\\n"; }
            location = /redir { return 302 /health; }
            location = /echo { default_type text/plain; return 200 "$http_cookie|$request_method|$content_length|$http_x_test\\n"; }
            location = /reset { return 444; }
            location = /big { alias \(d)/big.bin; }
            location = /upload { proxy_pass http://127.0.0.1:\(ports["upstream"]!)/length; }
            """
        try """
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(d)/nginx.pid;
            error_log \(d)/error.log warn;
            events { worker_connections 512; }
            http {
              log_format proto '$server_protocol $request_uri $status';
              client_max_body_size 20m;
              client_body_temp_path \(d)/body; proxy_temp_path \(d)/proxy; fastcgi_temp_path \(d)/fastcgi;
              uwsgi_temp_path \(d)/uwsgi; scgi_temp_path \(d)/scgi;
              server { listen 127.0.0.1:\(ports["tls"]!) ssl http2; ssl_certificate \(d)/cert.pem; ssl_certificate_key \(d)/key.pem;
                       access_log \(d)/tls.log proto; \(routes) }
              server { listen 127.0.0.1:\(ports["h2c"]!) http2; access_log \(d)/h2c.log proto; \(routes) }
              server { listen 127.0.0.1:\(ports["goaway"]!) http2; keepalive_requests 5; access_log \(d)/goaway.log proto; \(routes) }
              server { listen 127.0.0.1:\(ports["upstream"]!); access_log off;
                       location = /length { default_type text/plain; return 200 "$content_length\\n"; } }
            }

            """.write(toFile: "\(d)/nginx.conf", atomically: true, encoding: .utf8)
        do {
            nginx = try launch("/usr/sbin/nginx", ["-e", "\(d)/error.log", "-p", d, "-c", "\(d)/nginx.conf"], ports: Array(ports.values))
        } catch {
            throw NSError(domain: "HTTP2Tests", code: 1, userInfo: [
                NSLocalizedDescriptionKey: "nginx did not start: " + ((try? String(contentsOfFile: "\(d)/error.log", encoding: .utf8)) ?? "")])
        }
    }
}
