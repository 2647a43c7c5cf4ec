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
        guard let (base, tag) = try? Self.splitTag(name), s.script.metrics[name] == nil, !s.rowTagKeys.contains(tag.key) else { return nil }
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
        // A controller's live Summary carries its agents' checks and custom metrics (SecondDelta+Script).
        if s.script.metrics[name] != nil { return true }
        if name == "checks" { return !s.script.checks.isEmpty }
        if name.hasPrefix("checks{") && name.hasSuffix("}") {   // one check: once it ran (others may have run before it)
            var inner = Substring(name.dropFirst(7).dropLast())
            if inner.hasPrefix("check:") { inner = inner.dropFirst(6) }
            return s.script.checks[String(inner)] != nil
        }
        guard let (base, tag) = try? Self.splitTag(name), !s.rowTagKeys.contains(tag.key) else { return s.row(named: name) != nil }
        return part(tag)?.row(named: base) != nil
    }
}

extension Summary {
    /// A run's own part: itself when it carries the tag; nil (not judged here) when it has another value of the
    /// key. A run without the key at all: nil for an agent (its controller judges it), and for a plain run
    /// (`strict`) no runs at all, so the threshold is crossed ("no request … was made (runs tagged …)"), as a
    /// threshold on a name no request used is, rather than holding on nothing.
    public func ownPart(strict: Bool = false) -> TagPart {
        let tags = placement.tags, me = self
        return { tag in
            if tags.contains(where: { $0.key == tag.key && $0.value == tag.value }) { return me }
            guard strict, !tags.contains(where: { $0.key == tag.key }) else { return nil }
            return Summary(workers: [], durationSeconds: me.durationSeconds, users: 0, threads: 0, stopReason: me.stopReason, history: [])
        }
    }
}

extension Threshold {
    /// Before a plain run: k6's request metrics filtered by a tag the run does not have (`{status:200}`, a tag k6
    /// keeps per request and luaload does not) are an error before any traffic, not a threshold that never matches.
    public static func checkTagged(_ thresholds: [Threshold], runTags: [(key: String, value: String)]) throws {
        for t in thresholds {
            guard let (base, tag) = try? splitTag(t.name), base.hasPrefix("http_req"), k6OnlyTags.contains(tag.key),
                  !runTags.contains(where: { $0.key == tag.key }) else { continue }   // (other keys may be a request's tags)
            throw UsageError("threshold on \"\(t.name)\": this run has no tag \(tag.key) (its tags: " + runTags.map(\.key).joined(separator: ", ")
                             + "): k6's request metrics are filtered by {name:…} or by a run's tag (--tag \(tag.key)=\(tag.value))")
        }
    }
}
