/// Thresholds per tag: `GET /health{region:ams}: p95 < 200` reads the row `GET /health` of the runs tagged
/// region=ams only (a run's tags: `--tag`, an agent's `--tag`, `segment`), as k6 filters a metric by a tag
/// (`http_req_duration{name:…}`, Threshold+Script.swift). A plain run judges it when it carries the tag; the
/// controller judges it live on that tag's agents merged (abort_on_fail stops every agent) and at the end,
/// as `luaload merge` does on the runs with the tag.
public struct ThresholdTag: Equatable, Sendable, CustomStringConvertible {
    public var key: String
    public var value: String
    public var description: String { key + "=" + value }
}

/// The runs a tagged threshold is judged on, merged: nil when none of them carries the tag.
public typealias TagPart = (ThresholdTag) -> Summary?

extension Threshold {
    /// The `{key:value}` at the end of `name`, and the name before it. `{name:…}` and `{check:…}` are k6's
    /// filters (Threshold+Script.swift), `{id}` (no colon) a name's own braces; `{region:}` and `{:ams}` are
    /// errors (thrown as their text).
    static func splitTag(_ name: String) throws -> (base: String, tag: ThresholdTag)? {
        guard name.hasSuffix("}"), let open = name.lastIndex(of: "{") else { return nil }
        let inner = name[name.index(after: open)..<name.index(before: name.endIndex)]
        guard let colon = inner.firstIndex(of: ":") else { return nil }
        let key = String(inner[..<colon]).trimmingWhitespace(), value = String(inner[inner.index(after: colon)...]).trimmingWhitespace()
        if key == "name" || key == "check" { return nil }
        let base = String(name[..<open]).trimmingWhitespace()
        guard !key.isEmpty, !value.isEmpty, !base.isEmpty, !key.contains("{"), !value.contains("{") else {
            throw UsageError("a tag filter is NAME{key:value}, e.g. GET /health{region:ams} or Aggregated{region:ams}")
        }
        return (base, ThresholdTag(key: key, value: value))
    }

    /// This threshold judged on `part`'s runs when it names a tag (and is not a custom metric's tagged
    /// series, which the script's own counts carry); nil: not a tagged one.
    func evaluateTagged(_ s: Summary, part: TagPart) -> ThresholdResult? {
        guard let (base, tag) = try? Self.splitTag(name), s.script.metrics[name] == nil else { return nil }
        guard let p = part(tag) else {
            return ThresholdResult(name: name, expression: text, value: nil, ok: true,
                                   note: "not judged on this run (no \(tag)): the controller or luaload merge judges it on the runs tagged \(tag)")
        }
        var plain = self
        plain.name = base
        var result = plain.evaluate(p)
        result.name = name
        if result.value == nil, let note = result.note { result.note = note + " (runs tagged \(tag))" }
        return result
    }

    /// Whether abort_on_fail may judge it now: its row (of its tag's runs) has been seen.
    func watchable(_ s: Summary, part: TagPart) -> Bool {
        guard let (base, tag) = try? Self.splitTag(name), s.script.metrics[name] == nil else { return s.row(named: name) != nil }
        return part(tag)?.row(named: base) != nil
    }
}

extension Summary {
    /// A run's own part: itself when it carries the tag.
    public var ownPart: TagPart {
        let tags = placement.tags, me = self
        return { tag in tags.contains { $0.key == tag.key && $0.value == tag.value } ? me : nil }
    }
}
