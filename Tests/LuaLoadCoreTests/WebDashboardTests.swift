import Foundation
import XCTest

/// --web in a real browser (Selenium with Debian's chromium-driver, headless) and through Locust's API with a
/// plain HTTP client: Tests/helpers/web_dashboard_test.py, run from the venv scripts/install-deps.sh --test makes.
/// Screenshots of the page under load land in .build/test-output/web/.
final class WebDashboardTests: XCTestCase {
    func runHelper(_ which: String) throws {
        let out = PythonHelper.root.appendingPathComponent(".build/test-output/web").path
        try PythonHelper.run("web_dashboard_test.py", [Luaload.binary, out, which], marker: which)
    }

    /// Final numbers on the page equal the JSON report's; users set on the page change what the target gets per
    /// second; Stop stops the run and the reports are written; screenshots at 1280×800 and phone width.
    func testDashboardInBrowser() throws { try runHelper("browser") }

    /// Locust's routes and fields with a plain HTTP client; a malformed request gets 400 and the run goes on.
    func testLocustWebAPI() throws { try runHelper("api") }

    /// Bound off the default loopback (127.0.0.2): every route answers 401 without the generated token.
    func testTokenOffDefaultLoopback() throws { try runHelper("token") }
}
