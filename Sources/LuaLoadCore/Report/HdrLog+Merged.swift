/// `--hdr-log` of a merged test (`luaload merge`, a controller): built from the merged Summary alone, so
/// both write the same file from the same documents. A run's `--json` keeps each second's histogram of all
/// its requests (its `history`) and, when the runs kept them (`--html`, `--csv-full-history`; a controller
/// asks its agents for them), each name's (RunMerge+Names). The log has, a second, an untagged line (every
/// run's second added by wall clock) and a `Tag=` line per name that had requests in it, as a one-box
/// run's (HdrLogRecorder). A name without seconds of its own gets one `Tag=` interval over the whole test
/// (StartTimestamp 0, its length the test's), first, so timestamps never go back.
extension HdrLogRecorder {
    public static func renderMerged(_ s: Summary) -> String {
        var out = header(s)
        for row in s.rows where row.histogram.totalCount > 0 && s.historyByName[row.key] == nil {
            out += line(tag: tag(row), 0, s.durationSeconds, row.histogram)
        }
        var from = 0.0
        for (k, point) in s.history.enumerated() {
            let length = max(0, point.elapsed - from)
            if let h = point.latency?.histogram(), h.totalCount > 0 {
                out += line(tag: nil, from, length, h)
                for row in s.rows {
                    guard let points = s.historyByName[row.key], k < points.count,
                          let named = points[k].latency?.histogram(), named.totalCount > 0 else { continue }
                    out += line(tag: tag(row), from, length, named)
                }
            }
            from = point.elapsed
        }
        return out
    }

    /// The log's four header lines, its StartTime and BaseTime the run's (or merged runs') start.
    static func header(_ s: Summary) -> String {
        let start = Format.fixed(Double(s.placement.startUnixMs) / 1000, 3)
        return "#[Histogram log format version 1.3]\n"
            + "#[StartTime: \(start) (seconds since epoch)]\n"
            + "#[BaseTime: \(start) (seconds since epoch)]\n"
            + "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"
    }
}
