import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// What the controller's own run options mean for the whole test (docs/distributed.md, "Options on a
/// controller run"): its -t, --tag and --exit-code-on-error travel in the package, its --start-at holds the start.
extension RunPackage {
    /// This package with the controller's -t and --tag for every agent.
    func carrying(_ o: ControllerOptions) -> RunPackage {
        var p = self
        p.agentThreads = o.agentThreads
        p.runTags = o.tags
        p.exitCodeOnError = o.exitCodeOnError
        return p
    }

    /// An agent's tags with the controller's --tag added; an agent's own tag of the same key stands (it is
    /// the more particular: its region, its host), and is named in `overridden` ("region=x") for the log.
    func withRunTags(_ own: [(key: String, value: String)]) -> (tags: [(key: String, value: String)], overridden: [String]) {
        var tags = own
        var overridden: [String] = []
        for t in runTags {
            if let mine = own.first(where: { $0.key == t.key }) {
                if mine.value != t.value { overridden.append("\(t.key)=\(t.value)") }
            } else {
                tags.append(t)
            }
        }
        return (tags, overridden)
    }
}

extension Controller {
    /// Until when agents may join: --agents-timeout from now, or until --start-at when that is later.
    func gatherDeadline() -> UInt64 {
        let now = monotonicMicros()
        let timeout = now + UInt64(options.agentsTimeout * 1e6)
        guard let at = options.startAt else { return timeout }
        return max(timeout, now + UInt64(max(0, at - wallClockSeconds()) * 1e6))
    }

    /// --start-at: every agent is ready; the start message goes out `startDelay` before the time, so they
    /// start on it. An agent that leaves meanwhile frees its segment for the next one (gather again). Ready
    /// more than 1 s after the time: the run is called off (exit 2) unless --start-late-ok, as one box's.
    func holdUntilStartTime(log: (String) -> Void, signals: ControllerSignals?) throws {
        guard let at = options.startAt else { return }
        let wait = at - options.startDelay - wallClockSeconds()
        if wait > 0 { log("every agent is ready: the test starts at --start-at, in \(Format.fixed(wait + options.startDelay, 1)) s") }
        while true {
            let left = at - options.startDelay - wallClockSeconds()
            guard left > 0 else { break }
            if signals?.pending() == true {
                callOff("the controller was interrupted")
                throw UsageError("interrupted before the start")
            }
            waitForInput(until: monotonicMicros() + UInt64(min(left, 0.2) * 1e6))
            pingWaiting()
            acceptNewcomers(log: log, open: true)   // refused: the test has its agents
            for a in agents where !a.connection.pump() {
                log("\(a.name) left before the start")
                a.report.state = .lost
            }
            if agents.contains(where: { $0.report.state == .lost }) {
                agents.removeAll { $0.report.state == .lost }
                try gather(log: log, signals: signals)
                try checkTaggedThresholds()
            }
        }
        let late = wallClockSeconds() + options.startDelay - at
        guard late > 1 else { return }
        guard options.startLateOk else {
            callOff("the agents were ready after --start-at")
            throw UsageError("--start-at: every agent was ready only \(Format.fixed(late, 1)) s after it: start them earlier (or give a later time), or add --start-late-ok")
        }
        log("starting \(Format.fixed(late, 1)) s after --start-at (--start-late-ok)")
    }
}
