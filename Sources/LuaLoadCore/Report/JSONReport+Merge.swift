/// The JSON keys that let `luaload merge` combine runs exactly, beside the figures a reader looks at:
/// absolute times and tags, the sums behind the averages, and histograms wherever percentiles are printed.
extension JSONReport {
    /// Top level: "start_unix_ms", "end_unix_ms", "tags" {key: value}.
    static func placement(_ w: JSONWriter, _ s: Summary) {
        w.key("run_id"); w.string(s.placement.runID)
        if !s.placement.mergedRunIDs.isEmpty {
            w.key("merged_run_ids"); w.array { for id in s.placement.mergedRunIDs { w.string(id) } }
        }
        w.key("start_unix_ms"); w.int(Int(s.placement.startUnixMs))
        w.key("end_unix_ms"); w.int(Int(s.placement.endUnixMs))
        w.key("tags"); w.object {
            for t in s.placement.tags { w.key(t.key); w.string(t.value) }
        }
        w.key("targets"); w.array { for t in s.placement.targets { w.string(t) } }
        if let command = s.placement.command { w.key("command"); w.string(command) }
    }

    /// A row's (or the TLS handshakes') exact sums: latencies in µs and response body bytes, so merged
    /// averages are not averages of rounded averages.
    static func sums(_ w: JSONWriter, sumMicros: UInt64, bytes: UInt64) {
        w.key("sum_us"); w.int(Int(sumMicros))
        w.key("bytes"); w.int(Int(bytes))
    }

    /// "percentiles_ms": {"50": …, …, "100": …}, `values` being a row's `percentilesMs(Summary.percentiles)`.
    static func percentilesObject(_ w: JSONWriter, _ values: [Double]) {
        w.key("percentiles_ms"); w.object {
            for (p, v) in zip(Summary.percentiles, values) { w.key(Format.percentile(p)); w.number(v) }
        }
    }

    /// A history second's absolute end time (Unix ms) and its latency histogram, so merged seconds line
    /// up across runs and their percentiles come from the added histograms.
    static func historyPoint(_ w: JSONWriter, _ h: HistoryPoint, _ s: Summary) {
        w.key("t_ms"); w.int(Int(s.placement.unixMs(elapsed: h.elapsed)))
        w.key("hdr"); w.string(h.latency?.base64 ?? HdrCodec.encodeBase64(makeLatencyHistogram()))
    }

    /// A histogram (µs) as HdrHistogram's compressed V2 encoding in base64, with its exact smallest and
    /// largest values beside it ("min_us", "max_us"; prefixed like the key): buckets alone give only their
    /// edges, and a merge must give back every figure of a run exactly.
    static func hdr(_ w: JSONWriter, _ key: String, _ h: LatencyHistogram) {
        w.key(key); w.string(HdrCodec.encodeBase64(h))
        guard h.totalCount > 0 else { return }
        let prefix = key.dropLast(3)   // "hdr" → "", "handshake_hdr" → "handshake_"
        w.key(prefix + "min_us"); w.int(Int(h.min))
        w.key(prefix + "max_us"); w.int(Int(h.maxRecorded))
    }
}
