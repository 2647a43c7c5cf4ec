import LuaLoadCore
import LuaLoadLoop

/// The Runner's observer for metrics. A tick only keeps the newest RunProgress (a few references); a set
/// is built from it when something consumes one: a scrape (on the listener's thread, at most once per
/// tick however often it is scraped) or a remote-write push (on the main thread, every interval). At the
/// end the final set is built from the run's Summary, so the series end on exactly the JSON's totals.
/// Nothing here touches a worker or runs per request.
public final class MetricsPublisher: @unchecked Sendable {
    public let builder: MetricsBuilder
    public let writers: [RemoteWriter]
    private let thresholds: [Threshold]
    /// Guards everything below: the main thread (ticks, pushes, the end) and the listener's (scrapes).
    private let lock = Signal()
    private var pendingTick: RunProgress?
    /// A controller's tick: its agents' stats, taken on its thread (the series by region are built from them).
    private var pendingAgents: AgentsSnapshot?
    private var latestSet: MetricSet
    private var lastBuiltMicros: UInt64 = 0
    private var lastTimestampMs: Int64 = 0
    /// Said once, the first time a row is left out.
    public private(set) var warnings: [String] = []
    /// Called with a warning the moment it arises (the CLI prints it), on the thread that built the set.
    public var onWarning: (String) -> Void = { _ in }

    public init(config: MetricsConfig, writers: [RemoteWriter], thresholds: [Threshold]) {
        builder = MetricsBuilder(config: config)
        self.writers = writers
        self.thresholds = thresholds
        latestSet = MetricSet(timestampMs: Self.nowMs())
    }

    /// The newest set, built now from the newest tick if that one was not built yet (any thread).
    public var latest: MetricSet {
        lock.locked {
            if pendingTick != nil { latestSet = buildPending() }
            return latestSet
        }
    }

    public func start() { for w in writers { w.start() } }

    public func observe(_ event: RunEvent) {
        guard case .tick(let progress) = event else { return }
        let agents = progress.currentAgentsSnapshot()   // nil but on a controller
        let now = monotonicMicros()
        let set: MetricSet? = lock.locked {
            pendingTick = progress
            pendingAgents = agents
            guard let writer = writers.first, now >= lastBuiltMicros + writer.intervalMicros - 500_000 else { return nil }
            lastBuiltMicros = now
            latestSet = buildPending()
            return latestSet
        }
        if let set { for w in writers { w.offer(set) } }
    }

    /// The final set from the run's Summary (users 0: the run is over); pushes it when writing, and
    /// returns what the summary should say (series left out, pushes not delivered). A controller's gives
    /// its breakdown's groups (nil when no agent had the tag).
    public func finish(_ summary: Summary, groups: [(value: String, summary: Summary)]? = nil) -> [String] {
        let facts = RunFacts(users: 0, arrivals: summary.arrivals, thresholds: summary.thresholdResults)
        let (set, leftOut): (MetricSet, String?) = lock.locked {
            pendingTick = nil
            pendingAgents = nil
            latestSet = builder.config.breakdown == nil ? builder.build(summary, facts, timestampMs: nextTimestamp())
                : builder.build(builder.parts(summary, groups: groups), thresholds: summary.thresholdResults, timestampMs: nextTimestamp())
            warnOnce()
            return (latestSet, leftOutNote())
        }
        var notes = leftOut.map { [$0] } ?? []
        // Every receiver's final push at once: each has its own budget, so a dead one does not delay the others'.
        for w in writers { w.beginFinish(set) }
        for w in writers { if let note = w.awaitFinish().note(url: w.url) { notes.append(note) } }
        return notes
    }

    /// A set from the newest tick (the lock held).
    private func buildPending() -> MetricSet {
        guard let progress = pendingTick else { return latestSet }
        pendingTick = nil
        if let agents = pendingAgents {
            pendingAgents = nil
            let set = builder.build(builder.parts(agents), thresholds: agents.verdicts(thresholds), timestampMs: nextTimestamp())
            warnOnce()
            return set
        }
        var verdicts: [ThresholdResult] = []
        if !thresholds.isEmpty {   // thresholds read a Summary: merged only when the run has any
            var stats = progress.currentStats()
            stats.arrivals = progress.arrivals
            verdicts = thresholds.map { $0.evaluate(stats) }
        }
        let facts = RunFacts(users: progress.activeUsers, arrivals: progress.arrivals, thresholds: verdicts)
        let input = MetricInput(workers: progress.currentWorkerStats(), buckets: builder.config.buckets)
        let set = builder.build(input, facts, timestampMs: nextTimestamp())
        warnOnce()
        return set
    }

    private func warnOnce() {
        guard warnings.isEmpty, let note = leftOutNote() else { return }
        warnings.append(note)
        onWarning(note)
    }

    private func leftOutNote() -> String? {
        guard !builder.leftOut.isEmpty else { return nil }
        // A controller's keys end with their part (region): a name left out in two regions is one name.
        let names = Set(builder.leftOut.map { $0.split(separator: Character(MetricPart.separator), maxSplits: 1).first.map(String.init) ?? $0 })
        let requests = names.filter { !$0.hasPrefix(MetricsBuilder.scriptKeyPrefix) }.count
        let script = names.count - requests
        let what = [requests > 0 ? "\(requests) request names" : nil, script > 0 ? "\(script) checks or custom metric series" : nil].compactMap { $0 }.joined(separator: " and ")
        return "metrics: \(what) left out of the series: they would take them past --metrics-max-series \(builder.config.maxSeries) (raise it, or group URLs with name =)"
    }

    /// luaload's wall clock (Unix ms), strictly increasing from one set to the next.
    private func nextTimestamp() -> Int64 {
        lastTimestampMs = max(Self.nowMs(), lastTimestampMs + 1)
        return lastTimestampMs
    }

    static func nowMs() -> Int64 { Int64((wallClockSeconds() * 1000).rounded()) }
}
