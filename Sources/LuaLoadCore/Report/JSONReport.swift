/// The summary as JSON (keys documented in docs/reference.md; later tools depend on them).
public enum JSONReport {
    public static func render(_ s: Summary) -> String {
        let w = JSONWriter()
        w.object {
            w.key("duration_s"); w.number(s.durationSeconds)
            w.key("duration_us"); w.int(Int((s.durationSeconds * 1e6).rounded()))   // exact, for a merge's rates
            w.key("users"); w.int(s.users)
            w.key("threads"); w.int(s.threads)
            w.key("abandoned"); w.int(s.abandoned)
            w.key("redirects"); w.int(s.total.redirects)
            w.key("version"); w.string(lualoadVersion)
            w.key("iterations"); w.int(s.iterations)
            w.key("stop_reason"); w.string(s.stopReason.rawValue)
            placement(w, s)
            ProfileReport.json(w, s)
            w.key("stats"); w.array { for r in s.rows { row(w, r, s) } }
            w.key("total"); row(w, s.total, s)
            tables(w, s)
            ScriptMetricsReport.json(w, s)
            ScenarioReport.json(w, s)
            tls(w, s.tls)
            protocols(w, s)
            history(w, s)
        }
        return w.output + "\n"
    }

    /// Responses by protocol: HTTP/2's counted as they came, HTTP/1.x's the rest (responses = completed
    /// requests + redirect hops); a merge's are its runs' sums.
    private static func protocols(_ w: JSONWriter, _ s: Summary) {
        let responses = s.wrkErrors.completed + s.total.redirects
        w.key("protocols"); w.object {
            w.key("HTTP/1.1"); w.int(s.http1Responses ?? max(responses - s.http2Responses, 0))
            w.key("HTTP/2.0"); w.int(s.http2Responses)
        }
    }

    /// The failures and script-errors tables.
    private static func tables(_ w: JSONWriter, _ s: Summary) {
        w.key("failures"); w.array {
            for f in s.failures {
                w.object {
                    w.key("method"); w.string(f.method)
                    w.key("name"); w.string(f.name)
                    w.key("error"); w.string(f.error)
                    w.key("occurrences"); w.int(f.occurrences)
                }
            }
        }
        w.key("errors"); w.array {
            for e in s.errors {
                w.object {
                    w.key("message"); w.string(e.message)
                    w.key("count"); w.int(e.count)
                    w.key("traceback"); w.string(e.traceback)
                }
            }
        }
    }

    private static func tls(_ w: JSONWriter, _ tls: TLSStats) {
        w.key("tls"); w.object {
            w.key("handshakes"); w.int(tls.handshakes)
            w.key("resumed"); w.int(tls.resumed)
            w.key("errors"); w.int(tls.errors)
            let times = RowSummary(tls.handshakeTimes)
            w.key("handshake_ms"); w.object {
                w.key("avg"); w.number(times.avgMs)
                w.key("p50"); w.number(times.percentileMs(50))
                w.key("p95"); w.number(times.percentileMs(95))
                w.key("p99"); w.number(times.percentileMs(99))
                w.key("max"); w.number(times.maxMs)
            }
            // Beside handshake_ms (whose values stay all numbers in ms): what an exact merge needs.
            w.key("handshake_sum_us"); w.int(Int(times.sumMicros))
            hdr(w, "handshake_hdr", times.histogram)
        }
    }

    /// One point per second: its counts, rates and percentiles (and what a merge needs, `historyPoint`).
    private static func history(_ w: JSONWriter, _ s: Summary) {
        w.key("history"); w.array {
            for (k, h) in s.history.enumerated() {
                let dt = k == 0 ? h.elapsed : h.elapsed - s.history[k - 1].elapsed
                w.object {
                    w.key("elapsed_s"); w.number(h.elapsed)
                    w.key("elapsed_us"); w.int(Int((h.elapsed * 1e6).rounded()))   // exact, for a merge's rates
                    w.key("users"); w.int(h.users)
                    w.key("requests"); w.int(h.requests)
                    w.key("failures"); w.int(h.failures)
                    w.key("p50_ms"); w.number(h.p50Ms)
                    w.key("p95_ms"); w.number(h.p95Ms)
                    w.key("p99_ms"); w.number(h.p99Ms)
                    w.key("rps"); w.number(dt > 0 ? Double(h.requests) / dt : 0)
                    w.key("fps"); w.number(dt > 0 ? Double(h.failures) / dt : 0)
                    historyPoint(w, h, s)
                }
            }
        }
    }

    private static func row(_ w: JSONWriter, _ r: RowSummary, _ s: Summary) {
        w.object {
            w.key("method"); w.string(r.method)
            w.key("name"); w.string(r.name)
            if !r.tags.isEmpty { w.key("tags"); tagsObject(w, r.tags) }
            w.key("requests"); w.int(r.requests)
            w.key("failures"); w.int(r.failures)
            w.key("avg_ms"); w.number(r.avgMs)
            w.key("min_ms"); w.number(r.minMs)
            w.key("max_ms"); w.number(r.maxMs)
            let percentiles = r.percentilesMs(Summary.percentiles)
            w.key("median_ms"); w.number(percentiles[0])   // Summary.percentiles begins with 50
            percentilesObject(w, percentiles)
            w.key("rps"); w.number(s.rps(r))
            w.key("failures_per_s"); w.number(s.failuresPerSecond(r))
            w.key("avg_content_size"); w.number(r.avgContentSize)
            w.key("redirects"); w.int(r.redirects)
            if r.abandoned > 0 { w.key("abandoned"); w.int(r.abandoned) }
            sums(w, sumMicros: r.sumMicros, bytes: r.bytes)
            w.key("timings_ms"); w.object {
                phase(w, "connect", r.phases.connect)
                phase(w, "tls", r.phases.tls)
                phase(w, "wait", r.phases.wait(latency: r.histogram))
            }
            // The latency histogram (µs), HdrHistogram's compressed V2 encoding in base64: exact merging later.
            hdr(w, "hdr", r.histogram)
            nameHistory(w, r, s)
        }
    }
}

extension JSONReport {
    /// One phase's count and percentiles (ms), e.g. "wait": {"count": 10, "p50": 0.2, "p95": 0.4, "p99": 0.5, "max": 0.9}.
    fileprivate static func phase(_ w: JSONWriter, _ name: String, _ h: LatencyHistogram) {
        w.key(name); w.object {
            w.key("count"); w.int(Int(h.totalCount))
            w.key("p50"); w.number(h.percentileMs(50))
            w.key("p95"); w.number(h.percentileMs(95))
            w.key("p99"); w.number(h.percentileMs(99))
            w.key("max"); w.number(h.totalCount > 0 ? Double(h.maxRecorded) / 1000 : 0)
            hdr(w, "hdr", h)
        }
    }
}

/// A minimal streaming JSON writer (no Foundation). A class, so nested closures can write to it.
public final class JSONWriter {
    public private(set) var output = ""
    private var needsComma = [false]

    public init() {}

    private func separate() {
        if needsComma[needsComma.count - 1] { output += "," }
        needsComma[needsComma.count - 1] = true
    }

    public func object(_ body: () -> Void) {
        separate(); output += "{"; needsComma.append(false)
        body()
        needsComma.removeLast(); output += "}"
    }

    public func array(_ body: () -> Void) {
        separate(); output += "["; needsComma.append(false)
        body()
        needsComma.removeLast(); output += "]"
    }

    public func key(_ k: String) {
        separate()
        output += JSONWriter.quote(k) + ":"
        needsComma[needsComma.count - 1] = false   // the value follows without a comma
        pendingKey = true
    }

    private var pendingKey = false

    private func value(_ text: String) {
        if pendingKey { pendingKey = false; needsComma[needsComma.count - 1] = true } else { separate() }
        output += text
    }

    public func string(_ s: String) { value(JSONWriter.quote(s)) }
    public func int(_ v: Int) { value(String(v)) }
    public func number(_ v: Double) { value(v.isFinite ? Format.fixed(v, 3) : "null") }
    public func number(_ v: Double, decimals: Int) { value(v.isFinite ? Format.fixed(v, decimals) : "null") }
    public func bool(_ v: Bool) { value(v ? "true" : "false") }
    public func null() { value("null") }
    /// A value already in JSON (a nested document built elsewhere).
    public func raw(_ json: String) { value(json) }

    public static func quote(_ s: String) -> String {
        // Most strings (names, base64 histograms: kilobytes a second on the agent link) need no escape: one
        // pass over the bytes instead of a scalar-by-scalar copy (~50 instructions a character).
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5c && $0 < 0x80 }) { return "\"" + s + "\"" }
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
