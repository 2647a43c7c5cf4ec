import Foundation
import XCTest

/// nginx (Debian's, a real third-party server) for a test class: one `server { }` per named port, written into
/// `dir/nginx.conf` by the class from the ports the kernel picked, run in the foreground (no master process),
/// ready when every port accepts. Between picking a free port and nginx's bind another process can take it:
/// nginx then exits ("Address already in use") and the fixture starts again on new ports (onFreePorts).
final class NginxFixture {
    static let binary = "/usr/sbin/nginx"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binary) }
    static var hasHTTP2: Bool { ((try? runProcess(binary, ["-V"]))?.stderr ?? "").contains("http_v2_module") }

    let dir: String
    let ports: [String: Int]
    private let process: Process

    /// `http`: what goes inside `http { }` after the temp paths, given the ports by name.
    init(dir: String, servers names: [String], http: ([String: Int]) -> String) throws {
        self.dir = dir
        (ports, process) = try onFreePorts(names.count) { picked in
            let ports = Dictionary(uniqueKeysWithValues: zip(names, picked))
            try """
                daemon off;
                master_process off;
                worker_processes 1;
                pid \(dir)/nginx.pid;
                error_log \(dir)/error.log warn;
                events { worker_connections 512; }
                http {
                  client_body_temp_path \(dir)/body; proxy_temp_path \(dir)/proxy; fastcgi_temp_path \(dir)/fastcgi;
                  uwsgi_temp_path \(dir)/uwsgi; scgi_temp_path \(dir)/scgi;
                \(http(ports))}

                """.write(toFile: "\(dir)/nginx.conf", atomically: true, encoding: .utf8)
            do {
                return (ports, try launchServer(Self.binary, ["-e", "\(dir)/error.log", "-p", dir, "-c", "\(dir)/nginx.conf"], ports: picked))
            } catch {
                let log = (try? String(contentsOfFile: "\(dir)/error.log", encoding: .utf8)) ?? ""
                throw NSError(domain: "NginxFixture", code: 1, userInfo: [NSLocalizedDescriptionKey: "nginx did not start: \(log)"])
            }
        }
    }

    /// The lines of an access log the config writes to `dir/NAME.log`.
    func log(_ name: String) -> [String] {
        ((try? String(contentsOfFile: "\(dir)/\(name).log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func stop() { stopProcess(process) }
}

/// What a test class sets up once (`class setUp`) and each test checks first (`setUpWithError`): a temporary
/// folder and what `make` built in it, or the error that stopped it, thrown to every test (an XCTSkip skips
/// them, as when nginx is not installed; anything else fails them). `end` stops it and removes the folder.
final class ClassFixture<T> {
    let dir: String
    private let result: Result<T, Error>

    init(_ name: String, _ make: (String) throws -> T) {
        let dir = NSTemporaryDirectory() + "\(name)-\(getpid())"
        self.dir = dir
        try? FileManager.default.removeItem(atPath: dir)
        result = Result {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return try make(dir)
        }
    }

    func get() throws -> T { try result.get() }

    func end(_ stop: (T) -> Void) {
        if case .success(let value) = result { stop(value) }
        try? FileManager.default.removeItem(atPath: dir)
    }
}
