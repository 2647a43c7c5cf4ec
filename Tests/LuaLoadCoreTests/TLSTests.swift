import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// HTTPS end to end: a throwaway CA and certificates (openssl CLI), nginx with several HTTPS servers on
/// loopback, and the built luaload binary run against them with --json output.
final class TLSTests: XCTestCase {
    /// Set up once for the class: certificates, nginx and a server that resets connections mid-handshake.
    private static var fixture: ClassFixture<NginxFixture>!
    private static var resetServer: ResetServer?
    private var nginx: NginxFixture!

    override class func setUp() {
        super.setUp()
        fixture = ClassFixture("luaload-tls") { dir in
            try makeCertificates(dir)
            guard NginxFixture.isInstalled else { throw XCTSkip("nginx is not installed") }
            resetServer = try ResetServer()
            return try startNginx(dir)
        }
    }

    override class func tearDown() {
        fixture.end { $0.stop() }
        resetServer?.stop()
        super.tearDown()
    }

    override func setUpWithError() throws { nginx = try Self.fixture.get() }

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
        for host in [url("normal"), "https://127.0.0.1:\(nginx.ports["normal"]!)"] {
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

    private func path(_ name: String) -> String { "\(nginx.dir)/\(name)" }
    private func url(_ server: String) -> String { "https://localhost:\(nginx.ports[server]!)" }

    // MARK: - Fixtures

    /// A server CA (server, expired and wrong-host certificates) and a client CA (client certificate).
    private static func makeCertificates(_ dir: String) throws {
        typealias Leaf = TestCertificates.Leaf
        try TestCertificates.make(in: dir, cas: ["ca", "clientca"], leaves: [
            Leaf(name: "server", san: "DNS:localhost,IP:127.0.0.1"),
            Leaf(name: "expired", san: "DNS:localhost,IP:127.0.0.1", days: -1),
            Leaf(name: "wronghost", san: "DNS:wrong.example"),
            Leaf(name: "client", san: "DNS:client.example", issuer: "clientca", usage: "clientAuth"),
        ])
        try """
            task(function(self)
              local res = http.get("/")
              self.n = (self.n or 0) + 1
              if res.error and self.n == 1 then print("LUAERR: " .. res.error) end
              if self.n >= 10 then stop() end
            end)
            """.write(toFile: "\(dir)/script.lua", atomically: true, encoding: .utf8)
    }

    private static func startNginx(_ d: String) throws -> NginxFixture {
        try NginxFixture(dir: d, servers: ["normal", "keepalive3", "mtls", "expired", "wronghost", "plain"]) { ports in
            func server(_ name: String, _ extra: String, ssl: Bool = true) -> String {
                "  server { listen 127.0.0.1:\(ports[name]!)\(ssl ? " ssl" : ""); \(extra) location / { return 200 \"ok\\n\"; } }\n"
            }
            return """
                  access_log off;
                  ssl_certificate \(d)/server.crt; ssl_certificate_key \(d)/server.key;
                \(server("normal", ""))\(server("keepalive3", "keepalive_requests 3;"))\
                \(server("mtls", "ssl_verify_client on; ssl_client_certificate \(d)/clientca.crt;"))\
                \(server("expired", "ssl_certificate \(d)/expired.crt; ssl_certificate_key \(d)/expired.key;"))\
                \(server("wronghost", "ssl_certificate \(d)/wronghost.crt; ssl_certificate_key \(d)/wronghost.key;"))\
                \(server("plain", "", ssl: false))
                """
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
