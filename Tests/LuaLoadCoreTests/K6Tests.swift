import Foundation
import XCTest

/// What k6 users reach for (issue #23): check() pass rates, custom metrics, exact across threads and a merge,
/// thresholds on both, -e / --env-file / --secret, compare and --baseline. Exact counts against a test server.
final class K6Tests: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    struct Result { var code: Int32; var stdout: String; var stderr: String }

    /// Runs luaload with `args` (no script added), within 60 s.
    @discardableResult
    func luaload(_ args: [String]) throws -> Result {
        let r = try runProcess(Luaload.binary, args)
        return Result(code: r.code, stdout: r.stdout, stderr: r.stderr)
    }

    func json(_ path: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))) as? [String: Any] ?? [:]
    }

    func tmp(_ name: String) -> String { Luaload.temporaryDirectory + "k6-\(UUID().uuidString)-" + name }

    static let checksScript = #"""
    local calls = metrics.counter("calls")
    local sizes = metrics.trend("size", { unit = "B" })
    local seen = metrics.rate("seen_200")
    local last = metrics.gauge("last_status")
    wait = constant(0)
    local runs = tonumber(env.RUNS or "100")
    task(function(self)
      self.n = (self.n or 0) + 1
      if self.n > runs then stop() end
      local res = http.get("/every/4", { name = "every 4th fails" })
      check(res, {
        ["status is 200"] = function(r) return r.status == 200 end,
        ["raises"] = function(r) if r.status == 500 then error("a 500") end return true end,
      })
      check(http.get("/ok"), { ["never"] = function() return false end })
      calls:add(1)
      calls:add(1, { kind = "extra" })
      sizes:add(#res.body)
      seen:add(res.status == 200)
      last:add(res.status)
    end)
    """#

    /// Every 4th response 500 → "status is 200" passes 75.0 %; an error inside a check is a failed check with
    /// its file:line; a failed check fails no request; the counter equals the calls over 2 threads.
    func testCheckRatesAndACounterAreExactOverTwoThreads() throws {
        let script = Luaload.script(Self.checksScript)
        let csv = tmp("csv"), out = tmp("run.json")
        let r = try luaload(["-t", "2", "-u", "4", "-H", server.url, "--json", out, "--csv", csv,
                             "--threshold", "checks: rate > 0.99", "--threshold", "checks{check:status is 200}: rate == 0.75",
                             "--threshold", "calls: count == 400", "--threshold", "size: p(95) < 300",
                             "--threshold", "http_req_failed{name:every 4th fails}: rate == 25%", "--threshold", "http_reqs: count == 800", script])
        XCTAssertEqual(r.code, 3, r.stderr)   // checks: rate > 0.99 is crossed
        XCTAssertEqual(server.count("/every/4"), 400)
        let j = json(out)
        let checks = Dictionary(uniqueKeysWithValues: (j["checks"] as? [[String: Any]] ?? []).map { ($0["name"] as! String, $0) })
        XCTAssertEqual(checks["status is 200"]?["passes"] as? Int, 300)
        XCTAssertEqual(checks["status is 200"]?["fails"] as? Int, 100)
        XCTAssertEqual(checks["status is 200"]?["rate"] as? Double, 0.75)
        XCTAssertEqual(checks["raises"]?["fails"] as? Int, 100)
        XCTAssertTrue((checks["raises"]?["error"] as? String ?? "").contains(script + ":13: a 500"), "\(checks["raises"] ?? [:])")
        XCTAssertEqual(checks["never"]?["fails"] as? Int, 400)
        let okRow = (j["stats"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "/ok" }
        XCTAssertEqual(okRow?["failures"] as? Int, 0)   // a failed check fails no request
        let metrics = Dictionary(uniqueKeysWithValues: (j["metrics"] as? [[String: Any]] ?? []).map { ($0["name"] as! String, $0) })
        XCTAssertEqual(metrics["calls"]?["value"] as? Double, 800)
        XCTAssertEqual(metrics["calls{kind:extra}"]?["value"] as? Double, 400)
        XCTAssertEqual(metrics["size"]?["count"] as? Int, 400)
        XCTAssertEqual(metrics["seen_200"]?["passes"] as? Int, 300)
        XCTAssertEqual(metrics["seen_200"]?["rate"] as? Double, 0.75)
        XCTAssertNotNil(metrics["last_status"]?["value"] as? Double)
        let verdicts = (j["thresholds"] as? [[String: Any]] ?? []).map { "\($0["name"]!) \($0["expr"]!) \($0["ok"] as? Bool == true)" }
        XCTAssertEqual(Set(verdicts), ["checks rate > 0.99 false", "checks{check:status is 200} rate == 0.75 true",
                                       "calls count == 400 false", "size p(95) < 300 true",
                                       "http_req_failed{name:every 4th fails} rate == 25% true", "http_reqs count == 800 true"])   // calls: 400 + 400 tagged
        XCTAssertTrue(r.stdout.contains("Checks: 600 of 1200 passed (50.00 %)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("status is 200"), r.stdout)
        let checksCSV = try String(contentsOfFile: csv + "_checks.csv", encoding: .utf8)
        XCTAssertTrue(checksCSV.contains("status is 200,300,100,0.750000"), checksCSV)
        let metricsCSV = try String(contentsOfFile: csv + "_metrics.csv", encoding: .utf8)
        XCTAssertTrue(metricsCSV.contains("calls,counter,,800,800.000"), metricsCSV)
    }

    /// Two runs merged: checks and counters add exactly, trends' histograms add.
    func testMergeAddsChecksAndMetricsExactly() throws {
        let script = Luaload.script(Self.checksScript)
        let a = tmp("a.json"), b = tmp("b.json"), merged = tmp("m.json")
        for (path, n) in [(a, "30"), (b, "70")] {   // 4 VUs: 120 and 280 task runs
            let r = try luaload(["-t", "2", "-u", "4", "-e", "RUNS=" + n, "-H", server.url, "-q", "--json", path, script])
            XCTAssertEqual(r.code, 1, r.stderr)   // the 500s are failed requests
        }
        let r = try luaload(["merge", a, b, "--json", merged])
        XCTAssertEqual(r.code, 1, r.stderr)
        let j = json(merged)
        let checks = Dictionary(uniqueKeysWithValues: (j["checks"] as? [[String: Any]] ?? []).map { ($0["name"] as! String, $0) })
        XCTAssertEqual(checks["status is 200"]?["passes"] as? Int, 300)
        XCTAssertEqual(checks["status is 200"]?["fails"] as? Int, 100)
        let metrics = Dictionary(uniqueKeysWithValues: (j["metrics"] as? [[String: Any]] ?? []).map { ($0["name"] as! String, $0) })
        XCTAssertEqual(metrics["calls"]?["value"] as? Double, 800)
        XCTAssertEqual(metrics["size"]?["count"] as? Int, 400)
        XCTAssertEqual(metrics["seen_200"]?["passes"] as? Int, 300)
        let one = json(a)
        let sizeA = (one["metrics"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "size" }
        XCTAssertEqual(sizeA?["count"] as? Int, 120)
    }

    /// -e and --env-file reach the script as env.NAME; a --secret value appears in no report, log or print().
    func testEnvAndASecretThatNeverShows() throws {
        let secret = "s3cr3t-Tok.en"
        let envFile = tmp("vars.env")
        try "# test variables\nexport REGION=\"ams\"\nRUNS=3\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let script = Luaload.script(#"""
        print("token is " .. env.TOKEN .. " in " .. env.REGION)
        task(function(self)
          self.n = (self.n or 0) + 1
          if self.n > tonumber(env.RUNS) then stop() end
          http.get("/status/500", { name = "login " .. env.TOKEN, headers = { Authorization = "Bearer " .. env.TOKEN } })
          check(env.TOKEN, { ["token " .. env.TOKEN] = function(t) return #t > 0 end })
          if self.n == 2 then error("refused " .. env.TOKEN) end
        end)
        """#)
        let out = tmp("s.json"), csv = tmp("s"), html = tmp("s.html")
        let r = try luaload(["-t", "1", "-u", "1", "-H", server.url, "-e", "TOKEN=" + secret, "--env-file", envFile, "--secret", "TOKEN",
                             "--json", out, "--csv", csv, "--html", html, "--print-stats", script])
        XCTAssertEqual(r.code, 1, r.stderr)
        XCTAssertEqual(server.count("/status/500"), 3)   // RUNS=3 from the file
        XCTAssertTrue(server.received().allSatisfy { $0.headers["authorization"] == "Bearer " + secret })   // sent as given
        XCTAssertTrue(r.stdout.contains("token is *** in ams"), r.stdout)
        var texts = ["stdout": r.stdout, "stderr": r.stderr]
        for path in [out, html, csv + "_stats.csv", csv + "_failures.csv", csv + "_exceptions.csv", csv + "_checks.csv"] {
            texts[path] = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(missing)"
        }
        for (name, text) in texts {
            XCTAssertFalse(text.contains(secret), "\(name) shows the secret:\n\(text)")
            XCTAssertFalse(text.contains("(missing)"), name)
        }
        XCTAssertTrue(texts[out]!.contains("login ***"), texts[out]!)
        XCTAssertTrue(texts[out]!.contains("refused ***"), texts[out]!)
        XCTAssertTrue(texts[csv + "_checks.csv"]!.contains("token ***,3,0"), texts[csv + "_checks.csv"]!)
        XCTAssertTrue(texts[html]!.contains("<td class=\"name\">token ***</td><td>3</td>"), "the HTML report's checks table")

        let failing = Luaload.script("error('cannot use ' .. env.TOKEN)\ntask(function() end)\n")
        let early = try luaload(["-H", server.url, "-e", "TOKEN=" + secret, "--secret", "TOKEN", failing])
        XCTAssertEqual(early.code, 2)
        XCTAssertTrue(early.stderr.contains("cannot use ***") && !early.stderr.contains(secret), early.stderr)   // an error before the run
        let bad = try luaload(["-H", server.url, "--secret", "NOPE", script])
        XCTAssertEqual(bad.code, 2)
        XCTAssertTrue(bad.stderr.contains("--secret NOPE: no variable NOPE was given"), bad.stderr)
        try "RUNS 3\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let badFile = try luaload(["-H", server.url, "--env-file", envFile, script])
        XCTAssertEqual(badFile.code, 2)
        XCTAssertTrue(badFile.stderr.contains(envFile + ":1: expected NAME=value"), badFile.stderr)
    }

    /// --baseline: a relative threshold that crosses exits 3 (the new run is 30 ms slower a request), one that
    /// holds does not; compare marks the change; a relative threshold without --baseline is a usage error.
    func testARelativeThresholdThatCrossesExits3() throws {
        let script = Luaload.script(#"""
        wait = constant(0)
        task(function(self)
          self.n = (self.n or 0) + 1
          if self.n > 10 then stop() end
          http.get(env.TARGET or "/ok", { name = "GET /x" })
        end)
        """#)
        let base = tmp("base.json"), new = tmp("new.json")
        let b = try luaload(["-t", "1", "-u", "2", "-H", server.url, "-q", "--json", base, script])
        XCTAssertEqual(b.code, 0, b.stderr)
        let relative = ["--baseline", base, "--threshold", "GET /x: p95 < baseline * 1.10", "--threshold", "Aggregated: requests <= baseline"]
        let r = try luaload(["-t", "1", "-u", "2", "-H", server.url, "-e", "TARGET=/slow?ms=30", "--json", new] + relative + [script])
        XCTAssertEqual(r.code, 3, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("✗ GET /x"), r.stdout)
        XCTAssertTrue(r.stdout.contains("✓ Aggregated          requests <= 20.000 (baseline 20.000 * 1.0)"), r.stdout)
        let same = try luaload(["-t", "1", "-u", "2", "-H", server.url, "-q", "--baseline", base, "--threshold", "Aggregated: requests <= baseline", script])
        XCTAssertEqual(same.code, 0, same.stderr)

        let c = try luaload(["compare", base, new, "--markdown", "--fail-on-worse"])
        XCTAssertEqual(c.code, 3, c.stderr)
        XCTAssertTrue(c.stdout.contains("| GET /x |"), c.stdout)
        XCTAssertTrue(c.stdout.contains("✗ worse: p50 +"), c.stdout)
        let j = try luaload(["compare", "--json", base, base])
        XCTAssertEqual(j.code, 0, j.stderr)
        XCTAssertTrue(j.stdout.contains(#""worse":false"#), j.stdout)

        let missing = try luaload(["-H", server.url, "--threshold", "GET /x: p95 < baseline * 1.10", script])
        XCTAssertEqual(missing.code, 2)
        XCTAssertTrue(missing.stderr.contains("is relative: give the run to compare with, --baseline BASE.json"), missing.stderr)
    }

    /// action.yml validates offline against SchemaStore's github-action schema (vendored in check-jsonschema),
    /// and one with a mistake does not.
    func testTheActionValidatesAgainstItsSchema() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let validate = root.appendingPathComponent(".venv-test/bin/check-jsonschema").path
        guard FileManager.default.isExecutableFile(atPath: validate) else {
            return XCTFail("no \(validate): run scripts/install-deps.sh --test (scripts/test.sh does)")
        }
        let action = root.appendingPathComponent("action.yml").path
        func check(_ path: String) throws -> (code: Int32, stdout: String, stderr: String) {
            try runProcess(validate, ["--builtin-schema", "vendor.github-actions", path])
        }
        let good = try check(action)
        XCTAssertEqual(good.code, 0, good.stdout + good.stderr)
        let broken = tmp("action.yml")
        try String(contentsOfFile: action, encoding: .utf8).replacingOccurrences(of: "using: composite", with: "using: compost")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try check(broken).code, 0)
    }
}
