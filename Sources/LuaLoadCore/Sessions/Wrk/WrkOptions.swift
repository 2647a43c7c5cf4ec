/// What `luaload wrk` runs: wrk's command line, checked by the CLI.
public struct WrkOptions: Sendable {
    public var target: WrkTarget
    /// -s: the script; nil runs wrk's plain GET of the URL.
    public var scriptPath: String?
    /// The arguments after `--`, init(args)'s args[1...].
    public var args: [String] = []
    /// -c: connections in total, dealt round-robin to the threads.
    public var connections = 10
    /// -t: threads.
    public var threads = 2

    public init(target: WrkTarget, scriptPath: String?) {
        self.target = target
        self.scriptPath = scriptPath
    }
}
