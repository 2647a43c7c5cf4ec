import Foundation
import XCTest

/// --out otlp=URL against a receiver that decodes each export with the OpenTelemetry project's own message
/// definitions (Tests/helpers/otlp-receiver.py, opentelemetry-proto from the test venv).
final class OTLPTests: XCTestCase {
    func testOTLPExportsDecodeStrictlyAndEndOnTheJSONsTotals() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".venv-test/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            return XCTFail("no \(python): run scripts/install-deps.sh --test (scripts/test.sh does)")
        }
        let dir = Luaload.temporaryDirectory + "otlp-\(UUID().uuidString)-"
        let receiver = Process()
        receiver.executableURL = URL(fileURLWithPath: python)
        receiver.arguments = [root.appendingPathComponent("Tests/helpers/otlp-receiver.py").path, dir + "port", dir + "out.json"]
        try receiver.run()
        defer { receiver.terminate(); receiver.waitUntilExit() }
        var port = 0
        for _ in 0..<100 where port == 0 {
            port = Int((try? String(contentsOfFile: dir + "port", encoding: .utf8)) ?? "") ?? 0
            if port == 0 { usleep(100_000) }
        }
        XCTAssertGreaterThan(port, 0, "the receiver did not start (opentelemetry-proto missing from the venv?)")
        let script = Luaload.script("""
            local u = user { wait = constant(0.004) }
            u:task(3, function() http.get("/health", { name = "health" }) end)
            u:task(1, function() http.get("/api/v1/me", { name = "me" }) end)
            """)
        let r = try Luaload.run(["--serve", "-t", "2", "-u", "4", "-d", "3s", "--metrics-interval", "1s", "--tag", "region=ams",
                                 "--out", "otlp=http://127.0.0.1:\(port)/v1/metrics"], script: script)
        XCTAssertEqual(r.exitCode, 1, r.stderr)   // the 401s
        XCTAssertFalse(r.stderr.contains("not delivered"), r.stderr)
        let out = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "out.json"))) as? [String: Any])
        XCTAssertEqual(out["problems"] as? [String], [])
        XCTAssertGreaterThanOrEqual(out["exports"] as? Int ?? 0, 3, "a push a second and the final one")
        let metrics = try XCTUnwrap(out["metrics"] as? [String: [String: Any]])
        XCTAssertEqual(metrics["luaload_requests"]?["total"] as? Double, Double(r.requests))
        XCTAssertEqual(metrics["luaload_requests"]?["monotonic"] as? Bool, true)
        XCTAssertEqual(metrics["luaload_failures"]?["total"] as? Double, Double(r.failuresCount))
        XCTAssertEqual(metrics["luaload_request_duration_seconds"]?["kind"] as? String, "histogram")
        XCTAssertEqual(metrics["luaload_request_duration_seconds"]?["count"] as? Int, r.requests)
        XCTAssertEqual(metrics["luaload_request_duration_seconds"]?["points"] as? Int, 2, "one per name")
        XCTAssertEqual(metrics["luaload_users"]?["kind"] as? String, "gauge")
    }
}
