import XCTest
@testable import LuaLoadCore

/// Stages, rates, the arrival schedule and threshold expressions, without traffic.
final class ProfileUnitTests: XCTestCase {
    func testStagesAndRatesParse() throws {
        XCTAssertEqual(try parseStages("30s:100,1m:100,30s:0", option: "--stages", rates: false),
                       [Stage(seconds: 30, target: 100), Stage(seconds: 60, target: 100), Stage(seconds: 30, target: 0)])
        XCTAssertEqual(try parseStages("1m:6000/m,10s:5", option: "--rate-stages", rates: true),
                       [Stage(seconds: 60, target: 100), Stage(seconds: 10, target: 5)])
        XCTAssertEqual(parseRate("200/s"), 200)
        XCTAssertEqual(parseRate("600/m"), 10)
        XCTAssertNil(parseRate("200/x"))
        XCTAssertNil(parseRate("-1/s"))
        for bad in ["30s", "30s:x", "x:10", "30s:1.5", "30s:10,", "0s:5"] {
            XCTAssertThrowsError(try parseStages(bad, option: "--stages", rates: false), bad)
        }
    }

    func testRampValuesAndStages() {
        let ramp = Ramp(start: 0, stages: [Stage(seconds: 10, target: 100), Stage(seconds: 10, target: 100), Stage(seconds: 5, target: 0)])
        XCTAssertEqual(ramp.value(at: 0), 0)
        XCTAssertEqual(ramp.value(at: 5), 50)
        XCTAssertEqual(ramp.value(at: 15), 100)
        XCTAssertEqual(ramp.value(at: 22.5), 50)
        XCTAssertEqual(ramp.value(at: 99), 0)
        XCTAssertEqual(ramp.peak, 100)
        XCTAssertEqual(ramp.duration, 25)
        XCTAssertEqual(ramp.stageIndex(at: 12), 1)
    }

    func testAConstantRateSchedulesExactlyRateTimesDuration() {
        let s = ArrivalSchedule(ramp: .constant(200, seconds: .infinity), end: 5)
        XCTAssertEqual(s.count(before: 5), 1000)
        XCTAssertEqual(s.dueSeconds(0), 0)
        XCTAssertEqual(s.dueSeconds(1), 0.005)
        XCTAssertNil(s.dueSeconds(1000), "arrival 1000 is due at 5 s, the end")
        let odd = ArrivalSchedule(ramp: .constant(3, seconds: .infinity), end: 7)
        XCTAssertEqual(odd.count(before: 7), 21)
    }

    func testRampingRatesScheduleTheirArea() {
        // 0 → 100/s over 10 s (500), 100/s for 20 s (2000), 100 → 0 over 10 s (500).
        let ramp = Ramp(start: 0, stages: [Stage(seconds: 10, target: 100), Stage(seconds: 20, target: 100), Stage(seconds: 10, target: 0)])
        let s = ArrivalSchedule(ramp: ramp, end: ramp.duration)
        XCTAssertEqual(s.count(before: 40), 3000)
        XCTAssertEqual(s.count(before: 10), 500)
        // Half-way up the first ramp (t = 5 s) a quarter of its arrivals are due: 100/s · 5 s / 2 / ... = 125.
        XCTAssertEqual(s.count(before: 5), 125)
        var previous = -1.0
        for n in stride(from: 0, to: 3000, by: 7) {
            let t = s.dueSeconds(n)!
            XCTAssertGreaterThan(t, previous, "due times increase")
            previous = t
        }
    }

    func testThreadsShareTheScheduleWithoutOverlap() {
        let s = ArrivalSchedule(ramp: .constant(200, seconds: .infinity), end: 5)
        var total = 0
        for k in 0..<3 {
            var j = 0
            while s.dueSeconds(k + j * 3) != nil { j += 1 }
            total += j
        }
        XCTAssertEqual(total, 1000)
    }

    func testThresholdExpressions() throws {
        let e = try ThresholdExpression(parsing: "p95 < 200")
        XCTAssertEqual(e.metric, .percentile(95))
        XCTAssertEqual(e.comparison, .lt)
        XCTAssertEqual(e.bound, 200)
        XCTAssertEqual(try ThresholdExpression(parsing: "p99.9<=0.5s").bound, 500)
        XCTAssertEqual(try ThresholdExpression(parsing: "p99.9<=0.5s").metric, .percentile(99.9))
        XCTAssertEqual(try ThresholdExpression(parsing: "avg>=20ms").comparison, .ge)
        XCTAssertEqual(try ThresholdExpression(parsing: "fail_rate < 0.01").metric, .failRate)
        XCTAssertEqual(try ThresholdExpression(parsing: "failures == 0").comparison, .eq)
        XCTAssertEqual(try ThresholdExpression(parsing: "dropped != 3").comparison, .ne)
        XCTAssertThrowsError(try ThresholdExpression(parsing: "p95 200")) { XCTAssertEqual($0 as? ThresholdParseError, .noComparison("p95 200")) }
        XCTAssertThrowsError(try ThresholdExpression(parsing: "p95 = 200")) { XCTAssertEqual($0 as? ThresholdParseError, .noComparison("p95 = 200")) }
        XCTAssertThrowsError(try ThresholdExpression(parsing: "p101 < 2")) { XCTAssertEqual($0 as? ThresholdParseError, .unknownMetric("p101")) }
        XCTAssertThrowsError(try ThresholdExpression(parsing: "rps > 2s")) { XCTAssertEqual($0 as? ThresholdParseError, .badRate("2s")) }
        XCTAssertThrowsError(try Threshold(option: "p95<200"), "no name")
        XCTAssertThrowsError(try Threshold(option: "GET /x: dropped < 1"), "dropped belongs to Aggregated")
        let t = try Threshold(option: "GET /health: p95<200")
        XCTAssertEqual(t.name, "GET /health")
        XCTAssertEqual(t.text, "p95<200")
    }
}
