import LuaLoadCore
#if canImport(Glibc)
import Glibc
#endif

/// Shows a run's progress on stderr. On a terminal: the live status line, fitted to the terminal's
/// width, and with --print-stats a per-name table above it, redrawn in place each second (Locust's
/// console). Not on a terminal: with --print-stats, the stats table every 2 s (Locust's headless mode).
/// Nothing once the stop is sent, but the stop's own messages.
struct LiveStatus {
    let live: Bool
    let printStats: Bool
    /// Lines of the last in-place table drawn (to move up over and redraw).
    private let drawn = DrawnLines()

    /// `live`: the line is wanted (not -q); it is drawn only on a terminal.
    init(live: Bool, printStats: Bool) {
        self.live = live && isatty(2) != 0
        self.printStats = printStats
    }

    func observe(_ event: RunEvent) {
        switch event {
        case .stopSent:
            if live { writeStderr(erase()) }
        case .interrupted(let now):
            // Shown even with -q: the user pressed Ctrl-C (or the pod got SIGTERM) and waits for an answer.
            writeStderr((live ? erase() : "") + (now ? "luaload: stopping now: in-flight requests abandoned\n"
                                                     : "luaload: stopping… (again to stop now)\n"))
        case .tick(let progress):
            guard !progress.stopping else { return }
            if live {
                let columns = Terminal.columns()
                var text = erase()
                var above: [String] = []
                if printStats {
                    let stats = progress.currentStats()
                    above += LiveTable.render(stats, columns: columns)
                    above += ScriptMetricsReport.console(stats).split(separator: "\n", omittingEmptySubsequences: false).dropFirst().map(String.init)
                        .filter { !$0.isEmpty }   // check() and metrics.* so far (nothing when the script uses neither)
                }
                if let groups = progress.groups { above += groups.lines() }   // a controller's regions
                if let errors = Self.errorLine(progress) { above.append(errors) }
                if !above.isEmpty {
                    text += above.map { Terminal.fit($0, columns: columns) }.joined(separator: "\n") + "\n"
                    drawn.count = above.count
                }
                writeStderr(text + Terminal.fit(Self.line(progress), columns: columns))
            } else if printStats && progress.tick % 2 == 0 {
                let stats = progress.currentStats()
                writeStderr(ConsoleReport.requestsTable(stats) + ScriptMetricsReport.console(stats) + "\n")
            }
        }
    }

    /// Erases what the last tick drew: the line, and the table above it (cursor up, clear to the end).
    private func erase() -> String {
        defer { drawn.count = 0 }
        return drawn.count > 0 ? "\r\u{1B}[\(drawn.count)A\u{1B}[J" : Self.clearLine
    }

    /// Carriage return, then erase the line: the next text starts on a clean line.
    static let clearLine = "\r\u{1B}[2K"

    /// "7s  users 50/50  1234 req/s  fail 0.00%  p50 1.20 ms  p95 3.40 ms (10 s)": the req/s of the last
    /// second, the rest over the last 10 s; "(conn 12/s)" after the failures when connections fail.
    static func line(_ p: RunProgress) -> String {
        let window = p.recentLatency()
        let failPercent = p.recentRequests > 0 ? Double(p.recentFailures) * 100 / Double(p.recentRequests) : 0
        return Format.duration(p.elapsed) + (p.stage.map { "  " + $0 } ?? "") + profilePart(p)
            + Format.fixed(Double(p.requests), 0) + " req/s  fail " + Format.fixed(failPercent, 2) + "%"
            + (p.connectionFailures > 0 ? " (conn \(p.connectionFailures)/s)" : "")
            + "  p50 " + Format.fixed(window.percentileMs(50), 2) + " ms  p95 " + Format.fixed(window.percentileMs(95), 2)
            + " ms (10 s)" + checksPart(p)
    }

    /// "  checks 75.00%": every check() so far together, once the script ran one.
    static func checksPart(_ p: RunProgress) -> String {
        guard let c = p.currentChecks() else { return "" }
        return "  checks " + Format.fixed(c.rate * 100, 2) + "%"
    }

    /// "script errors 1234 (41/s), first: script.lua:3: attempt to index a nil value", above the live
    /// line once there is one.
    static func errorLine(_ p: RunProgress) -> String? {
        guard p.scriptErrorsTotal > 0 else { return nil }
        let first = (p.firstScriptError ?? "").split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        return "script errors \(p.scriptErrorsTotal) (\(p.scriptErrors)/s), first: " + first
    }

    /// Closed model: "users 40/50" (running / the target now). Open model: "rate 200/s  VUs 12/50  dropped 3
    /// late 10" (arrivals so far that never ran, and that waited for a VU).
    static func profilePart(_ p: RunProgress) -> String {
        guard let rate = p.targetRate else { return "  users \(p.activeUsers)/\(p.targetUsers)  " }
        let a = p.arrivals ?? ArrivalCounts()
        return "  rate " + Format.fixed(rate, rate < 10 ? 2 : 0) + "/s  VUs \(p.activeUsers)/\(p.targetUsers)  dropped \(a.dropped)  late \(a.late)  "
    }
}

/// The in-place table's height, kept between ticks (LiveStatus is passed around by value).
final class DrawnLines { var count = 0 }
