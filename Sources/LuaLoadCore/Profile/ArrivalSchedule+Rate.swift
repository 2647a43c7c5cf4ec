extension ArrivalSchedule {
    /// The open model with its rate changed: this schedule up to `now` (seconds into the run), then a constant
    /// `rate`. Arrivals already due keep their times (the schedule up to now is the same function), so each
    /// worker goes on from its next arrival; every agent of a controller given the same `now` computes the
    /// same global schedule, so their segments still split it exactly. `runEnd`: -d (nil: until the stop).
    public func changingRate(to rate: Double, at now: Double, runEnd: Double?) -> ArrivalSchedule {
        var stages: [Stage] = []
        var begin = 0.0
        for s in ramp.stages {
            if begin + s.seconds >= now {
                stages.append(Stage(seconds: now - begin, target: ramp.value(at: now)))
                break
            }
            stages.append(s)
            begin += s.seconds
        }
        stages.append(Stage(seconds: 0, target: rate))
        stages.append(Stage(seconds: .infinity, target: rate))
        // A rate of 0 ends the schedule now (an infinite stage of 0 would put every later arrival at its start).
        let end = rate > 0 ? runEnd ?? .infinity : now
        return ArrivalSchedule(ramp: Ramp(start: ramp.start, stages: stages), end: end)
    }
}
