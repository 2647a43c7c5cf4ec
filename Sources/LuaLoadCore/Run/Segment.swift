/// One run's share of a test split across N processes or machines (`--segment i/N`, k6's execution
/// segments): with no coordinator, every count of the one global run is cut by the same rule, so the N
/// segments started together do exactly what one run on one big box would.
///
/// The rule: segment i takes the global items k with k ≡ i (mod N) — VUs by their global spawn index
/// (with their global spawn offsets, so class split and spawn timing are the single run's), and the open
/// model's arrivals by their index in the one global schedule. Ramps (stages, shape()) need nothing more:
/// a worker runs those of its VUs whose global index is below the global target. `-n` is shared in
/// proportion to the segments' users, in parts that add up to n.
public struct Segment: Sendable, Equatable, CustomStringConvertible {
    /// 0-based.
    public let index: Int
    public let count: Int

    /// The whole run: one segment.
    public static let whole = Segment(uncheckedIndex: 0, count: 1)

    private init(uncheckedIndex: Int, count: Int) {
        self.index = uncheckedIndex
        self.count = count
    }

    /// `index` in 0..<count; nil otherwise.
    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 0, index < count else { return nil }
        self.init(uncheckedIndex: index, count: count)
    }

    /// "i/N" (0-based i, as `--segment 2/4` and `LUALOAD_SEGMENT`); nil when malformed or out of range.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }
    public var isWhole: Bool { count == 1 }

    /// Whether global item `k` (a VU's spawn index, an arrival's number) is this segment's.
    @inline(__always)
    public func owns(_ k: Int) -> Bool { k % count == index }

    /// The global number of this segment's `m`-th item (0-based).
    @inline(__always)
    public func global(_ m: Int) -> Int { index + m * count }

    /// How many of the global items 0..<total are this segment's.
    public func share(of total: Int) -> Int { Segment.share(of: total, segment: index, count: count) }

    private static func share(of total: Int, segment: Int, count: Int) -> Int {
        total > segment ? (total - segment + count - 1) / count : 0
    }

    /// This segment's part of `n` task runs when the run's VUs are `pool`, in proportion to the users of
    /// each segment (as threads share it within a run); the parts of all segments add up to n exactly.
    public func iterations(_ n: Int, pool: Int) -> Int {
        let before = (0..<index).reduce(0) { $0 + Segment.share(of: pool, segment: $1, count: count) }
        let through = before + share(of: pool)
        return n * through / pool - n * before / pool
    }
}
