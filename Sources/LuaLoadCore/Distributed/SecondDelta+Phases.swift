/// A row's phase timings on the link (connect, TLS, the waits kept apart), so a lost agent's part keeps
/// them: each phase's bucket delta, sent only in a second its count changed (with keep-alive connections,
/// connects and handshakes stop after the first seconds; most waits are the latency itself and not kept apart).
extension SecondDeltaBuilder.Row {
    static let phaseKeys = ["connect", "tls", "wait_apart", "latency_apart"]
    static let phaseTemplates = [makePhaseHistogram(), makePhaseHistogram(), makeLatencyHistogram(), makeLatencyHistogram()]
    static let phaseLengths = phaseTemplates.map {
        HdrCodec.Layout(lowest: $0.lowestDiscernibleValue, highest: $0.highestTrackableValue, digits: Int($0.numberOfSignificantValueDigits.rawValue)).countsLength
    }

    static func phase(_ p: PhaseStats, _ k: Int) -> LatencyHistogram? {
        switch k {
        case 0: return p.connect
        case 1: return p.tls
        case 2: return p.waitApart
        default: return p.latencyApart
        }
    }

    mutating func addPhases(_ p: PhaseStats) {
        phaseSources.append(p)
        for k in 0..<4 { phaseTotals[k] += Self.phase(p, k)?.totalCount ?? 0 }
    }

    /// `"phases":{…}` with the phases whose count changed since `before`; keeps what it sent.
    mutating func writePhases(_ w: JSONWriter, before: SecondDeltaBuilder.Row?) {
        let changed = (0..<4).filter { phaseTotals[$0] != before?.phaseTotals[$0] ?? 0 }
        for k in 0..<4 where !changed.contains(k) { phaseCounts[k] = before?.phaseCounts[k] }
        guard !changed.isEmpty else { return }
        w.key("phases"); w.object {
            for k in changed {
                var sum = [UInt64](repeating: 0, count: Self.phaseLengths[k])
                for p in phaseSources { if let h = Self.phase(p, k), h.totalCount > 0 { HdrDelta.add(HdrDelta.counts(h, length: Self.phaseLengths[k]), into: &sum) } }
                w.key(Self.phaseKeys[k]); w.string(HdrDelta.encode(sum, minus: before?.phaseCounts[k], like: Self.phaseTemplates[k]))
                phaseCounts[k] = sum
            }
        }
    }
}

extension AgentLedger {
    /// A row's `"phases"`: each phase's delta added into the row's own.
    static func addPhases(_ j: JSONTree, into p: inout PhaseStats) throws {
        for (k, key) in SecondDeltaBuilder.Row.phaseKeys.enumerated() {
            guard let text = j[key]?.string else { continue }
            var h = SecondDeltaBuilder.Row.phase(p, k) ?? SecondDeltaBuilder.Row.phaseTemplates[k]
            do { try HdrDelta.decode(text, into: &h) } catch { throw LinkError("a malformed \(key) histogram: \(error)") }
            switch k {
            case 0: p.connect = h
            case 1: p.tls = h
            case 2: p.waitApart = h
            default: p.latencyApart = h
            }
        }
    }
}
