import Foundation

/// Waits until `condition` holds, polling every 10 ms for up to `timeout` seconds; whether it came to hold.
/// For what another process or thread finishes a moment after luaload exits (a server logs or counts a request
/// when it has read it): a fixed sleep is either slow or, on a loaded machine, too short.
@discardableResult
func eventually(within timeout: TimeInterval = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() >= deadline { return false }
        usleep(10_000)
    }
    return true
}

/// Waits until `count()` reaches `expected` (up to `timeout` s), then returns the count: the comparison the test
/// makes next still sees a count that went past `expected` (the bug it looks for), but never one read too early.
@discardableResult
func settledCount(_ expected: Int, within timeout: TimeInterval = 10, _ count: () -> Int) -> Int {
    eventually(within: timeout) { count() >= expected }
    usleep(50_000)   // a request beyond the expected ones, if any, lands too
    return count()
}
