import LuaLoadCore

/// What the page and the API read: built once a second on the Runner's thread, published whole
/// (LiveLatest), read by the live server's routes. Summaries are values: a route's copy is its own.
struct WebFrame: @unchecked Sendable {
    /// Locust's names: "ready" (--wait), "spawning", "running", "stopping", "stopped".
    var state = "ready"
    /// The page's snapshot of this second (the SSE `tick` event's data): whole with the tables, or light (header
    /// and chart point only; the page keeps the last tables).
    var tickJSON = "{}"
    /// The last whole snapshot (with the tables): what a page that connects now starts from.
    var fullJSON = "{}"
    /// Every second so far, one compact point each (the SSE `history` event, so a page opened late has it all).
    var history: [String] = []
    /// The stats since the last reset (the page's table, Locust's /stats/requests).
    var view: Summary?
    /// The whole run as of the last table (thresholds); the final summary once the run is over.
    var full: Summary?
    /// The latest second: the downloads read the whole run through it, on the server thread, when asked
    /// (`RunProgress.currentStats` reads a plain run's workers' posts under their mailboxes' locks, and a
    /// controller's agents' stats as the values its tick took: never the ledgers the controller's thread adds to).
    var progress: RunProgress?
    var points: [HistoryPoint] = []
    var users = 0
    /// Requests and failures per second over the last 10 s, by "METHOD name" and in all.
    var currentRPS: [String: Double] = [:]
    var currentFPS: [String: Double] = [:]
    var totalRPS = 0.0
    var totalFPS = 0.0
    /// Each row's p50, p90, p95, p99 (ms) of the last table, by "METHOD name" (" Aggregated" for the total), when
    /// the view is the whole run: one walk of each histogram serves the table, the chart and the API.
    var percentiles: [String: [Double]] = [:]
    /// A controller's breakdown by tag (region), this second's (WebDashboard+Groups), and by tag and name as of the last table.
    var groups: LiveGroups?
    var groupRows: [GroupRow] = []
    /// check() and metrics.* over the whole run so far (WebChecks), and the seconds they cover.
    var script = ScriptMetrics()
    var scriptElapsed = 0.0
}

/// The Runner-thread side: turns each tick into a frame. Every second: the chart point (from the history the
/// Runner already keeps) and the header. Every `tableEvery` seconds, at a reset and at the end: the tables
/// (per-name stats, failures, errors, thresholds), which merge every row's histogram and walk it for its
/// percentiles — about 2 M instructions, so not every second (Locust's page refreshes its table every 2 s).
/// Measured with callgrind: see benchmarks/README.md, the `--web` row.
final class WebFrameBuilder {
    static let tableEvery = 5
    let facts: [(String, String)]
    let thresholds: [Threshold]
    let model: ControlModel
    let readOnly: Bool
    var frame = WebFrame()
    var baseline: Summary?
    var resetAt: Double?
    /// The tick of the last table, and each name's cumulative (requests, failures) then, for the current rates.
    private var tableTick = -1_000
    private var tableElapsed = 0.0
    private var previous: [String: (Int, Int)] = [:]
    /// The same by tag value and name (a controller's, WebFrame+GroupRows).
    var previousByGroup: [String: (Int, Int)] = [:]
    /// The history points, for the HTML report's charts while the run goes on.
    var points: [HistoryPoint] = []
    static let maxNamedSeries = 50

    /// The parts of the snapshot that never change: the facts and the controls, as JSON members.
    private(set) var fixedJSON = ""

    init(facts: [(String, String)], thresholds: [Threshold], model: ControlModel, readOnly: Bool) {
        self.facts = facts
        self.thresholds = thresholds
        self.model = model
        self.readOnly = readOnly
        fixedJSON = WebJSON.fixedMembers(self)
    }

    /// One second of the run: the frame to publish.
    func tick(_ p: RunProgress, resetRequested: Bool) -> WebFrame {
        var f = frame
        f.state = p.stopping ? "stopping" : (p.targetRate == nil && p.activeUsers < p.targetUsers ? "spawning" : "running")
        f.users = p.activeUsers
        f.progress = p
        f.groups = p.groups ?? f.groups
        if var point = p.point { point.latency = nil; points.append(point) }   // its sparse histogram: KBs the page does not need
        f.points = points
        let span = Double(max(1, min(10, p.tick)))
        f.totalRPS = Double(p.recentRequests) / span
        f.totalFPS = Double(p.recentFailures) / span
        f.script = p.currentScript()
        f.scriptElapsed = p.elapsed
        let heavy = resetRequested || p.tick - tableTick >= WebFrameBuilder.tableEvery || (p.stopping && frame.state != "stopping")
        var named: [(String, [Double])] = []
        if heavy { named = table(&f, p, reset: resetRequested) }
        let pointJSON = SecretMask.apply(WebJSON.point(p, named: named))   // --secret: names may hold one
        f.history.append(pointJSON)
        f.tickJSON = SecretMask.apply(heavy ? WebJSON.snapshot(f, progress: p, point: pointJSON, builder: self)
                                            : WebJSON.light(f, progress: p, point: pointJSON, builder: self))
        if heavy { f.fullJSON = f.tickJSON }
        frame = f
        return f
    }

    /// The tables: the whole run so far, the view since the last reset, the current rates since the last table,
    /// and each name's point for the chart (its rates over that span, its percentiles so far).
    private func table(_ f: inout WebFrame, _ p: RunProgress, reset: Bool) -> [(String, [Double])] {
        // Thresholds read any metric of a Summary (phases included): build the real one only when there are some.
        var full = thresholds.isEmpty ? WebTable.summary(p.currentWorkerStats(), elapsed: p.elapsed) : p.currentStats()
        full.arrivals = p.arrivals
        if reset { baseline = full; resetAt = p.elapsed }
        let view = WebRows.since(full, baseline)
        let seconds = max(p.elapsed - tableElapsed, 0.001)
        var named: [(String, [Double])] = []
        f.currentRPS = [:]
        f.currentFPS = [:]
        f.percentiles = [:]
        for row in full.rows {
            let key = WebRows.key(row)
            let before = previous[key] ?? (0, 0)
            previous[key] = (row.requests, row.failures)
            let rps = Double(row.requests - before.0) / seconds, fps = Double(row.failures - before.1) / seconds
            f.currentRPS[key] = rps
            f.currentFPS[key] = fps
            let ps = row.percentilesMs(WebJSON.tablePercentiles)
            if baseline == nil { f.percentiles[key] = ps }
            if named.count < WebFrameBuilder.maxNamedSeries { named.append((key, [rps, fps, ps[0], ps[2], ps[3]])) }
        }
        // One name: the total is that row (the same histogram), so its walk serves both.
        if baseline == nil {
            f.percentiles[WebRows.key(full.total)] = full.rows.count == 1 ? f.percentiles[WebRows.key(full.rows[0])]
                : full.total.percentilesMs(WebJSON.tablePercentiles)
        }
        f.groupRows = groupRows(p, seconds: seconds)
        tableTick = p.tick
        tableElapsed = p.elapsed
        f.view = view
        f.full = full
        return named
    }

    /// The end: the run's own summary (what the reports hold), since the last reset when there was one.
    func finish(_ summary: Summary) -> WebFrame {
        var f = frame
        f.state = "stopped"
        f.full = summary
        f.view = WebRows.since(summary, baseline)
        f.percentiles = [:]
        f.groupRows = []   // the final breakdown is the merge's groups (by tag, all names)
        f.progress = nil
        f.users = 0
        f.currentRPS = [:]
        f.currentFPS = [:]
        f.totalRPS = 0
        f.totalFPS = 0
        f.script = summary.script
        f.scriptElapsed = summary.durationSeconds
        f.tickJSON = SecretMask.apply(WebJSON.snapshot(f, progress: nil, point: nil, builder: self))
        f.fullJSON = f.tickJSON
        frame = f
        return f
    }
}

extension WebFrame {
    /// The whole run now, for a download: the final summary, or the workers' latest posts with the history so far.
    var reportSummary: Summary? {
        if state == "stopped", let full { return full }
        guard var s = progress?.currentStats() else { return full }
        s.arrivals = progress?.arrivals
        s.history = points
        return s
    }
}
