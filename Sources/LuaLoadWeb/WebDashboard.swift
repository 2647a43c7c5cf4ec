import Synchronization
import CChartJS
import LuaLoadCore
import LuaLoadLive

/// `--web`: the live dashboard and Locust's web API for one run. The page and the API are served by a
/// LiveServer on its own thread; the Runner's observer (its thread, once a second) builds a WebFrame from
/// the tick it already merged and publishes it; the controls go back through RunControls. Nothing here
/// runs per request of the load.
public final class WebDashboard: @unchecked Sendable {
    public struct Options {
        public var host = "127.0.0.1"
        public var port: UInt16 = 8089
        public var token: String?
        public var readOnly = false
        /// --wait: the page starts the test.
        public var waiting = false
        /// The run's facts for the page: script, target, profile, threads, tags…
        public var facts: [(String, String)] = []
        public var title = "luaload"
        public init() {}
    }

    public let server: LiveServer
    let options: Options
    let controls: RunControls
    let builder: WebFrameBuilder
    let latest: LiveLatest<WebFrame>
    /// Set by POST /stats/reset on the server thread; the next tick takes the baseline on the Runner's thread.
    let resetRequested = Atomic<Bool>(false)
    /// The last moment a start went out (--wait): the page shows "starting" until the first tick.
    let started = Atomic<Bool>(false)

    /// Binds now (a taken port is a usage error before any traffic); `start` serves.
    public convenience init(_ options: Options, runner: Runner, controls: RunControls) throws {
        try self.init(options, thresholds: runner.thresholds, model: runner.controlModel, controls: controls)
    }

    /// Any source of `RunEvent.tick`s: a Runner, or a controller (its merged seconds, its controls, its model).
    public init(_ options: Options, thresholds: [Threshold], model: ControlModel, controls: RunControls) throws {
        self.options = options
        self.controls = controls
        server = try LiveServer(host: options.host, port: options.port, token: options.token)
        builder = WebFrameBuilder(facts: options.facts, thresholds: thresholds, model: model, readOnly: options.readOnly)
        var first = WebFrame()
        first.state = options.waiting ? "ready" : "spawning"
        first.tickJSON = WebJSON.snapshot(first, progress: nil, point: nil, builder: builder)
        first.fullJSON = first.tickJSON
        latest = LiveLatest(first)
        registerRoutes()
    }

    /// What to open: the URL, with the token when one is needed.
    public var openURL: String { server.url + "/" + (server.auth.token.map { "?token=" + $0 } ?? "") }

    public func start() { server.start() }
    public func stop() { server.stop() }

    /// The Runner's observer (its thread): one frame a second, pushed to every open page.
    public func observe(_ event: RunEvent) {
        guard case .tick(let progress) = event else { return }
        let reset = resetRequested.exchange(false, ordering: .acquiringAndReleasing)
        let frame = builder.tick(progress, resetRequested: reset)
        latest.publish(frame)
        server.broadcast("tick", LiveHTTP.event("tick", data: frame.tickJSON))
    }

    /// The run is over: the page shows the run's own summary (what the reports hold) and the downloads serve it.
    public func finish(_ summary: Summary) {
        let frame = builder.finish(summary)
        latest.publish(frame)
        server.broadcast("tick", LiveHTTP.event("tick", data: frame.tickJSON))
    }

    /// The embedded Chart.js (Debian's libjs-chart.js, see Sources/CChartJS).
    static let chartJS: [UInt8] = {
        var length = 0
        let p = luaload_chartjs(&length)!
        return Array(UnsafeBufferPointer(start: p, count: length))
    }()
}
