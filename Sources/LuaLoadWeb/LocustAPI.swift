import LuaLoadCore
import LuaLoadLive

/// Locust's JSON shapes (locust/web.py, request_stats), filled from the frame: the stats since the last reset,
/// the entries in Locust's order (by name, then method), the "Aggregated" row last.
enum LocustAPI {
    static func requests(_ f: WebFrame) -> String {
        let w = JSONWriter()
        let v = f.view
        let running = f.state != "stopped" && f.state != "ready"
        // p50 and p95 over the last 10 s (Locust's current_response_time_percentile_1 and _2): ten histograms
        // merged, so here, when asked, rather than every second.
        let window = running ? f.progress?.recentLatency() : nil
        let p50 = window?.percentileMs(50) ?? 0, p95 = window?.percentileMs(95) ?? 0
        w.object {
            w.key("stats"); w.array {
                let rows = (v?.rows ?? []).sorted { ($0.name, $0.method) < ($1.name, $1.method) }
                for r in rows { entry(w, r, v!, f, running: running) }
                if let v { entry(w, v.total, v, f, running: running) }
            }
            w.key("errors"); w.array {
                for x in v?.failures ?? [] {
                    w.object {
                        w.key("method"); w.string(x.method); w.key("name"); w.string(x.name)
                        w.key("error"); w.string(x.error); w.key("occurrences"); w.int(x.occurrences)
                    }
                }
            }
            w.key("total_rps"); w.number(running ? f.totalRPS : v.map { $0.rps($0.total) } ?? 0)
            w.key("total_fail_per_sec"); w.number(running ? f.totalFPS : v.map { $0.failuresPerSecond($0.total) } ?? 0)
            w.key("fail_ratio"); w.number(v?.total.failureRatio ?? 0, decimals: 6)
            w.key("current_response_time_percentile_1"); w.number(p50)
            w.key("current_response_time_percentile_2"); w.number(p95)
            w.key("current_response_time_percentiles"); w.object {
                w.key("response_time_percentile_0.5"); w.number(p50)
                w.key("response_time_percentile_0.95"); w.number(p95)
            }
            w.key("state"); w.string(f.state)
            w.key("user_count"); w.int(f.users)
            if let agents = f.progress?.agents { workers(w, agents) }
            if let groups = f.groups { w.key("groups"); w.raw(groups.json()) }
        }
        return w.output
    }

    /// A controller's page: its agents as Locust's master lists its workers (lost ones are Locust's "missing").
    private static func workers(_ w: JSONWriter, _ agents: [AgentReport]) {
        w.key("workers"); w.array {
            for a in agents {
                let state: String
                switch a.state {
                case .joined, .ready: state = "ready"
                case .running: state = "running"
                case .done: state = "stopped"
                case .lost: state = "missing"
                }
                w.object {
                    w.key("id"); w.string("agent \(a.id) " + a.peer)
                    w.key("state"); w.string(state)
                    w.key("user_count"); w.int(a.users)
                }
            }
        }
        w.key("worker_count"); w.int(agents.filter { $0.state != .lost && $0.state != .done }.count)
    }

    private static func entry(_ w: JSONWriter, _ r: RowSummary, _ s: Summary, _ f: WebFrame, running: Bool) {
        let key = WebRows.key(r)
        let isTotal = r.method.isEmpty && r.name == "Aggregated"
        let ps = f.percentiles[key] ?? r.percentilesMs(WebJSON.tablePercentiles)
        w.object {
            w.key("method"); w.string(r.method)
            w.key("name"); w.string(r.label)
            w.key("safe_name"); w.string(HTMLReport.esc(r.label))
            w.key("num_requests"); w.int(r.requests)
            w.key("num_failures"); w.int(r.failures)
            w.key("avg_response_time"); w.number(r.avgMs)
            w.key("min_response_time"); w.number(r.minMs)
            w.key("max_response_time"); w.number(r.maxMs)
            w.key("current_rps"); w.number(running ? (isTotal ? f.totalRPS : f.currentRPS[key] ?? 0) : 0)
            w.key("current_fail_per_sec"); w.number(running ? (isTotal ? f.totalFPS : f.currentFPS[key] ?? 0) : 0)
            w.key("median_response_time"); w.number(ps[0])
            w.key("ninetieth_response_time"); w.number(ps[1])
            w.key("ninety_ninth_response_time"); w.number(ps[3])
            w.key("response_time_percentile_0.95"); w.number(ps[2])
            w.key("response_time_percentile_0.99"); w.number(ps[3])
            w.key("avg_content_length"); w.number(r.avgContentSize)
        }
    }

    /// Locust answers a bad /swarm with {"success": false, "message": …}; here with a 4xx status too.
    static func failure(_ message: String, status: Int = 400) -> LiveResponse {
        .json(#"{"success":false,"message":\#(JSONWriter.quote(message))}"#, status: status)
    }
}
