/// check() and metrics.* while the run runs: read from the workers' latest posts (they carry what their Lua
/// states counted, taken once a second by Worker.publish), merged only when a live view asks — the console,
/// the web page, /metrics, remote write. Nothing here runs per request.
extension RunProgress {
    /// Every worker's checks and custom metrics so far, merged (a trend's histograms added: ~0.1 M instructions
    /// a trend per call).
    public func currentScript() -> ScriptMetrics {
        var all = ScriptMetrics()
        for w in currentWorkerStats() where !w.script.isEmpty { all.add(w.script) }
        return all
    }

    /// Every check so far, together (the `checks` rate), without touching the custom metrics; nil when no
    /// check() ran yet.
    public func currentChecks() -> CheckCounts? {
        var all = CheckCounts(), any = false
        for w in currentWorkerStats() where !w.script.checks.isEmpty {
            any = true
            for c in w.script.checks.values { all.passes += c.passes; all.fails += c.fails }
        }
        return any ? all : nil
    }
}
