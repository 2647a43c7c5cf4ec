import Foundation
import LuaLoadCore
import LuaLoadWeb
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `--controller --web`: web's dashboard fed by the controller's merged seconds, its controls reaching every
/// agent, and Locust's master fields (`workers`, `worker_count`) in /stats/requests.
final class DistributedWebTests: DistributedTestCase {
    /// The controller's dashboard on a free loopback port, started (stopped by the caller).
    func dashboard(_ c: Controller) throws -> WebDashboard {
        var web = WebDashboard.Options()
        web.port = 0
        let dashboard = try WebDashboard(web, thresholds: c.thresholds, model: c.controlModel, controls: c.controls)
        dashboard.start()
        return dashboard
    }

    func testTheDashboardShowsTheAgentsAndItsUserChangeReachesEverySegment() throws {
        let targets = try [5, 5].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 2, script: Luaload.script(Self.regionScript)) { $0.users = 4; $0.usersGiven = true; $0.duration = 5 }
        let dashboard = try dashboard(c)
        defer { dashboard.stop() }
        let port = dashboard.server.port
        let procs = try agents(c, targets)
        var early: [String: Any] = [:], late: [String: Any] = [:], swarm = "", usersAfter: [Int] = []
        let result = try c.run(log: { _ in }, observer: { e in
            dashboard.observe(e)
            guard case .tick(let p) = e else { return }
            if p.tick == 2 {
                early = Self.json(Self.http(port, "GET /stats/requests"))
                swarm = Self.http(port, "POST /swarm", form: "user_count=2&spawn_rate=100")
            }
            if p.tick == 4 {
                late = Self.json(Self.http(port, "GET /stats/requests"))
                usersAfter = c.agentReports.map(\.users)
            }
        })
        dashboard.finish(result.total)
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }

        XCTAssertEqual(early["worker_count"] as? Int, 2, "\(early)")
        let workers = try XCTUnwrap(early["workers"] as? [[String: Any]])
        XCTAssertEqual(workers.map { $0["state"] as? String }, ["running", "running"])
        XCTAssertEqual(workers.map { $0["user_count"] as? Int }, [2, 2], "-u 4 over 2 segments")
        XCTAssertEqual(early["user_count"] as? Int, 4)
        XCTAssertTrue(swarm.hasPrefix("HTTP/1.1 200"), swarm)
        XCTAssertEqual(usersAfter, [1, 1], "users 2 = the global VUs 0-1: one in each segment")
        XCTAssertEqual(late["user_count"] as? Int, 2)
        XCTAssertEqual((late["workers"] as? [[String: Any]])?.map { $0["user_count"] as? Int }, [1, 1])

        // After the run the API serves the controller's final merge: its Aggregated row is the agents' requests, exactly.
        let final = Self.json(Self.http(port, "GET /stats/requests"))
        let aggregated = try XCTUnwrap((final["stats"] as? [[String: Any]])?.last)
        XCTAssertEqual(aggregated["name"] as? String, "Aggregated")
        XCTAssertEqual(aggregated["num_requests"] as? Int, result.total.total.requests)
        XCTAssertGreaterThan(result.total.total.requests, 0)
        XCTAssertEqual(final["state"] as? String, "stopped")
    }

    /// Four regions against targets with 5/30/60/120 ms added (25 ms apart: room for a loaded machine's overhead): the page's snapshot and Locust's /stats/requests carry
    /// the breakdown by region while the run goes on (each region's agents' histograms added), then the final merge's.
    func testTheDashboardBreaksTheTestDownByRegionLive() throws {
        let delays = [5, 30, 60, 120]
        let targets = try delays.map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        // 7 s: the tables' second table (tick 6, 5 s after the first) comes while every agent runs.
        let c = try makeController(agents: 4, script: Luaload.script(Self.regionScript)) { $0.users = 8; $0.usersGiven = true; $0.duration = 7 }
        let dashboard = try dashboard(c)
        defer { dashboard.stop() }
        let port = dashboard.server.port
        let procs = try agents(c, targets)
        var api: [String: Any] = [:], snapshot: [String: Any] = [:], lines: [String] = [], tables: [String: Any] = [:]
        let result = try c.run(log: { _ in }, observer: { e in
            dashboard.observe(e)
            // The tables of tick 6 (rebuilt at the first second, every 5 s and at the stop), every region by name.
            if case .tick(let p) = e, p.tick == 6, case let s = Self.json(Self.http(port, "GET /api/snapshot")),
               Set((s["group_rows"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String }).count == 4 { tables = s }
            guard case .tick(let p) = e, p.tick == 3 else { return }
            api = Self.json(Self.http(port, "GET /stats/requests"))
            snapshot = Self.json(Self.http(port, "GET /api/snapshot"))
            lines = p.groups?.lines() ?? []
        })
        dashboard.finish(result.total, groups: result.groups.map { LiveGroups($0, agents: result.agents) })
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }

        for doc in [api, snapshot] {
            let groups = try XCTUnwrap(doc["groups"] as? [String: Any], "\(doc.keys)")
            XCTAssertEqual(groups["by"] as? String, "region")
            let rows = try XCTUnwrap(groups["groups"] as? [[String: Any]])
            XCTAssertEqual(Set(rows.compactMap { $0["value"] as? String }), ["r0", "r1", "r2", "r3"])
            for row in rows {
                let k = Int((row["value"] as! String).dropFirst())!
                let p50 = row["p50_ms"] as? Double ?? -1, p99 = row["p99_ms"] as? Double ?? -1
                XCTAssertTrue(p50 >= Double(delays[k]) && p50 < Double(delays[k]) + 25, "live p50 of r\(k): \(p50) ms for \(delays[k]) ms added")
                XCTAssertGreaterThanOrEqual(p99, p50)
                XCTAssertEqual(row["users"] as? Int, 2, "\(row)")
                XCTAssertEqual(row["agents"] as? Int, 1)
                XCTAssertGreaterThan(row["requests"] as? Int ?? 0, 0)
                XCTAssertGreaterThan(row["rps"] as? Double ?? 0, 0)
                XCTAssertEqual(row["failures"] as? Int, 0)
            }
            // The faster region did more requests (~17x unloaded; still 4x with 30 ms of overhead a request): its rows
            // are its own, not an average.
            let requests = rows.sorted { ($0["value"] as! String) < ($1["value"] as! String) }.map { $0["requests"] as? Int ?? 0 }
            XCTAssertGreaterThan(requests[0], requests[3] * 4, "\(requests)")
        }
        try assertRegionAndNameRows(tables, delays: delays)
        XCTAssertEqual(lines.count, 4)
        XCTAssertTrue(lines[0].hasPrefix("r") && lines[0].contains("req/s") && lines[0].contains("p99"), "\(lines)")

        // At the end: the final merge's breakdown, each region's requests exactly its agent's report.
        let final = Self.json(Self.http(port, "GET /stats/requests"))
        let rows = try XCTUnwrap((final["groups"] as? [String: Any])?["groups"] as? [[String: Any]])
        let mergeGroups = try XCTUnwrap(result.groups)
        for g in mergeGroups.groups {
            XCTAssertEqual(rows.first { $0["value"] as? String == g.value }?["requests"] as? Int, g.summary.total.requests)
        }
        XCTAssertEqual(rows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }, result.total.total.requests)
    }

    /// The snapshot's rows by region and name (while running): one per region for the one name, its p50 its target's
    /// delay, its current req/s above 0, and the regions' requests add up to the name's row of the same tables.
    func assertRegionAndNameRows(_ tables: [String: Any], delays: [Int]) throws {
        let rows = try XCTUnwrap(tables["group_rows"] as? [[String: Any]], "\(tables.keys)")
        XCTAssertEqual(Set(rows.compactMap { $0["value"] as? String }), ["r0", "r1", "r2", "r3"])
        for row in rows {
            XCTAssertEqual(row["name"] as? String, "GET /health")
            let k = Int((row["value"] as! String).dropFirst())!, p50 = row["p50_ms"] as? Double ?? -1
            XCTAssertTrue(p50 >= Double(delays[k]) && p50 < Double(delays[k]) + 25, "p50 of r\(k), GET /health: \(p50) ms for \(delays[k]) ms added")
            XCTAssertGreaterThan(row["rps"] as? Double ?? 0, 0)
        }
        let name = (tables["rows"] as? [[String: Any]])?.first { $0["name"] as? String == "GET /health" }
        XCTAssertEqual(rows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }, name?["requests"] as? Int, "the same tick's tables")
    }

    /// The page in a real browser (Tests/helpers/controller_page_test.py): the "By region" table live, each region's
    /// p50 its own target's delay, then the final merge's. Screenshots in .build/test-output/controller/.
    func testTheRegionTableInABrowser() throws {
        let out = PythonHelper.root.appendingPathComponent(".build/test-output/controller").path
        try PythonHelper.run("controller_page_test.py", [Luaload.binary, out], marker: "controller")
    }

    static func json(_ response: String) -> [String: Any] {
        guard let r = response.range(of: "\r\n\r\n") else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(response[r.upperBound...].utf8))) as? [String: Any] ?? [:]
    }

    /// One request over a fresh loopback connection (Connection: close); the whole response.
    static func http(_ port: UInt16, _ line: String, form: String? = nil) -> String {
        var request = line + " HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let form { request += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n" }
        request += "\r\n" + (form ?? "")
        return loopbackExchange(port: Int(port), request) ?? "connect failed"
    }
}
