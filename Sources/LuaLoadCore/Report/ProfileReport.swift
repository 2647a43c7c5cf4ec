/// The reports' parts for load profiles: the open model's arrivals and the thresholds' verdicts
/// (console, JSON, HTML) and the JUnit file for CI systems.
public enum ProfileReport {
    /// A threshold's observed value: ms with 2 decimals, ratios with 4, counts whole.
    public static func value(_ r: ThresholdResult) -> String {
        guard let v = r.value else { return r.note ?? "no value" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return Format.fixed(v, abs(v) < 1 ? 4 : 2)
    }

    /// "Thresholds" with ✓ / ✗, the expression and the value observed.
    public static func consoleThresholds(_ s: Summary) -> String {
        guard !s.thresholdResults.isEmpty else { return "" }
        let nameWidth = max(20, (s.thresholdResults.map { $0.name.count }.max() ?? 0) + 2)
        let exprWidth = max(20, (s.thresholdResults.map { $0.expression.count }.max() ?? 0) + 2)
        var out = "\nThresholds\n"
        for r in s.thresholdResults {
            out += (r.ok ? "  ✓ " : "  ✗ ") + Format.padRight(r.name, nameWidth) + Format.padRight(r.expression, exprWidth) + value(r) + "\n"
        }
        let crossed = s.thresholdResults.filter { !$0.ok }.count
        out += crossed == 0 ? "all \(s.thresholdResults.count) thresholds hold\n" : "\(crossed) of \(s.thresholdResults.count) thresholds crossed\n"
        return out
    }

    /// "N scheduled, N started, N dropped (…), N started late": the run's arrivals, or a scenario's.
    static func arrivalsText(_ a: ArrivalCounts) -> String {
        "\(a.scheduled) scheduled, \(a.started) started, \(a.dropped) dropped (\(a.droppedNoVU) for want of a free VU, "
            + "\(a.unstartedAtStop) not started at the stop), \(a.late) started late"
    }

    /// The open model's line: the schedule's fate and the uncorrected latencies beside the corrected ones.
    public static func consoleArrivals(_ s: Summary) -> String {
        guard let a = s.arrivals else { return "" }
        var out = "\nArrivals (\(s.profile ?? "open model"), late arrivals: \(s.lateMode?.rawValue ?? "queue")): " + arrivalsText(a) + "\n"
        if let u = s.uncorrected {
            out += "Latency ms, corrected (from when due) vs uncorrected (from the first byte): p50 "
                + Format.fixed(s.total.percentileMs(50), 2) + " / " + Format.fixed(u.percentileMs(50), 2) + ", p99 "
                + Format.fixed(s.total.percentileMs(99), 2) + " / " + Format.fixed(u.percentileMs(99), 2) + ", max "
                + Format.fixed(s.total.maxMs, 2) + " / " + Format.fixed(u.maxMs, 2) + "\n"
        }
        return out
    }

    /// An "arrivals" object's counts (the run's, or a scenario's in "scenarios"); RunRecord reads them back.
    static func arrivalCounts(_ w: JSONWriter, _ a: ArrivalCounts) {
        w.key("scheduled"); w.int(a.scheduled)
        w.key("started"); w.int(a.started)
        w.key("dropped"); w.int(a.dropped)
        w.key("dropped_no_vu"); w.int(a.droppedNoVU)
        w.key("unstarted_at_stop"); w.int(a.unstartedAtStop)
        w.key("late"); w.int(a.late)
    }

    /// JSON: "profile", "arrivals" (open model) and "thresholds".
    static func json(_ w: JSONWriter, _ s: Summary) {
        w.key("profile"); if let p = s.profile { w.string(p) } else { w.null() }
        if let a = s.arrivals {
            w.key("arrivals"); w.object {
                arrivalCounts(w, a)
                w.key("late_mode"); w.string(s.lateMode?.rawValue ?? "queue")
                if let u = s.uncorrected {
                    // wrk2's -U: the same requests timed from their first byte, without the late-arrival correction.
                    w.key("uncorrected"); w.object {
                        w.key("requests"); w.int(u.requests)
                        w.key("avg_ms"); w.number(u.avgMs)
                        w.key("max_ms"); w.number(u.maxMs)
                        JSONReport.sums(w, sumMicros: u.sumMicros, bytes: u.bytes)
                        JSONReport.percentilesObject(w, u.percentilesMs(Summary.percentiles))
                        w.key("hdr"); w.string(HdrCodec.encodeBase64(u.histogram))
                    }
                }
            }
        }
        w.key("thresholds"); w.array {
            for r in s.thresholdResults {
                w.object {
                    w.key("name"); w.string(r.name)
                    w.key("expr"); w.string(r.expression)
                    w.key("value"); if let v = r.value { w.number(v, decimals: 6) } else { w.null() }
                    w.key("ok"); w.bool(r.ok)
                    if let note = r.note { w.key("note"); w.string(note) }
                }
            }
        }
    }

    /// HTML: a Thresholds table when there are thresholds.
    static func html(_ s: Summary) -> String {
        guard !s.thresholdResults.isEmpty else { return "" }
        var o = "<h2>Thresholds</h2>\n<table id=\"thresholds\">\n<thead><tr><th></th><th class=\"l\">Name</th><th class=\"l\">Threshold</th><th>Value</th></tr></thead>\n<tbody>\n"
        for r in s.thresholdResults {
            o += "<tr><td class=\"\(r.ok ? "good" : "bad")\">\(r.ok ? "✓" : "✗")</td><td class=\"name\">\(HTMLReport.esc(r.name))</td>"
            o += "<td class=\"l\">\(HTMLReport.esc(r.expression))</td><td>\(HTMLReport.esc(value(r)))</td></tr>\n"
        }
        return o + "</tbody>\n</table>\n"
    }
}

/// `--junit FILE`: one test case per threshold (crossed ones fail), for CI systems that read JUnit XML.
public enum JUnitReport {
    public static func render(_ s: Summary) -> String {
        let failures = s.thresholdResults.filter { !$0.ok }.count
        var o = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        o += "<testsuites name=\"luaload\" tests=\"\(s.thresholdResults.count)\" failures=\"\(failures)\">\n"
        o += "  <testsuite name=\"thresholds\" tests=\"\(s.thresholdResults.count)\" failures=\"\(failures)\" errors=\"0\" time=\"\(Format.fixed(s.durationSeconds, 3))\">\n"
        for r in s.thresholdResults {
            let attrs = "classname=\"\(xml(r.name))\" name=\"\(xml(r.expression))\""
            if r.ok {
                o += "    <testcase \(attrs)><system-out>\(xml(ProfileReport.value(r)))</system-out></testcase>\n"
            } else {
                let message = r.value == nil ? (r.note ?? "no value") : "\(r.expression) crossed: observed \(ProfileReport.value(r))"
                o += "    <testcase \(attrs)><failure message=\"\(xml(message))\" type=\"threshold\"/></testcase>\n"
            }
        }
        return o + "  </testsuite>\n</testsuites>\n"
    }

    /// XML text and attribute escaping: HTML's, less the control characters XML 1.0 does not allow.
    static func xml(_ s: String) -> String {
        HTMLReport.esc(String(String.UnicodeScalarView(s.unicodeScalars.filter { $0.value >= 0x20 || $0 == "\n" || $0 == "\t" })))
    }
}
