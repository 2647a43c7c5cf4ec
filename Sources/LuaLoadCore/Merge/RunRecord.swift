/// One run read back from its `--json` document: its stats as a worker's (so `Summary.init` merges runs
/// with the same code that merges threads), its time series and its placement.
public struct RunRecord {
    /// Where it came from, for messages: "a.json", "stdin document 2".
    public var source: String
    public var stats = WorkerStats()
    public var durationSeconds = 0.0
    public var users = 0
    public var threads = 0
    public var stopReason = StopReason.duration
    public var profile: String?
    public var lateMode: LateMode?
    public var placement = RunPlacement()
    /// The runs an earlier merge held (its "merged_run_ids"), so they are not merged twice.
    public var mergedRunIDs: [String] { placement.mergedRunIDs }
    /// Its seconds: absolute end (Unix ms), users, counts and latencies (packed as read: a whole histogram
    /// a second would be ~188 KB each, 16 GB for a day-long run).
    public var history: [(tMs: Int64, users: Int, requests: Int, failures: Int, latency: PackedHistogram)] = []
    /// Its seconds' figures as the run computed them (from whole histograms, at its own times): what a
    /// merge of this run alone gives back.
    public var historyFigures: [(elapsed: Double, p50Ms: Double, p95Ms: Double, p99Ms: Double)] = []
    /// Each row's seconds, by row key, when the run kept them per name (JSONReport.nameHistory).
    public var historyByName: [String: [(tMs: Int64, requests: Int, failures: Int, latency: PackedHistogram)]] = [:]
    /// The thresholds it was run with, as (name, expression).
    public var thresholds: [(name: String, expression: String)] = []

    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a run's JSON (`luaload --json`); an error names `source` and what is missing.
    public init(_ doc: JSONTree, source: String) throws {
        self.source = source
        func need(_ key: String, in t: JSONTree? = nil) throws -> JSONTree {
            guard let v = (t ?? doc)[key] else { throw ReadError(description: "\(source): no \"\(key)\": not a luaload --json summary (luaload 0.2+)") }
            return v
        }
        durationSeconds = try doc["duration_us"]?.int.map { Double($0) / 1e6 } ?? (need("duration_s").number ?? 0)
        users = doc["users"]?.int ?? 0
        threads = doc["threads"]?.int ?? 0
        stopReason = doc["stop_reason"]?.string.flatMap(StopReason.init(rawValue:)) ?? .duration
        profile = doc["profile"]?.string
        placement.startUnixMs = Int64(try need("start_unix_ms").int ?? 0)
        placement.endUnixMs = Int64(doc["end_unix_ms"]?.int ?? 0)
        placement.runID = doc["run_id"]?.string ?? ""
        placement.mergedRunIDs = doc["merged_run_ids"]?.array.compactMap(\.string) ?? []
        placement.tags = doc["tags"]?.object.map { ($0.key, $0.value.string ?? "") }.sorted { $0.0 < $1.0 } ?? []
        placement.targets = doc["targets"]?.array.compactMap(\.string) ?? []
        placement.command = doc["command"]?.string
        stats.abandoned = doc["abandoned"]?.int ?? 0
        stats.iterations = doc["iterations"]?.int ?? 0
        stats.rows = try need("stats").array.map { try row($0) }
        try readTables(doc)
        try readNameHistory(doc)
        try readExtras(doc)
        readProtocols(doc)
        try readScriptMetrics(doc)
    }

    /// A stats row with its histograms; sums that an older JSON lacks are rebuilt from its averages.
    func row(_ r: JSONTree, name fixedName: String? = nil) throws -> RequestStats {
        var s = RequestStats(method: r["method"]?.string ?? "", name: fixedName ?? r["name"]?.string ?? "", tags: RunRecord.tags(r["tags"]))
        s.requests = r["requests"]?.int ?? 0
        s.failures = r["failures"]?.int ?? 0
        s.sumMicros = UInt64(r["sum_us"]?.int ?? Int(((r["avg_ms"]?.number ?? 0) * 1000 * Double(s.requests)).rounded()))
        s.bytes = UInt64(r["bytes"]?.int ?? Int(((r["avg_content_size"]?.number ?? 0) * Double(s.requests)).rounded()))
        s.redirects = r["redirects"]?.int ?? 0
        s.abandoned = r["abandoned"]?.int ?? 0
        s.histogram = try histogram(r, "hdr", what: "\(s.method) \(s.name)")
        if let t = r["timings_ms"] {
            s.phases.connect = try histogram(t["connect"], "hdr", what: "\(s.name) connect", like: makePhaseHistogram())
            s.phases.tls = try histogram(t["tls"], "hdr", what: "\(s.name) tls", like: makePhaseHistogram())
            // Every wait is kept apart: with no latency taken out, the row's waits are exactly these.
            s.phases.waitApart = try histogram(t["wait"], "hdr", what: "\(s.name) wait")
            s.phases.latencyApart = s.histogram
        }
        return s
    }

    /// Decodes the base64 HDR histogram at `key` of `parent` into one made like `like`; a missing one is
    /// empty. The lowest and highest buckets' values are recorded at the exact extremes written beside it
    /// ("min_us", "max_us"), in the same buckets: counts and percentiles as encoded, min and max exact.
    func histogram(_ parent: JSONTree?, _ key: String, what: String, like: LatencyHistogram = makeLatencyHistogram()) throws -> LatencyHistogram {
        var h = like
        guard let text = parent?[key]?.string else { return h }
        let prefix = String(key.dropLast(3))
        let exactMin = parent?[prefix + "min_us"]?.int.map(UInt64.init), exactMax = parent?[prefix + "max_us"]?.int.map(UInt64.init)
        do {
            let d = try HdrCodec.decodeBase64(text)
            let layout = HdrCodec.Layout(lowest: d.lowest, highest: d.highest, digits: d.significantDigits)
            let used = d.counts.indices.filter { d.counts[$0] > 0 }
            for i in used {
                var c = d.counts[i], value = layout.valueFromIndex(i)
                if i == used.last, let high = exactMax, high >= value {
                    _ = h.record(high, count: 1)   // one value at the exact maximum, in its bucket
                    c -= 1
                }
                if i == used.first, let low = exactMin, low >= value { value = low }
                if c > 0 { _ = h.record(value, count: c) }
            }
        } catch {
            throw ReadError(description: "\(source): \(what): bad \"hdr\": \(error)")
        }
        return h
    }

    /// Failures, script errors and the history.
    private mutating func readTables(_ doc: JSONTree) throws {
        for f in doc["failures"]?.array ?? [] {
            let key = FailureKey(method: f["method"]?.string ?? "", name: f["name"]?.string ?? "", error: f["error"]?.string ?? "")
            stats.custom[key, default: 0] += f["occurrences"]?.int ?? 0
        }
        for e in doc["errors"]?.array ?? [] {
            let message = e["message"]?.string ?? ""
            let count = e["count"]?.int ?? 0
            if stats.errors[message] == nil { stats.errors[message] = ScriptErrorStats(count: 0, traceback: e["traceback"]?.string ?? "") }
            stats.errors[message]!.count += count
        }
        for (k, h) in (doc["history"]?.array ?? []).enumerated() {
            let elapsed = h["elapsed_us"]?.int.map { Double($0) / 1e6 } ?? h["elapsed_s"]?.number ?? Double(k + 1)
            let t = Int64(h["t_ms"]?.int ?? Int(placement.unixMs(elapsed: elapsed)))
            history.append((t, h["users"]?.int ?? 0, h["requests"]?.int ?? 0, h["failures"]?.int ?? 0,
                            PackedHistogram(try histogram(h, "hdr", what: "history second \(k + 1)"))))
            historyFigures.append((elapsed, h["p50_ms"]?.number ?? 0, h["p95_ms"]?.number ?? 0, h["p99_ms"]?.number ?? 0))
        }
    }

    /// Responses per protocol, summed by the merge as written (a merge cannot tell a transport failure from a
    /// response by its failure text alone). A JSON from before HTTP/2 has none: its requests and redirects,
    /// less the failures that are not an HTTP status, came over HTTP/1.1.
    private mutating func readProtocols(_ doc: JSONTree) {
        if let p = doc["protocols"] {
            stats.http2Responses = p["HTTP/2.0"]?.int ?? 0
            stats.http1Responses = p["HTTP/1.1"]?.int ?? 0
            return
        }
        let transport = stats.custom.filter { !$0.key.error.hasPrefix("HTTP ") }.values.reduce(0, +)
        stats.http1Responses = stats.rows.reduce(0) { $0 + $1.requests + $1.redirects } - transport
    }

    /// TLS, the open model's arrivals, thresholds.
    private mutating func readExtras(_ doc: JSONTree) throws {
        if let tls = doc["tls"] {
            stats.tls.resumed = tls["resumed"]?.int ?? 0
            stats.tls.errors = tls["errors"]?.int ?? 0
            var h = RequestStats(method: "", name: "TLS handshake")
            h.requests = tls["handshakes"]?.int ?? 0
            h.sumMicros = UInt64(tls["handshake_sum_us"]?.int ?? Int(((tls["handshake_ms"]?["avg"]?.number ?? 0) * 1000 * Double(h.requests)).rounded()))
            h.histogram = try histogram(tls, "handshake_hdr", what: "TLS handshakes")
            stats.tls.handshakeTimes = h
        }
        for s in doc["scenarios"]?.array ?? [] {
            if let name = s["name"]?.string, let a = s["arrivals"] { stats.scenarioArrivals[name] = ArrivalCounts(a) }
        }
        if let a = doc["arrivals"] {
            stats.arrivals = ArrivalCounts(a)
            lateMode = a["late_mode"]?.string.flatMap(LateMode.init(rawValue:))
            if let u = a["uncorrected"] { stats.uncorrected = try row(u, name: "Aggregated (uncorrected)") }
        }
        thresholds = (doc["thresholds"]?.array ?? []).compactMap { t in
            guard let name = t["name"]?.string, let expr = t["expr"]?.string else { return nil }
            return (name, expr)
        }
    }
}

extension ArrivalCounts {
    /// An "arrivals" object of a run's JSON (ProfileReport.arrivalCounts wrote it).
    init(_ a: JSONTree) {
        self.init()
        scheduled = a["scheduled"]?.int ?? 0
        started = a["started"]?.int ?? 0
        droppedNoVU = a["dropped_no_vu"]?.int ?? 0
        unstartedAtStop = a["unstarted_at_stop"]?.int ?? 0
        late = a["late"]?.int ?? 0
    }
}
