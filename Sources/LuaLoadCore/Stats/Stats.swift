import Histogram

/// Latencies are recorded in microseconds, up to an hour, with 3 significant digits.
public typealias LatencyHistogram = Histogram<UInt64>

public func makeLatencyHistogram() -> LatencyHistogram { emptyLatencyHistogram }

/// Request phases (connect, TLS, time to first byte) in µs, with 2 significant digits: percentiles of
/// phases need less precision than latency, and a row keeps three of them.
public func makePhaseHistogram() -> LatencyHistogram { emptyPhaseHistogram }

/// Empty histograms are copies of these. The library fills a new one's 23,552 counts one by one (~400k
/// instructions, and a run makes dozens: rows, seconds, merges); a copy shares this one's counts and
/// copies them whole (memcpy) only when it first records.
private let emptyLatencyHistogram =
    LatencyHistogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
private let emptyPhaseHistogram =
    LatencyHistogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)

/// The phases of a row's exchanges (redirect hops included), as k6 reports them: TCP connects and TLS
/// handshakes when they happened, and every response's wait (last request byte → first response byte).
///
/// Most exchanges write the request in one call and read the response in one: their wait is exactly the
/// latency the row records anyway, so nothing more is recorded for them. Only the others keep their wait
/// (`waitApart`) and, when the row recorded a latency for them, that latency (`latencyApart`, to take out);
/// `wait(latency:)` puts the distribution together at report time. The hot path pays a comparison.
public struct PhaseStats {
    public var connect = makePhaseHistogram()
    public var tls = makePhaseHistogram()
    public var waitApart: LatencyHistogram? = nil
    public var latencyApart: LatencyHistogram? = nil

    public init() {}

    @inline(never)
    public mutating func recordWaitApart(_ micros: UInt64) {
        if waitApart == nil { waitApart = makeLatencyHistogram() }
        _ = waitApart!.record(max(micros, 1))
    }

    @inline(never)
    public mutating func recordLatencyApart(_ micros: UInt64) {
        if latencyApart == nil { latencyApart = makeLatencyHistogram() }
        _ = latencyApart!.record(max(micros, 1))
    }

    /// Every wait of the row, given the row's latency histogram.
    public func wait(latency: LatencyHistogram) -> LatencyHistogram {
        var w = latencyApart.map { latency.subtracting($0) } ?? latency
        if let apart = waitApart { w.add(apart) }
        return w
    }

    public mutating func merge(_ other: PhaseStats) {
        connect.add(other.connect)
        tls.add(other.tls)
        if let h = other.waitApart { if waitApart == nil { waitApart = h } else { waitApart!.add(h) } }
        if let h = other.latencyApart { if latencyApart == nil { latencyApart = h } else { latencyApart!.add(h) } }
    }
}

/// One stats row: a (method, name) pair, Locust's request type and name.
public struct RequestStats {
    public let method: String
    public let name: String
    /// Its requests' tags, "k:v,k2:v2" keys sorted (a scenario's, opts.tags); "" for none.
    public let tags: String
    public var requests = 0
    public var failures = 0
    public var sumMicros: UInt64 = 0
    /// Response body bytes, for Locust's "Average Content Size".
    public var bytes: UInt64 = 0
    public var histogram = makeLatencyHistogram()
    /// Redirect hops followed within this row's requests (each one a request the server saw).
    public var redirects = 0
    /// Its requests in flight at the stop (the run's `abandoned`, by row: a scenario's own count).
    public var abandoned = 0
    public var phases = PhaseStats()

    public init(method: String, name: String, tags: String = "") {
        self.method = method
        self.name = name
        self.tags = tags
    }

    /// What tells rows apart in a merge: method, name and tags.
    public var key: String { method + " " + name + (tags.isEmpty ? "" : " {" + tags + "}") }

    @inline(__always)
    public mutating func record(micros: UInt64, failed: Bool, bytes: Int = 0) {
        requests &+= 1
        if failed { failures &+= 1 }
        sumMicros &+= micros
        self.bytes &+= UInt64(bytes)
        _ = histogram.record(max(micros, 1))
    }

    /// Adds another thread's (or second's) counts of the same row.
    @inline(__always)
    public mutating func merge(_ other: RequestStats) {
        requests += other.requests
        failures += other.failures
        sumMicros += other.sumMicros
        redirects += other.redirects
        abandoned += other.abandoned
        phases.merge(other.phases)
        bytes += other.bytes
        histogram.add(other.histogram)
    }
}

/// TLS connections: handshakes (and how many resumed a session), TLS failures, handshake times.
/// Handshake time is kept apart from request latency, which starts when the request's first byte is written.
public struct TLSStats {
    public var resumed = 0
    public var errors = 0
    /// Successful handshakes, timed like a stats row (its `requests` are the handshakes).
    public var handshakeTimes = RequestStats(method: "", name: "TLS handshake")

    public init() {}

    public var handshakes: Int { handshakeTimes.requests }
    /// Whether the run made any TLS connection (attempt).
    public var used: Bool { handshakes > 0 || errors > 0 }

    @inline(__always)
    public mutating func recordHandshake(micros: UInt64, resumed wasResumed: Bool) {
        if wasResumed { resumed &+= 1 }
        handshakeTimes.record(micros: micros, failed: false)
    }

    public mutating func merge(_ other: TLSStats) {
        resumed += other.resumed
        errors += other.errors
        handshakeTimes.merge(other.handshakeTimes)
    }
}

public struct FailureKey: Hashable, Sendable {
    public var method: String
    public var name: String
    public var error: String
}

/// A failure of one stats row (by the id the thread's Lua state gave the row).
public struct CodedFailure: Hashable, Sendable {
    public var stat: Int32
    public var failure: Failure
}

public struct ScriptErrorStats: Sendable {
    public var count: Int
    public var traceback: String
}

/// Everything one worker thread measured. Owned by that thread alone while it runs;
/// handed over whole when it ends, so recording needs no lock or atomic.
public struct WorkerStats {
    /// Indexed by the stat id the thread's Lua state assigned.
    public var rows: [RequestStats] = []
    /// Transport and status failures by stats row → count. No strings per failure.
    public var coded: [CodedFailure: Int] = [:]
    /// Failures with a message given by the script (res:failure, fail).
    public var custom: [FailureKey: Int] = [:]
    public var errors: [String: ScriptErrorStats] = [:]
    public var abandoned = 0
    public var iterations = 0
    /// `luaload wrk`: every byte read from the server (heads and bodies), wrk's "read".
    public var bytesRead: UInt64 = 0
    /// Responses that came over HTTP/2 (redirect hops included); the others came over HTTP/1.x.
    public var http2Responses = 0
    /// HTTP/1.x responses as a run's JSON counted them (`luaload merge`'s RunRecord); nil in a live worker,
    /// whose count follows from its completed requests.
    public var http1Responses: Int?
    public var tls = TLSStats()
    /// Distinct TLS failure texts, which `Failure.tls` indexes.
    public var tlsMessages: [String] = []
    /// The open model's arrivals; nil in the closed model.
    public var arrivals: ArrivalCounts?
    /// `scenarios`: each arrival-rate scenario's own arrivals, by its name (they add up to `arrivals`).
    public var scenarioArrivals: [String: ArrivalCounts] = [:]
    /// The open model's requests timed from their first byte (without the late-arrival correction); nil
    /// in the closed model, so a closed-model request records nothing here.
    public var uncorrected: RequestStats?
    /// check() and metrics.* counts (ScriptMetrics.swift), taken from the Lua state once a second.
    public var script = ScriptMetrics()

    public init() {}

    @inline(__always)
    public mutating func count(_ failure: Failure, stat: Int) {
        coded[CodedFailure(stat: Int32(stat), failure: failure), default: 0] += 1
    }

    /// Script errors so far, and the first one's message (for the live view).
    public var scriptErrorCount = 0
    public var firstScriptError: String?

    public mutating func countScriptError(message: String, traceback: String) {
        scriptErrorCount += 1
        if firstScriptError == nil { firstScriptError = message }
        if var e = errors[message] {
            e.count += 1
            errors[message] = e
        } else {
            errors[message] = ScriptErrorStats(count: 1, traceback: traceback)
        }
    }

    /// Failures as (method, name, error) → count, with codes turned into messages.
    public func failureTable() -> [FailureKey: Int] {
        var out = custom
        for (key, count) in coded {
            let row = rows[Int(key.stat)]
            let k = FailureKey(method: row.method, name: row.name, error: key.failure.text(tlsMessages: tlsMessages))
            out[k, default: 0] += count
        }
        return out
    }
}

/// A small snapshot each worker publishes once a second, for the live line and the time series.
public struct IntervalSnapshot {
    public var requests = 0
    public var failures = 0
    public var iterations = 0
    public var activeUsers = 0
    /// The open model's arrivals this second: started, dropped (no VU), started late (after a wait).
    public var arrivalsStarted = 0
    public var arrivalsDropped = 0
    public var arrivalsLate = 0
    /// The second's latencies (each also recorded in its row).
    public var histogram = makeLatencyHistogram()
    /// The worker's script errors and connection failures so far (a level, like activeUsers).
    public var errorsSoFar = LiveErrors()

    public init() {}
}
