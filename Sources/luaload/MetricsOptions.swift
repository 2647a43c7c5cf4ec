import ArgumentParser
import LuaLoadCore
import LuaLoadMetrics

/// --metrics-listen, --out prometheus-rw=URL and their settings (docs/prometheus.md).
struct MetricsOptions: ParsableArguments {
    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp("Serve Prometheus metrics at /metrics on this address (a bare port: 127.0.0.1; elsewhere a token is required).", valueName: "[host:]port"))
    var listen: String?

    @Option(name: .customLong("metrics-token"), help: ArgumentHelp("The bearer token /metrics requires (default: none on loopback, a generated one, printed, elsewhere).", valueName: "token"))
    var token: String?

    @Option(name: .customLong("out"), help: ArgumentHelp("Send metrics out as the run goes: prometheus-rw=URL (Prometheus remote write, e.g. http://prometheus:9090/api/v1/write) or otlp=URL (OTLP/HTTP JSON, e.g. http://collector:4318/v1/metrics). Repeatable.", valueName: "kind=url"))
    var out: [String] = []

    @Option(name: .customLong("metrics-interval"), help: ArgumentHelp("How often remote write pushes (default 5s); a final push ends the run.", valueName: "duration"))
    var interval: String = "5s"

    @Option(name: .customLong("metrics-buckets"), help: ArgumentHelp("The response-time histogram's bucket bounds, ascending: seconds or durations (default 1ms … 10s).", valueName: "list"))
    var buckets: String?

    @Option(name: .customLong("metrics-max-series"), help: ArgumentHelp("The most series to export; request names past it are left out, and the run says so.", valueName: "n"))
    var maxSeries: Int = 1000

    var enabled: Bool { listen != nil || !out.isEmpty }

    /// Everything checked before any traffic; nil without --metrics-listen or --out. A controller's series
    /// are broken down by its `--by` tag (`breakdown`): that label comes from its agents, not from its own tags.
    func makePublisher(tags: [(key: String, value: String)], thresholds: [Threshold], breakdown: String? = nil) throws -> (MetricsPublisher, MetricsEndpoint?)? {
        guard enabled else {
            if buckets != nil || token != nil { throw UsageError("--metrics-buckets and --metrics-token need --metrics-listen or --out prometheus-rw=URL") }
            return nil
        }
        var config = MetricsConfig()
        config.labels = MetricsConfig.labels(fromTags: tags)
        if let breakdown {
            config.breakdown = MetricsConfig.labels(fromTags: [(breakdown, "")])[0].name
            config.labels.removeAll { $0.name == config.breakdown }
        }
        guard maxSeries >= 1 else { throw UsageError("--metrics-max-series must be at least 1") }
        config.maxSeries = maxSeries
        if let buckets { config.buckets = try Self.parseBuckets(buckets) }
        guard let seconds = parseDuration(interval), seconds >= 0.5 else { throw UsageError("bad --metrics-interval \"\(interval)\": use e.g. 5s (at least 0.5s)") }
        var writers: [RemoteWriter] = []
        for o in out {
            let kinds: [(String, RemoteWriter.Format)] = [("prometheus-rw=", .prometheusRemoteWrite), ("otlp=", .otlpJSON)]
            guard let (prefix, format) = kinds.first(where: { o.hasPrefix($0.0) }) else {
                throw UsageError("bad --out \"\(o)\": use prometheus-rw=URL or otlp=URL")
            }
            guard !writers.contains(where: { $0.format == format }) else { throw UsageError("--out \(prefix) given twice: one receiver of each kind per run") }
            switch PushURL.parse(String(o.dropFirst(prefix.count)), option: "--out " + prefix) {
            case .success(let url): writers.append(RemoteWriter(url: url, intervalSeconds: seconds, format: format))
            case .failure(let e): throw e
            }
        }
        let publisher = MetricsPublisher(config: config, writers: writers, thresholds: thresholds)
        let endpoint = try listen.map { try MetricsEndpoint(listen: ListenAddress(parsing: $0), token: token, publisher: publisher) }
        return (publisher, endpoint)
    }

    /// "0.005,0.05,0.5" or "5ms,50ms,500ms": ascending, above 0.
    static func parseBuckets(_ text: String) throws -> [Double] {
        let bad = UsageError("bad --metrics-buckets \"\(text)\": give ascending bounds above 0, e.g. 0.01,0.05,0.1,0.5,1 or 10ms,50ms,1s")
        let values = try text.split(separator: ",").map { part -> Double in
            guard let v = parseDuration(String(part)), v > 0, v.isFinite else { throw bad }
            return v
        }
        guard !values.isEmpty, zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) else { throw bad }
        return values
    }
}

/// A run's metrics, wired: started before the users, fed each tick, finished with the run's Summary.
struct MetricsRun {
    let publisher: MetricsPublisher
    let endpoint: MetricsEndpoint?

    init?(_ options: MetricsOptions, tags: [(key: String, value: String)], thresholds: [Threshold], breakdown: String? = nil) throws {
        guard let (publisher, endpoint) = try options.makePublisher(tags: tags, thresholds: thresholds, breakdown: breakdown) else { return nil }
        self.publisher = publisher
        self.endpoint = endpoint
        publisher.onWarning = { writeStderr("luaload: \($0)\n") }
        if let server = endpoint?.server, server.auth.generated, let token = server.auth.token {
            writeStderr("luaload: metrics at \(server.url)/metrics need the token: Authorization: Bearer \(token)\n")
        }
        endpoint?.start()
        publisher.start()
    }

    func observe(_ event: RunEvent) { publisher.observe(event) }

    /// The final set (the run's totals), the final push; returns what the summary should say.
    func finish(_ summary: Summary) -> [String] {
        let notes = publisher.finish(summary)
        endpoint?.stop()
        return notes
    }
}
