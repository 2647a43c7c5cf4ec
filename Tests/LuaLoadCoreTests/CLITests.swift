import Foundation
import XCTest

/// Bad input before any traffic: exit code 2 and a one-line reason.
final class CLITests: XCTestCase {
    func check(_ args: [String], script: String, contains expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Luaload.run(args, script: script)
        XCTAssertEqual(r.exitCode, 2, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(expected), "stderr: \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stdout, "", file: file, line: line)
    }

    func testMissingScript() throws {
        try check([], script: "/nonexistent/x.lua", contains: "cannot read script /nonexistent/x.lua")
    }

    func testSyntaxErrorGivesFileAndLine() throws {
        let s = Luaload.script("task(function()\n  local x = = 1\nend)\n")
        try check(["-H", "http://127.0.0.1:1"], script: s, contains: "\(s):2:")
    }

    func testRuntimeErrorAtLoadGivesFileAndLine() throws {
        let s = Luaload.script("local x = nil\nx.y = 1\n")
        try check(["-H", "http://127.0.0.1:1"], script: s, contains: "\(s):2:")
    }

    func testBadArgumentsPointAtTheScriptLine() throws {
        let s = Luaload.script("task(\"not a function\")\n")
        try check([], script: s, contains: "\(s):1: task: expected a function")
        let s2 = Luaload.script("wait = between(3, 1)\ntask(function() end)\n")
        try check([], script: s2, contains: "\(s2):1: between")
    }

    func testScriptWithoutTasks() throws {
        let s = Luaload.script("local x = 1\n")
        try check(["-H", "http://127.0.0.1:1"], script: s, contains: "no tasks")
    }

    func testUnknownFlagAndBadHost() throws {
        let s = Luaload.script("task(function() end)\n")
        try check(["--bogus"], script: s, contains: "--bogus")
        try check(["-H", "ftp://x"], script: s, contains: "bad host URL")
        try check(["-d", "ten"], script: s, contains: "--duration")
    }

    func testHelp() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Luaload.binary)
        p.arguments = ["--help"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertTrue(text.contains("--spawn-rate"))
    }

    func testRequestsOutsideTasksAreRejectedAtLoad() throws {
        let s = Luaload.script("http.get('/x')\ntask(function() end)\n")
        try check(["-H", "http://127.0.0.1:1"], script: s, contains: "\(s):1: http.get: requests can only be made inside tasks")
    }
}
