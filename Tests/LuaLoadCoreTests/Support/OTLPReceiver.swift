import Foundation
import XCTest

/// Tests/helpers/otlp-receiver.py on a free loopback port: it decodes each OTLP export strictly with
/// opentelemetry-proto (the test venv) and writes what the last one said to `outPath`.
final class OTLPReceiver {
    let process = Process()
    let port: Int
    let outPath: String

    init() throws {
        let python = PythonHelper.root.appendingPathComponent(".venv-test/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Missing(description: "no \(python): run scripts/install-deps.sh --test (scripts/test.sh does)")   // a failure, not a skip
        }
        let dir = Luaload.temporaryDirectory + "otlp-\(UUID().uuidString)-"
        outPath = dir + "out.json"
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [PythonHelper.root.appendingPathComponent("Tests/helpers/otlp-receiver.py").path, dir + "port", outPath]
        try process.run()
        var port = 0
        for _ in 0..<100 where port == 0 {
            port = Int((try? String(contentsOfFile: dir + "port", encoding: .utf8)) ?? "") ?? 0
            if port == 0 { usleep(100_000) }
        }
        self.port = port
        if port == 0 { stop() }
    }

    struct Missing: Error, CustomStringConvertible { let description: String }

    var url: String { "http://127.0.0.1:\(port)/v1/metrics" }

    /// What the last export said: {"exports", "problems", "metrics": {name: {kind, points, total, count, values}}}.
    func result() throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outPath))) as? [String: Any])
    }

    func stop() { stopProcess(process) }
}
