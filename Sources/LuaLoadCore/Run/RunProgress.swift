/// What `Runner.run` tells its observer while a test runs. The library prints nothing: the command line
/// turns these into the live status line, the --print-stats tables and its messages.
public enum RunEvent {
    /// Once a second, just after the workers posted that second. Ticks go on after the stop while the
    /// workers wind down (`RunProgress.stopping`).
    case tick(RunProgress)
    /// The stop went out to the workers: the duration is over, or Ctrl-C / SIGTERM came.
    case stopSent
    /// SIGINT or SIGTERM came: the run stops (`now` false: running tasks may finish, again to stop now),
    /// or, at a second one, stops at once (`now` true: in-flight requests abandoned).
    case interrupted(now: Bool)
}

/// One second of a running test, as the main thread merged it from the workers.
public struct RunProgress {
    /// Seconds since the workers started.
    public var elapsed: Double
    /// Which tick this is: 1 at the first second.
    public var tick: Int
    public var activeUsers: Int
    /// The users the run aims at now: `-u`, or a ramp's current target (the open model: its VU pool).
    public var targetUsers: Int
    /// "stage 2/3" of --stages / --rate-stages, or "shape"; nil for fixed users.
    public var stage: String? = nil
    /// The open model: the arrival rate now (per second).
    public var targetRate: Double? = nil
    /// The open model: arrivals so far (started, dropped for want of a VU, late).
    public var arrivals: ArrivalCounts? = nil
    /// This second's requests and failures.
    public var requests: Int
    public var failures: Int
    /// Requests and failures over the last 10 seconds, this one included.
    public var recentRequests: Int
    public var recentFailures: Int
    /// Script errors this second and so far, the first one's message (its `file:line` first), and
    /// connection failures this second (also counted in `failures`).
    public var scriptErrors = 0
    public var scriptErrorsTotal = 0
    public var firstScriptError: String? = nil
    public var connectionFailures = 0
    /// Whether the stop was sent: the workers are winding down.
    public var stopping: Bool
    /// This second as the history keeps it (users, counts, p50/p95/p99), for live charts.
    public var point: HistoryPoint? = nil
    /// A controller's tick: its agents as they are now (Locust's master fields `workers`, `worker_count`).
    public var agents: [AgentReport]? = nil
    /// A controller's tick: the breakdown by its `--by` tag (region), each value's agents' seconds added.
    public var groups: LiveGroups? = nil
    /// The last 10 seconds' latencies, one histogram a second; merged only when asked for.
    var recentLatencies: [LatencyHistogram]
    /// Builds the per-row table from the workers' latest posts.
    var statsNow: () -> Summary
    /// The workers' latest posts as they are (for live views that merge only what they show).
    var workersNow: () -> [WorkerStats] = { [] }
    /// A controller's tick: its agents' stats and tags, as values taken at the tick.
    var agentsNow: (() -> AgentsSnapshot)? = nil

    /// Latencies (µs) over the last 10 seconds, this one included.
    public func recentLatency() -> LatencyHistogram {
        var window = makeLatencyHistogram()
        for h in recentLatencies { window.add(h) }
        return window
    }

    /// The cumulative per-row stats so far (rates over `elapsed`): what --print-stats prints. It reads
    /// every worker's last post, so it costs a copy of each row: call it only when it is shown.
    public func currentStats() -> Summary { statsNow() }

    /// Each worker's cumulative stats as of its last post, unmerged: a copy of references, no histogram work.
    public func currentWorkerStats() -> [WorkerStats] { workersNow() }

    /// A controller's tick: each agent's cumulative stats and tags as values (nil in a plain run), as they
    /// stood at the tick; any thread may read it.
    public func currentAgentsSnapshot() -> AgentsSnapshot? { agentsNow?() }
}
