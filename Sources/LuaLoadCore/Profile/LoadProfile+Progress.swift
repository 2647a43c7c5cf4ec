extension LoadProfile {
    /// The live line's stage, target rate and arrivals (the Runner's ticks and the controller's).
    /// `live`: the open model's schedule after a posted rate change (RunControls), if any.
    func describe(_ p: inout RunProgress, elapsed: Double, arrivals: ArrivalCounts, live: ArrivalSchedule? = nil) {
        switch self {
        case .stages(let ramp):
            p.stage = "stage \(min(ramp.stageIndex(at: elapsed) + 1, ramp.stages.count))/\(ramp.stages.count)"
        case .shape:
            p.stage = "shape"
        case .open(let original):
            let schedule = live ?? original
            p.targetRate = elapsed < schedule.end ? schedule.ramp.value(at: elapsed) : 0
            p.arrivals = arrivals
            if schedule.ramp.stages.count > 1 {
                p.stage = "stage \(min(schedule.ramp.stageIndex(at: elapsed) + 1, schedule.ramp.stages.count))/\(schedule.ramp.stages.count)"
            }
        case .scenarios(let list):
            p.stage = "scenarios " + list.filter { elapsed >= $0.start && elapsed < $0.end }.map(\.name).joined(separator: ",")
            if list.contains(where: \.isOpen) { p.arrivals = arrivals }
        case .fixed:
            break
        }
    }
}
