import Foundation
import LuaLoadCore
import LuaLoadServe
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `--metrics-listen` and `--out prometheus-rw=` on a controller (`luaload --controller … --agents N`): the whole
/// test from the agents' merged seconds, each series per request name and per region (the agents' `--by` tag),
/// checked against a real Prometheus (Debian's) and the controller's own JSON.
final class DistributedMetricsTests: DistributedTestCase {
    /// GET /health (ok) three times as often as GET /api/v1/me (401 without a token), on the agent's own target.
    static let twoNames = """
        host = os.getenv("TARGET") or "http://127.0.0.1:9"
        local u = user { wait = constant(0.004) }
        u:task(3, function() http.get("/health", { name = "health" }) end)
        u:task(1, function() http.get("/api/v1/me", { name = "me" }) end)
        """

    /// A free port for the controller's link (listened on, then closed: the controller takes it).
    func freeLinkPort() throws -> UInt16 {
        let link = try Link.listen(LinkAddress("127.0.0.1:0")!)
        close(link.fd)
        return link.port
    }

    /// The controller as a process (`luaload --controller`), its --json to a file.
    func controller(_ port: UInt16, agents n: Int, _ args: [String], env: [String: String] = [:]) throws -> AgentProcess {
        try AgentProcess(["--controller", "127.0.0.1:\(port)", "--agents", "\(n)", "--token", token, "-q"] + args
                         + [Luaload.script(Self.twoNames)], env: env, json: true)
    }

    func region(_ port: UInt16, _ name: String, _ target: TargetServer, extra: [String] = []) throws -> AgentProcess {
        try AgentProcess(port: port, token: token, tags: ["region=\(name)"], env: ["TARGET": "http://127.0.0.1:\(target.port)"], extra: extra)
    }

    /// Whether a scrape's text has a requests series of each region.
    func hasRequests(_ text: String, regions: [String]) -> Bool {
        regions.allSatisfy { r in text.split(separator: "\n").contains { $0.hasPrefix("luaload_requests_total{") && $0.contains("region=\"\(r)\"") } }
    }

    func document(_ p: AgentProcess) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p.json))) as? [String: Any], p.stderr)
    }

    /// Requests of a row (or the whole, `name` nil) of a JSON document (the whole test's or one group's).
    func count(_ doc: [String: Any], _ name: String?, _ field: String = "requests") -> Int {
        let row = name.map { n in (doc["stats"] as? [[String: Any]])?.first { $0["name"] as? String == n } } ?? (doc["total"] as? [String: Any])
        return row?[field] as? Int ?? 0
    }

    /// Two regions against their own targets: a scrape during the run shows both regions' series; after it,
    /// remote write's totals per name and region equal the controller's JSON (its "groups") exactly, their sum
    /// the whole test, and what the targets saw is recorded + abandoned.
    func testRemoteWriteEqualsTheControllersJSONPerNameAndRegionAndAScrapeShowsBothRegions() throws {
        let prom = try PrometheusServer()
        defer { prom.stop() }
        let targets = try ["ams": 2, "sin": 20].mapValues { try startDelayedTarget(latencyMs: $0) }
        defer { targets.values.forEach { $0.stop() } }
        let port = try freeLinkPort(), metricsPort = try freePort(), agentPort = try freePort()
        let c = try controller(port, agents: 2, ["-u", "4", "-d", "4s", "--tag", "testid=ctl", "--metrics-interval", "1s",
                                                 "--metrics-listen", "\(metricsPort)", "--out", "prometheus-rw=\(prom.writeURL)"],
                           env: ["FLY_REGION": "ctl"])   // the controller's own region: not a label of its series
        let agents = try ["ams", "sin"].map { try region(port, $0, targets[$0]!, extra: $0 == "ams" ? ["--metrics-listen", "\(agentPort)"] : []) }
        var scraped = "", own = ""
        let live = eventually(within: 20) {
            scraped = (try? httpGet(port: metricsPort, "/metrics").body) ?? ""
            own = (try? httpGet(port: agentPort, "/metrics").body) ?? ""
            return hasRequests(scraped, regions: ["ams", "sin"]) && hasRequests(own, regions: ["ams"])
        }
        XCTAssertTrue(live, "both regions' series while the test runs, and the ams agent's own:\n\(scraped)\n\(own)\n\(c.stderr)")
        XCTAssertTrue(scraped.contains(#"luaload_users{testid="ctl""#), scraped)
        XCTAssertFalse(scraped.contains(#"region="ctl""#), scraped)
        XCTAssertFalse(hasRequests(own, regions: ["sin"]), "an agent's own series are its part only: \(own)")
        XCTAssertEqual(c.wait(), 1, c.stderr)   // the 401s are failures
        for a in agents { XCTAssertEqual(a.wait(), 1, a.stderr) }   // an agent's own run: its 401s are failures too
        XCTAssertFalse(c.stderr.contains("not delivered"), c.stderr)
        let doc = try document(c)
        let groups = try XCTUnwrap(doc["groups"] as? [String: [String: Any]])
        XCTAssertEqual(Set(groups.keys), ["ams", "sin"])
        let all = count(doc, nil)
        XCTAssertGreaterThan(all, 100)
        XCTAssertEqual(try prom.scalar(#"sum(luaload_requests_total{testid="ctl"})"#), Double(all))
        XCTAssertEqual(try prom.scalar(#"sum(luaload_request_duration_seconds_count{testid="ctl"})"#), Double(all), "_count summed over regions")
        XCTAssertEqual(try prom.scalar(#"sum(luaload_failures_total{testid="ctl"})"#), Double(count(doc, nil, "failures")))
        for (r, g) in groups {
            for name in ["health", "me"] {
                XCTAssertGreaterThan(count(g, name), 0, "\(r) \(name)")
                XCTAssertEqual(try prom.scalar(#"sum(luaload_requests_total{testid="ctl",region="\#(r)",name="\#(name)"})"#), Double(count(g, name)), "\(r) \(name)")
                XCTAssertEqual(try prom.scalar(#"sum(luaload_request_duration_seconds_count{testid="ctl",region="\#(r)",name="\#(name)"})"#), Double(count(g, name)))
            }
            // The agents keep failures as texts ("HTTP 401 Unauthorized"): labelled back to the status a one-box run gives.
            XCTAssertEqual(try prom.scalar(#"sum(luaload_requests_total{testid="ctl",region="\#(r)",status="401"})"#), Double(count(g, "me", "failures")))
            XCTAssertEqual(try prom.scalar(#"sum(luaload_requests_total{testid="ctl",region="\#(r)",status="ok"})"#), Double(count(g, "health")))
            let sent = count(g, nil) + (g["abandoned"] as? Int ?? 0)
            XCTAssertEqual(settledCount(sent) { targetTotal(targets[r]!) }, sent, "\(r): what its target saw")
        }
        // p95 per region from the buckets, as the dashboard asks: 2 ms and 20 ms targets, far apart on any box.
        let p95 = try prom.query(#"histogram_quantile(0.95, sum by (le, region) (luaload_request_duration_seconds_bucket{testid="ctl"}))"#)
        let byRegion = Dictionary(uniqueKeysWithValues: p95.map { ($0.0["region"] ?? "", $0.1) })
        XCTAssertLessThan(byRegion["ams"] ?? 1, byRegion["sin"] ?? 0, "\(byRegion)")
        XCTAssertGreaterThanOrEqual(byRegion["sin"] ?? 0, 0.02)
        try PrometheusTests.checkDashboard(prom, testid: "ctl", region: "sin")
    }

    /// An agent killed mid-run: its region's series keep its data up to its last second, equal to the
    /// controller's JSON (which keeps the same); a receiver that refuses the pushes is said in the summary, as on one box.
    func testALostAgentsDataStaysInItsRegionsSeriesAndAnUndeliveredPushIsSaid() throws {
        let prom = try PrometheusServer()
        defer { prom.stop() }
        let targets = try ["ams", "sin"].map { _ in try startDelayedTarget(latencyMs: 2) }
        defer { targets.forEach { $0.stop() } }
        // A receiver that refuses the data: the built-in target answers the OTLP POST 404 (a 4xx is not retried).
        let refusing = try startDelayedTarget(latencyMs: 0)
        defer { refusing.stop() }
        let port = try freeLinkPort()
        let c = try controller(port, agents: 2, ["-u", "4", "-d", "6s", "--tag", "testid=lost",
                                                 "--out", "prometheus-rw=\(prom.writeURL)", "--out", "otlp=http://127.0.0.1:\(refusing.port)/v1/metrics"])
        let ams = try region(port, "ams", targets[0]), sin = try region(port, "sin", targets[1])
        let pushed = eventually(within: 20) { ((try? prom.scalar(#"sum(luaload_requests_total{testid="lost",region="sin"})"#)) ?? nil ?? 0) > 0 }
        XCTAssertTrue(pushed, "the first pushes of sin went through: \(c.stderr)")
        sin.killNow()
        XCTAssertEqual(c.wait(), 1, c.stderr)   // an agent was lost
        XCTAssertEqual(ams.wait(), 1, ams.stderr)   // its 401s
        let doc = try document(c)
        let states = (doc["agents"] as? [[String: Any]] ?? []).map { (($0["tags"] as? [String: String])?["region"] ?? "", $0["state"] as? String ?? "") }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: states), ["ams": "done", "sin": "lost"])
        let lost = try XCTUnwrap((doc["groups"] as? [String: [String: Any]])?["sin"])
        XCTAssertGreaterThan(count(lost, "health"), 0)
        XCTAssertEqual(try prom.scalar(#"sum(luaload_requests_total{testid="lost",region="sin"})"#), Double(count(lost, nil)))
        XCTAssertEqual(try prom.scalar(#"sum(luaload_request_duration_seconds_count{testid="lost"})"#), Double(count(doc, nil)))
        XCTAssertEqual(try prom.scalar(#"sum(luaload_users{testid="lost"})"#), 0, "the final set: the test is over")
        XCTAssertTrue(c.stderr.contains("luaload controller: metrics:"), c.stderr)
        XCTAssertTrue(c.stderr.contains("the final push (the run's totals) was not delivered"), c.stderr)
        XCTAssertTrue(c.stderr.contains("http://127.0.0.1:\(refusing.port)/v1/metrics"), c.stderr)
        XCTAssertFalse(c.stderr.contains(prom.writeURL), "remote write delivered everything: \(c.stderr)")
    }

    /// Bad metrics options on a controller (and --web on a taken port) are usage errors before any agent is
    /// awaited, never ignored: the controller never said it listens.
    func testTheControllersMetricsOptionsAreCheckedBeforeAnyAgentIsAwaited() throws {
        let taken = try Link.listen(LinkAddress("127.0.0.1:0")!)
        defer { close(taken.fd) }
        let cases = [(["--metrics-listen", "\(taken.port)"], "--metrics-listen \(taken.port): cannot listen"),
                     (["--out", "prometheus-rw=https://prom.example/api/v1/write"], "--out prometheus-rw=https://"),
                     (["--metrics-buckets", "1s"], "--metrics-buckets and --metrics-token need --metrics-listen"),
                     (["--web", "127.0.0.1:\(taken.port)"], "--web: "),
                     (["--web", "127.0.0.1:0", "--metrics-listen", "\(taken.port)"], "--metrics-listen \(taken.port): cannot listen")]
        for (args, message) in cases {
            let c = try controller(try freeLinkPort(), agents: 1, ["-d", "1s", "--agents-timeout", "20s"] + args)
            XCTAssertEqual(c.wait(timeout: 10), 2, c.stderr)   // at once, not after --agents-timeout
            XCTAssertTrue(c.stderr.contains(message), c.stderr)
            XCTAssertFalse(c.stderr.contains("listening on"), "\(args): \(c.stderr)")
        }
    }

    /// A controller's tick carries its agents' posts two ways: unmerged (`currentWorkerStats`, what the page's live
    /// table reads without thresholds, and its checks: empty before) and by region (`currentAgentsSnapshot`, the
    /// series'): both add up to the merged view's requests every second.
    func testTheControllersTickCarriesItsAgentsStatsWholeAndByRegion() throws {
        let target = try startDelayedTarget(latencyMs: 2)
        defer { target.stop() }
        let c = try makeController(agents: 2, script: Luaload.script(Self.regionScript)) { $0.users = 2; $0.usersGiven = true; $0.duration = 3 }
        let procs = try agents(c, [target, target])
        var seen: [[Int]] = []
        var regions: [String] = []
        _ = try c.run(log: { _ in }, observer: { e in
            guard case .tick(let p) = e, let snapshot = p.currentAgentsSnapshot() else { return }
            let requests = { (w: [WorkerStats]) in w.reduce(0) { $0 + $1.rows.reduce(0) { $0 + $1.requests } } }
            regions = snapshot.groups.map(\.value)
            seen.append([p.currentStats().total.requests, requests(p.currentWorkerStats()), snapshot.groups.reduce(0) { $0 + requests($1.workers) }])
        })
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }
        XCTAssertEqual(Set(regions), ["r0", "r1"])
        XCTAssertGreaterThan(seen.last?[0] ?? 0, 0)
        XCTAssertTrue(seen.allSatisfy { $0[0] == $0[1] && $0[0] == $0[2] }, "merged, unmerged, by region: \(seen)")
    }
}
