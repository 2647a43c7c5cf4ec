/// The end-of-run tables, laid out like Locust's so its users read them at a glance.
public enum ConsoleReport {
    /// The per-name table with its Aggregated row (also printed every 2 s by --print-stats).
    public static func requestsTable(_ s: Summary) -> String {
        var out = ""
        let nameWidth = max(40, (s.rows.map { $0.label.count }.max() ?? 0) + 2)
        func ms(_ v: Double) -> String { Format.padLeft(Format.fixed(v, v >= 100 ? 0 : 2), 8) }

        let header = Format.padRight("Type", 8) + " " + Format.padRight("Name", nameWidth) + Format.padLeft("# reqs", 9)
            + Format.padLeft("# fails", 18) + " |" + Format.padLeft("Avg", 8) + Format.padLeft("Min", 8) + Format.padLeft("Max", 8)
            + Format.padLeft("Med", 8) + Format.padLeft("p95", 8) + Format.padLeft("p99", 8) + " |" + Format.padLeft("req/s", 10)
            + Format.padLeft("failures/s", 12)
        let rule = String(repeating: "-", count: header.count)
        func line(_ r: RowSummary) -> String {
            let fails = "\(r.failures)(\(Format.fixed(r.failureRatio * 100, 2))%)"
            let p = r.percentilesMs([50, 95, 99])
            return Format.padRight(r.method, 8) + " " + Format.padRight(r.label, nameWidth) + Format.padLeft("\(r.requests)", 9)
                + Format.padLeft(fails, 18) + " |" + ms(r.avgMs) + ms(r.minMs) + ms(r.maxMs) + ms(p[0])
                + ms(p[1]) + ms(p[2]) + " |" + Format.padLeft(Format.fixed(s.rps(r), 2), 10)
                + Format.padLeft(Format.fixed(s.failuresPerSecond(r), 2), 12)
        }
        out += "Requests (times in ms)\n" + header + "\n" + rule + "\n"
        for r in s.rows { out += line(r) + "\n" }
        out += rule + "\n" + line(s.total) + "\n"
        return out
    }

    public static func render(_ s: Summary) -> String {
        var out = requestsTable(s) + "\n"
        let nameWidth = max(40, (s.rows.map { $0.label.count }.max() ?? 0) + 2)
        func ms(_ v: Double) -> String { Format.padLeft(Format.fixed(v, v >= 100 ? 0 : 2), 8) }

        out += "Response time percentiles (ms)\n"
        var pheader = Format.padRight("Type", 8) + " " + Format.padRight("Name", nameWidth)
        for p in Summary.percentiles { pheader += Format.padLeft(Format.percentile(p) + "%", 8) }
        pheader += Format.padLeft("# reqs", 9)
        out += pheader + "\n" + String(repeating: "-", count: pheader.count) + "\n"
        for r in s.rows + [s.total] {
            var l = Format.padRight(r.method, 8) + " " + Format.padRight(r.label, nameWidth)
            for v in r.percentilesMs(Summary.percentiles) { l += ms(v) }
            out += l + Format.padLeft("\(r.requests)", 9) + "\n"
        }

        if !s.failures.isEmpty {
            out += "\nFailures\n" + Format.padLeft("# occurrences", 14) + "  Error\n" + String(repeating: "-", count: 80) + "\n"
            for f in s.failures {
                out += Format.padLeft("\(f.occurrences)", 14) + "  " + f.method + " " + f.name + ": " + f.error + "\n"
            }
        }
        if !s.errors.isEmpty {
            out += "\nScript errors\n" + Format.padLeft("# count", 14) + "  Message\n" + String(repeating: "-", count: 80) + "\n"
            for e in s.errors {
                out += Format.padLeft("\(e.count)", 14) + "  " + e.message + "\n"
                for tbLine in e.traceback.split(separator: "\n").dropFirst() { out += String(repeating: " ", count: 16) + tbLine + "\n" }
            }
        }
        if s.tls.used {
            let t = s.tls, times = RowSummary(s.tls.handshakeTimes)
            out += "\nTLS: \(t.handshakes) handshakes (\(t.resumed) resumed), \(t.errors) errors; handshake ms avg "
                + Format.fixed(times.avgMs, 2) + ", p50 " + Format.fixed(times.percentileMs(50), 2)
                + ", p95 " + Format.fixed(times.percentileMs(95), 2) + ", p99 " + Format.fixed(times.percentileMs(99), 2)
                + ", max " + Format.fixed(times.maxMs, 2) + "\n"
        }
        out += ScenarioReport.console(s) + ScriptMetricsReport.console(s) + ProfileReport.consoleArrivals(s) + ProfileReport.consoleThresholds(s)
        out += "\n\(s.total.requests) requests in \(Format.fixed(s.durationSeconds, 2))s from \(s.users) users on \(s.threads) threads"
        let redirects = s.total.redirects > 0 ? "; \(s.total.redirects) redirects followed" : ""
        out += " (\(s.iterations) task runs\(redirects); \(s.abandoned) in flight at the stop, abandoned; stopped: \(s.stopReason.rawValue))\n"
        return out
    }
}
