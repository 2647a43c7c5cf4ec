import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// HTTPS end to end: a throwaway CA and certificates (openssl CLI), nginx with several HTTPS servers on
/// loopback, and the built luaload binary run against them with --json output.
final class TLSTests: XCTestCase {
    /// Set up once for the class: certificates, nginx and a server that resets connections mid-handshake.
    private static var dir: URL!
    private static var nginx: Process?
    private static var ports: [String: Int] = [:]
    private static var resetServer: ResetServer?
    private static var setupProblem: String?

    override class func setUp() {
        super.setUp()
        do {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("luaload-tls-\(getpid())")
            try? FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try makeCertificates()
            guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") else { setupProblem = "nginx is not installed"; return }
            try startNginx()
            resetServer = try ResetServer()
        } catch {
            setupProblem = "setup failed: \(error)"
        }
    }

    override class func tearDown() {
        if let nginx, nginx.isRunning {
            nginx.terminate()
            nginx.waitUntilExit()
        }
        resetServer?.stop()
        if let dir { try? FileManager.default.removeItem(at: dir) }
        super.tearDown()
    }

    override func setUpWithError() throws {
        if let problem = Self.setupProblem {
            if problem == "nginx is not installed" { throw XCTSkip(problem) }
            XCTFail(problem)
        }
    }

    // MARK: - Tests

    func testVerificationFailsWithoutTheCA() throws {
        let r = try run(["-H", url("normal")])
        XCTAssertEqual(r.requests, 20)
        XCTAssertEqual(r.failures, 20)
        XCTAssertEqual(r.failureErrors, ["TLS handshake: certificate verify failed: unable to get local issuer certificate"])
        XCTAssertEqual(r.tls["errors"] as? Int, 20)
        XCTAssertEqual(r.tls["handshakes"] as? Int, 0)
        // The Lua response's `error` carries the same text.
        XCTAssertTrue(r.stdout.contains("LUAERR: TLS handshake: certificate verify failed: unable to get local issuer certificate"), r.stdout)
        XCTAssertTrue(r.stdout.contains("TLS: 0 handshakes (0 resumed), 20 errors"), r.stdout)
    }

    func testTrustedCAAndIPLiteral() throws {
        for host in [url("normal"), "https://127.0.0.1:\(Self.ports["normal"]!)"] {
            let r = try run(["-H", host, "--cacert", path("ca.crt")])
            XCTAssertEqual(r.requests, 20, host)
            XCTAssertEqual(r.failures, 0, "\(host): \(r.failureErrors)")
            XCTAssertEqual(r.tls["handshakes"] as? Int, 2, host)   // one per VU: the connections are kept alive
            XCTAssertEqual(r.tls["errors"] as? Int, 0, host)
            let ms = r.tls["handshake_ms"] as? [String: Double]
            XCTAssertGreaterThan(ms?["avg"] ?? 0, 0, host)
            XCTAssertGreaterThanOrEqual(ms?["max"] ?? 0, ms?["p50"] ?? 1, host)
        }
    }

    func testInsecureSkipsVerification() throws {
        let r = try run(["-H", url("wronghost"), "-k"])
        XCTAssertEqual(r.requests, 20)
        XCTAssertEqual(r.failures, 0, "\(r.failureErrors)")
    }

    func testReconnectsResumeTheSession() throws {
        // keepalive_requests 3: the server closes after every third response, so each VU's ten requests
        // take four connections, the last three of which resume the first one's session.
        let r = try run(["-H", url("keepalive3"), "--cacert", path("ca.crt")])
        XCTAssertEqual(r.failures, 0, "\(r.failureErrors)")
        let handshakes = r.tls["handshakes"] as? Int ?? 0
        let resumed = r.tls["resumed"] as? Int ?? 0
        print("keepalive_requests 3: \(handshakes) handshakes, \(resumed) resumed")
        XCTAssertEqual(handshakes, 8)
        XCTAssertGreaterThan(resumed * 2, handshakes, "resumed \(resumed) of \(handshakes)")
    }

    func testClientCertificate() throws {
        let ok = try run(["-H", url("mtls"), "--cacert", path("ca.crt"), "--cert", path("client.crt"), "--key", path("client.key")])
        XCTAssertEqual(ok.requests, 20)
        XCTAssertEqual(ok.failures, 0, "\(ok.failureErrors)")
        // Without one, nginx completes the handshake and answers 400 ("No required SSL certificate was sent").
        let without = try run(["-H", url("mtls"), "--cacert", path("ca.crt")])
        XCTAssertEqual(without.failures, 20)
        XCTAssertEqual(without.failureErrors, ["HTTP 400 Bad Request"])
    }

    func testPlainHTTPServerOnAnHTTPSURL() throws {
        let r = try run(["-H", url("plain"), "--cacert", path("ca.crt")])
        XCTAssertEqual(r.failures, 20)
        XCTAssertEqual(r.failureErrors, ["TLS handshake: wrong version number"])
        XCTAssertEqual(r.tls["errors"] as? Int, 20)
    }

    func testExpiredAndWrongHostCertificates() throws {
        let expired = try run(["-H", url("expired"), "--cacert", path("ca.crt")])
        XCTAssertEqual(expired.failures, 20)
        XCTAssertEqual(expired.failureErrors, ["TLS handshake: certificate verify failed: certificate has expired"])
        let wrong = try run(["-H", url("wronghost"), "--cacert", path("ca.crt")])
        XCTAssertEqual(wrong.failures, 20)
        XCTAssertEqual(wrong.failureErrors, ["TLS handshake: certificate verify failed: hostname mismatch"])
    }

    func testResetMidHandshake() throws {
        let r = try run(["-H", "https://localhost:\(Self.resetServer!.port)", "-k"])
        XCTAssertEqual(r.failures, 20)
        XCTAssertEqual(r.failureErrors, ["TLS handshake: Connection reset by peer"])
    }

    func testBadFilesAreUsageErrors() throws {
        let cases: [([String], String)] = [
            (["--cacert", path("missing.pem")], "cannot read --cacert"),
            (["--cacert", path("script.lua")], "no PEM CA certificate"),
            (["--cert", path("client.crt")], "holds no private key"),
            (["--cert", path("client.crt"), "--key", path("server.key")], "not a PEM private key for the certificate"),
            (["--key", path("client.key")], "--key needs --cert"),
        ]
        for (args, reason) in cases {
            let r = try launch(["-q", "-H", url("normal")] + args + [path("script.lua")])
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertTrue(r.stderr.contains(reason), "\(args): \(r.stderr)")
        }
    }

    // MARK: - Running luaload

    struct RunResult {
        var stdout: String
        var json: [String: Any]
        var requests: Int { (json["total"] as? [String: Any])?["requests"] as? Int ?? -1 }
        var failures: Int { (json["total"] as? [String: Any])?["failures"] as? Int ?? -1 }
        var failureErrors: Set<String> { Set((json["failures"] as? [[String: Any]] ?? []).compactMap { $0["error"] as? String }) }
        var tls: [String: Any] { json["tls"] as? [String: Any] ?? [:] }
    }

    /// Two VUs on one thread, ten requests each (the script stops them), JSON summary parsed.
    private func run(_ args: [String]) throws -> RunResult {
        let json = path("out-\(UUID().uuidString).json")
        let r = try launch(["-q", "-t", "1", "-u", "2", "--timeout", "5", "--json", json] + args + [path("script.lua")])
        XCTAssertTrue(r.status == 0 || r.status == 1, "exit \(r.status): \(r.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: json))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return RunResult(stdout: r.stdout, json: object)
    }

    private func launch(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = try Self.lualoadBinary()
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // A hang is a failure, not a stuck test run.
        let deadline = Date().addingTimeInterval(20)
        let stdout = Output(), stderr = Output()
        let reader = DispatchQueue.global()
        let group = DispatchGroup()
        reader.async(group: group) { stdout.data = out.fileHandleForReading.readDataToEndOfFile() }
        reader.async(group: group) { stderr.data = err.fileHandleForReading.readDataToEndOfFile() }
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning {
            p.terminate()
            XCTFail("luaload \(args) did not end within 20 s")
        }
        p.waitUntilExit()
        group.wait()
        return (p.terminationStatus, String(decoding: stdout.data, as: UTF8.self), String(decoding: stderr.data, as: UTF8.self))
    }

    /// What a pipe reader hands back across threads.
    private final class Output: @unchecked Sendable { var data = Data() }

    /// The luaload executable beside the test bundle (the products directory), whichever scratch path built it.
    private static func lualoadBinary() throws -> URL {
        var candidates: [URL] = []
        let bundle = Bundle(for: TLSTests.self).bundleURL
        candidates += [bundle.appendingPathComponent("luaload"), bundle.deletingLastPathComponent().appendingPathComponent("luaload")]
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0])
        candidates.append(argv0.deletingLastPathComponent().appendingPathComponent("luaload"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for scratch in [".build-tls", ".build"] { candidates.append(root.appendingPathComponent("\(scratch)/debug/luaload")) }
        for c in candidates where FileManager.default.isExecutableFile(atPath: c.path) { return c }
        throw XCTSkip("no luaload binary found (looked at \(candidates.map(\.path))); run swift build first")
    }

    private func path(_ name: String) -> String { Self.dir.appendingPathComponent(name).path }
    private func url(_ server: String) -> String { "https://localhost:\(Self.ports[server]!)" }

    // MARK: - Fixtures

    private static func sh(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.currentDirectoryURL = dir
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            throw NSError(domain: "TLSTests", code: Int(p.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(args.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))"])
        }
    }

    private static func write(_ name: String, _ text: String) throws {
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    /// A server CA (server, expired and wrong-host certificates) and a client CA (client certificate).
    private static func makeCertificates() throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in ["ca", "clientca"] {
            try sh(["openssl", "req", "-x509"] + ec + ["-keyout", "\(ca).key", "-out", "\(ca).crt", "-days", "2",
                    "-subj", "/CN=luaload test \(ca)", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        }
        // name, issuer, subjectAltName, days (-1: expired at once), extended key usage
        let leaves = [
            ("server", "ca", "DNS:localhost,IP:127.0.0.1", "2", "serverAuth"),
            ("expired", "ca", "DNS:localhost,IP:127.0.0.1", "-1", "serverAuth"),
            ("wronghost", "ca", "DNS:wrong.example", "2", "serverAuth"),
            ("client", "clientca", "DNS:client.example", "2", "clientAuth"),
        ]
        for (name, issuer, san, days, eku) in leaves {
            try sh(["openssl", "req", "-new"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"])
            try write("\(name).ext", "subjectAltName=\(san)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=\(eku)\n")
            try sh(["openssl", "x509", "-req", "-in", "\(name).csr", "-CA", "\(issuer).crt", "-CAkey", "\(issuer).key",
                    "-CAcreateserial", "-days", days, "-out", "\(name).crt", "-extfile", "\(name).ext"])
        }
        try write("script.lua", """
            task(function(self)
              local res = http.get("/")
              self.n = (self.n or 0) + 1
              if res.error and self.n == 1 then print("LUAERR: " .. res.error) end
              if self.n >= 10 then stop() end
            end)
            """)
    }

    private static func startNginx() throws {
        for name in ["normal", "keepalive3", "mtls", "expired", "wronghost", "plain"] { ports[name] = try freePort() }
        let d = dir.path
        func server(_ name: String, _ extra: String, ssl: Bool = true) -> String {
            "  server { listen 127.0.0.1:\(ports[name]!)\(ssl ? " ssl" : ""); \(extra) location / { return 200 \"ok\\n\"; } }\n"
        }
        try write("nginx.conf", """
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(d)/nginx.pid;
            error_log \(d)/error.log warn;
            events { worker_connections 512; }
            http {
              access_log off;
              client_body_temp_path \(d)/body; proxy_temp_path \(d)/proxy; fastcgi_temp_path \(d)/fastcgi;
              uwsgi_temp_path \(d)/uwsgi; scgi_temp_path \(d)/scgi;
              ssl_certificate \(d)/server.crt; ssl_certificate_key \(d)/server.key;
            \(server("normal", ""))\(server("keepalive3", "keepalive_requests 3;"))\
            \(server("mtls", "ssl_verify_client on; ssl_client_certificate \(d)/clientca.crt;"))\
            \(server("expired", "ssl_certificate \(d)/expired.crt; ssl_certificate_key \(d)/expired.key;"))\
            \(server("wronghost", "ssl_certificate \(d)/wronghost.crt; ssl_certificate_key \(d)/wronghost.key;"))\
            \(server("plain", "", ssl: false))}

            """)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        p.arguments = ["-e", "\(d)/error.log", "-p", d, "-c", "\(d)/nginx.conf"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        nginx = p
        // Ready when every port accepts.
        let deadline = Date().addingTimeInterval(5)
        while !ports.values.allSatisfy(canConnect) {
            guard p.isRunning, Date() < deadline else {
                let log = (try? String(contentsOfFile: "\(d)/error.log", encoding: .utf8)) ?? ""
                throw NSError(domain: "TLSTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "nginx did not start: \(log)"])
            }
            usleep(20_000)
        }
    }
}

/// Accepts connections, reads the start of the ClientHello, and resets them (SO_LINGER 0).
private final class ResetServer: @unchecked Sendable {
    let fd: Int32
    let port: Int
    private let thread: Thread

    init() throws {
        (fd, port) = try listenSocket()
        let fd = self.fd
        thread = Thread {
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { return }   // the listening socket was shut down
                var buf = [UInt8](repeating: 0, count: 64)
                _ = recv(c, &buf, buf.count, 0)
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(c, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                close(c)
            }
        }
        thread.start()
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}
