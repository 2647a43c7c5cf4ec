import Foundation
@testable import LuaLoadCore

/// The controller's view of one agent, for tests that act on it mid-test (internal to LuaLoadCore, hence apart).
extension DistributedTestCase {
    /// The controller's agent tagged region=`region` (its ledger: the seconds it holds of it).
    func controlled(_ c: Controller, region: String) -> ControlledAgent? {
        c.agents.first { $0.report.tags.contains { $0.key == "region" && $0.value == region } }
    }

    /// How many seconds of the agent tagged region=`region` the controller holds: a test that kills or stops an agent
    /// waits for them, not for a tick number (a starved agent may have sent none by tick 2).
    func secondsHeld(_ c: Controller, region: String) -> Int {
        controlled(c, region: region)?.ledger.seconds ?? 0
    }

    /// Seconds from the controller's start to a monotonic instant of it.
    func elapsed(_ c: Controller, at micros: UInt64) -> Double {
        (Double(micros) - Double(c.live.start)) / 1e6
    }
}
