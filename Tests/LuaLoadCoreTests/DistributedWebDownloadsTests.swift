import Foundation
import LuaLoadCore
import LuaLoadWeb
import Synchronization
import XCTest

/// `--controller --web`: the page's downloads (HTML report, Locust's CSVs, the JSON report) are made on the web
/// server's thread from the tick's RunProgress while the controller's thread adds the agents' seconds into their
/// ledgers. They must read the values the tick took, never the ledgers (they raced: the tick's closures read
/// each agent's `AgentLedger.stats` on the server's thread while `AgentLedger.apply` wrote it on the controller's).
final class DistributedWebDownloadsTests: DistributedTestCase {
    /// Every report route, and what a well-formed answer of it is.
    static let routes: [(path: String, kind: String)] = [
        ("/stats/report", "html"), ("/stats/report?download=1", "html"), ("/stats/requests/csv", "csv"),
        ("/stats/failures/csv", "csv"), ("/exceptions/csv", "csv"), ("/api/stats.csv", "csv"),
        ("/api/report.json", "json"), ("/stats/requests", "json"), ("/api/snapshot", "json"), ("/stats/checks", "json"),
    ]

    func testManyDownloadsWhileAgentsRunAreWellFormedAndTheFinalReportIsTheMerge() throws {
        let targets = try [2, 2].map { try startDelayedTarget(latencyMs: $0) }
        defer { targets.forEach { $0.stop() } }
        let c = try makeController(agents: 2, script: Luaload.script(Self.regionScript)) { $0.users = 4; $0.usersGiven = true; $0.duration = 5 }
        var web = WebDashboard.Options()
        web.port = 0
        let dashboard = try WebDashboard(web, thresholds: c.thresholds, model: c.controlModel, controls: c.controls)
        dashboard.start()
        defer { dashboard.stop() }
        let port = dashboard.server.port
        let procs = try agents(c, targets)

        // Four clients fetch every route in turn, as fast as they can, until the run is over; each answer is
        // checked on the client's thread as it comes (so the checks overlap the run).
        let tick = Atomic<Int>(0), done = Atomic<Bool>(false)
        let seen = Mutex<(whileRunning: [Int], problems: [String])>((Array(repeating: 0, count: Self.routes.count), []))
        let clients = DispatchGroup()
        for k in 0..<4 {
            clients.enter()
            Thread.detachNewThread {
                defer { clients.leave() }
                var r = k % Self.routes.count
                while !done.load(ordering: .acquiring) {
                    let t = tick.load(ordering: .acquiring)
                    let response = DistributedWebTests.http(port, "GET " + Self.routes[r].path)
                    let problem = Self.problem(response, Self.routes[r], rows: t >= 4)   // every agent sent seconds by then
                    seen.withLock {
                        if t >= 2 { $0.whileRunning[r] += 1 }
                        if let problem, $0.problems.count < 20 { $0.problems.append(problem) }
                    }
                    r = (r + 1) % Self.routes.count
                }
            }
        }
        let result = try c.run(log: { _ in }, observer: { e in
            dashboard.observe(e)
            if case .tick(let p) = e { tick.store(p.tick, ordering: .releasing) }
        })
        done.store(true, ordering: .releasing)
        XCTAssertEqual(clients.wait(timeout: .now() + 20), .success)
        for a in procs { XCTAssertEqual(a.wait(), 0, a.stderr) }

        let (whileRunning, problems) = seen.withLock { $0 }
        XCTAssertEqual(problems, [])
        for (k, route) in Self.routes.enumerated() {
            XCTAssertGreaterThanOrEqual(whileRunning[k], 3, "\(route.path): fetched while the agents ran")
        }
        XCTAssertGreaterThan(result.total.total.requests, 100)
        try assertJSONIsTheMerge(result, procs)   // the final JSON is still the merge of the agents' own
    }

    /// What is wrong with an answer (nil: nothing): 200, and a body of its kind — a CSV whose every line has the
    /// header's columns, an HTML page with its stats rows, a JSON document; once the agents ran a while, the rows are there.
    static func problem(_ response: String, _ route: (path: String, kind: String), rows: Bool) -> String? {
        let what = route.path
        guard response.hasPrefix("HTTP/1.1 200"), let split = response.range(of: "\r\n\r\n") else {
            return "\(what): \(response.prefix(200))"
        }
        let body = response[split.upperBound...]
        switch route.kind {
        case "csv":
            var lines = body.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
            while lines.last?.isEmpty == true { lines.removeLast() }
            guard let header = lines.first, csvFields(header) > 2 else { return "\(what): no header: \(body.prefix(200))" }
            if let bad = lines.first(where: { csvFields($0) != csvFields(header) }) { return "\(what): \"\(bad)\" has not the header's columns" }
            // (Locust's /stats/requests/csv is the page's table, rebuilt every 5 s: rows from the first table on.)
            if rows && what == "/api/stats.csv" && !body.contains("GET /health") {
                return "\(what): no row: \(body.prefix(300))"
            }
        case "html":
            guard body.hasSuffix("</html>\n") || body.hasSuffix("</html>") else { return "\(what): cut short: …\(body.suffix(100))" }
            if rows && !body.contains("GET /health") { return "\(what): no stats row" }
        default:
            guard let doc = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] else {
                return "\(what): not JSON: \(body.prefix(200))"
            }
            let requests = (doc["total"] as? [String: Any])?["requests"] as? Int ?? -1
            if what == "/api/report.json" && rows && requests < 1 { return "\(what): \(requests) requests" }
        }
        return nil
    }

    /// The fields of one CSV line (RFC 4180 quoting: commas inside quotes, doubled quotes).
    static func csvFields(_ line: Substring) -> Int {
        var fields = 1, quoted = false
        for ch in line {
            if ch == "\"" { quoted.toggle() } else if ch == "," && !quoted { fields += 1 }
        }
        return quoted ? -1 : fields
    }
}
