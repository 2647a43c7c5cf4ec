import Histogram

/// Latencies are recorded in microseconds, up to an hour, with 3 significant digits.
public typealias LatencyHistogram = Histogram<UInt64>

public func makeLatencyHistogram() -> LatencyHistogram {
    LatencyHistogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
}

/// One stats row: a (method, name) pair, Locust's request type and name.
public struct RequestStats {
    public let method: String
    public let name: String
    public var requests = 0
    public var failures = 0
    public var sumMicros: UInt64 = 0
    /// Response body bytes, for Locust's "Average Content Size".
    public var bytes: UInt64 = 0
    public var histogram = makeLatencyHistogram()

    public init(method: String, name: String) {
        self.method = method
        self.name = name
    }

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
    public var tls = TLSStats()
    /// Distinct TLS failure texts, which `Failure.tls` indexes.
    public var tlsMessages: [String] = []

    public init() {}

    @inline(__always)
    public mutating func count(_ failure: Failure, stat: Int) {
        coded[CodedFailure(stat: Int32(stat), failure: failure), default: 0] += 1
    }

    public mutating func countScriptError(message: String, traceback: String) {
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
    public var histogram = makeLatencyHistogram()

    public init() {}
}
