import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// Each VU keeps one connection open, so a run needs a descriptor per VU (and, with --serve, the target
/// in the same process one more per connection), besides a few dozen of its own. Past the limit,
/// connections fail with "Too many open files" (70,569 of 74,235 requests at -u 20000 under ulimit -n 1024):
/// better said once, before the run.
extension Runner {
    /// Descriptors the process keeps besides the VUs' connections: stdio, epoll and eventfd per thread,
    /// the resolver, report files, the target's listening sockets.
    static let descriptorsBesidesConnections = 64

    /// The warning when this segment's VUs can need more descriptors than the limit, after raising the
    /// soft limit to the hard one (as the run does); nil when they fit.
    public func descriptorWarning(serving: Bool) -> String? {
        Sys.raiseOpenFilesLimit()
        var lim = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim) == 0, lim.rlim_cur != rlim_t.max else { return nil }
        let users = segmentUsers
        let needed = users * (serving ? 2 : 1) + Runner.descriptorsBesidesConnections
        guard needed > Int(lim.rlim_cur) else { return nil }
        return "\(users) users\(serving ? " and the --serve target" : "") can need \(needed) open files; the limit is \(lim.rlim_cur)"
            + " (its hard limit): connections past it will fail (\"Too many open files\")."
            + " Raise it before the run: `ulimit -n \(needed)` as root, LimitNOFILE= in a systemd unit, or a container's --ulimit nofile=\(needed)"
    }
}
