import Foundation

/// Runs `executable` with `args` (and `stdin`, `env` added to ours) within `timeLimit` seconds, draining both
/// pipes while it runs; its exit code and output.
func runProcess(_ executable: String, _ args: [String], stdin: String? = nil, env: [String: String] = [:],
                cwd: String? = nil, timeLimit: TimeInterval = 60) throws -> (code: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
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

/// Starts a server and waits (up to `timeout` s) until each of `ports` accepts on loopback; throws (and ends
/// it) when it exits first or does not become ready.
func launchServer(_ executable: String, _ args: [String], ports: [Int], cwd: URL? = nil, env: [String: String]? = nil,
                  stdout: FileHandle? = nil, timeout: TimeInterval = 10) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    if let env { p.environment = env }
    p.standardOutput = stdout ?? FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    while !ports.allSatisfy(canConnect) {
        guard p.isRunning, Date() < deadline else {
            stopProcess(p)
            throw NSError(domain: "launchServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(executable) did not start on \(ports): \(args)"])
        }
        usleep(20_000)
    }
    return p
}

/// Ends a child: SIGTERM, then SIGKILL if it is still there after `grace` seconds; reaped either way, so no
/// server outlives its test holding a port.
func stopProcess(_ p: Process, grace: TimeInterval = 5) {
    guard p.processIdentifier > 0 else { return }
    if p.isRunning { p.terminate() }
    let deadline = Date().addingTimeInterval(grace)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
}

/// Runs `start` on `count` ports the kernel just said were free, again on new ones if it throws (up to
/// `attempts` times): between freePort() and the server's bind, another process's connection can take a port.
func onFreePorts<T>(_ count: Int, attempts: Int = 3, _ start: ([Int]) throws -> T) throws -> T {
    var attempt = 1
    while true {
        let listeners = try (0..<count).map { _ in try listenSocket() }   // held together: never the same port twice
        listeners.forEach { close($0.0) }
        let ports = listeners.map(\.1)
        do { return try start(ports) } catch where attempt < attempts { attempt += 1 }
    }
}

/// A server started on a port picked free (`args` given the port), again on another if it does not start.
func launchOnFreePort(_ executable: String, cwd: URL? = nil, env: [String: String]? = nil, stdout: FileHandle? = nil,
                      _ args: (Int) -> [String]) throws -> (port: Int, process: Process) {
    try onFreePorts(1) { ports in (ports[0], try launchServer(executable, args(ports[0]), ports: ports, cwd: cwd, env: env, stdout: stdout)) }
}
