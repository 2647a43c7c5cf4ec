import XCTest
@testable import LuaLoadCore
@testable import LuaLoadMetrics

/// The series, the exposition text and the remote-write body, built from stats made here.
final class MetricsTests: XCTestCase {
    /// Two rows on two workers: 7 ok + 2 × HTTP 500 + 1 timeout on GET /a, 3 script failures on POST /b.
    func summary() -> Summary {
        Summary(workers: workers(), durationSeconds: 10, users: 5, threads: 2, stopReason: .duration, history: [])
    }

    func workers() -> [WorkerStats] {
        var w1 = WorkerStats(), w2 = WorkerStats()
        w1.rows = [RequestStats(method: "GET", name: "/a"), RequestStats(method: "POST", name: "/b")]
        w2.rows = [RequestStats(method: "GET", name: "/a")]
        for i in 0..<6 { w1.rows[0].record(micros: UInt64(800 + i * 1000), failed: false) }   // 0.8 … 5.8 ms
        w1.rows[0].record(micros: 20_000, failed: true); w1.count(.status(500), stat: 0)
        w1.rows[0].record(micros: 30_000_000, failed: true); w1.count(.timeout, stat: 0)
        w2.rows[0].record(micros: 2_000_000, failed: false)
        w2.rows[0].record(micros: 40_000, failed: true); w2.count(.status(500), stat: 0)
        for _ in 0..<3 {
            w1.rows[1].record(micros: 1500, failed: true)
            w1.custom[FailureKey(method: "POST", name: "/b", error: "bad body"), default: 0] += 1
        }
        w1.countScriptError(message: "boom", traceback: "")
        return [w1, w2]
    }

    /// Live sets count the workers' rows without merging them into a Summary: the same series, exactly.
    func testLiveInputFromTheWorkersEqualsTheSummarys() {
        let facts = RunFacts(users: 5, arrivals: nil, thresholds: [])
        let live = MetricsBuilder(config: MetricsConfig()).build(MetricInput(workers: workers(), buckets: MetricsConfig.defaultBuckets), facts, timestampMs: 1)
        let final = MetricsBuilder(config: MetricsConfig()).build(summary(), facts, timestampMs: 1)
        XCTAssertEqual(Exposition.render(live, .prometheusText), Exposition.render(final, .prometheusText))
        XCTAssertEqual(live.seriesCount, 43)   // 3 + /a (3 statuses, failures, redirects, 13 + 3) + /b (1 status, 2, 16)
    }

    func build(_ config: MetricsConfig = MetricsConfig(), thresholds: [ThresholdResult] = []) -> MetricSet {
        MetricsBuilder(config: config).build(summary(), RunFacts(users: 5, arrivals: nil, thresholds: thresholds), timestampMs: 1000)
    }

    func testStatusesAddUpToTheRowsRequests() {
        let s = summary()
        XCTAssertEqual(s.statuses[StatusKey(method: "GET", name: "/a", status: "ok")], 7)
        XCTAssertEqual(s.statuses[StatusKey(method: "GET", name: "/a", status: "500")], 2)
        XCTAssertEqual(s.statuses[StatusKey(method: "GET", name: "/a", status: "error")], 1)
        XCTAssertEqual(s.statuses[StatusKey(method: "POST", name: "/b", status: "failed")], 3)
        XCTAssertNil(s.statuses[StatusKey(method: "POST", name: "/b", status: "ok")], "a zero count is no series")
        XCTAssertEqual(s.statuses.values.reduce(0, +), s.total.requests)
    }

    func testSeriesMatchTheSummaryExactly() {
        let set = build()
        XCTAssertEqual(set.sum("luaload_requests_total"), 13)
        XCTAssertEqual(set.sum("luaload_requests_total", where: ["name": "/a"]), 10)
        XCTAssertEqual(set.sum("luaload_failures_total"), 6)
        XCTAssertEqual(set.sum("luaload_request_duration_seconds_count"), 13)
        XCTAssertEqual(set.sum("luaload_request_duration_seconds_bucket", where: ["name": "/a", "le": "+Inf"]), 10)
        // HDR buckets to cumulative `le`: /a has 0.8 ms (≤ 1 ms), 1.8 (≤ 2.5), 2.8, 3.8, 4.8 (≤ 5), 5.8 (≤ 10),
        // 20 and 40 ms (≤ 50), 2 s (≤ 2.5 s), and 30 s (above 10 s: only in +Inf).
        let le = { (b: String) in set.sum("luaload_request_duration_seconds_bucket", where: ["name": "/a", "le": b]) }
        XCTAssertEqual([le("0.001"), le("0.0025"), le("0.005"), le("0.01"), le("0.05"), le("2.5"), le("10.0")], [1, 2, 5, 6, 8, 9, 9])
        XCTAssertEqual(set.sum("luaload_request_duration_seconds_sum", where: ["name": "/a"]), 32.0798, accuracy: 1e-9)
        XCTAssertEqual(set.sum("luaload_script_errors_total"), 1)
        XCTAssertEqual(set.sum("luaload_users"), 5)
    }

    /// Bounds closer than HDR's resolution (1000 µs and 1000.4 µs share a bucket) never count a bucket twice.
    func testBoundsWithinOneHDRBucket() {
        var config = MetricsConfig()
        config.buckets = [0.001, 0.0010004, 0.003]
        let set = build(config)
        let le = { (b: String) in set.sum("luaload_request_duration_seconds_bucket", where: ["name": "/a", "le": b]) }
        XCTAssertEqual([le("0.001"), le("0.0010004"), le("0.003"), le("+Inf")], [1, 1, 3, 10])
    }

    func testTextFormat() {
        var config = MetricsConfig()
        config.buckets = [0.01, 1]
        config.labels = MetricsConfig.labels(fromTags: [("region", "ams"), ("name", "x"), ("k8s.pod", "p\"1\\\n")])
        let text = Exposition.render(build(config, thresholds: [ThresholdResult(name: "/a", expression: "p95<100", value: 3, ok: true)]), .prometheusText)
        let expected = """
            # HELP luaload_failures_total Requests that failed.
            # TYPE luaload_failures_total counter
            luaload_failures_total{name="/a",method="GET",region="ams",tag_name="x",k8s_pod="p\\"1\\\\\\n"} 3
            """
        XCTAssertTrue(text.contains(expected), text)
        XCTAssertTrue(text.contains("# TYPE luaload_request_duration_seconds histogram\n"))
        XCTAssertTrue(text.contains("luaload_request_duration_seconds_bucket{name=\"/a\",method=\"GET\",region=\"ams\",tag_name=\"x\",k8s_pod=\"p\\\"1\\\\\\n\",le=\"1.0\"} 8\n"), text)
        XCTAssertTrue(text.contains("luaload_requests_total{name=\"/a\",method=\"GET\",status=\"500\","))
        XCTAssertTrue(text.contains("luaload_threshold_ok{threshold=\"/a: p95<100\",region=\"ams\""))
        XCTAssertTrue(text.contains("\nluaload_users{region=\"ams\",tag_name=\"x\",k8s_pod=\"p\\\"1\\\\\\n\"} 5\n"))
        XCTAssertFalse(text.contains("# EOF"))
        let open = Exposition.render(build(config), .openMetrics)
        XCTAssertTrue(open.hasSuffix("# EOF\n"))
        XCTAssertTrue(open.contains("# TYPE luaload_requests counter\nluaload_requests_total{"))
    }

    func testAcceptNegotiation() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        XCTAssertEqual(ExpositionFormat(accept: prometheus), .openMetrics)
        XCTAssertEqual(ExpositionFormat(accept: "text/plain"), .prometheusText)
        XCTAssertEqual(ExpositionFormat(accept: nil), .prometheusText)
        XCTAssertEqual(ExpositionFormat(accept: "application/openmetrics-text; q=0"), .prometheusText)
    }

    func testMaxSeriesLeavesNewNamesOutAndKeepsAdmittedOnes() {
        var config = MetricsConfig()
        config.buckets = [0.1]
        config.maxSeries = 14   // users, script errors, abandoned; /a: 3 statuses, failures, redirects, 1 bucket, +Inf, sum, count
        let builder = MetricsBuilder(config: config)
        let set = builder.build(summary(), RunFacts(users: 1, arrivals: nil, thresholds: []), timestampMs: 1)
        XCTAssertEqual(builder.leftOut, ["POST /b"])
        XCTAssertEqual(set.seriesCount, 12)
        XCTAssertEqual(set.sum("luaload_requests_total"), 10)
    }

    /// A WriteRequest with one series, byte for byte (protobuf's encoding by hand).
    func testWriteRequestBytes() {
        var f = MetricFamily(name: "g", help: "", kind: .gauge)
        f.add("", [MetricLabel("a", "b")], 1.0)
        let bytes = RemoteWriteEncoder.writeRequest(MetricSet(timestampMs: 1000, families: [f]))
        let label1: [UInt8] = [0x0A, 8] + Array("__name__".utf8) + [0x12, 1, UInt8(ascii: "g")]
        let label2: [UInt8] = [0x0A, 1, UInt8(ascii: "a"), 0x12, 1, UInt8(ascii: "b")]
        let sample: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x10, 0xE8, 0x07]
        let series: [UInt8] = [0x0A, 13] + label1 + [0x0A, 6] + label2 + [0x12, 12] + sample
        XCTAssertEqual(bytes, [0x0A, UInt8(series.count)] + series)
    }

    func testSnappyRoundTripOfARealBody() {
        let set = build()
        let raw = RemoteWriteEncoder.writeRequest(set)
        let body = RemoteWriteEncoder.body(set)
        XCTAssertLessThan(body.count, raw.count / 3, "labels repeat: snappy should shrink them a lot")
        XCTAssertEqual(RemoteWriteEncoder.uncompress(body), raw)
        XCTAssertNil(RemoteWriteEncoder.uncompress([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]))
    }

    func testAddressesAndURLs() throws {
        let a = try ListenAddress(parsing: "9464")
        XCTAssertEqual([a.host, String(a.port)], ["127.0.0.1", "9464"])
        let b = try ListenAddress(parsing: "[::1]:9")
        XCTAssertEqual([b.host, String(b.port)], ["::1", "9"])
        XCTAssertThrowsError(try ListenAddress(parsing: "host:"))
        guard case .success(let u) = PushURL.parse("http://[::1]:9090/api/v1/write") else { return XCTFail() }
        XCTAssertEqual([u.host, String(u.port), u.path, u.hostHeader], ["::1", "9090", "/api/v1/write", "[::1]:9090"])
        guard case .failure = PushURL.parse("https://x/api/v1/write") else { return XCTFail("https is refused, not ignored") }
        guard case .failure = PushURL.parse("http://x:0/") else { return XCTFail() }
    }
}
