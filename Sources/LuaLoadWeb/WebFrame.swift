import LuaLoadCore

/// What the page and the API read: built once a second on the Runner's thread, published whole
/// (LiveLatest), read by the live server's routes. Summaries are values: a route's copy is its own.
struct WebFrame: @unchecked Sendable {
    /// Locust's names: "ready" (--wait), "spawning", "running", "stopping", "stopped".
    var state = "ready"
    /// The page's snapshot of this second (the SSE `tick` event's data).
    var tickJSON = "{}"
    /// Every second so far, one compact point each (the SSE `history` event, so a page opened late has it all).
    var history: [String] = []
    /// The stats since the last reset (the page's table, Locust's /stats/requests).
    var view: Summary?
    /// The whole run so far: the downloads (JSON, CSV, HTML) and the thresholds.
    var full: Summary?
    var users = 0
    /// Requests and failures per second over the last 10 s, by "METHOD name" and in all.
    var currentRPS: [String: Double] = [:]
    var currentFPS: [String: Double] = [:]
    var totalRPS = 0.0
    var totalFPS = 0.0
    /// p50 and p95 over the last 10 s (Locust's current_response_time_percentile_1 and _2), ms.
    var currentP50 = 0.0
    var currentP95 = 0.0
}

/// The Runner-thread side: turns each tick into a frame. Keeps what per-second deltas need (each name's
/// cumulative counts and histogram at the last tick) and the reset baseline.
final class WebFrameBuilder {
    let facts: [(String, String)]
    let thresholds: [Threshold]
    let model: ControlModel
    let readOnly: Bool
    var frame = WebFrame()
    var baseline: Summary?
    var resetAt: Double?
    /// Per name: cumulative (requests, failures, histogram) at the last tick.
    private var previous: [String: RowSummary] = [:]
    /// Per name: the last 10 seconds' (requests, failures).
    private var recent: [String: [(Int, Int)]] = [:]
    /// The history points, for the HTML report's charts while the run goes on.
    var points: [HistoryPoint] = []
    static let maxNamedSeries = 50

    init(facts: [(String, String)], thresholds: [Threshold], model: ControlModel, readOnly: Bool) {
        self.facts = facts
        self.thresholds = thresholds
        self.model = model
        self.readOnly = readOnly
    }

    /// One second of the run: the frame to publish.
    func tick(_ p: RunProgress, resetRequested: Bool) -> WebFrame {
        var full = p.currentStats()
        full.arrivals = p.arrivals
        full.history = points
        if resetRequested { baseline = full; resetAt = p.elapsed }
        let view = WebRows.since(full, baseline)
        var named: [(String, [Double])] = []
        for row in full.rows {
            let key = WebRows.key(row)
            let before = previous[key]
            let delta = WebRows.subtract(row, before)
            previous[key] = row
            var window = recent[key] ?? []
            window.append((delta.requests, delta.failures))
            if window.count > 10 { window.removeFirst() }
            recent[key] = window
            if named.count < WebFrameBuilder.maxNamedSeries {
                let ps = delta.histogram.percentilesMs([50, 95, 99])
                named.append((key, [Double(delta.requests), Double(delta.failures)] + ps))
            }
        }
        if let point = p.point { points.append(stripped(point)) }
        var f = WebFrame()
        f.state = p.stopping ? "stopping" : (p.targetRate == nil && p.activeUsers < p.targetUsers ? "spawning" : "running")
        f.view = view
        f.full = full
        f.users = p.activeUsers
        for (key, window) in recent {
            let seconds = Double(max(window.count, 1))
            f.currentRPS[key] = Double(window.reduce(0) { $0 + $1.0 }) / seconds
            f.currentFPS[key] = Double(window.reduce(0) { $0 + $1.1 }) / seconds
        }
        let span = Double(max(1, min(10, p.tick)))
        f.totalRPS = Double(p.recentRequests) / span
        f.totalFPS = Double(p.recentFailures) / span
        let window = p.recentLatency()
        f.currentP50 = window.percentileMs(50)
        f.currentP95 = window.percentileMs(95)
        let pointJSON = WebJSON.point(p, named: named)
        frame.history.append(pointJSON)
        f.history = frame.history
        f.tickJSON = WebJSON.snapshot(f, progress: p, point: pointJSON, builder: self)
        frame = f
        return f
    }

    /// The end: the run's own summary (what the reports hold), since the last reset when there was one.
    func finish(_ summary: Summary) -> WebFrame {
        var f = frame
        f.state = "stopped"
        f.full = summary
        f.view = WebRows.since(summary, baseline)
        f.users = 0
        f.currentRPS = [:]
        f.currentFPS = [:]
        f.totalRPS = 0
        f.totalFPS = 0
        f.tickJSON = WebJSON.snapshot(f, progress: nil, point: nil, builder: self)
        frame = f
        return f
    }

    /// A point without its sparse histogram (a few KB a second the page does not need).
    private func stripped(_ p: HistoryPoint) -> HistoryPoint {
        var q = p
        q.latency = nil
        return q
    }
}
