import Foundation
import XCTest

/// Metrics checked against a real Prometheus (Debian's 2.42, started here on loopback): what its query API
/// says after remote write and after scraping, and a receiver that dies mid-run.
final class PrometheusTests: XCTestCase {
    /// GET /health (ok) three times as often as GET /api/v1/me (401 without a token).
    let script = Luaload.script("""
        local u = user { wait = constant(0.004) }
        u:task(3, function() http.get("/health", { name = "health" }) end)
        u:task(1, function() http.get("/api/v1/me", { name = "me" }) end)
        """)

    func testRemoteWriteTotalsEqualTheJSONExactlyPerNameAndRegion() throws {
        let prom = try PrometheusServer()
        defer { prom.stop() }
        var runs: [String: LualoadRun] = [:]
        for region in ["ams", "sin"] {
            let r = try Luaload.run(["--serve", "-t", "2", "-u", "4", "-d", "2.5s", "--tag", "region=\(region)", "--tag", "testid=rw",
                                     "--metrics-interval", "1s", "--out", "prometheus-rw=\(prom.writeURL)"], script: script)
            XCTAssertEqual(r.exitCode, 1, r.stderr)   // the 401s are failures
            XCTAssertFalse(r.stderr.contains("not delivered"), r.stderr)
            XCTAssertGreaterThan(r.requests, 100)
            runs[region] = r
        }
        let all = runs.values.reduce(0) { $0 + $1.requests }
        XCTAssertEqual(try prom.scalar(#"sum(luaload_requests_total{testid="rw"})"#), Double(all))
        XCTAssertEqual(try prom.scalar(#"sum(luaload_request_duration_seconds_count{testid="rw"})"#), Double(all))
        XCTAssertEqual(try prom.scalar(#"sum(luaload_request_duration_seconds_bucket{testid="rw",le="+Inf"})"#), Double(all))
        XCTAssertEqual(try prom.scalar(#"sum(luaload_failures_total{testid="rw"})"#), Double(runs.values.reduce(0) { $0 + $1.failuresCount }))
        for (region, r) in runs {
            XCTAssertEqual(try prom.scalar(#"sum(luaload_requests_total{testid="rw",region="\#(region)"})"#), Double(r.requests))
            for name in ["health", "me"] {
                XCTAssertEqual(try prom.scalar(#"sum(luaload_requests_total{testid="rw",region="\#(region)",name="\#(name)"})"#),
                               Double(r.requests(name)), "\(region) \(name)")
            }
            XCTAssertEqual(try prom.scalar(#"sum(luaload_requests_total{testid="rw",region="\#(region)",status="401"})"#), Double(r.failures("me")))
            XCTAssertEqual(try prom.scalar(#"sum(luaload_requests_total{testid="rw",region="\#(region)",status="ok"})"#), Double(r.requests("health")))
        }
        // A percentile from the buckets, as the Grafana dashboard asks for it: the built-in target answers in
        // well under 25 ms on loopback; 250 ms leaves room for a loaded machine and still catches milliseconds
        // written as seconds (1000x).
        let p95 = try XCTUnwrap(try prom.scalar(#"histogram_quantile(0.95, sum by (le) (luaload_request_duration_seconds_bucket{testid="rw"}))"#))
        XCTAssertGreaterThan(p95, 0)
        XCTAssertLessThan(p95, 0.25)
        try Self.checkDashboard(prom)
    }

    /// deploy/grafana/luaload.json: valid JSON, and every panel's query runs on this Prometheus; those over
    /// series a closed-model run without thresholds has all return data (for the test `testid`, `region` picked).
    static func checkDashboard(_ prom: PrometheusServer, testid: String = "rw", region: String = ".*") throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/grafana/luaload.json")
        let dashboard = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
        let panels = try XCTUnwrap(dashboard["panels"] as? [[String: Any]])
        var exprs: [String] = []
        for panel in panels {
            for target in panel["targets"] as? [[String: Any]] ?? [] { exprs.append(try XCTUnwrap(target["expr"] as? String)) }
        }
        XCTAssertGreaterThanOrEqual(exprs.count, 10)
        for expr in exprs {
            let q = expr.replacingOccurrences(of: "$testid", with: testid).replacingOccurrences(of: "$region", with: region)
                .replacingOccurrences(of: "$__rate_interval", with: "1m")
            let result = try prom.query(q)
            let optional = ["arrivals", "script_errors", "threshold", "checks"].contains { expr.contains($0) }   // the run has none
            if !optional { XCTAssertFalse(result.isEmpty, "no data for the dashboard's \(expr)") }
        }
    }

    /// The open model's arrivals (dropped ones too) and the thresholds' verdicts, as the JSON gives them.
    func testArrivalsAndThresholdsEqualTheJSON() throws {
        let prom = try PrometheusServer()
        defer { prom.stop() }
        let busy = Luaload.script("""
            local u = user { wait = constant(0) }
            u:task(function() http.get("/health", { name = "health" }); sleep(0.03) end)
            """)
        let r = try Luaload.run(["--serve", "-t", "1", "--rate", "100/s", "--max-vus", "1", "--late", "drop", "-d", "2s",
                                 "--threshold", "health: p95<5000", "--threshold", "health: fail_rate<0.5", "--threshold", "health: max<0.001",
                                 "--tag", "testid=open", "--out", "prometheus-rw=\(prom.writeURL)"], script: busy)
        XCTAssertEqual(r.exitCode, 3, r.stderr)   // one threshold crossed
        let arrivals = try XCTUnwrap(r.json["arrivals"] as? [String: Any])
        let dropped = try XCTUnwrap(arrivals["dropped"] as? Int)
        XCTAssertGreaterThan(dropped, 50, "one VU busy 30 ms cannot take 100 arrivals a second")
        XCTAssertEqual(try prom.scalar(#"luaload_arrivals_scheduled_total{testid="open"}"#), Double(try XCTUnwrap(arrivals["scheduled"] as? Int)))
        XCTAssertEqual(try prom.scalar(#"luaload_arrivals_dropped_total{testid="open"}"#), Double(dropped))
        XCTAssertEqual(try prom.scalar(#"sum(luaload_requests_total{testid="open"})"#), Double(r.requests))
        XCTAssertEqual(try prom.scalar(#"luaload_users{testid="open"}"#), 0, "the final set: the run is over")
        let verdicts = try prom.query(#"luaload_threshold_ok{testid="open"}"#)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: verdicts.map { ($0.0["threshold"] ?? "", $0.1) }),
                       ["health: p95<5000": 1, "health: fail_rate<0.5": 1, "health: max<0.001": 0])
    }

    func testScrapedRunHasRegionLabelsAndARateNearTheJSON() throws {
        let metricsPort = try freePort()
        let prom = try PrometheusServer(scrapeTarget: "127.0.0.1:\(metricsPort)")
        defer { prom.stop() }
        // Prometheus hands targets to its scraper up to 5 s after it starts: wait for its first (failed) scrape.
        for _ in 0..<100 where try prom.query(#"up{job="luaload"}"#).isEmpty { usleep(100_000) }
        let r = try Luaload.run(["--serve", "-t", "2", "-u", "4", "-d", "6s", "--tag", "region=fra", "--metrics-listen", "\(metricsPort)"], script: script)
        let end = Date().timeIntervalSince1970
        XCTAssertEqual(r.exitCode, 1, r.stderr)
        let series = try prom.query(#"last_over_time(luaload_requests_total{job="luaload"}[1m])"#, time: end)
        XCTAssertEqual(Set(series.map { $0.0["name"] ?? "" }), ["health", "me"])
        XCTAssertTrue(series.allSatisfy { $0.0["region"] == "fra" && $0.0["segment"] == "0/1" }, "\(series)")
        XCTAssertEqual(try prom.scalar(#"max_over_time(luaload_users{job="luaload",region="fra"}[1m])"#, time: end), 4)
        let jsonRate = Double(r.requests) / (r.json["duration_s"] as? Double ?? 0)
        // rate() divides by its window: a window inside the run (1 s to 5 s of it), by luaload's own clock.
        let start = Double(r.json["start_unix_ms"] as? Int ?? 0) / 1000
        let rate = try XCTUnwrap(try prom.scalar(#"sum(rate(luaload_requests_total{job="luaload"}[4s]))"#, time: start + 5))
        XCTAssertEqual(rate, jsonRate, accuracy: jsonRate * 0.3, "Prometheus' rate() over the run against the JSON's req/s")
    }

    func testAReceiverThatDiesMidRunNeitherStopsNorSlowsTheLoad() throws {
        let prom = try PrometheusServer()
        let box = RunBox()
        let done = DispatchSemaphore(value: 0)
        let args = ["--serve", "-t", "1", "-u", "2", "-d", "8s", "--metrics-interval", "1s", "--tag", "testid=dies",
                    "--out", "prometheus-rw=\(prom.writeURL)"]
        DispatchQueue.global().async { [script] in
            box.run = try? Luaload.run(args, script: script)
            done.signal()
        }
        // The receiver dies once it has the first pushes (polled: a fixed 3 s saw none at load 12, the run's
        // start and Prometheus' ingestion both late), at most 5.5 s into the 8 s run, so the load still has
        // seconds to go on without it.
        var early = 0.0
        _ = eventually(within: 5.5) { early = (try? prom.scalar(#"sum(luaload_requests_total{testid="dies"})"#)) ?? 0; return early > 0 }
        prom.stop()
        done.wait()
        let r = try XCTUnwrap(box.run)
        XCTAssertGreaterThan(early, 0, "the first pushes went through")
        XCTAssertEqual(r.json["duration_s"] as? Double ?? 0, 8, accuracy: 0.3)
        let history = r.json["history"] as? [[String: Any]] ?? []
        XCTAssertGreaterThanOrEqual(history.count, 4)
        let last = history.suffix(2).map { $0["requests"] as? Int ?? 0 }
        let first = history.prefix(2).map { $0["requests"] as? Int ?? 0 }
        XCTAssertGreaterThan(last.min() ?? 0, (first.max() ?? 0) / 2, "the load went on at its pace: \(history.map { $0["requests"] ?? 0 })")
        XCTAssertTrue(r.stderr.contains("not delivered"), r.stderr)
        XCTAssertTrue(r.stderr.contains("the final push (the run's totals) was not delivered"), r.stderr)
        XCTAssertTrue(r.stderr.contains("Connection refused"), r.stderr)
    }

    /// Off the default loopback addresses /metrics needs the token; its text passes Prometheus' own linter.
    func testMetricsOffLoopbackNeedTheTokenAndTheTextPassesPromtool() throws {
        let port = try freePort()
        let box = RunBox()
        let done = DispatchSemaphore(value: 0)
        let args = ["--serve", "-t", "1", "-u", "2", "-d", "3s", "--metrics-listen", "127.0.0.2:\(port)", "--metrics-token", "s3cret"]
        DispatchQueue.global().async { [script] in
            box.run = try? Luaload.run(args, script: script)
            done.signal()
        }
        defer { done.wait() }
        // Once a tick has built the first set (polled: a fixed 1.5 s could outlast a slow start's 3 s run).
        eventually {
            let r = try? httpGet(address: "127.0.0.2", port: port, "/metrics", headers: ["Authorization: Bearer s3cret"])
            return r?.body.contains("luaload_requests_total{name=\"health\"") ?? false
        }
        XCTAssertEqual(try httpGet(address: "127.0.0.2", port: port, "/metrics").status, 401)
        XCTAssertEqual(try httpGet(address: "127.0.0.2", port: port, "/metrics", headers: ["Authorization: Bearer nope"]).status, 401)
        let ok = try httpGet(address: "127.0.0.2", port: port, "/metrics", headers: ["Authorization: Bearer s3cret"])
        XCTAssertEqual(ok.status, 200)
        XCTAssertTrue(ok.body.contains("luaload_requests_total{name=\"health\""), ok.body)
        let file = Luaload.temporaryDirectory + "metrics-\(UUID().uuidString).txt"
        try ok.body.write(toFile: file, atomically: true, encoding: .utf8)
        let promtool = Process()
        promtool.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        promtool.arguments = ["check", "metrics"]
        promtool.standardInput = FileHandle(forReadingAtPath: file)
        let out = Pipe()
        promtool.standardOutput = out
        promtool.standardError = out
        try promtool.run()
        promtool.waitUntilExit()
        let lint = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(promtool.terminationStatus, 0, lint)
    }

    func testMetricsOptionsAreCheckedBeforeAnyTraffic() throws {
        let taken = try listenSocket()
        defer { close(taken.0) }
        let cases: [([String], String)] = [
            (["--out", "prometheus-rw=https://prom.example/api/v1/write"], "https is not supported yet"),
            (["--out", "influx=http://127.0.0.1:1/"], "bad --out"),
            (["--metrics-listen", "\(taken.1)"], "--metrics-listen \(taken.1)"),
            (["--metrics-listen", "9464", "--metrics-buckets", "0.5,0.1"], "bad --metrics-buckets"),
            (["--metrics-listen", "9464", "--metrics-interval", "0"], "bad --metrics-interval"),
            (["--metrics-buckets", "0.1"], "need --metrics-listen or --out"),
        ]
        for (args, message) in cases {
            let r = try Luaload.run(["--serve", "-n", "1"] + args, script: script)
            XCTAssertEqual(r.exitCode, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertEqual(r.requests, -1, "no run, no JSON")
        }
    }
}

final class RunBox: @unchecked Sendable { var run: LualoadRun? }
