import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// Thresholds decide the exit code: 3 when any is crossed, 0 when all hold even with failures.
final class ThresholdTests: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    // 20 task runs per VU, a quarter of their requests failing.
    let script = #"""
    task(function(self)
      self.n = (self.n or 0) + 1
      http.get(self.n % 4 == 0 and "/status/500" or "/ok", { name = "GET /mixed" })
      if self.n == 20 then stop() end
    end)
    """#

    func testACrossedThresholdExits3WithTheTable() throws {
        let junit = Luaload.temporaryDirectory + "luaload-junit-\(UUID().uuidString).xml"
        let source = script + #"thresholds = { ["GET /mixed"] = { "fail_rate < 0.1", "p95 < 5000" }, Aggregated = { "requests == 40" } }"#
        let r = try Luaload.run(["-t", "1", "-u", "2", "-H", server.url, "--threshold", "nobody: p95 < 1", "--junit", junit],
                                script: Luaload.script(source))
        XCTAssertEqual(r.exitCode, 3, r.stderr)
        XCTAssertTrue(r.stdout.contains("Thresholds"), r.stdout)
        XCTAssertTrue(r.stdout.contains("✗ GET /mixed"), r.stdout)
        XCTAssertTrue(r.stdout.contains("✓ GET /mixed"), r.stdout)
        XCTAssertTrue(r.stdout.contains("no request named \"nobody\" was made"), r.stdout)
        let verdicts = r.json["thresholds"] as? [[String: Any]] ?? []
        XCTAssertEqual(verdicts.count, 4)
        let failRate = verdicts.first { $0["expr"] as? String == "fail_rate < 0.1" }
        XCTAssertEqual(failRate?["value"] as? Double, 0.25)
        XCTAssertEqual(failRate?["ok"] as? Bool, false)
        XCTAssertEqual(verdicts.first { $0["expr"] as? String == "requests == 40" }?["ok"] as? Bool, true)

        // The JUnit file parses, with one test case per threshold and the crossed ones failed.
        let parsed = try JUnitCounter(path: junit)
        XCTAssertEqual(parsed.testcases, 4)
        XCTAssertEqual(parsed.failures, 2)
        XCTAssertEqual(parsed.suiteFailures, "2")
    }

    func testHeldThresholdsExit0EvenWithToleratedFailures() throws {
        let source = script + #"thresholds = { Aggregated = { "fail_rate < 0.3", "p99 < 5s" } }"#
        let r = try Luaload.run(["-t", "1", "-u", "2", "-H", server.url], script: Luaload.script(source))
        XCTAssertEqual(r.exitCode, 0, r.stdout)
        XCTAssertEqual(r.failuresCount, 10)
        XCTAssertTrue(r.stdout.contains("all 2 thresholds hold"), r.stdout)
        // Without thresholds the same run exits 1 (Locust's rule).
        XCTAssertEqual(try Luaload.run(["-t", "1", "-u", "2", "-H", server.url], script: Luaload.script(script)).exitCode, 1)
    }

    func testABadExpressionIsAUsageErrorBeforeAnyTraffic() throws {
        let source = script + #"thresholds = { ["GET /mixed"] = { "p95 << 3" } }"#
        let r = try Luaload.run(["-t", "1", "-u", "2", "-H", server.url], script: Luaload.script(source))
        XCTAssertEqual(r.exitCode, 2)
        XCTAssertTrue(r.stderr.contains("threshold on \"GET /mixed\""), r.stderr)
        XCTAssertTrue(r.stderr.contains(".lua"), "names the script: \(r.stderr)")
        let cli = try Luaload.run(["-u", "2", "-H", server.url, "--threshold", "GET /mixed: p77x < 3"], script: Luaload.script(script))
        XCTAssertEqual(cli.exitCode, 2)
        XCTAssertTrue(cli.stderr.contains("unknown metric \"p77x\""), cli.stderr)
        XCTAssertEqual(server.total, 0)
    }

    func testAbortOnFailStopsTheRunAfterItsDelay() throws {
        let source = #"""
        task(function() http.get("/slow?ms=50", { name = "slow" }) end)
        thresholds = { slow = { { "max < 10", abort_on_fail = true, delay = "1s" } } }
        """#
        let started = Date()
        let r = try Luaload.run(["-t", "1", "-u", "2", "-d", "20s", "-H", server.url], script: Luaload.script(source))
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(r.exitCode, 3)
        XCTAssertEqual(r.json["stop_reason"] as? String, "threshold_crossed")
        XCTAssertTrue(r.stderr.contains("threshold slow: max < 10 crossed"), r.stderr)
    }
}

/// Counts a JUnit file's test cases and failures with Foundation's XML parser (it fails on malformed XML).
final class JUnitCounter: NSObject, XMLParserDelegate {
    var testcases = 0, failures = 0
    var suiteFailures: String?

    init(path: String) throws {
        super.init()
        let parser = XMLParser(contentsOf: URL(fileURLWithPath: path))!
        parser.delegate = self
        guard parser.parse() else { throw parser.parserError ?? NSError(domain: "junit", code: 1) }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "testcase" { testcases += 1 }
        if name == "failure" { failures += 1 }
        if name == "testsuite" { suiteFailures = attributes["failures"] }
    }
}
