import Foundation
import XCTest

/// Runs the built luaload binary (next to the test bundle) and collects its output and JSON summary.
struct LualoadRun {
    var exitCode: Int32
    var stdout: String
    var stderr: String
    var json: [String: Any]

    var total: [String: Any] { json["total"] as? [String: Any] ?? [:] }
    var requests: Int { total["requests"] as? Int ?? -1 }
    var failuresCount: Int { total["failures"] as? Int ?? -1 }
    var abandoned: Int { json["abandoned"] as? Int ?? -1 }
    var stats: [[String: Any]] { json["stats"] as? [[String: Any]] ?? [] }
    var failures: [[String: Any]] { json["failures"] as? [[String: Any]] ?? [] }
    var errors: [[String: Any]] { json["errors"] as? [[String: Any]] ?? [] }

    func row(_ name: String, method: String = "GET") -> [String: Any]? {
        stats.first { $0["name"] as? String == name && $0["method"] as? String == method }
    }
    func requests(_ name: String, method: String = "GET") -> Int { row(name, method: method)?["requests"] as? Int ?? 0 }
    func failures(_ name: String, method: String = "GET") -> Int { row(name, method: method)?["failures"] as? Int ?? 0 }
    func failureErrors() -> [String] { failures.compactMap { $0["error"] as? String } }
}

enum Luaload {
    static var binary: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The test runner lives inside the .xctest bundle on some layouts.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("luaload").path) && dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("luaload").path
    }

    /// Test scripts and outputs go to one folder per test process, removed when the process exits (a suite
    /// writes hundreds of files). Names stay short: Lua cuts a chunk name over 60 bytes to "...tail", and the
    /// tests look for the script's whole path in error messages.
    static let temporaryDirectory: String = {
        let dir = NSTemporaryDirectory() + "ll-\(getpid())/"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "ll-\(getpid())/") }
        return dir
    }()

    static func script(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let path = temporaryDirectory + "t-\(UUID().uuidString).lua"
        try! source.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `luaload args… script` with --json and a hard time limit.
    static func run(_ args: [String], script: String, timeLimit: TimeInterval = 60) throws -> LualoadRun {
        let jsonPath = temporaryDirectory + "luaload-test-\(UUID().uuidString).json"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args + ["-q", "--json", jsonPath, script]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(timeLimit)
        // Drain both pipes while it runs, so a chatty process never blocks on a full pipe.
        let outBox = DataBox(), errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate(); XCTFail("luaload did not finish within \(timeLimit)s") }
        p.waitUntilExit()
        group.wait()
        let outData = outBox.data, errData = errBox.data
        var json: [String: Any] = [:]
        if let data = FileManager.default.contents(atPath: jsonPath) {
            json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            try? FileManager.default.removeItem(atPath: jsonPath)
        }
        return LualoadRun(exitCode: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: String(decoding: errData, as: UTF8.self), json: json)
    }
}

final class DataBox: @unchecked Sendable { var data = Data() }
