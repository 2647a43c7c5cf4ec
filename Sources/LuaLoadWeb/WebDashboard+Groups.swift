import LuaLoadCore
import LuaLoadLive

/// A controller's page: the breakdown by its `--by` tag (region), live from its ticks, then from the final
/// merge. In the snapshot (`"groups"`) and in Locust's /stats/requests (`"groups"`, an addition of ours).
extension WebDashboard {
    /// The end of a controlled test: the summary and the by-tag breakdown of the agents' reports merged.
    public func finish(_ summary: Summary, groups: LiveGroups?) {
        builder.frame.groups = groups ?? builder.frame.groups
        finish(summary)
    }
}

extension WebJSON {
    /// `,"groups":{…}` when the frame has a breakdown, else nothing.
    static func groupsMember(_ f: WebFrame) -> String {
        f.groups.map { ",\"groups\":" + $0.json() } ?? ""
    }
}
