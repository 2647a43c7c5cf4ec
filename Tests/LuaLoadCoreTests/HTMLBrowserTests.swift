import Foundation
import XCTest

/// The HTML report of real runs, opened in a real browser (Selenium with Debian's chromium-driver, headless):
/// Tests/helpers/html_report_test.py checks that Chart.js draws every chart offline, that each name of the
/// list shows its own latency chart and a distribution whose bars add up to its requests, and that no x axis
/// repeats a label (a merged report's did: `0s 1s 1s 2s 2s`). Screenshots land in .build/test-output/html/.
final class HTMLBrowserTests: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    static let script = Luaload.script(#"""
    task(3, function() http.get("/ok", { name = "fast" }) end)
    task(1, function() http.get("/slow?ms=3", { name = "slow" }) end)
    task(1, function() http.get("/status/500", { name = "bad" }) end)
    """#)

    func testOpenModelRunReportInBrowser() throws {
        let html = Luaload.temporaryDirectory + "report-\(UUID().uuidString).html"
        let r = try Luaload.run(["-t", "1", "--rate", "100/s", "-d", "2.5s", "--max-vus", "10", "-H", server.url, "--html", html],
                                script: Self.script)
        XCTAssertEqual(r.exitCode, 1, r.stderr)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains(server.url), "the target")
        XCTAssertTrue(page.contains("--rate 100/s -d 2.5s"), "the command line")
        XCTAssertTrue(page.contains("<td>250</td>"), "250 arrivals scheduled")
        try browse(html, "open")
    }

    func testRunUnderASecondHasCharts() throws {
        let html = Luaload.temporaryDirectory + "short-\(UUID().uuidString).html"
        let r = try Luaload.run(["-t", "1", "-u", "2", "-n", "40", "-H", server.url, "--html", html], script: Self.script)
        XCTAssertEqual(r.exitCode, 1, r.stderr)
        try browse(html, "short")
    }

    func testMergedReportHasSaneAxes() throws {
        var files: [String] = [], runs: [Process] = []
        for region in ["near", "far"] {
            let json = Luaload.temporaryDirectory + "seg-\(region)-\(UUID().uuidString).json"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Luaload.binary)
            p.arguments = ["-t", "1", "-u", "3", "-d", "2.5s", "-H", server.url, "--tag", "region=\(region)", "-q", "--json", json, Self.script]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            files.append(json)
            runs.append(p)
            usleep(300_000)   // not quite together, as machines start
        }
        for p in runs { p.waitUntilExit() }
        let html = Luaload.temporaryDirectory + "merged-\(UUID().uuidString).html"
        let m = Process()
        m.executableURL = URL(fileURLWithPath: Luaload.binary)
        m.arguments = ["merge"] + files + ["--by", "region", "--html", html]
        m.standardOutput = FileHandle.nullDevice
        m.standardError = FileHandle.nullDevice
        try m.run()
        m.waitUntilExit()
        XCTAssertTrue(FileManager.default.fileExists(atPath: html))
        try browse(html, "merged")
    }

    func browse(_ html: String, _ name: String) throws {
        try PythonHelper.run("html_report_test.py", [html, PythonHelper.root.appendingPathComponent(".build/test-output/html").path, name],
                             marker: name, timeLimit: 90)
    }
}
