import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Tests against hypercorn (PyPI, in .venv-test) running Tests/helpers/h2_app.py, which logs every request it
/// received with its HTTP version ("HTTP/2 /slow"), so the counts asserted are the server's; and the `h2`
/// library's Tests/helpers/h2_goaway.py. Each test gets a temporary folder with a self-signed certificate for
/// 127.0.0.1; the servers it starts end with it.
class HypercornTestCase: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    var dir = ""
    private var servers: [Process] = []

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "luaload-h2batch-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard FileManager.default.isExecutableFile(atPath: hypercorn) else {
            throw NSError(domain: "HypercornTestCase", code: 1, userInfo: [
                NSLocalizedDescriptionKey: "no \(hypercorn): run scripts/install-deps.sh --test (scripts/test.sh does)"])
        }
        _ = try runProcess("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                                 "-keyout", "\(dir)/key.pem", "-out", "\(dir)/cert.pem", "-days", "2",
                                                 "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
    }

    override func tearDown() {
        servers.forEach { stopProcess($0) }
        try? FileManager.default.removeItem(atPath: dir)
    }

    var hypercorn: String { Self.root.appendingPathComponent(".venv-test/bin/hypercorn").path }

    func startGoawayServer(_ mode: String) throws -> (Int, String) {
        let log = "\(dir)/goaway-\(mode).log"
        let python = Self.root.appendingPathComponent(".venv-test/bin/python").path
        return (try launch(python) { [Self.root.appendingPathComponent("Tests/helpers/h2_goaway.py").path, "\($0)", mode, log] }, log)
    }

    /// hypercorn on a free port, over TLS or cleartext (h2c by prior knowledge, else HTTP/1.1), with an
    /// optional config file; returns the port and its request log.
    func startHypercorn(tls: Bool, config: String? = nil) throws -> (Int, String) {
        let log = "\(dir)/served-\(UUID().uuidString.prefix(8)).log"
        let port = try launch(hypercorn, env: ["H2_APP_LOG": log, "PATH": "/usr/bin:/bin"]) { port in
            (config.map { ["-c", $0] } ?? []) + ["--bind", "127.0.0.1:\(port)"]
                + (tls ? ["--certfile", "\(dir)/cert.pem", "--keyfile", "\(dir)/key.pem"] : []) + ["h2_app:app"]
        }
        return (port, log)
    }

    /// Starts a server (from Tests/helpers; `args` given its port) on a port picked free, again on another if it
    /// does not start (the port was taken meanwhile); it ends with the test.
    func launch(_ exe: String, env: [String: String]? = nil, _ args: (Int) -> [String]) throws -> Int {
        let (port, server) = try launchOnFreePort(exe, cwd: Self.root.appendingPathComponent("Tests/helpers"), env: env, args)
        servers.append(server)
        return port
    }

    /// The lines of a server's request log.
    func served(_ log: String) -> [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
