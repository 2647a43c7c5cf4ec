import Foundation
import LuaLoadCore
import LuaLoadServe
#if canImport(Glibc)
import Glibc
#endif

/// A `luaload agent` child process for the distributed tests: output to files, read once it ended.
final class AgentProcess {
    let process = Process()
    let json: String
    private let out: String, err: String

    convenience init(port: UInt16, token: String, tags: [String], env: [String: String] = [:], extra: [String] = []) throws {
        try self.init(["agent", "127.0.0.1:\(port)", "--token", token, "-q", "-t", "1", "--connect-timeout", "20s"]
                      + tags.flatMap { ["--tag", $0] } + extra, env: env, json: true)
    }

    /// `luaload args…` (with `--json FILE` added when `json`), started.
    init(_ args: [String], env: [String: String] = [:], json withJSON: Bool = false, executable: String = Luaload.binary) throws {
        let base = Luaload.temporaryDirectory + "agent-\(UUID().uuidString)"
        json = base + ".json"
        out = base + ".out"
        err = base + ".err"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args + (withJSON ? ["--json", json] : [])
        process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        process.standardOutput = FileHandle(forWritingAtPath: out)
        process.standardError = FileHandle(forWritingAtPath: err)
        try process.run()
    }

    /// Waits up to `timeout` s for the exit (then kills it); its exit code, -1 when it had to be killed.
    @discardableResult
    func wait(timeout: Double = 30) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return -1 }
        return process.terminationStatus
    }

    func killNow() { kill(process.processIdentifier, SIGKILL) }

    var stderr: String { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }
    var stdout: String { (try? String(contentsOfFile: out, encoding: .utf8)) ?? "" }
}

/// The built-in target on a free loopback port, with `latencyMs` added to every response.
func startDelayedTarget(latencyMs: Int) throws -> TargetServer {
    var options = ServeOptions()
    options.port = 0
    options.threads = 1
    options.latencyMicros = UInt64(latencyMs * 1000)
    let server = try TargetServer(options: options)
    server.start()
    return server
}

/// Every request a built-in target answered.
func targetTotal(_ server: TargetServer) -> Int {
    let stats = (try? JSONSerialization.jsonObject(with: Data(server.statsJSON().utf8))) as? [String: Any] ?? [:]
    return stats["total"] as? Int ?? -1
}
