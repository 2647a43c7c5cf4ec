/// What to run: the command line's choices, checked by `Runner.init`.
public struct RunOptions: Sendable {
    public var scriptPath: String
    public var threads: Int
    public var users = 1
    /// Users started per second; nil starts them all at once.
    public var spawnRate: Double?
    /// Seconds; nil runs until Ctrl-C (or until every VU has ended).
    public var duration: Double?
    public var host: String?
    public var timeout: Double = 30
    /// At the stop, running tasks may finish for up to this many seconds (Locust's --stop-timeout).
    public var stopTimeout: Double = 0
    /// Stop after this many task runs in total.
    public var iterations: Int?
    public var tags: [String] = []
    public var excludeTags: [String] = []
    /// Keep a per-name time series (for --csv-full-history): the per-row snapshots are merged each second.
    public var historyByName = false
    public var tls = TLSOptions()
    /// `luaload wrk`: wrk's script, URL and connections instead of a Locust-model script (`users` are then
    /// the connections and `scriptPath` is unused).
    public var wrk: WrkOptions?

    public init(scriptPath: String, threads: Int) {
        self.scriptPath = scriptPath
        self.threads = threads
    }
}

/// A problem found before any traffic: the CLI prints it and exits with code 2.
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
