import LuaLoadCore

/// The report files of a merged test. `luaload merge` and a controller (`luaload --controller`) both write
/// theirs with this, from a Summary merged by the same code (RunMerge, MergeGroups), so a controller's
/// reports are `luaload merge --by TAG`'s of the agents' --json files. What differs by design: the HTML's
/// title, the console's first line, and the controller's JSON's "agents" (given as `document`).
struct MergedReports {
    var json: String?
    var csv: String?
    var csvFullHistory = false
    var html: String?
    var junit: String?
    var hdrLog: String?

    /// Every file asked for, as (flag, path), for the check before anything runs.
    var outputs: [(flag: String, path: String)] {
        [("--json", json), ("--csv", csv.map { $0 + "_stats.csv" }), ("--html", html), ("--junit", junit), ("--hdr-log", hdrLog)]
            .compactMap { flag, path in path.map { (flag, $0) } }
    }

    /// The console report: on stdout, or on stderr when the JSON goes to stdout (`--json -`).
    func printConsole(_ text: String) {
        if json == "-" { writeStderr(text) } else { print(text, terminator: "") }
    }

    /// Each file on its own (one that fails does not stop the others). `document`: the JSON to write
    /// (default: the merged document, with "by" and "groups" when grouped).
    func write(_ total: Summary, groups: MergeGroups?, title: String, document: String? = nil, into writer: inout ReportWriter) {
        if let json { writer.write("--json", json, document ?? groups?.json(total: total) ?? JSONReport.render(total)) }
        if let csv {
            for file in CSVReport.files(total, prefix: csv, fullHistory: csvFullHistory) { writer.write("--csv", file.path, file.text) }
        }
        if let html { writer.write("--html", html, groups?.htmlPage(total: total, title: title) ?? HTMLReport.render(total, title: title)) }
        if let junit { writer.write("--junit", junit, JUnitReport.render(total)) }
        if let hdrLog { writer.write("--hdr-log", hdrLog, HdrLogRecorder.renderMerged(total)) }
    }
}
