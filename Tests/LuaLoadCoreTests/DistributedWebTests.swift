import Foundation
import LuaLoadCore
import LuaLoadWeb
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `--controller --web`: web's dashboard fed by the controller's merged seconds, its controls reaching every
/// agent, and Locust's master fields (`workers`, `worker_count`) in /stats/requests.
final class DistributedWebTests: XCTestCase {
    let token = "t0ken-\(UUID().uuidString.prefix(8))"

    func testTheDashboardShowsTheAgentsAndItsUserChangeReachesEverySegment() throws {
        let targets = try [5, 5].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        var run = RunOptions(scriptPath: Luaload.script(DistributedTests.regionScript), threads: 1)
        run.users = 4
        run.usersGiven = true
        run.duration = 5
        var o = ControllerOptions(address: LinkAddress("127.0.0.1:0")!, agents: 2, token: token)
        o.agentsTimeout = 30
        let c = try Controller(options: o, run: run)
        var web = WebDashboard.Options()
        web.port = 0
        let dashboard = try WebDashboard(web, thresholds: c.thresholds, model: c.controlModel, controls: c.controls)
        dashboard.start()
        defer { dashboard.stop() }
        let port = dashboard.server.port
        let procs = try targets.enumerated().map { k, t in
            try AgentProcess(port: c.port, token: token, tags: ["region=r\(k)"], env: ["TARGET": "http://127.0.0.1:\(t.port)"])
        }
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
