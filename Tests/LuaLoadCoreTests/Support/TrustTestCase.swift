import Foundation
import XCTest

/// What the tests of issue #18 share: a real server (TestHTTPServer), luaload run as a process.
class TrustTestCase: XCTestCase {
    var server: TestHTTPServer!

    override func setUpWithError() throws { server = try TestHTTPServer() }
    override func tearDown() { server.stop() }

    /// Starts luaload with `args` (no -q/--json added); returns it running, with its stderr collected.
    func start(_ args: [String]) throws -> (Process, DataBox, DispatchGroup) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Luaload.binary)
        p.arguments = args
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let box = DataBox(), group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { box.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        return (p, box, group)
    }

    /// Runs luaload to its end (at most 30 s): exit code and stderr.
    func runToEnd(_ args: [String]) throws -> (Int32, String) {
        let (p, box, group) = try start(args)
        let started = Date()
        while p.isRunning && Date().timeIntervalSince(started) < 30 { usleep(20_000) }
        if p.isRunning { p.terminate(); XCTFail("luaload did not finish") }
        p.waitUntilExit()
        group.wait()
        return (p.terminationStatus, String(decoding: box.data, as: UTF8.self))
    }

    func json(_ path: String) -> [String: Any] {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    let okTask = #"task(function() http.get("/ok") end)"#
}
