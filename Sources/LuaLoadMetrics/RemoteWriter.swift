import LuaLoadCore
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// --out prometheus-rw=URL: pushes the newest MetricSet every interval, on a thread of its own, and a
/// final one at the end. The main thread only hands over a value (`offer`), so a receiver that is slow,
/// down or refusing never slows the Runner, let alone the workers. Counters are cumulative: a push that
/// fails loses that instant's samples, never counts (the next one carries them).
public final class RemoteWriter: @unchecked Sendable {
    /// What happened to the pushes, for the summary.
    public struct Report: Sendable, Equatable {
        /// Sets due (one an interval, and the final one).
        public var pushes = 0
        public var delivered = 0
        /// Sets that no attempt delivered (the receiver down, refusing, or the final push out of time).
        public var notDelivered = 0
        public var samplesNotDelivered = 0
        /// Attempts beyond the first of a set.
        public var retries = 0
        /// Whether the final set, the whole run's totals, got through.
        public var finalDelivered = false
        public var lastError: String?
    }

    /// What a push carries: Prometheus remote write 1.0, or an OTLP/HTTP export in JSON.
    public enum Format: Sendable {
        case prometheusRemoteWrite, otlpJSON

        var headers: [(String, String)] {
            switch self {
            case .prometheusRemoteWrite:
                return [("Content-Encoding", "snappy"), ("Content-Type", "application/x-protobuf"), ("X-Prometheus-Remote-Write-Version", "0.1.0")]
            case .otlpJSON:
                return [("Content-Type", "application/json")]
            }
        }
    }

    public let url: PushURL
    public let format: Format
    /// OTLP's cumulative start: the first set's time.
    private var startMs: Int64?
    public let intervalMicros: UInt64
    /// Each attempt's bound on connect, send and the response.
    let timeout: Double
    private let signal = Signal()
    private var latest: MetricSet?
    private var final: MetricSet?
    private var report = Report()
    private var thread: pthread_t?

    public init(url: PushURL, intervalSeconds: Double, format: Format = .prometheusRemoteWrite) {
        self.url = url
        self.format = format
        intervalMicros = UInt64(intervalSeconds * 1e6)
        timeout = min(max(intervalSeconds, 1), 5)
    }

    public func start() { thread = spawnMetricsThread { [self] in run() } }

    /// Main thread: the newest set (the pusher takes it at its next push).
    public func offer(_ set: MetricSet) {
        signal.locked {
            latest = set
            signal.wake()
        }
    }

    /// Main thread, at the end: pushes `set` (the whole run's totals) with retries for up to
    /// `budgetSeconds`, then ends the thread and says how the pushes went.
    public func finish(_ set: MetricSet, budgetSeconds: Double = 5) -> Report {
        beginFinish(set, budgetSeconds: budgetSeconds)
        return awaitFinish()
    }

    /// The final push starts (on the pusher's thread); `awaitFinish` waits for it.
    public func beginFinish(_ set: MetricSet, budgetSeconds: Double = 5) {
        signal.locked {
            final = set
            finalBudget = budgetSeconds
            signal.wake()
        }
    }

    public func awaitFinish() -> Report {
        if let thread { pthread_join(thread, nil); self.thread = nil }
        return signal.locked { report }
    }
    private var finalBudget = 5.0

    /// Pushes the newest set as soon as one is offered an interval after the last push began (so a push
    /// follows the tick that brought it, not a clock of its own); the final set ends the loop.
    private func run() {
        var notBefore: UInt64 = 0
        while true {
            let due: MetricSet? = signal.locked {
                while final == nil && (latest == nil || monotonicMicros() < notBefore) {
                    signal.wait(until: latest == nil ? monotonicMicros() + 1_000_000 : notBefore)
                }
                if final != nil { return nil }
                defer { latest = nil }
                return latest
            }
            guard let due else { break }
            let began = monotonicMicros()
            // Ticks come a second apart: a set offered up to half a second early still goes at this push.
            notBefore = began + intervalMicros - min(intervalMicros / 2, 500_000)
            _ = deliver(due, until: began + intervalMicros, isFinal: false)
        }
        let last = signal.locked { final! }
        let deadline = monotonicMicros() + UInt64(signal.locked { finalBudget } * 1e6)
        let ok = deliver(last, until: deadline, isFinal: true)
        signal.locked { report.finalDelivered = ok }
    }

    /// Tries `set` until it is delivered, refused for good, or `deadline` (the next push, or the final
    /// push's budget) leaves no room for another try; back-off 0.25 s doubling to 4 s.
    private func deliver(_ set: MetricSet, until deadline: UInt64, isFinal: Bool) -> Bool {
        let body: [UInt8]
        switch format {
        case .prometheusRemoteWrite: body = RemoteWriteEncoder.body(set)
        case .otlpJSON:
            let start = signal.locked { () -> Int64 in
                if startMs == nil { startMs = set.timestampMs }
                return startMs!
            }
            body = OTLPEncoder.json(set, startMs: start)
        }
        var backoff: UInt64 = 250_000
        var attempt = 0
        while true {
            if attempt > 0 { signal.locked { report.retries += 1 } }
            attempt += 1
            let outcome = HTTPPost.post(url, headers: format.headers, body: body, timeout: timeout)
            var retry = false
            switch outcome {
            case .accepted:
                signal.locked { report.pushes += 1; report.delivered += 1 }
                return true
            case .status(let code, let text):
                retry = code >= 500 || code == 429
                record(error: "HTTP \(code)" + (text.isEmpty ? "" : ": " + text))
            case .failed(let reason):
                retry = true
                record(error: reason)
            }
            let wakeAt = monotonicMicros() + backoff
            let interrupted: Bool = signal.locked {
                guard retry, wakeAt < deadline else { return true }
                while monotonicMicros() < wakeAt && (isFinal || final == nil) { signal.wait(until: wakeAt) }
                return !isFinal && final != nil   // the end came: the final push supersedes this one
            }
            if interrupted || !retry || wakeAt >= deadline {
                signal.locked { report.pushes += 1; report.notDelivered += 1; report.samplesNotDelivered += set.seriesCount }
                return false
            }
            backoff = min(backoff * 2, 4_000_000)
        }
    }

    private func record(error: String) { signal.locked { report.lastError = error } }
}

extension RemoteWriter.Report {
    /// One line for the console, e.g. "metrics: 12 pushes to http://…/api/v1/write, 2 not delivered (184
    /// samples; last error: connect: Connection refused)"; nil when every push got through.
    public func note(url: PushURL) -> String? {
        guard notDelivered > 0 || !finalDelivered else { return nil }
        var text = "metrics: \(pushes) pushes to \(url), \(notDelivered) not delivered (\(samplesNotDelivered) samples"
        if let lastError { text += "; last error: " + lastError }
        text += ")"
        if !finalDelivered { text += "; the final push (the run's totals) was not delivered" }
        return text
    }
}
