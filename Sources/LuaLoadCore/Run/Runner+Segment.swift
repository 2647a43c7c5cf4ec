extension Runner {
    /// A segment must have work of its own: at least one VU of the pool, and with -n at least one task run.
    /// Checked before any traffic, so a mis-sized split is a usage error, not a segment that idles.
    func checkSegment() throws {
        let segment = options.segment
        guard !segment.isWhole else { return }
        if segmentUsers == 0 {
            throw UsageError("segment \(segment) has none of the run's \(poolSize) users: use at most \(poolSize) segments, or more users")
        }
        if let n = options.iterations, segment.iterations(n, pool: poolSize) == 0 {
            throw UsageError("segment \(segment) gets none of the -n \(n) task runs: use at most \(n) segments")
        }
    }

    /// The most users this segment ran at once when the whole run's target peaked at `peak`.
    func segmentShare(ofUsers peak: Int) -> Int { options.segment.share(of: peak) }
}
