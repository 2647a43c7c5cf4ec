/// What to run: the command line's choices, checked by `Runner.init`.
public struct RunOptions: Sendable {
    public var scriptPath: String
    public var threads: Int
    public var users = 1
    /// Whether -u was given: with the script's `stages` or shape() it has no meaning, and says so.
    public var usersGiven = false
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
    /// HTTP/2: by ALPN over TLS (default), never (--http1.1), or also on cleartext (--http2-prior-knowledge).
    public var http2 = HTTP2Mode.alpn
    /// http.batch on HTTP/1.1: connections a VU's batch opens per host (--batch-per-host; 0: one after another).
    public var batchPerHost = 6
    /// --h2-pool N: each thread's VUs share N HTTP/2 connections to the target (0: each VU its own).
    public var h2Pool = 0
    /// --stages: ramping users (closed model), overriding the script's `stages` / shape().
    public var stages: [Stage]?
    /// --rate: arrivals per second (open model); with `rateStages`, the rate at the start.
    public var rate: Double?
    /// --rate-stages: a ramping arrival rate (open model).
    public var rateStages: [Stage]?
    /// --max-vus: the open model's VU pool (default `users`), and the most users shape() may ask for
    /// (default 1000).
    public var maxVUs: Int?
    /// --late: what an arrival that finds no free VU does.
    public var late = LateMode.queue
    /// --threshold, besides the script's `thresholds`.
    public var thresholds: [Threshold] = []
    /// `luaload wrk`: wrk's script, URL and connections instead of a Locust-model script (`users` are then
    /// the connections and `scriptPath` is unused; -R sets `rate`).
    public var wrk: WrkOptions?
    /// --segment i/N: this process runs segment i of a test split N ways (Segment.swift); whole by default.
    public var segment = Segment.whole
    /// Live controls (--web): users, rate, stop, reset posted while the test runs (RunControls.swift).
    /// With them, a closed-model run without -n or a ramp follows the posted user count (`isControlled`).
    public var controls: RunControls?
    /// --wait: no user starts until a `.start` control (or a stop) arrives.
    public var waitForStart = false
    /// -e NAME=value and --env-file: the script's `env`; --secret: values masked everywhere (SecretMask).
    public var env: [(name: String, value: String)] = []
    public var secrets: [String] = []
    /// --baseline: the run relative thresholds (`p95 < baseline * 1.10`) compare with.
    public var baseline: Baseline?

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
