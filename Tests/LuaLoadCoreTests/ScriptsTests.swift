import Foundation
import XCTest
import LuaLoadCore
import LuaLoadServe

/// Every example script against the built-in target: zero failures, and the target's per-route counts
/// equal luaload's, with the requests abandoned at the stop as the only difference.
final class ScriptsTests: XCTestCase {
    static var scriptsDir: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts")
    }

    /// The built-in target on a free loopback port, started.
    func startTarget(errorRate: Double = 0) throws -> TargetServer {
        var options = ServeOptions()
        options.port = 0
        options.threads = 1
        options.errorRate = errorRate
        let server = try TargetServer(options: options)
        server.start()
        return server
    }

    func routeCounts(_ server: TargetServer) throws -> [String: Int] {
        let stats = try JSONSerialization.jsonObject(with: Data(server.statsJSON().utf8)) as? [String: Any] ?? [:]
        var out: [String: Int] = [:]
        for (route, byStatus) in stats["routes"] as? [String: [String: Int]] ?? [:] {
            out[route] = byStatus.values.reduce(0, +)
        }
        return out
    }

    func testEveryScriptRunsCleanAgainstTheBuiltInTarget() throws {
        let scripts = try FileManager.default.contentsOfDirectory(atPath: Self.scriptsDir.path).filter { $0.hasSuffix(".lua") }.sorted()
        XCTAssertEqual(scripts, ["auth_api.lua", "event_ingest.lua", "login_users.lua", "mixed.lua", "ramp.lua", "smoke.lua", "upload_presign.lua"])
        for name in scripts {
            let server = try startTarget()
            defer { server.stop() }
            let users = name == "ramp.lua" ? [] : ["-u", "12"]   // ramp.lua's stages set its users
            let r = try Luaload.run(["-t", "2", "-d", "4s", "-H", "http://127.0.0.1:\(server.port)"] + users,
                                    script: Self.scriptsDir.appendingPathComponent(name).path)
            settledCount(r.requests + r.abandoned) { targetTotal(server) }   // it counts a request when it has read it
            XCTAssertEqual(r.exitCode, 0, "\(name): \(r.failureErrors()) \(r.errors)")
            XCTAssertEqual(r.failuresCount, 0, name)
            XCTAssertTrue(r.errors.isEmpty, "\(name): \(r.errors)")
            XCTAssertGreaterThan(r.requests, 10, name)
            let served = try routeCounts(server)
            var missing = 0
            for row in r.stats {
                let rowName = row["name"] as? String ?? ""
                let route = rowName.replacingOccurrences(of: ":id", with: "{id}")
                let recorded = row["requests"] as? Int ?? 0
                let seen = served[route] ?? -1
                XCTAssertTrue(seen >= recorded && seen <= recorded + r.abandoned, "\(name) \(route): server \(seen), luaload \(recorded) + \(r.abandoned) abandoned")
                missing += seen - recorded
            }
            XCTAssertEqual(missing, r.abandoned, "\(name): the requests the server saw beyond luaload's are those abandoned at the stop")
            XCTAssertEqual(served.values.reduce(0, +), r.requests + r.abandoned, name)
        }
    }

    func testInjectedErrorRateShowsAsFailures() throws {
        let server = try startTarget(errorRate: 0.1)
        defer { server.stop() }
        let script = Luaload.script(#"task(function() http.get("/health") end)"#)
        let r = try Luaload.run(["-t", "1", "-u", "10", "-n", "3000", "-H", "http://127.0.0.1:\(server.port)"], script: script)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(r.requests, 3000)
        let share = Double(r.failuresCount) / Double(r.requests)
        XCTAssertEqual(share, 0.1, accuracy: 0.025, "failure share \(share)")
        XCTAssertEqual(r.failureErrors(), ["HTTP 500 Internal Server Error"])
    }
}
