import LuaLoadCore

/// A controller's page, while the test runs: each request name per `--by` value (region) — its requests and
/// failures so far, its current req/s and failures/s (since the last table, as the Statistics table's), and
/// p50/p95/p99 of the whole test so far from that value's agents' histograms added. Built with the tables
/// (every 5 s) from the tick's agents as values (`RunProgress.currentAgentsSnapshot`); nothing in a plain run.
struct GroupRow {
    var value: String
    var method: String
    var name: String
    var requests: Int
    var failures: Int
    var rps: Double
    var fps: Double
    /// p50, p95, p99 (ms).
    var percentilesMs: [Double]
}

extension WebFrameBuilder {
    static let groupPercentiles: [Double] = [50, 95, 99]

    /// The rows of every value of the tag, in the agents' order of values, each value's rows by name.
    func groupRows(_ p: RunProgress, seconds: Double) -> [GroupRow] {
        guard let snapshot = p.currentAgentsSnapshot() else { return [] }
        var out: [GroupRow] = []
        for g in snapshot.groups {
            for r in WebTable.summary(g.workers, elapsed: p.elapsed).rows {
                let key = g.value + "\u{1}" + WebRows.key(r)
                let before = previousByGroup[key] ?? (0, 0)
                previousByGroup[key] = (r.requests, r.failures)
                out.append(GroupRow(value: g.value, method: r.method, name: r.label, requests: r.requests, failures: r.failures,
                                    rps: Double(r.requests - before.0) / seconds, fps: Double(r.failures - before.1) / seconds,
                                    percentilesMs: r.percentilesMs(Self.groupPercentiles)))
            }
        }
        return out
    }
}

extension WebJSON {
    /// `,"group_rows":[…]` with a controller's tables while it runs, else nothing.
    static func groupRowsMember(_ f: WebFrame) -> String {
        guard !f.groupRows.isEmpty else { return "" }
        let w = WebJSONWriter()
        w.array {
            for r in f.groupRows {
                w.object {
                    w.key("value"); w.string(r.value)
                    w.key("method"); w.string(r.method)
                    w.key("name"); w.string(r.name)
                    w.key("requests"); w.int(r.requests)
                    w.key("failures"); w.int(r.failures)
                    w.key("p50_ms"); w.number(r.percentilesMs[0])
                    w.key("p95_ms"); w.number(r.percentilesMs[1])
                    w.key("p99_ms"); w.number(r.percentilesMs[2])
                    w.key("rps"); w.number(r.rps)
                    w.key("fps"); w.number(r.fps)
                }
            }
        }
        return ",\"group_rows\":" + w.output
    }
}
