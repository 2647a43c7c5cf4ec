import Histogram
import LuaLoadCore

/// The page's tables from the workers' latest posts, merged the cheap way (`Summary(workers:)` also merges
/// each row's three phase histograms and builds fresh ones for everything, about 1 M instructions a table):
/// a name that one worker alone has keeps that worker's histogram (a reference, no copy), and the total's is
/// the only row's when there is one. The reports and the thresholds still read a real Summary.
enum WebTable {
    static func summary(_ workers: [WorkerStats], elapsed: Double) -> Summary {
        var s = Summary(workers: [], durationSeconds: elapsed, users: 0, threads: workers.count, stopReason: .duration, history: [])
        var merged: [String: RowSummary] = [:]
        var order: [String] = []
        var failures: [FailureKey: Int] = [:]
        var errors: [String: ScriptErrorStats] = [:]
        for w in workers {
            for row in w.rows where row.requests > 0 {
                let key = row.method + " " + row.name
                guard var m = merged[key] else { merged[key] = RowSummary(row); order.append(key); continue }
                add(&m, RowSummary(row))
                merged[key] = m
            }
            for (k, v) in w.failureTable() { failures[k, default: 0] += v }
            for (k, v) in w.errors {
                if var e = errors[k] { e.count += v.count; errors[k] = e } else { errors[k] = v }
            }
        }
        let rows = order.map { merged[$0]! }.sorted { ($0.name, $0.method) < ($1.name, $1.method) }
        if var total = rows.first {
            total.method = ""
            total.name = "Aggregated"
            for r in rows.dropFirst() { add(&total, r) }
            s.total = total
        }
        s.rows = rows
        s.failures = failures.map { FailureRow(method: $0.key.method, name: $0.key.name, error: $0.key.error, occurrences: $0.value) }
            .sorted { ($1.occurrences, $0.name, $0.error) < ($0.occurrences, $1.name, $1.error) }
        s.errors = errors.map { ErrorRow(message: $0.key, count: $0.value.count, traceback: $0.value.traceback) }
            .sorted { ($1.count, $0.message) < ($0.count, $1.message) }
        return s
    }

    private static func add(_ a: inout RowSummary, _ b: RowSummary) {
        a.requests += b.requests
        a.failures += b.failures
        a.sumMicros += b.sumMicros
        a.bytes += b.bytes
        a.redirects += b.redirects
        a.histogram.add(b.histogram)
    }
}
