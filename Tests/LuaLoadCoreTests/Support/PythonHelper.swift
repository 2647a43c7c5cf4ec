import Foundation
import XCTest

/// Runs one of Tests/helpers/*.py with the venv's Python (scripts/install-deps.sh --test makes it: Selenium,
/// hdrh, httpbin…), with a time limit; the helper passes when it exits 0 and prints "PASS <marker>".
enum PythonHelper {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func run(_ helper: String, _ args: [String], marker: String, timeLimit: TimeInterval = 150,
                    file: StaticString = #filePath, line: UInt = #line) throws {
        let python = root.appendingPathComponent(".venv-test/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else {
            return XCTFail("no selenium venv or chromedriver: run scripts/install-deps.sh --test (scripts/test.sh does)", file: file, line: line)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [root.appendingPathComponent("Tests/helpers/" + helper).path] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let box = DataBox()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { box.data = pipe.fileHandleForReading.readDataToEndOfFile(); done.signal() }
        let deadline = Date().addingTimeInterval(timeLimit)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        done.wait()
        let text = String(decoding: box.data, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, text, file: file, line: line)
        XCTAssertTrue(text.contains("PASS " + marker), text, file: file, line: line)
    }
}
