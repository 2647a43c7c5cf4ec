import LuaLoadLoop

/// Where and when a run happened, so that runs of several processes or machines line up by wall-clock
/// time and can be told apart (`luaload merge`, `--by region`).
public struct RunPlacement {
    /// Wall-clock time of the users' start — the history's elapsed 0 — in Unix ms (0: unknown).
    public var startUnixMs: Int64 = 0
    /// Wall-clock time of the end (the stop, or the last VU's end), Unix ms.
    public var endUnixMs: Int64 = 0
    /// --tag key=value, then region (FLY_REGION), host and segment unless given; in that order.
    public var tags: [(key: String, value: String)] = []
    /// The base URLs the run was pointed at (-H, the script's and its classes' `host`): the HTML report's target.
    public var targets: [String] = []
    /// The command line that ran it, shell-quoted (nil: unknown, or runs merged with different ones).
    public var command: String?
    /// This run's id (RunID), unique per run and segment; for a merge, the ids of the runs it holds.
    public var runID = ""
    public var mergedRunIDs: [String] = []

    public init() {}

    /// The value of tag `key`, if the run has it.
    public func tag(_ key: String) -> String? { tags.first(where: { $0.key == key })?.value }

    /// Sets `key`, replacing an earlier value.
    public mutating func setTag(_ key: String, _ value: String) {
        if let k = tags.firstIndex(where: { $0.key == key }) { tags[k].value = value } else { tags.append((key, value)) }
    }

    /// A history point's absolute time (Unix ms): the end of the second it covers.
    public func unixMs(elapsed: Double) -> Int64 { startUnixMs + Int64((elapsed * 1000).rounded()) }

    /// The wall-clock time (Unix ms) at which the monotonic clock read `micros`.
    public static func unixMs(atMonotonic micros: UInt64) -> Int64 {
        let now = monotonicMicros()
        let wallMs = Int64((wallClockSeconds() * 1000).rounded())
        return wallMs - (Int64(bitPattern: now) - Int64(bitPattern: micros)) / 1000
    }
}
