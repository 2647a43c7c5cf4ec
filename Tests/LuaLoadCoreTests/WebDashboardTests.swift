import Foundation
import XCTest

/// --web in a real browser (Selenium with Debian's chromium-driver, headless) and through Locust's API with a
/// plain HTTP client: Tests/helpers/web_dashboard_test.py, run from the venv scripts/install-deps.sh --test makes.
/// Screenshots of the page under load land in .build/test-output/web/.
final class WebDashboardTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func runHelper(_ which: String) throws {
        let python = Self.root.appendingPathComponent(".venv-test/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else {
            return XCTFail("no selenium venv or chromedriver: run scripts/install-deps.sh --test (scripts/test.sh does)")
        }
        let out = Self.root.appendingPathComponent(".build/test-output/web").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [Self.root.appendingPathComponent("Tests/helpers/web_dashboard_test.py").path, Luaload.binary, out, which]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let box = DataBox()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { box.data = pipe.fileHandleForReading.readDataToEndOfFile(); done.signal() }
        let deadline = Date().addingTimeInterval(150)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        done.wait()
        let text = String(decoding: box.data, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("PASS " + which), text)
    }

    /// Final numbers on the page equal the JSON report's; users set on the page change what the target gets per
    /// second; Stop stops the run and the reports are written; screenshots at 1280×800 and phone width.
    func testDashboardInBrowser() throws { try runHelper("browser") }

    /// Locust's routes and fields with a plain HTTP client; a malformed request gets 400 and the run goes on.
    func testLocustWebAPI() throws { try runHelper("api") }

    /// Bound off the default loopback (127.0.0.2): every route answers 401 without the generated token.
    func testTokenOffDefaultLoopback() throws { try runHelper("token") }
}
