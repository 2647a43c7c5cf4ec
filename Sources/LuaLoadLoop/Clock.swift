import CPosix
#if canImport(Glibc)
import Glibc
#endif

/// The monotonic clock in microseconds (vDSO: no syscall). Latencies and timers use only this.
/// Inlinable: the engine reads it several times per request, from another module.
@inlinable @inline(__always)
public func monotonicMicros() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000 &+ UInt64(ts.tv_nsec / 1000)
}

/// Wall-clock seconds since the epoch, for report timestamps only.
public func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
