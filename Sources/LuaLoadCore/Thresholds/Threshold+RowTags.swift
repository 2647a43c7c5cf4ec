/// Thresholds on tagged rows: a request's tags (its scenario's `scenario:NAME`, `opts.tags`) make rows of
/// their own, which `NAME{key:value,…}` and k6's `http_req_duration{name:GET /health,scenario:ingest}`
/// select: the rows of that name (all of them for Aggregated and k6's unnamed metrics) carrying every tag,
/// merged. A key no row carries is a run's tag instead (Threshold+Tag.swift): `--tag`, an agent's region.
extension Threshold {
    /// Tags k6 keeps on every request that luaload does not: a filter on one is an error, not a threshold
    /// that never matches.
    static let k6OnlyTags: Set<String> = ["status", "url", "expected_response", "group", "proto", "tls_version",
                                           "error", "error_code", "subproto", "ip", "vu", "iter", "ocsp_status"]

    /// The `{k:v,k2:v2}` at the end of `name` and the name before it; nil when there is none (a name's own
    /// `{id}` has no colon) or a pair is malformed.
    static func rowFilters(_ name: String) -> (base: String, pairs: [(key: String, value: String)])? {
        guard name.hasSuffix("}"), let open = name.lastIndex(of: "{") else { return nil }
        let inner = name[name.index(after: open)..<name.index(before: name.endIndex)]
        var pairs: [(key: String, value: String)] = []
        for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
            guard let colon = part.firstIndex(of: ":") else { return nil }
            let key = String(part[..<colon]).trimmingWhitespace(), value = String(part[part.index(after: colon)...]).trimmingWhitespace()
            guard !key.isEmpty, !value.isEmpty else { return nil }
            pairs.append((key, value))
        }
        return (String(name[..<open]).trimmingWhitespace(), pairs)
    }
}

extension Summary {
    /// Every tag key some row carries.
    public var rowTagKeys: Set<String> {
        var keys = Set<String>()
        for r in rows where !r.tags.isEmpty {
            for part in r.tags.split(separator: ",") { if let c = part.firstIndex(of: ":") { keys.insert(String(part[..<c])) } }
        }
        return keys
    }

    /// `NAME{k:v,…}` when every key is a row tag: the rows named NAME ("Aggregated": every row) carrying
    /// every tag, merged; nil when none (or the name has no such filter: `handled` false).
    func taggedRow(named name: String) -> (handled: Bool, row: RowSummary?) {
        guard name.hasSuffix("}"), let (base, pairs) = Threshold.rowFilters(name), !pairs.isEmpty else { return (false, nil) }
        let keys = rowTagKeys
        guard pairs.allSatisfy({ keys.contains($0.key) }) else { return (false, nil) }
        let matching = rows.filter { r in
            (base == "Aggregated" || r.name == base || r.method + " " + r.name == base) && pairs.allSatisfy { r.tag($0.key) == $0.value }
        }
        guard var merged = matching.first else { return (true, nil) }
        for r in matching.dropFirst() { merged.merge(r) }
        if base == "Aggregated" { (merged.method, merged.name) = ("", "Aggregated") }
        return (true, merged)
    }
}
