import LuaLoadCore
#if canImport(Glibc)
import Glibc
#endif

/// Shows a run's progress on stderr: the live status line when stderr is a terminal; otherwise, with
/// --print-stats, the stats table every 2 s (Locust's headless mode). Nothing once the stop is sent.
struct LiveStatus {
    let live: Bool
    let printStats: Bool

    /// `live`: the line is wanted (not -q); it is drawn only on a terminal.
    init(live: Bool, printStats: Bool) {
        self.live = live && isatty(2) != 0
        self.printStats = printStats
    }

    func observe(_ event: RunEvent) {
        switch event {
        case .stopSent:
            if live { writeStderr(Self.clearLine) }
        case .interrupted(let now):
            // Shown even with -q: the user pressed Ctrl-C (or the pod got SIGTERM) and waits for an answer.
            writeStderr((live ? Self.clearLine : "") + (now ? "luaload: stopping now: in-flight requests abandoned\n"
                                                             : "luaload: stopping… (again to stop now)\n"))
        case .tick(let progress):
            guard !progress.stopping else { return }
            if live {
                writeStderr(Self.line(progress))
            } else if printStats && progress.tick % 2 == 0 {
                writeStderr(ConsoleReport.requestsTable(progress.currentStats()) + "\n")
            }
        }
    }

    /// Carriage return, then erase the line: the next text starts on a clean line.
    static let clearLine = "\r\u{1B}[2K"

    /// "7s  users 50/50  1234 req/s  fail 0.00%  p50 1.20 ms  p95 3.40 ms (last 10 s)": the req/s of the
    /// last second, the rest over the last 10 s.
    static func line(_ p: RunProgress) -> String {
        let window = p.recentLatency()
        let failPercent = p.recentRequests > 0 ? Double(p.recentFailures) * 100 / Double(p.recentRequests) : 0
        return clearLine + Format.duration(p.elapsed) + (p.stage.map { "  " + $0 } ?? "") + profilePart(p)
            + Format.fixed(Double(p.requests), 0) + " req/s  fail " + Format.fixed(failPercent, 2)
            + "%  p50 " + Format.fixed(window.percentileMs(50), 2) + " ms  p95 " + Format.fixed(window.percentileMs(95), 2)
            + " ms (last 10 s)"
    }

    /// Closed model: "users 40/50" (running / the target now). Open model: "rate 200/s  VUs 12/50  dropped 3
    /// late 10" (arrivals so far that never ran, and that waited for a VU).
    static func profilePart(_ p: RunProgress) -> String {
        guard let rate = p.targetRate else { return "  users \(p.activeUsers)/\(p.targetUsers)  " }
        let a = p.arrivals ?? ArrivalCounts()
        return "  rate " + Format.fixed(rate, rate < 10 ? 2 : 0) + "/s  VUs \(p.activeUsers)/\(p.targetUsers)  dropped \(a.dropped)  late \(a.late)  "
    }
}
