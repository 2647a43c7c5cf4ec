import Foundation
import XCTest

/// --out otlp=URL against a receiver that decodes each export with the OpenTelemetry project's own message
/// definitions (Tests/helpers/otlp-receiver.py, opentelemetry-proto from the test venv).
final class OTLPTests: XCTestCase {
    func testOTLPExportsDecodeStrictlyAndEndOnTheJSONsTotals() throws {
        let receiver = try OTLPReceiver()
        defer { receiver.stop() }
        XCTAssertGreaterThan(receiver.port, 0, "the receiver did not start (opentelemetry-proto missing from the venv?)")
        let script = Luaload.script("""
            local u = user { wait = constant(0.004) }
            u:task(3, function() http.get("/health", { name = "health" }) end)
            u:task(1, function() http.get("/api/v1/me", { name = "me" }) end)
            """)
        let r = try Luaload.run(["--serve", "-t", "2", "-u", "4", "-d", "3s", "--metrics-interval", "1s", "--tag", "region=ams",
                                 "--out", "otlp=" + receiver.url], script: script)
        XCTAssertEqual(r.exitCode, 1, r.stderr)   // the 401s
        XCTAssertFalse(r.stderr.contains("not delivered"), r.stderr)
        let out = try receiver.result()
        XCTAssertEqual(out["problems"] as? [String], [])
        // A push a second and the final one: 3 or 4; a push the receiver (Python) is still decoding on a loaded machine
        // may be folded into the next, so at least 2 — the final one alone (no periodic push) is 1.
        XCTAssertGreaterThanOrEqual(out["exports"] as? Int ?? 0, 2, "a push a second and the final one")
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
