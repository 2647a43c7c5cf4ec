/// A run's id, in its JSON ("run_id"): random, with the segment ("…-s2of4"), so every run and segment of a
/// test is told apart, and `luaload merge` refuses the same run twice (it would double every count).
public enum RunID {
    public static func make(segment: Segment = .whole) -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = String(UInt64.random(in: 0 ... .max, using: &generator), radix: 16)
        let id = String(repeating: "0", count: 16 - hex.count) + hex
        return segment.count > 1 ? "\(id)-s\(segment.index)of\(segment.count)" : id
    }

    /// The ids a merge's inputs carry: a run's own, or, for an earlier merge's JSON, those of its runs.
    public static func ids(of record: RunRecord) -> [String] {
        record.mergedRunIDs.isEmpty ? (record.placement.runID.isEmpty ? [] : [record.placement.runID]) : record.mergedRunIDs
    }

    /// Throws when two inputs hold the same run (by id), naming both.
    public static func checkDistinct(_ runs: [RunRecord]) throws {
        var seen: [String: String] = [:]
        for r in runs {
            for id in ids(of: r) {
                if let first = seen[id] {
                    throw UsageError("\(r.source) holds run \(id), already read from \(first): the same run twice would count its requests twice")
                }
                seen[id] = r.source
            }
        }
    }
}
