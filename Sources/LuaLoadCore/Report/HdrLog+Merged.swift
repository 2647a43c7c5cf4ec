/// `--hdr-log` of a merged test (`luaload merge`, a controller): built from the merged Summary alone, so
/// both write the same file from the same documents. A run's `--json` keeps each second's histogram of all
/// its requests (its `history`), not each name's: the log has
///
///   - one `Tag=` interval per stats row over the whole test (StartTimestamp 0, its length the test's),
///     first, so timestamps never go back;
///   - then an untagged interval a second: the seconds of every run added by wall clock (RunMerge.history),
///     from the second before it to its end.
///
/// A one-box run's log (HdrLogRecorder) has a `Tag=` line a second per name instead.
extension HdrLogRecorder {
    public static func renderMerged(_ s: Summary) -> String {
        var out = header(s)
        let length = s.durationSeconds
        for row in s.rows where row.histogram.totalCount > 0 {
            out += line(tag: tag(row), 0, length, row.histogram)
        }
        var from = 0.0
        for point in s.history {
            if let h = point.latency?.histogram(), h.totalCount > 0 {
                out += line(tag: nil, from, max(0, point.elapsed - from), h)
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
