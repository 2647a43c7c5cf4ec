import XCTest

/// `luaload wrk -R`: wrk2's constant rate on the open model, counted against the recording loopback server.
final class WrkRateTests: WrkHarness {
    func arrivals(_ r: Run) -> [String: Any] { r.json["arrivals"] as? [String: Any] ?? [:] }
    func p99(_ row: [String: Any]?) -> Double { (row?["percentiles_ms"] as? [String: Any])?["99"] as? Double ?? -1 }

    func testRateSchedulesExactlyTheRateTimesTheDuration() throws {
        let r = try wrk(["-t2", "-c4", "-d3s", "-R200", "--latency"])
        assertExactCounts(r)
        let a = arrivals(r)
        XCTAssertEqual(a["scheduled"] as? Int, 600, "200/s for 3 s: \(a)")
        XCTAssertEqual((a["started"] as? Int ?? 0) + (a["dropped"] as? Int ?? 0), 600)
        XCTAssertEqual(a["late_mode"] as? String, "queue")
        XCTAssertEqual(r.json["profile"] as? String, "rate 200.00/s")
        // Each started arrival sent one request: recorded, or in flight at the stop.
        XCTAssertEqual(recorded(r) + abandoned(r), a["started"] as? Int)
        // ~598 (the last in flight at the stop); 570 leaves 150 ms of a loaded machine's lag at the stop.
        XCTAssertGreaterThanOrEqual(recorded(r), 570, "a fast server keeps up with 200/s")
        // wrk2's lines with --latency.
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("  Latency Distribution (HdrHistogram - Recorded Latency)"), r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix(" 99.999%") } && lines.contains { $0.hasPrefix("100.000%") }, r.stdout)
        XCTAssertTrue(lines.contains("  Detailed Percentile spectrum:"), r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("#[Max     = ") && $0.hasSuffix("\(recorded(r))]") }, r.stdout)
    }

    /// Two connections to a server that takes 50 ms per request serve 40 a second; at 100 a second the
    /// arrivals queue, and the latency timed from when each request was due grows far beyond 50 ms while
    /// the uncorrected one (from the first byte) stays near it: the slow server cannot hide.
    func testASlowServerShowsInTheCorrectedLatency() throws {
        let r = try wrk(["-t1", "-c2", "-d2s", "-R100", "--latency", "-U"], path: "/slow")
        assertExactCounts(r)
        let a = arrivals(r)
        XCTAssertEqual(a["scheduled"] as? Int, 200)
        XCTAssertGreaterThan(a["late"] as? Int ?? 0, 0)
        XCTAssertGreaterThan(a["unstarted_at_stop"] as? Int ?? 0, 50, "about 120 arrivals still queued: \(a)")
        let corrected = p99(r.json["total"] as? [String: Any])
        let uncorrected = p99(a["uncorrected"] as? [String: Any])
        XCTAssertGreaterThan(corrected, 500, "p99 from when due: \(corrected) ms")
        XCTAssertLessThan(uncorrected, 200, "p99 from the first byte: \(uncorrected) ms")
        XCTAssertTrue(r.stdout.contains("  Latency Distribution (HdrHistogram - Uncorrected Latency (measured without taking delayed starts into account))"), r.stdout)
    }
}
