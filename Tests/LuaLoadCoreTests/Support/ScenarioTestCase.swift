import Foundation
import XCTest

/// What the `scenarios` tests share: a recording test server per test, luaload run as a process, its JSON
/// read back, and temporary file names.
class ScenarioTestCase: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    func luaload(_ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) {
        try runProcess(Luaload.binary, args, timeLimit: 60)
    }

    func json(_ path: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))) as? [String: Any] ?? [:]
    }

    func tmp(_ name: String) -> String { Luaload.temporaryDirectory + "scen-\(UUID().uuidString)-" + name }

    /// Waits until the server has read every request a run's JSON says went out (recorded + abandoned):
    /// it counts a request when it has read it, which may be after luaload exited.
    func settle(_ doc: [String: Any]) {
        let sent = ((doc["total"] as? [String: Any])?["requests"] as? Int ?? 0) + (doc["abandoned"] as? Int ?? 0)
        _ = settledCount(sent) { server.total }
    }
}
