import ArgumentParser
import LuaLoadCore
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// The options of a run that is one of several (segments, regions): its segment, the common start, its
/// tags, the interval histogram log. README: "Past one box".
struct ScaleOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run segment i of a test split N ways (0-based), e.g. 2/4 (default: $LUALOAD_SEGMENT).", valueName: "i/N"))
    var segment: String?

    @Option(help: ArgumentHelp("Split N ways, this run's index from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).", valueName: "N"))
    var segments: Int?

    @Option(name: .customLong("start-at"), help: ArgumentHelp("Wait, then start at this time: RFC 3339 (2026-11-28T17:00:00Z) or Unix seconds (with --controller: every agent starts then).", valueName: "time"))
    var startAt: String?

    @Flag(name: .customLong("start-late-ok"), help: "Start at once when --start-at is more than 1 s past (default: an error).")
    var startLateOk = false

    @Option(name: .customLong("tag"), help: ArgumentHelp("A tag for the JSON's \"tags\" (repeatable); region defaults to $FLY_REGION (with --controller: every agent's, under its own tag of the key).", valueName: "key=value"))
    var tag: [String] = []

    @Option(name: .customLong("hdr-log"), help: ArgumentHelp("Write HdrHistogram's interval log (a histogram a second, per request name) to this file.", valueName: "file"))
    var hdrLog: String?

    /// --segment, else --segments with $JOB_COMPLETION_INDEX, else $LUALOAD_SEGMENT, else the whole run.
    func resolveSegment() throws -> Segment {
        if let segment {
            guard let s = Segment(segment) else { throw UsageError("bad --segment \"\(segment)\": use i/N with 0 <= i < N, e.g. 0/4") }
            if let segments, segments != s.count { throw UsageError("--segment \(segment) and --segments \(segments) disagree") }
            return s
        }
        if let segments {
            guard let index = env("JOB_COMPLETION_INDEX") else {
                throw UsageError("--segments \(segments) takes this run's index from JOB_COMPLETION_INDEX, which is not set: give --segment i/\(segments)")
            }
            guard let i = Int(index), let s = Segment(index: i, count: segments) else {
                throw UsageError("JOB_COMPLETION_INDEX=\(index) is not a segment of --segments \(segments) (0 to \(segments - 1))")
            }
            return s
        }
        if let text = env("LUALOAD_SEGMENT") {
            guard let s = Segment(text) else { throw UsageError("bad LUALOAD_SEGMENT=\(text): use i/N with 0 <= i < N, e.g. 0/4") }
            return s
        }
        return .whole
    }

    /// --tag key=value in order, then region ($FLY_REGION), host and segment unless a --tag set them.
    func resolveTags(segment: Segment) throws -> [(key: String, value: String)] {
        var placement = RunPlacement()
        for t in try givenTags() { placement.setTag(t.key, t.value) }
        if placement.tag("region") == nil, let region = env("FLY_REGION"), !region.isEmpty { placement.setTag("region", region) }
        if placement.tag("host") == nil { placement.setTag("host", hostName()) }
        if placement.tag("segment") == nil { placement.setTag("segment", segment.description) }
        return placement.tags
    }

    /// The --tag key=value pairs as given, in order (a later one of the same key wins).
    func givenTags() throws -> [(key: String, value: String)] {
        var placement = RunPlacement()
        for t in tag {
            guard let eq = t.firstIndex(of: "="), eq != t.startIndex else { throw UsageError("bad --tag \"\(t)\": use key=value") }
            placement.setTag(String(t[..<eq]), String(t[t.index(after: eq)...]))
        }
        return placement.tags
    }

    /// A controller gives each agent its segment: `--tag segment=…` on either side is refused, not overridden.
    func refuseSegmentTag() throws {
        guard let s = try givenTags().first(where: { $0.key == "segment" }) else { return }
        throw UsageError("--tag segment=\(s.value): the controller gives each agent its segment; leave the tag out")
    }

    /// The --start-at time (Unix seconds), checked: more than 1 s past is an error unless --start-late-ok.
    func resolveStart() throws -> Double? {
        guard let startAt else {
            if startLateOk { throw UsageError("--start-late-ok needs --start-at (it says what a late start does)") }
            return nil
        }
        guard let t = StartTime.parse(startAt) else {
            throw UsageError("bad --start-at \"\(startAt)\": use RFC 3339 (2026-11-28T17:00:00Z) or Unix seconds")
        }
        let late = wallClockSeconds() - t
        if late > 1 && !startLateOk {
            throw UsageError("--start-at \(startAt) was \(Format.fixed(late, 1)) s ago: start the runs earlier, or add --start-late-ok")
        }
        return t
    }

    private func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    private func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "unknown" }
        return String(cString: buf)
    }
}
