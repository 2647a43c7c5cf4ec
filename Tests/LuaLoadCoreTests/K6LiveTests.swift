import Foundation
import LuaLoadCore
import LuaLoadMetrics
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Issue #23 while the run runs: check() pass rates and custom metrics on the web page/API and in a scrape,
/// equal to the JSON at the end; abort_on_fail on checks and custom metrics judged live; group() names
/// requests; --secret values on no page, API answer or scrape. Exact counts against a test server.
final class K6LiveTests: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    static let secret = "s3cr3t-Tok&en"

    /// 4 VUs × 100 task runs, each: /every/4 (every 4th answer 500) checked, and /item/SECRET, in group
    /// "login"; a counter. Then the VUs sleep: the run goes on with nothing more to count.
    static let script = #"""
    local calls = metrics.counter("calls")
    local sizes = metrics.trend("size", { unit = "B" })
    wait = constant(0)
    task(function(self)
      self.n = (self.n or 0) + 1
      if self.n > 100 then sleep(60) return end
      group("login", function()
        local res = http.get("/every/4", { headers = { Authorization = "Bearer " .. env.TOKEN } })
        check(res, { ["status is 200"] = function(r) return r.status == 200 end })
        http.get("/item/" .. env.TOKEN)
        sizes:add(#res.body)
      end)
      calls:add(1, { kind = "api" })
    end)
    """#

    /// A luaload in the background, its output in files.
    final class Background {
        let process = Process()
        let stderrPath = Luaload.temporaryDirectory + "bg-\(UUID().uuidString).err"
        init(_ args: [String]) throws {
            FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: Luaload.binary)
            process.arguments = args
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: stderrPath)
            try process.run()
        }
        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
        func stop() -> Int32 {
            if process.isRunning { kill(process.processIdentifier, SIGINT) }
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// Polls `body` every 100 ms for up to `seconds`, until it returns a value.
    func poll<T>(_ seconds: Double, _ body: () throws -> T?) rethrows -> T? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let v = try body() { return v }
            usleep(100_000)
        } while Date() < deadline
        return nil
    }

    /// "luaload_checks_total{check="login::status is 200",result="pass",…} 300" → 300.
    func sample(_ scrape: String, _ name: String, _ labels: [String]) -> Double? {
        for line in scrape.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            if labels.allSatisfy({ line.contains($0) }), let v = line.split(separator: " ").last.flatMap({ Double($0) }) { return v }
        }
        return nil
    }

    /// The checks' 75.0 % on the web API and in a scrape while the run runs, and both equal to the JSON once it
    /// stopped (from the page: the process stays, as `--web` without -d does); the counter's live value is the
    /// JSON's total; group-prefixed rows; the secret (a header and a URL) on no page, API answer or scrape.
    func testLiveChecksAndMetricsOnTheWebAndInAScrapeEqualTheJSON() throws {
        let metricsPort = try freePort()
        let out = Luaload.temporaryDirectory + "live-\(UUID().uuidString).json"
        let run = try Background(["-t", "2", "-u", "4", "-H", server.url, "-q", "--web", "127.0.0.1:0",
                                  "--metrics-listen", "\(metricsPort)", "-e", "TOKEN=" + Self.secret, "--secret", "TOKEN",
                                  "--json", out, Luaload.script(Self.script)])
        defer { _ = run.stop() }
        // The page's port, bound by luaload itself (0: the kernel's pick), from the line it prints.
        let webPort = try XCTUnwrap(poll(20) { () -> Int? in
            guard let r = run.stderr.range(of: "dashboard at http://127.0.0.1:") else { return nil }
            return Int(run.stderr[r.upperBound...].prefix { $0.isNumber })
        }, run.stderr)
        // Every check counted (400), the run still going: the API says 75.00 %.
        let live = try XCTUnwrap(poll(20) { () -> [String: Any]? in
            guard let r = try? httpGet(port: webPort, "/stats/checks"), r.status == 200 else { return nil }
            let doc = object(r.body), total = doc["total"] as? [String: Any]
            return (total?["passes"] as? Int ?? 0) + (total?["fails"] as? Int ?? 0) == 400 ? doc : nil
        }, run.stderr)
        XCTAssertEqual(live["state"] as? String, "running")
        let check = try XCTUnwrap((live["checks"] as? [[String: Any]])?.first)
        XCTAssertEqual(check["name"] as? String, "login::status is 200")
        XCTAssertEqual(check["passes"] as? Int, 300)
        XCTAssertEqual(check["fails"] as? Int, 100)
        XCTAssertEqual(check["percent"] as? Double, 75.0)
        // The scrape, live: the same counts, and the counter's total. Its set is built on the same tick as the API's
        // answer, but published apart: asked at once it can still be the tick before (then: wait for the next).
        let scrape = try XCTUnwrap(poll(10) { () -> String? in
            let body = (try? httpGet(port: metricsPort, "/metrics").body) ?? ""
            return sample(body, "luaload_custom_calls_total", []) == 400 ? body : nil
        }, "the scrape never reached the API's 400 calls")
        XCTAssertEqual(sample(scrape, "luaload_checks_total", [#"check="login::status is 200""#, #"result="pass""#]), 300, scrape)
        XCTAssertEqual(sample(scrape, "luaload_checks_total", [#"check="login::status is 200""#, #"result="fail""#]), 100)
        XCTAssertEqual(sample(scrape, "luaload_custom_calls_total", []), 400)
        XCTAssertEqual(sample(scrape, "luaload_custom_calls_by_tag_total", [#"kind="api""#]), 400)
        XCTAssertEqual(sample(scrape, "luaload_custom_size_count", []), 400)
        XCTAssertEqual(sample(scrape, "luaload_custom_size_bucket", [#"le="+Inf""#]), 400)
        // The page's snapshot carries the checks and the custom metrics (its tables come every 5 s).
        let snapshot = try XCTUnwrap(poll(10) { () -> [String: Any]? in
            let s = object((try? httpGet(port: webPort, "/api/snapshot").body) ?? "")
            let c = (s["checks"] as? [[String: Any]])?.first
            return (c?["passes"] as? Int ?? 0) + (c?["fails"] as? Int ?? 0) == 400 ? s : nil
        })
        let metricNames = Set((snapshot["metrics"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
        XCTAssertTrue(metricNames.isSuperset(of: ["calls", "calls{kind:api}", "size", "group_duration{group:login}"]), "\(metricNames)")
        XCTAssertEqual(Set((snapshot["rows"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }), ["login::/every/4", "login::/item/***"])
        assertNoSecret(webPort: webPort, metricsPort: metricsPort)

        // Stopped from the page: the reports are written and the page and /metrics stay, at the run's totals.
        XCTAssertEqual(loopbackExchange(port: webPort, "POST /stop HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")?.hasPrefix("HTTP/1.1 200") ?? false, true)
        let final = try XCTUnwrap(poll(20) { () -> [String: Any]? in
            let doc = object((try? httpGet(port: webPort, "/stats/checks").body) ?? "")
            return doc["state"] as? String == "stopped" ? doc : nil
        })
        let j = try XCTUnwrap(poll(10) { FileManager.default.contents(atPath: out).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } })
        let jsonCheck = try XCTUnwrap((j["checks"] as? [[String: Any]])?.first)
        let finalCheck = try XCTUnwrap((final["checks"] as? [[String: Any]])?.first)
        for key in ["passes", "fails"] { XCTAssertEqual(finalCheck[key] as? Int, jsonCheck[key] as? Int, key) }
        XCTAssertEqual(finalCheck["rate"] as? Double, jsonCheck["rate"] as? Double)
        XCTAssertEqual(jsonCheck["passes"] as? Int, 300)
        let jsonCalls = (j["metrics"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "calls" }?["value"] as? Double
        XCTAssertEqual(jsonCalls, 400)
        XCTAssertEqual(sample(scrape, "luaload_custom_calls_total", []), jsonCalls)   // the live value is the run's total
        // Groups name the rows (k6's `::`), in the JSON too; the server saw each request once.
        let names = Set((j["stats"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
        XCTAssertEqual(names, ["login::/every/4", "login::/item/***"])
        XCTAssertEqual(server.count("/every/4"), 400)
        XCTAssertTrue(server.received().filter { $0.path == "/every/4" }.allSatisfy { $0.headers["authorization"] == "Bearer " + Self.secret })
        assertNoSecret(webPort: webPort, metricsPort: nil)   // /metrics closes with the run (remote write carries the end)
        XCTAssertFalse(run.stderr.contains(Self.secret))
        XCTAssertEqual(run.stop(), 1)   // the 500s and 404s are failed requests (Locust's rule), after Ctrl-C on the lingering page
    }

    /// The final OTLP export carries the checks and custom metrics at the JSON's totals, decoded strictly by the
    /// OpenTelemetry project's definitions, and the secret in no attribute.
    func testOTLPCarriesChecksAndMetricsAtTheJSONsTotalsWithoutTheSecret() throws {
        let receiver = try OTLPReceiver()
        defer { receiver.stop() }
        XCTAssertGreaterThan(receiver.port, 0, "the receiver did not start")
        let r = try Luaload.run(["-t", "2", "-u", "4", "-d", "3s", "-H", server.url, "-e", "TOKEN=" + Self.secret, "--secret", "TOKEN",
                                 "--out", "otlp=" + receiver.url], script: Luaload.script(Self.script))
        XCTAssertEqual(r.exitCode, 1, r.stderr)   // the 500s and 404s
        let out = try receiver.result()
        XCTAssertEqual(out["problems"] as? [String], [])
        let m = try XCTUnwrap(out["metrics"] as? [String: [String: Any]])
        XCTAssertEqual(m["luaload_checks"]?["total"] as? Double, 400)
        XCTAssertEqual(m["luaload_checks"]?["points"] as? Int, 2)   // pass and fail
        let calls = (r.json["metrics"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "calls" }?["value"] as? Double
        XCTAssertEqual(m["luaload_custom_calls"]?["total"] as? Double, calls)
        XCTAssertEqual(calls, 400)
        XCTAssertEqual(m["luaload_custom_calls_by_tag"]?["total"] as? Double, 400)
        XCTAssertEqual(m["luaload_custom_size"]?["kind"] as? String, "histogram")
        XCTAssertEqual(m["luaload_custom_size"]?["count"] as? Int, 400)
        XCTAssertEqual(m["luaload_custom_group_duration_seconds"]?["count"] as? Int, 400)
        let values = m.values.flatMap { $0["values"] as? [String] ?? [] }
        XCTAssertTrue(values.contains("login::/item/***"), "\(values)")
        XCTAssertFalse(values.contains { $0.contains("s3cr3t") }, "\(values)")
    }

    /// Remote write to a real Prometheus: the checks and the counter at the JSON's totals, and the Grafana
    /// dashboard's pass-rate query answers 0.75.
    func testRemoteWriteToPrometheusCarriesChecksAndTheDashboardRate() throws {
        let prom = try PrometheusServer()
        defer { prom.stop() }
        let r = try Luaload.run(["-t", "2", "-u", "4", "-d", "2.5s", "-H", server.url, "-e", "TOKEN=" + Self.secret, "--secret", "TOKEN",
                                 "--tag", "testid=k6", "--out", "prometheus-rw=\(prom.writeURL)"], script: Luaload.script(Self.script))
        XCTAssertEqual(r.exitCode, 1, r.stderr)
        XCTAssertFalse(r.stderr.contains("not delivered"), r.stderr)
        XCTAssertEqual(try prom.scalar(#"sum(luaload_checks_total{testid="k6",result="pass"})"#), 300)
        XCTAssertEqual(try prom.scalar(#"sum(luaload_checks_total{testid="k6",result="fail"})"#), 100)
        XCTAssertEqual(try prom.scalar(#"sum(luaload_custom_calls_total{testid="k6"})"#), 400)
        XCTAssertEqual(try prom.scalar(#"sum(luaload_custom_size_count{testid="k6"})"#), 400)
        let rate = try prom.scalar(#"sum by (check) (luaload_checks_total{testid=~"k6",region=~".*",result="pass"}) / sum by (check) (luaload_checks_total{testid=~"k6",region=~".*"})"#)
        XCTAssertEqual(rate, 0.75)
        XCTAssertEqual(try prom.query(#"count({testid="k6",name=~".*s3cr3t.*"})"#).count, 0)
    }

    /// Checks and custom metrics count against --metrics-max-series: past it they are left out (and said), once
    /// in they stay in; a custom metric never takes a built-in family's name (a counter named "errors").
    func testScriptSeriesStayUnderMaxSeries() {
        var config = MetricsConfig()
        config.maxSeries = 3 + 2 + 1   // users, script errors, abandoned; one check (2); one counter
        let builder = MetricsBuilder(config: config)
        var input = MetricInput(workers: [], buckets: config.buckets)
        input.script.checks["a"] = CheckCounts(passes: 3, fails: 1)
        var errors = CustomMetric(kind: .counter)
        errors.count = 2
        errors.sum = 2
        input.script.metrics["errors"] = errors
        input.script.metrics["late"] = errors
        let set = builder.build(input, RunFacts(users: 0, arrivals: nil, thresholds: []), timestampMs: 1)
        XCTAssertEqual(set.seriesCount, 6)
        XCTAssertEqual(set.sum("luaload_checks_total", where: ["check": "a", "result": "pass"]), 3)
        XCTAssertEqual(set.sum("luaload_custom_errors_total"), 2)
        XCTAssertEqual(set.sum("luaload_script_errors_total"), 0)   // the built-in family, apart
        XCTAssertEqual(builder.leftOut.count, 1)                    // "late": no room
        input.script.checks["b"] = CheckCounts(passes: 1)
        let again = builder.build(input, RunFacts(users: 0, arrivals: nil, thresholds: []), timestampMs: 2)
        XCTAssertEqual(again.sum("luaload_checks_total", where: ["check": "a"]), 4)   // still in
        XCTAssertEqual(again.sum("luaload_checks_total", where: ["check": "b"]), 0)   // left out
        XCTAssertEqual(builder.leftOut.count, 2)
    }

    /// The secret, raw or escaped as JSON, HTML or a URL write it, is on no page, API answer, download or scrape.
    func assertNoSecret(webPort: Int, metricsPort: Int?, file: StaticString = #filePath, line: UInt = #line) {
        let forms = [Self.secret, "s3cr3t-Tok&amp;en", "s3cr3t-Tok%26en"]
        let paths = ["/", "/api/snapshot", "/api/history", "/stats/requests", "/stats/checks", "/api/report.json", "/stats/report",
                     "/stats/requests/csv", "/stats/failures/csv", "/api/stats.csv"]
        for path in paths {
            let body = (try? httpGet(port: webPort, path).body) ?? ""
            XCTAssertFalse(body.isEmpty, path, file: file, line: line)
            for form in forms { XCTAssertFalse(body.contains(form), "\(path) shows \(form)", file: file, line: line) }
        }
        let events = loopbackExchangeBriefly(port: webPort, "GET /events HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        XCTAssertTrue(events.contains("event: history"), events, file: file, line: line)
        for form in forms { XCTAssertFalse(events.contains(form), "/events shows \(form)", file: file, line: line) }
        for accept in ["text/plain", "application/openmetrics-text; version=1.0.0"] {
            guard let metricsPort else { break }
            let scrape = (try? httpGet(port: metricsPort, "/metrics", headers: ["Accept: " + accept]).body) ?? ""
            XCTAssertTrue(scrape.contains("luaload_requests_total"), file: file, line: line)
            XCTAssertTrue(scrape.contains(#"name="login::/item/***""#), file: file, line: line)
            for form in forms { XCTAssertFalse(scrape.contains(form), "/metrics shows \(form)", file: file, line: line) }
        }
    }

    /// What an event stream sends in its first half second.
    func loopbackExchangeBriefly(port: Int, _ request: String) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: 0, tv_usec: 500_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = loopback(port: port)
        guard withSockaddr(&addr, { connect(fd, $0, $1) }) == 0 else { return "" }
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var got: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            got += buf[0..<n]
        }
        return String(decoding: got, as: UTF8.self)
    }

    /// abort_on_fail on `checks` (every 4th check fails: 75 % < 90 %) stops a 60 s run at its first second with
    /// checks, and on a custom counter once it passes its bound: exit 3, stopped by the threshold, within ~2 s.
    func testAbortOnFailOnChecksAndACounterStopsTheRunLive() throws {
        let script = Luaload.script(#"""
        local calls = metrics.counter("calls")
        wait = constant(0.01)
        thresholds = {
          checks = { { "rate > 0.9", abort_on_fail = true } },
        }
        task(function()
          check(http.get("/every/4"), { ["status is 200"] = function(r) return r.status == 200 end })
          calls:add(1)
        end)
        """#)
        let started = Date()
        let r = try Luaload.run(["-t", "1", "-u", "2", "-d", "60s", "-H", server.url], script: script)
        let wall = Date().timeIntervalSince(started)
        XCTAssertEqual(r.exitCode, 3, r.stderr)
        XCTAssertEqual(r.json["stop_reason"] as? String, "threshold_crossed", "\(r.json["stop_reason"] ?? "")")
        let duration = try XCTUnwrap(r.json["duration_s"] as? Double)
        XCTAssertLessThan(duration, 2.6, "stopped \(duration) s into the run")
        XCTAssertLessThan(wall, 10)
        XCTAssertTrue(r.stderr.contains("threshold checks: rate > 0.9 crossed"), r.stderr)
        XCTAssertFalse(r.stderr.contains("decided at the end"), r.stderr)

        let counter = Luaload.script(#"""
        local calls = metrics.counter("calls")
        wait = constant(0.01)
        thresholds = { calls = { { "count < 50", abort_on_fail = true } } }
        task(function() http.get("/ok"); calls:add(1) end)
        """#)
        let c = try Luaload.run(["-t", "1", "-u", "2", "-d", "60s", "-H", server.url], script: counter)
        XCTAssertEqual(c.exitCode, 3, c.stderr)
        XCTAssertEqual(c.json["stop_reason"] as? String, "threshold_crossed")
        XCTAssertLessThan(try XCTUnwrap(c.json["duration_s"] as? Double), 2.6)
    }

    /// --print-stats off a terminal (Locust's headless table every 2 s) has the checks and custom metrics so far.
    func testPrintStatsShowsChecksAndCustomMetrics() throws {
        let r = try runProcess(Luaload.binary, ["-t", "1", "-u", "4", "-d", "3s", "-H", server.url, "--print-stats", "-e", "TOKEN=x",
                                                Luaload.script(Self.script)])
        XCTAssertEqual(r.code, 1, r.stderr)
        let live = r.stderr   // the summary is on stdout; the live tables on stderr
        XCTAssertTrue(live.contains("Checks: 300 of 400 passed (75.00 %)"), live)
        XCTAssertTrue(live.contains("login::status is 200"), live)
        XCTAssertTrue(live.contains("Custom metrics"), live)
        XCTAssertTrue(live.contains("count=400"), live)
    }

    /// Groups nest (`outer::inner::/ok`), opts.name is prefixed too, and a request outside any group keeps its
    /// name; the group's duration is still recorded.
    func testGroupsNameRequestsAndNest() throws {
        let script = Luaload.script(#"""
        wait = constant(0)
        task(function(self)
          self.n = (self.n or 0) + 1
          if self.n > 5 then stop() end
          group("outer", function()
            http.get("/ok")
            group("inner", function() http.get("/ok"); http.get("/status/201", { name = "created" }) end)
          end)
          http.get("/ok")
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "2", "-H", server.url, "--threshold", "GET outer::inner::/ok: requests == 10",
                                 "--threshold", "outer::inner::GET /ok: requests == 10", "--threshold", "outer::/ok: requests == 10"], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual((r.json["thresholds"] as? [[String: Any]] ?? []).map { $0["ok"] as? Bool }, [true, true, true])
        for name in ["outer::/ok", "outer::inner::/ok", "outer::inner::created", "/ok"] { XCTAssertEqual(r.requests(name), 10, name) }
        XCTAssertEqual(server.count("/ok"), 30)
        let metrics = Set((r.json["metrics"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
        XCTAssertTrue(metrics.isSuperset(of: ["group_duration{group:outer}", "group_duration{group:outer::inner}"]), "\(metrics)")
    }
}

/// -e and --secret reach every agent: the script's env is the controller's, and the agent masks the secret in
/// its own logs and report (a script error quoting it, a request name holding it).
final class K6AgentSecretTests: DistributedTestCase {
    func testAgentsGetTheEnvAndMaskTheSecret() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let secret = "agent-s3cr3t-42"
        let script = Luaload.script(#"""
        host = os.getenv("TARGET")
        wait = constant(0)
        local raised = false
        task(function()
          if not raised then raised = true; print("token " .. env.TOKEN); error("bad token " .. env.TOKEN) end
          http.get("/ok", { headers = { Authorization = "Bearer " .. env.TOKEN } })
          http.get("/item/" .. env.TOKEN)
        end)
        """#)
        let c = try makeController(agents: 1, script: script) {
            $0.users = 2; $0.usersGiven = true; $0.iterations = 10
            $0.env = [("TOKEN", secret)]
            $0.secrets = [secret]
        }
        let agent = try AgentProcess(port: c.port, token: token, tags: ["region=ams"], env: ["TARGET": server.url])
        _ = try c.run(log: { _ in }, observer: { _ in })
        agent.wait()
        XCTAssertEqual(server.count("/ok"), 9)   // 10 task runs, the first raised
        XCTAssertTrue(server.received().filter { $0.path == "/ok" }.allSatisfy { $0.headers["authorization"] == "Bearer " + secret })
        let report = try String(contentsOfFile: agent.json, encoding: .utf8)
        XCTAssertTrue(report.contains("bad token ***"), report)
        XCTAssertTrue(report.contains("/item/***"), report)
        for text in [report, agent.stderr, agent.stdout] { XCTAssertFalse(text.contains(secret), text) }
        XCTAssertTrue(agent.stdout.contains("token ***"), agent.stdout)
    }
}
