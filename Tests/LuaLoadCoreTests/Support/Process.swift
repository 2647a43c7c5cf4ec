import Foundation

/// Runs `executable` with `args` (and `stdin`, `env` added to ours) within `timeLimit` seconds, draining both
/// pipes while it runs; its exit code and output.
func runProcess(_ executable: String, _ args: [String], stdin: String? = nil, env: [String: String] = [:],
                timeLimit: TimeInterval = 60) throws -> (code: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
    let out = Pipe(), err = Pipe(), input = Pipe()
    p.standardOutput = out
    p.standardError = err
    if stdin != nil { p.standardInput = input }
    try p.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)); input.fileHandleForWriting.closeFile() }
    let errBox = DataBox()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); done.signal() }
    let timer = DispatchWorkItem { if p.isRunning { p.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeLimit, execute: timer)
    let o = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    timer.cancel()
    done.wait()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: errBox.data, as: UTF8.self))
}
