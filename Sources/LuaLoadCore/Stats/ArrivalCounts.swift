/// What the open model did with its arrivals, per thread and merged. scheduled = started + dropped.
public struct ArrivalCounts: Sendable {
    /// Arrivals due before the stop (a constant rate R over D seconds: exactly R × D).
    public var scheduled = 0
    /// Arrivals that ran their task run.
    public var started = 0
    /// Arrivals that found no free VU and were dropped (--late drop, k6's way).
    public var droppedNoVU = 0
    /// Arrivals still waiting for a VU (--late queue), or due and not yet handled, when the run stopped.
    public var unstartedAtStop = 0
    /// Arrivals that waited for a VU before they started (--late queue, wrk2's way): their first request
    /// is timed from when the arrival was due.
    public var late = 0

    public init() {}

    /// Arrivals that never ran: dropped for want of a VU, or still waiting at the stop.
    public var dropped: Int { droppedNoVU + unstartedAtStop }

    public mutating func add(_ o: ArrivalCounts) {
        scheduled += o.scheduled
        started += o.started
        droppedNoVU += o.droppedNoVU
        unstartedAtStop += o.unstartedAtStop
        late += o.late
    }
}

/// What happens to an arrival that finds every VU busy (the issue of coordinated omission).
public enum LateMode: String, Sendable, CaseIterable {
    /// Wait for a VU and time the task run's first request from when the arrival was due (wrk2): a slow
    /// server shows as latency. The default.
    case queue
    /// Drop the arrival and count it (k6): a slow server shows as dropped arrivals.
    case drop
}
