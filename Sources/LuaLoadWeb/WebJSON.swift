import LuaLoadCore

/// The page's JSON: one compact point a second (charts) and the snapshot (tables, facts, controls).
enum WebJSON {
    /// {"t":12.0,"users":10,"rps":950,"fps":0,"p50":1.2,"p95":3.4,"p99":5.6,"rate":…,"names":{"GET /a":[rps,fps,p50,p95,p99]}}
    /// (names only with a table). Written by hand: it is built every second.
    static func point(_ p: RunProgress, named: [(String, [Double])]) -> String {
        let pt = p.point
        var s = "{\"t\":" + Format.fixed(p.elapsed, 1) + ",\"users\":" + String(p.activeUsers)
        s += ",\"rps\":" + String(pt?.requests ?? p.requests) + ",\"fps\":" + String(pt?.failures ?? p.failures)
        s += ",\"p50\":" + Format.fixed(pt?.p50Ms ?? 0, 3) + ",\"p95\":" + Format.fixed(pt?.p95Ms ?? 0, 3)
        s += ",\"p99\":" + Format.fixed(pt?.p99Ms ?? 0, 3)
        if let rate = p.targetRate { s += ",\"rate\":" + Format.fixed(rate, 2) }
        if let a = p.arrivals { s += ",\"started\":\(a.started),\"dropped\":\(a.dropped),\"late\":\(a.late)" }
        if !named.isEmpty {
            s += ",\"names\":{" + named.map { JSONWriter.quote($0.0) + ":[" + $0.1.map { Format.fixed($0, 3) }.joined(separator: ",") + "]" }
                .joined(separator: ",") + "}"
        }
        return s + "}"
    }

    /// The seconds between tables: the state, the header's figures and the chart point.
    static func light(_ f: WebFrame, progress p: RunProgress, point: String, builder b: WebFrameBuilder) -> String {
        var s = "{\"state\":\"" + f.state + "\",\"elapsed\":" + Format.fixed(p.elapsed, 1) + ",\"users\":" + String(f.users)
        s += ",\"target_users\":" + String(p.targetUsers)
        if let rate = p.targetRate { s += ",\"rate\":" + Format.fixed(rate, 2) }
        if !f.script.checks.isEmpty {   // the checks every second (small); the custom metrics with the tables
            let w = WebJSONWriter()
            w.object { WebChecks.members(w, f.script, elapsed: f.scriptElapsed, withMetrics: false) }
            s += "," + String(w.output.dropFirst().dropLast())
        }
        return s + WebJSON.groupsMember(f) + ",\"point\":" + point + "," + b.fixedJSON + "}"
    }

    static func snapshot(_ f: WebFrame, progress p: RunProgress?, point: String?, builder b: WebFrameBuilder) -> String {
        let w = WebJSONWriter()
        let running = f.state != "stopped" && f.state != "ready"
        w.object {
            w.key("state"); w.string(f.state)
            w.key("elapsed"); w.number(p?.elapsed ?? f.full?.durationSeconds ?? 0, decimals: 1)
            w.key("users"); w.int(f.users)
            w.key("target_users"); w.int(p?.targetUsers ?? 0)
            if let rate = p?.targetRate { w.key("rate"); w.number(rate, decimals: 2) }
            if let a = p?.arrivals ?? f.full?.arrivals {
                w.key("arrivals"); w.object {
                    w.key("started"); w.int(a.started)
                    w.key("dropped"); w.int(a.dropped)
                    w.key("late"); w.int(a.late)
                }
            }
            if let point { w.key("point"); w.raw(point) }
            if let v = f.view {
                w.key("rows"); w.array { for r in v.rows { row(w, r, v, f, running: running) } }
                w.key("total"); row(w, v.total, v, f, running: running)
                w.key("failures"); w.array {
                    for x in v.failures {
                        w.object {
                            w.key("method"); w.string(x.method); w.key("name"); w.string(x.name)
                            w.key("error"); w.string(x.error); w.key("occurrences"); w.int(x.occurrences)
                        }
                    }
                }
                w.key("errors"); w.array {
                    for e in v.errors {
                        w.object { w.key("message"); w.string(e.message); w.key("count"); w.int(e.count); w.key("traceback"); w.string(e.traceback) }
                    }
                }
            }
            if !f.script.isEmpty { WebChecks.members(w, f.script, elapsed: f.scriptElapsed) }
            if let full = f.full { thresholds(w, full, b) }
            if let at = b.resetAt { w.key("reset_at"); w.number(at, decimals: 1) }
            w.key("notes"); w.array { for n in f.full?.notes ?? [] { w.string(n) } }
        }
        return String(w.output.dropLast()) + WebJSON.groupsMember(f) + WebJSON.groupRowsMember(f) + "," + b.fixedJSON + "}"
    }

    static let tablePercentiles: [Double] = [50, 90, 95, 99]

    /// "readonly", "model" and "facts" as members of the snapshot object, built once.
    static func fixedMembers(_ b: WebFrameBuilder) -> String {
        let w = WebJSONWriter()
        w.object {
            controls(w, b)
            w.key("facts"); w.object { for (k, v) in b.facts { w.key(k); w.string(v) } }
        }
        return String(w.output.dropFirst().dropLast())
    }

    private static func controls(_ w: WebJSONWriter, _ b: WebFrameBuilder) {
        w.key("readonly"); w.bool(b.readOnly)
        w.key("model"); w.object {
            switch b.model {
            case .users(let max): w.key("kind"); w.string("users"); w.key("max"); w.int(max)
            case .rate: w.key("kind"); w.string("rate")
            case .fixed(let why): w.key("kind"); w.string("fixed"); w.key("reason"); w.string(why)
            }
        }
    }

    /// A table row: Locust's columns. `rps`/`fps`: the last 10 s while running, the whole run's at the end.
    private static func row(_ w: WebJSONWriter, _ r: RowSummary, _ s: Summary, _ f: WebFrame, running: Bool) {
        let key = WebRows.key(r)
        let isTotal = r.name == "Aggregated" && r.method.isEmpty
        let ps = f.percentiles[key] ?? r.percentilesMs(tablePercentiles)
        w.object {
            w.key("method"); w.string(r.method)
            w.key("name"); w.string(r.label)
            w.key("requests"); w.int(r.requests)
            w.key("failures"); w.int(r.failures)
            w.key("median_ms"); w.number(ps[0])
            w.key("p90_ms"); w.number(ps[1])
            w.key("p95_ms"); w.number(ps[2])
            w.key("p99_ms"); w.number(ps[3])
            w.key("avg_ms"); w.number(r.avgMs)
            w.key("min_ms"); w.number(r.minMs)
            w.key("max_ms"); w.number(r.maxMs)
            w.key("avg_content_size"); w.number(r.avgContentSize)
            let rps = running ? (isTotal ? f.totalRPS : f.currentRPS[key] ?? 0) : s.rps(r)
            let fps = running ? (isTotal ? f.totalFPS : f.currentFPS[key] ?? 0) : s.failuresPerSecond(r)
            w.key("rps"); w.number(rps)
            w.key("fps"); w.number(fps)
        }
    }

    private static func thresholds(_ w: WebJSONWriter, _ full: Summary, _ b: WebFrameBuilder) {
        w.key("thresholds"); w.array {
            for t in b.thresholds {
                let r = t.evaluate(full)
                w.object {
                    w.key("name"); w.string(r.name)
                    w.key("expression"); w.string(r.expression)
                    if let v = r.value { w.key("value"); w.number(v) }
                    w.key("ok"); w.bool(r.ok)
                    if let note = r.note { w.key("note"); w.string(note) }
                }
            }
        }
    }
}
