import LuaLoadCore

extension RunCommand {
    /// The report files of a controlled test: those `luaload merge --by TAG` writes of the agents' --json
    /// files with the same flags (MergedReports), the JSON with "agents" added, the title naming the script.
    var controllerReports: MergedReports {
        MergedReports(json: json, csv: csv, csvFullHistory: csvFullHistory, html: html, junit: junit, hdrLog: scale.hdrLog)
    }

    /// The console report and every report file of a controlled test (exit 4 when one could not be written).
    func writeControllerReports(_ result: ControllerResult, agents n: Int) throws {
        let reports = controllerReports
        reports.printConsole(result.console())
        var writer = ReportWriter()
        reports.write(result.total, groups: result.groups, title: "luaload: " + script + " (\(n) agents)", document: result.json(), into: &writer)
        try exitIfReportsFailed(writer)
    }
}
