import Foundation
import XCTest

/// Runs `luaload wrk` against a RecordingServer and reads what it printed and wrote (WrkTests, WrkRateTests).
class WrkHarness: XCTestCase {
    var server: RecordingServer!

    override func setUpWithError() throws { server = try RecordingServer() }
    override func tearDown() { server.stop() }

    struct Run { var exitCode: Int32; var stdout: String; var stderr: String; var json: [String: Any] }

    /// `luaload wrk ARGS --json FILE URL -- EXTRA` with a hard time limit.
    func wrk(_ args: [String], script: String? = nil, path: String = "/", extra: [String] = []) throws -> Run {
        let jsonPath = Luaload.temporaryDirectory + "luaload-wrk-\(UUID().uuidString).json"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Luaload.binary)
        p.arguments = ["wrk"] + args + (script.map { ["-s", Luaload.script($0)] } ?? []) + ["--json", jsonPath, server.url + path]
            + (extra.isEmpty ? [] : ["--"] + extra)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        let outBox = DataBox(), errBox = DataBox(), group = DispatchGroup()
        group.enter(); DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter(); DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate(); XCTFail("luaload wrk did not finish in time") }
        p.waitUntilExit()
        group.wait()
        var json: [String: Any] = [:]
        if let data = FileManager.default.contents(atPath: jsonPath) {
            json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            try? FileManager.default.removeItem(atPath: jsonPath)
        }
        return Run(exitCode: p.terminationStatus, stdout: String(decoding: outBox.data, as: UTF8.self),
                   stderr: String(decoding: errBox.data, as: UTF8.self), json: json)
    }

    func recorded(_ r: Run) -> Int { (r.json["total"] as? [String: Any])?["requests"] as? Int ?? -1 }
    func abandoned(_ r: Run) -> Int { r.json["abandoned"] as? Int ?? -1 }
    /// wrk's "N requests in" figure.
    func printedRequests(_ r: Run) -> Int? {
        r.stdout.split(separator: "\n").first { $0.contains(" requests in ") }
            .flatMap { Int($0.trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) }
    }

    /// Everything recorded reached the server and nothing else did: recorded + abandoned = received (the server
    /// parses the last ones, abandoned at the stop, a moment after luaload exits).
    func assertExactCounts(_ r: Run, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.exitCode, 0, r.stderr, file: file, line: line)
        XCTAssertGreaterThan(recorded(r), 0, file: file, line: line)
        let sent = recorded(r) + abandoned(r)
        XCTAssertEqual(sent, settledCount(sent) { server.requests.count }, file: file, line: line)
        XCTAssertEqual(printedRequests(r), recorded(r), r.stdout, file: file, line: line)
    }
}
