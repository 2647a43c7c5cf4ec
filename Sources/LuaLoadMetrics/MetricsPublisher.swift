import LuaLoadCore
import LuaLoadLoop

/// The Runner's observer for metrics: at each tick it turns the merged snapshot into a MetricSet (when
/// something wants one: a listener every second, remote write every interval) and hands it over; at the
/// end it builds the final set from the run's Summary, so the series end on exactly the JSON's totals.
/// Runs on the main thread, off the workers: nothing here is per request.
public final class MetricsPublisher: @unchecked Sendable {
    public let builder: MetricsBuilder
    public let writer: RemoteWriter?
    private let thresholds: [Threshold]
    /// Whether /metrics is served (then a set is built every second).
    private let listening: Bool
    private let latestBox = Signal()
    private var latestSet: MetricSet
    private var lastBuiltMicros: UInt64 = 0
    private var lastTimestampMs: Int64 = 0
    /// Said once, the first time a row is left out.
    public private(set) var warnings: [String] = []
    /// Called on the main thread with a warning the moment it arises (the CLI prints it).
    public var onWarning: (String) -> Void = { _ in }

    public init(config: MetricsConfig, writer: RemoteWriter?, listening: Bool, thresholds: [Threshold]) {
        builder = MetricsBuilder(config: config)
        self.writer = writer
        self.listening = listening
        self.thresholds = thresholds
        latestSet = MetricSet(timestampMs: Self.nowMs())
    }

    /// The newest set: what a scrape renders (any thread).
    public var latest: MetricSet { latestBox.locked { latestSet } }

    public func start() { writer?.start() }

    public func observe(_ event: RunEvent) {
        guard case .tick(let progress) = event else { return }
        let now = monotonicMicros()
        let due = writer.map { now >= lastBuiltMicros + $0.intervalMicros - 500_000 } ?? false
        guard listening || due else { return }
        lastBuiltMicros = now
        var verdicts: [ThresholdResult] = []
        if !thresholds.isEmpty {   // thresholds read a Summary: merged only when the run has any
            var stats = progress.currentStats()
            stats.arrivals = progress.arrivals
            verdicts = thresholds.map { $0.evaluate(stats) }
        }
        let facts = RunFacts(users: progress.activeUsers, arrivals: progress.arrivals, thresholds: verdicts)
        let input = MetricInput(workers: progress.currentWorkerStats(), buckets: builder.config.buckets)
        publish(builder.build(input, facts, timestampMs: nextTimestamp()))
    }

    /// The final set from the run's Summary (users 0: the run is over); pushes it when writing, and
    /// returns what the summary should say (series left out, pushes not delivered).
    public func finish(_ summary: Summary) -> [String] {
        let facts = RunFacts(users: 0, arrivals: summary.arrivals, thresholds: summary.thresholdResults)
        let set = builder.build(summary, facts, timestampMs: nextTimestamp())
        publish(set)
        var notes = leftOutNote().map { [$0] } ?? []
        if let writer, let note = writer.finish(set).note(url: writer.url) { notes.append(note) }
        return notes
    }

    private func publish(_ set: MetricSet) {
        latestBox.locked { latestSet = set }
        writer?.offer(set)
        if !builder.leftOut.isEmpty && warnings.isEmpty, let note = leftOutNote() {
            warnings.append(note)
            onWarning(note)
        }
    }

    private func leftOutNote() -> String? {
        guard !builder.leftOut.isEmpty else { return nil }
        return "metrics: \(builder.leftOut.count) request names left out of the series: they would take them past --metrics-max-series \(builder.config.maxSeries) (raise it, or group URLs with name =)"
    }

    /// luaload's wall clock (Unix ms), strictly increasing from one set to the next.
    private func nextTimestamp() -> Int64 {
        lastTimestampMs = max(Self.nowMs(), lastTimestampMs + 1)
        return lastTimestampMs
    }

    static func nowMs() -> Int64 { Int64((wallClockSeconds() * 1000).rounded()) }
}
