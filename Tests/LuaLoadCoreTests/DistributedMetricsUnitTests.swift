import XCTest
@testable import LuaLoadCore
@testable import LuaLoadMetrics

/// A controller's series built from its agents' stats as the link leaves them (failures as texts): one part
/// per region, adding up to the whole exactly; statuses read back from the texts; room counted per region.
final class DistributedMetricsUnitTests: XCTestCase {
    /// An agent's ledger: `ok` fast requests and `fails` failures of each text on GET /a.
    func agent(ok: Int, failures: [String: Int]) -> WorkerStats {
        var w = WorkerStats()
        w.rows = [RequestStats(method: "GET", name: "/a")]
        for i in 0..<ok { w.rows[0].record(micros: UInt64(1000 + i), failed: false) }
        for (text, n) in failures {
            for _ in 0..<n { w.rows[0].record(micros: 50_000, failed: true) }
            w.custom[FailureKey(method: "GET", name: "/a", error: text), default: 0] += n
        }
        return w
    }

    func snapshot() -> AgentsSnapshot {
        AgentsSnapshot(by: "region", elapsed: 3, agents: [
            .init(tags: [("region", "ams"), ("host", "a1")], stats: agent(ok: 5, failures: ["HTTP 500 Internal Server Error": 2]), users: 2),
            .init(tags: [("region", "sin")], stats: agent(ok: 4, failures: ["connect: Connection refused": 1, "bad body": 3]), users: 1),
            .init(tags: [("region", "ams")], stats: agent(ok: 1, failures: [:]), users: 0),
            .init(tags: [], stats: agent(ok: 2, failures: [:]), users: 1),
        ])
    }

    func config() -> MetricsConfig {
        var c = MetricsConfig()
        c.labels = [MetricLabel("testid", "t")]
        c.breakdown = "region"
        return c
    }

    func testPartsPerRegionAddUpToTheWholeWithStatusesFromTheTexts() {
        let builder = MetricsBuilder(config: config())
        let set = builder.build(builder.parts(snapshot()), thresholds: [], timestampMs: 1)
        XCTAssertEqual(snapshot().groups.map(\.value), ["ams", "sin", "(none)"], "the agents' order; no tag: (none), as the final merge")
        XCTAssertEqual(set.sum("luaload_request_duration_seconds_count"), 18)
        XCTAssertEqual(set.sum("luaload_requests_total"), 18)
        XCTAssertEqual(set.sum("luaload_request_duration_seconds_count", where: ["region": "ams"]), 8)
        XCTAssertEqual(set.sum("luaload_request_duration_seconds_count", where: ["region": "sin"]), 8)
        XCTAssertEqual(set.sum("luaload_request_duration_seconds_count", where: ["region": "(none)"]), 2)
        XCTAssertEqual(set.sum("luaload_requests_total", where: ["region": "ams", "status": "500"]), 2)
        XCTAssertEqual(set.sum("luaload_requests_total", where: ["region": "sin", "status": "error"]), 1)
        XCTAssertEqual(set.sum("luaload_requests_total", where: ["region": "sin", "status": "failed"]), 3)
        XCTAssertEqual(set.sum("luaload_requests_total", where: ["status": "ok"]), 12)
        XCTAssertEqual(set.sum("luaload_users", where: ["region": "ams"]), 2)
        XCTAssertEqual(set.sum("luaload_users"), 4)
        XCTAssertTrue(set.families.allSatisfy { f in f.samples.allSatisfy { s in s.labels.contains(MetricLabel("testid", "t")) } })
        XCTAssertEqual(Set(set.families.map(\.name)).count, set.families.count, "one family of each name, every region's samples in it")
        XCTAssertTrue(Exposition.render(set, .prometheusText).contains(#"luaload_requests_total{name="/a",method="GET",status="500",testid="t",region="ams"} 2"#))
    }

    func testFailureTextsReadBackToTheStatusAOneBoxRunGives() {
        let texts = ["HTTP 401 Unauthorized": "401", "HTTP 599": "599", "HTTP 500 oops": "failed", "connect: Connection refused": "error",
                     Failure.timeout.text(): "error", Failure.http2Reset(2).text(): "error", "TLS handshake: certificate verify failed": "error",
                     "bad body": "failed", "": "failed"]
        for (text, status) in texts { XCTAssertEqual(StatusKey.status(ofFailureText: text), status, text) }
    }

    /// A tagged threshold is judged on its tag's agents, the others on the whole; none carries a region label.
    func testThresholdsAreJudgedAsTheControllerDoes() throws {
        let thresholds = try ["/a{region:sin}: fail_rate<0.1", "/a{region:ams}: fail_rate<0.3", "/a: fail_rate<0.5"].map { try Threshold(option: $0) }
        let verdicts = snapshot().verdicts(thresholds)
        XCTAssertEqual(verdicts.map(\.ok), [false, true, true], "sin fails 4 of 8, ams 2 of 8, the whole 6 of 18")
        let builder = MetricsBuilder(config: config())
        let set = builder.build(builder.parts(snapshot()), thresholds: verdicts, timestampMs: 1)
        let ok = try XCTUnwrap(set.families.first { $0.name == "luaload_threshold_ok" })
        XCTAssertEqual(ok.samples.count, 3)
        XCTAssertFalse(ok.samples.contains { $0.labels.contains { $0.name == "region" } })
    }

    /// Room is counted per region: a region's row past --metrics-max-series is left out (and said once as one
    /// name), the rows already in stay in.
    func testMaxSeriesCountsEachRegionsRows() {
        var c = config()
        c.buckets = [0.1]
        // 3 regions × (users, script errors, abandoned) + ams's row (2 statuses, failures, redirects, bucket, +Inf, sum,
        // count): 17; sin's row would take 9 more (3 statuses), (none)'s 7.
        c.maxSeries = 9 + 8 + 6
        let builder = MetricsBuilder(config: c)
        let set = builder.build(builder.parts(snapshot()), thresholds: [], timestampMs: 1)
        XCTAssertEqual(set.sum("luaload_request_duration_seconds_count"), 8, "ams only")
        XCTAssertEqual(builder.leftOut.count, 2, "sin's and (none)'s GET /a")
        let publisher = MetricsPublisher(config: c, writers: [], thresholds: [])
        _ = publisher.builder.build(publisher.builder.parts(snapshot()), thresholds: [], timestampMs: 1)
        XCTAssertEqual(publisher.finish(Summary(workers: [], durationSeconds: 1, users: 0, threads: 1, stopReason: .duration, history: []),
                                        groups: [("ams", Summary(workers: [agent(ok: 1, failures: [:])], durationSeconds: 1, users: 0, threads: 1, stopReason: .duration, history: []))]).first?
                           .hasPrefix("metrics: 1 request names left out"), true)
    }
}
