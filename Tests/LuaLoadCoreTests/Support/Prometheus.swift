import Foundation
import XCTest

/// A real Prometheus (Debian's 2.42, scripts/install-deps.sh --test) on a free loopback port, with its data in
/// a temporary folder: the remote-write receiver on, and a scrape job when a target is given. A port taken
/// between freePort() and Prometheus' bind (it exits at once): started again on another, up to 3 times.
final class PrometheusServer {
    private(set) var port = 0
    private(set) var process = Process()
    let dir: String

    init(scrapeTarget: String? = nil) throws {
        let binary = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else {
            XCTFail("prometheus is not installed: run scripts/install-deps.sh --test (scripts/test.sh does)")
            throw XCTSkip("no prometheus")
        }
        dir = Luaload.temporaryDirectory + "prom-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var config = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        if let scrapeTarget {
            config += "scrape_configs:\n  - job_name: luaload\n    static_configs:\n      - targets: ['\(scrapeTarget)']\n"
        }
        try config.write(toFile: dir + "prometheus.yml", atomically: true, encoding: .utf8)
        for _ in 1...3 {
            port = try freePort()
            process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["--config.file=\(dir)prometheus.yml", "--storage.tsdb.path=\(dir)data",
                                 "--web.listen-address=127.0.0.1:\(port)", "--web.enable-remote-write-receiver"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            let ready = eventually(within: 15) { !process.isRunning || (try? get("/-/ready"))?.contains("Ready") == true }
            if process.isRunning { if ready { return } else { break } }
            process.waitUntilExit()   // it exited (its port taken): again on another
        }
        stop()
        XCTFail("prometheus did not become ready on port \(port)")
        throw XCTSkip("prometheus not ready")
    }

    var writeURL: String { "http://127.0.0.1:\(port)/api/v1/write" }

    func stop() {
        stopProcess(process)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// An instant query's vector as (labels, value); `time` in Unix seconds (default: now).
    func query(_ promQL: String, time: Double? = nil) throws -> [([String: String], Double)] {
        var path = "/api/v1/query?query=" + promQL.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        if let time { path += "&time=\(time)" }
        let body = try get(path)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], body)
        let data = try XCTUnwrap(json["data"] as? [String: Any], body)
        let result = try XCTUnwrap(data["result"] as? [[String: Any]], body)
        return result.map { r in
            let value = (r["value"] as? [Any])?.last as? String ?? "NaN"
            return (r["metric"] as? [String: String] ?? [:], Double(value) ?? .nan)
        }
    }

    /// The single value of a query that sums to one number (nil: no series).
    func scalar(_ promQL: String, time: Double? = nil) throws -> Double? { try query(promQL, time: time).first?.1 }

    func get(_ path: String) throws -> String { try httpGet(port: port, path).body }
}

/// GET with HTTP/1.0 (the body runs to the close) to a loopback address: (status, body).
func httpGet(address: String = "127.0.0.1", port: Int, _ path: String, headers: [String] = []) throws -> (status: Int, body: String) {
    let request = "GET \(path) HTTP/1.0\r\nHost: \(address):\(port)\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n"
    guard let text = loopbackExchange(address: address, port: port, request) else { throw POSIXError(.ECONNREFUSED) }
    let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
    guard let split = text.range(of: "\r\n\r\n") else { return (status, "") }
    return (status, String(text[split.upperBound...]))
}
