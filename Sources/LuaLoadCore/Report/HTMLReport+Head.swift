/// The top of the HTML report: what ran, against what, when and how (the facts a reader needs before the
/// figures), the thresholds' verdict, and the open model's arrivals with its uncorrected latencies.
extension HTMLReport {
    static func facts(_ s: Summary) -> String {
        var rows: [(String, String)] = []
        let p = s.placement
        if p.startUnixMs > 0 {
            rows.append(("When", Format.utc(unixMs: p.startUnixMs) + " → " + Format.utc(unixMs: max(p.endUnixMs, p.startUnixMs))
                         + " (" + Format.fixed(s.durationSeconds, 1) + " s)"))
        }
        if !p.targets.isEmpty { rows.append((p.targets.count == 1 ? "Target" : "Targets", p.targets.joined(separator: ", "))) }
        rows.append(("Load profile", loadProfile(s)))
        if let command = p.command { rows.append(("Command", command)) }
        if !p.tags.isEmpty { rows.append(("Tags", p.tags.map { $0.key + "=" + $0.value }.joined(separator: ", "))) }
        var o = "<table class=\"facts\" id=\"facts\">\n"
        for (k, v) in rows {
            let cell = k == "Command" ? "<code>\(esc(v))</code>" : esc(v)
            o += "<tr><th class=\"l\">\(esc(k))</th><td class=\"l\">\(cell)</td></tr>\n"
        }
        o += "</table>\n"
        for note in s.notes { o += "<p class=\"note\">\(esc(note))</p>\n" }
        return o
    }

    /// The profile in words: ramps and rates as given, else the fixed users and their spawn.
    static func loadProfile(_ s: Summary) -> String {
        let model = s.arrivals != nil ? "open model (arrivals), " : "closed model (users), "
        let shape = s.profile ?? "\(s.users) users"
        var text = model + shape
        if s.arrivals != nil { text += ", late arrivals: " + (s.lateMode?.rawValue ?? "queue") + ", VU pool \(s.users)" }
        return text + " on \(s.threads) thread" + (s.threads == 1 ? "" : "s")
    }

    /// A banner with the thresholds' verdict, then their table (nothing without thresholds).
    static func verdict(_ s: Summary) -> String {
        guard !s.thresholdResults.isEmpty else { return "" }
        let crossed = s.thresholdResults.filter { !$0.ok }.count, n = s.thresholdResults.count
        let text = crossed == 0 ? "✓ Passed: all \(n) threshold\(n == 1 ? "" : "s") held"
            : "✗ Failed: \(crossed) of \(n) threshold\(n == 1 ? "" : "s") crossed"
        return "<div class=\"verdict \(crossed == 0 ? "pass" : "fail")\" id=\"verdict\">\(esc(text))</div>\n" + ProfileReport.html(s)
    }

    /// The open model: what happened to the arrivals, and latencies corrected (from when each arrival was
    /// due) beside uncorrected (from the first byte written).
    static func arrivals(_ s: Summary) -> String {
        guard let a = s.arrivals else { return "" }
        var o = "<h2>Arrivals (open model)</h2>\n<table id=\"arrivals\">\n<thead><tr><th>Scheduled</th><th>Started</th><th>Dropped</th>"
        o += "<th>no free VU</th><th>not started at the stop</th><th>Started late</th><th class=\"l\">Late arrivals</th></tr></thead>\n<tbody>\n"
        o += "<tr><td>\(a.scheduled)</td><td>\(a.started)</td><td\(a.dropped > 0 ? " class=\"bad\"" : "")>\(a.dropped)</td>"
        o += "<td>\(a.droppedNoVU)</td><td>\(a.unstartedAtStop)</td><td>\(a.late)</td><td class=\"l\">\(esc(s.lateMode?.rawValue ?? "queue"))</td></tr>\n"
        o += "</tbody>\n</table>\n"
        guard let u = s.uncorrected else { return o }
        let ps: [Double] = [50, 90, 95, 99, 99.9, 100]
        o += "<table id=\"uncorrected\">\n<thead><tr><th class=\"l\">Latency (ms)</th>"
        for p in ps { o += "<th>\(esc(Format.percentile(p)))%</th>" }
        o += "<th># reqs</th></tr></thead>\n<tbody>\n"
        for (label, r) in [("corrected: from when the arrival was due", s.total), ("uncorrected: from the first byte written", u)] {
            o += "<tr><td class=\"l\">\(esc(label))</td>"
            for v in r.percentilesMs(ps) { o += "<td>\(ms(v))</td>" }
            o += "<td>\(r.requests)</td></tr>\n"
        }
        return o + "</tbody>\n</table>\n"
    }
}
