import ArgumentParser
import LuaLoadCore
#if canImport(Glibc)
import Glibc
#endif

/// `luaload merge`: several runs' JSON (segments, regions) into one exact report.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "luaload merge",
        abstract: "Merge runs' --json summaries exactly: counts and HDR histograms add, seconds line up by wall clock.",
        discussion: """
            `-` reads stdin, which may hold several JSON documents among other lines:
            kubectl logs -l job-name=luaload | luaload merge -
            Exit codes: as a run's (thresholds the runs carried are evaluated again on the merged result).
            """)

    @Argument(help: ArgumentHelp("Run summaries (luaload --json); - reads stdin.", valueName: "file"))
    var files: [String]

    @Option(help: ArgumentHelp("Also show each value of this tag apart, beside the total (e.g. region).", valueName: "tag"))
    var by: String?

    @Option(help: ArgumentHelp("Write the merged summary as JSON to this file (- for stdout; the tables then go to stderr).", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Write Locust's CSV files of the merged result: PREFIX_stats.csv, ...", valueName: "prefix"))
    var csv: String?

    @Flag(help: "With --csv, as a run's: a row per name and second in PREFIX_stats_history.csv (when the runs kept their seconds per name: run with --html or --csv-full-history), percentiles of the last 10 seconds.")
    var csvFullHistory = false

    @Option(help: ArgumentHelp("Write the merged HTML report to this file.", valueName: "file"))
    var html: String?

    @Option(help: ArgumentHelp("Write the thresholds' verdicts on the merged result as JUnit XML to this file.", valueName: "file"))
    var junit: String?

    @Option(name: .customLong("hdr-log"), help: ArgumentHelp("Write HdrHistogram's interval log of the merged result to this file (a histogram a second, per request name when the runs kept their seconds per name).", valueName: "file"))
    var hdrLog: String?

    /// The report files asked for.
    var reports: MergedReports {
        MergedReports(json: json, csv: csv, csvFullHistory: csvFullHistory, html: html, junit: junit, hdrLog: hdrLog)
    }

    func run() throws {
        try ReportWriter.check(reports.outputs)
        catchStopSignals()
        var runs: [RunRecord] = []
        for file in files where mergeStopSignals == 0 {
            let found: (runs: [RunRecord], skipped: Int)
            do {
                found = try MergeInput.runs(in: try readInput(file), source: file == "-" ? "stdin" : file)
            } catch let e as UsageError {
                throw e
            } catch {
                throw UsageError("\(error)")   // a document that is not a run's JSON: exit 2, named
            }
            if found.runs.isEmpty { throw UsageError("\(file == "-" ? "stdin" : file): no luaload --json summary in it") }
            runs += found.runs
        }
        if mergeStopSignals > 0 {
            writeStderr("luaload merge: stopping… merging the \(runs.count) runs read so far\n")
            if runs.isEmpty { throw UsageError("stopped before any run was read") }
        }
        try RunID.checkDistinct(runs)
        if let tag = by, !runs.contains(where: { $0.placement.tag(tag) != nil }) {
            let present = Set(runs.flatMap { $0.placement.tags.map(\.key) }).sorted()
            throw UsageError("--by \(tag): no run has this tag (tags present: \(present.isEmpty ? "none" : present.joined(separator: ", ")))")
        }
        let total = try RunMerge.merge(runs)
        let groups = try by.map { try MergeGroups(tag: $0, runs: runs, total: total) }
        for note in total.notes { writeStderr("luaload merge: \(note)\n") }
        var console = "Merged \(runs.count) runs\n" + ConsoleReport.render(total)
        if let groups { console += "\n" + groups.console(total: total) }
        reports.printConsole(console)
        var writer = ReportWriter()
        reports.write(total, groups: groups, title: "luaload merge: \(runs.count) runs", into: &writer)
        try exitIfReportsFailed(writer)
        if !total.thresholdResults.isEmpty {
            if total.anyThresholdCrossed { throw ExitCode(3) }
        } else if total.total.failures > 0 || !total.errors.isEmpty {
            throw ExitCode(1)
        }
    }

    /// A whole file, or stdin for "-".
    private func readInput(_ path: String) throws -> String {
        guard let f = path == "-" ? stdin : fopen(path, "r") else {
            throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { if path != "-" { fclose(f) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { bytes += chunk[0..<n] }
            if n < chunk.count {
                // A signal cuts a read short (EINTR): go on, unless it asked to stop (then: what was read).
                if ferror(f) != 0 && errno == EINTR && mergeStopSignals == 0 { clearerr(f); continue }
                break
            }
        }
        // A document cut by the stop is left out: only whole lines were read.
        if mergeStopSignals > 0, let lastNewline = bytes.lastIndex(of: 0x0A) { bytes.removeSubrange((lastNewline + 1)...) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// SIGINT / SIGTERM received by `luaload merge`: the first ends the input (stdin from `kubectl logs -f`
/// never ends by itself) and the runs read so far are merged and written; later ones change nothing.
nonisolated(unsafe) var mergeStopSignals: Int32 = 0

/// Handlers without SA_RESTART, so that a blocked read returns (EINTR) when the signal comes.
private func catchStopSignals() {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in mergeStopSignals += 1 }
    action.sa_flags = 0
    sigemptyset(&action.sa_mask)
    sigaction(SIGINT, &action, nil)
    sigaction(SIGTERM, &action, nil)
}
