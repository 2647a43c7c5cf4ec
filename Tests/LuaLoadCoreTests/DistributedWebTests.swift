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
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { return "connect failed" }
        var request = line + " HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let form { request += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n" }
        request += "\r\n" + (form ?? "")
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var got: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            got += buf[0..<n]
        }
        return String(decoding: got, as: UTF8.self)
    }
}
