import Foundation
import LuaLoadCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The run package: the files a script opens while it runs (named in quotes in its source) are sent too,
/// placed where the agent's script looks for them; one the controller cannot send calls the run off before
/// any agent starts, naming the script's file:line; a computed name is said once.
final class DistributedFilesTests: DistributedTestCase {
    func folder(_ files: [String: String]) throws -> String {
        let dir = Luaload.temporaryDirectory + "files-\(UUID().uuidString)"
        for (name, text) in files {
            let path = dir + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// Runs `body` with the working directory in `dir` (the controller reads names relative to it).
    func inside<T>(_ dir: String, _ body: () throws -> T) rethrows -> T {
        let before = FileManager.default.currentDirectoryPath
        chdir(dir)
        defer { chdir(before) }
        return try body()
    }

    func collect(_ script: String) throws -> RunPackage { try RunPackage.collect(RunOptions(scriptPath: script, threads: 1)) }

    func testFilesOpenedWhileRunningAreSentOrTheRunIsRefusedBeforeTraffic() throws {
        let dir = try folder([
            "rows.txt": "from-the-file\n", "data/lines.txt": "a\nb\n", "data/users.csv": "name\nx\n",
            "s.lua": """
                local users = data.csv("data/users.csv")
                task(function()
                  local f = io.open("rows.txt")        -- while it runs: sent
                  local lines = data.lines("data/lines.txt")
                  local out = io.open("out.txt", "w")  -- written: nothing to send
                  local g = io.open(os.getenv("X"))    -- computed: said once
                end)
                """,
            "bad.lua": "task(function()\n  -- io.open(\"in-a-comment.txt\")\n  local f = io.open('missing.txt')\nend)\n",
            "up.lua": "task(function() local f = io.open('../x.txt') end)\n",
        ])
        let p = try inside(dir) { try collect("s.lua") }
        XCTAssertEqual(p.files.map(\.path), ["s.lua", "data/users.csv", "rows.txt", "data/lines.txt"])
        XCTAssertEqual(p.notes.count, 1, "\(p.notes)")
        XCTAssertTrue(p.notes[0].hasPrefix("s.lua:6: io.open of a computed file name"), p.notes[0])
        XCTAssertThrowsError(try inside(dir) { try collect("bad.lua") }) {
            XCTAssertTrue("\($0)".hasPrefix("bad.lua:3: opens \"missing.txt\" while the test runs, and there is no such file here"), "\($0)")
        }
        try "x\n".write(toFile: dir + "/../x.txt", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try inside(dir) { try collect("up.lua") }) { XCTAssertTrue("\($0)".contains("outside its folder"), "\($0)") }
        // From the folder above, a name relative to the working directory is placed under that name as well.
        let name = (dir as NSString).lastPathComponent
        try "task(function() local f = io.open('\(name)/rows.txt') end)\n".write(toFile: dir + "/above.lua", atomically: true, encoding: .utf8)
        let above = try inside(dir + "/..") { try collect(name + "/above.lua") }
        XCTAssertEqual(above.files.map(\.path), ["above.lua", "rows.txt", name + "/rows.txt"])
        // By the script's absolute path from elsewhere: data.csv still finds its files through the script's folder,
        // but io.open("rows.txt") names a file of the working directory, which is not here: refused, as it would fail.
        XCTAssertThrowsError(try collect(dir + "/s.lua")) { XCTAssertTrue("\($0)".hasSuffix("s.lua:3: opens \"rows.txt\" while the test runs, and there is no such file here to send the agents: put it in the script's folder (\(dir)), or open it while the script loads"), "\($0)") }
        try "local u = data.csv('data/users.csv')\ntask(function() end)\n".write(toFile: dir + "/d.lua", atomically: true, encoding: .utf8)
        let viaData = try collect(dir + "/d.lua")
        XCTAssertEqual(viaData.files.map(\.path), ["d.lua", "data/users.csv"])
        XCTAssertEqual(viaData.notes, [])
    }

    /// End to end: the agent's task reads a file the controller found in the script's source and sent.
    func testAnAgentReadsAFileItsScriptOpensOnlyWhileRunning() throws {
        let target = try startDelayedTarget(latencyMs: 1)
        defer { target.stop() }
        let dir = try folder(["names.txt": "GET from names.txt\n", "s.lua": """
            host = os.getenv("TARGET")
            wait = constant(0.05)
            task(function()
              local f = assert(io.open("names.txt"))
              local name = f:read("l")
              f:close()
              http.get("/health", { name = name })
            end)
            """])
        let c = try inside(dir) { try makeController(agents: 1, script: "s.lua") { $0.users = 1; $0.usersGiven = true; $0.duration = 2 } }
        let agent = try AgentProcess(port: c.port, token: token, tags: ["region=r0"], env: ["TARGET": "http://127.0.0.1:\(target.port)"])
        let result = try c.run(log: { _ in }, observer: { _ in })
        XCTAssertEqual(agent.wait(), 0, agent.stderr)
        XCTAssertEqual(result.total.rows.map(\.name), ["GET from names.txt"])
        XCTAssertEqual(result.total.errors.count, 0)
        XCTAssertGreaterThan(result.total.total.requests, 5)
        // A file it cannot send: the command line refuses the run before any agent is awaited (exit 2).
        try "task(function() local f = io.open('not-here.txt') end)\n".write(toFile: dir + "/bad.lua", atomically: true, encoding: .utf8)
        let r = try AgentProcess(["--controller", "127.0.0.1:0", "--agents", "1", "--token", token, "-d", "1s", dir + "/bad.lua"])
        XCTAssertEqual(r.wait(), 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("bad.lua:1: opens \"not-here.txt\" while the test runs"), r.stderr)
        XCTAssertFalse(r.stderr.contains("listening"), r.stderr)
    }
}
