import Foundation
import XCTest

/// benchmarks/run's parsers and report (Python, standard library) against outputs captured from the real tools
/// (benchmarks/tests/fixtures/): wrk, h2load, Locust, k6, luaload's JSON, callgrind, agent-cost.sh. Under a second.
final class BenchmarkHarnessTests: XCTestCase {
    func testParsersAndReportOfTheBenchmarkHarness() throws {
        let bench = ScaleTests.root.appendingPathComponent("benchmarks").path
        let r = try runProcess("/usr/bin/python3", ["-B", "-m", "unittest", "discover", "-s", bench + "/tests", "-t", bench],
                               env: ["PYTHONDONTWRITEBYTECODE": "1"], timeLimit: 60)
        XCTAssertEqual(r.code, 0, r.stderr)
        // unittest's summary ("Ran N tests") is on stderr: a discovery that found nothing must not pass.
        let count = r.stderr.split(separator: "\n").compactMap { line -> Int? in
            let words = line.split(separator: " ")
            return words.count >= 2 && words[0] == "Ran" ? Int(words[1]) : nil
        }.first ?? 0
        XCTAssertGreaterThanOrEqual(count, 30, r.stderr)
    }
}
