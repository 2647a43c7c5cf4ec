import Foundation
import XCTest
@testable import LuaLoadCore

final class ReportTests: XCTestCase {
    /// Two rows, a failure, a script error and three seconds of history.
    func makeSummary() -> Summary {
        var w = WorkerStats()
        var hello = RequestStats(method: "GET", name: "/hello, \"quoted\"")
        for i in 1...100 { hello.record(micros: UInt64(i) * 1000, failed: false, bytes: 130) }   // 1…100 ms
        var fail = RequestStats(method: "POST", name: "/fail")
        for i in 1...10 { fail.record(micros: UInt64(i) * 2000, failed: true) }                 // 2…20 ms
        w.rows = [hello, fail]
        w.custom[FailureKey(method: "POST", name: "/fail", error: "HTTP 500: Internal Server Error")] = 10
        w.countScriptError(message: "boom, \"x\"", traceback: "boom, \"x\"\nstack traceback:\n\tscript.lua:3: in function 'task'")
        var history: [HistoryPoint] = []
        var k = 0
        for second in 1...3 {
            var h = makeLatencyHistogram()
            var reqs = 0
            while k < 110 && reqs < (second == 3 ? 110 : 40) {
                let micros: UInt64 = k < 100 ? UInt64(k + 1) * 1000 : UInt64(k - 99) * 2000
                _ = h.record(micros); reqs += 1; k += 1
            }
            var p = HistoryPoint(elapsed: Double(second), users: 5, requests: reqs, failures: second == 3 ? 10 : 0,
                                 p50Ms: Double(h.valueAtPercentile(50)) / 1000, p95Ms: Double(h.valueAtPercentile(95)) / 1000,
                                 p99Ms: Double(h.valueAtPercentile(99)) / 1000)
            p.latency = PackedHistogram(h)
            history.append(p)
        }
        var s = Summary(workers: [w], durationSeconds: 10, users: 5, threads: 2, stopReason: .duration, history: history)
        s.startUnixTime = 1_700_000_000
        return s
    }

    func lines(_ text: String) -> [String] {
        XCTAssertTrue(text.hasSuffix("\r\n"))
        return text.components(separatedBy: "\r\n").dropLast().map { $0 }
    }

    // Header lines copied from the files Locust 2.47.0 wrote (`locust --headless --csv out --csv-full-history`).
    static let locustStatsHeader = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
    static let locustHistoryHeader = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size"
    static let locustFailuresHeader = "Method,Name,Error,Occurrences,First Seen,Last Seen"
    static let locustExceptionsHeader = "Count,Message,Traceback,Nodes"

    func testCSVHeadersMatchLocust() {
        let s = makeSummary()
        XCTAssertEqual(lines(CSVReport.stats(s))[0], Self.locustStatsHeader)
        XCTAssertEqual(lines(CSVReport.history(s, fullHistory: false))[0], Self.locustHistoryHeader)
        XCTAssertEqual(lines(CSVReport.failures(s))[0], Self.locustFailuresHeader)
        XCTAssertEqual(lines(CSVReport.exceptions(s))[0], Self.locustExceptionsHeader)
        let files = CSVReport.files(s, prefix: "/tmp/x", fullHistory: false).map(\.path)
        XCTAssertEqual(files, ["/tmp/x_stats.csv", "/tmp/x_stats_history.csv", "/tmp/x_failures.csv", "/tmp/x_exceptions.csv"])
    }

    func testCSVStatsValues() {
        let l = lines(CSVReport.stats(makeSummary()))
        XCTAssertEqual(l.count, 4)
        // Sorted by name as Locust does; percentiles by Locust's rule on its 2-digit buckets.
        XCTAssertEqual(l[1], "POST,/fail,10,10,12,11.0,2.0,20.0,0.0,1.0,1.0,12,14,16,18,20,20,20,20,20,20,20")
        XCTAssertEqual(l[2], "GET,\"/hello, \"\"quoted\"\"\",100,0,51,50.5,1.0,100.0,130.0,10.0,0.0,51,67,76,81,91,96,99,100,100,100,100")
        XCTAssertTrue(l[3].hasPrefix(",Aggregated,110,10,"), l[3])
    }

    func testCSVEmptyTotalWritesNA() {
        let s = Summary(workers: [], durationSeconds: 1, users: 1, threads: 1, stopReason: .duration, history: [])
        let l = lines(CSVReport.stats(s))
        XCTAssertEqual(l[1], ",Aggregated,0,0,0,0.0,0,0,0,0.0,0.0," + Array(repeating: "N/A", count: 11).joined(separator: ","))
    }

    func testCSVHistory() {
        let s = makeSummary()
        let l = lines(CSVReport.history(s, fullHistory: false))
        XCTAssertEqual(l.count, 4)   // header + one row a second
        let first = l[1].components(separatedBy: ",")
        XCTAssertEqual(first.count, 24)
        XCTAssertEqual(Array(first[0..<6]), ["1700000001", "5", "", "Aggregated", "40.000000", "0.000000"])
        XCTAssertEqual(first[17], "40")    // Total Request Count
        let last = l[3].components(separatedBy: ",")
        XCTAssertEqual(Array(last[0..<6]), ["1700000003", "5", "", "Aggregated", "30.000000", "10.000000"])
        XCTAssertEqual(last[17], "110")
        XCTAssertEqual(last[18], "10")
        // Cumulative percentiles at the end equal the final Aggregated row's.
        let total = lines(CSVReport.stats(s))[3].components(separatedBy: ",")
        XCTAssertEqual(Array(last[6..<17]), Array(total[11..<22]))
    }

    func testCSVFullHistoryAddsRowsPerName() {
        var s = makeSummary()
        s.historyByName = ["GET /hello, \"quoted\"": Array(s.history.prefix(2)), "POST /fail": s.history]
        let l = lines(CSVReport.history(s, fullHistory: true))
        // second 1: /fail, /hello, Aggregated; 2: the same; 3: /fail, Aggregated
        XCTAssertEqual(l.count, 1 + 3 + 3 + 2)
        XCTAssertTrue(l[1].hasPrefix("1700000001,5,POST,/fail,"))
        XCTAssertTrue(l[2].hasPrefix("1700000001,5,GET,\"/hello, \"\"quoted\"\"\","))
        XCTAssertTrue(l[3].hasPrefix("1700000001,5,,Aggregated,"))
        XCTAssertTrue(l[8].hasPrefix("1700000003,5,,Aggregated,"))
    }

    func testCSVFailuresAndExceptions() {
        let s = makeSummary()
        XCTAssertEqual(lines(CSVReport.failures(s))[1], "POST,/fail,HTTP 500: Internal Server Error,10,,")
        let ex = CSVReport.exceptions(s)
        XCTAssertEqual(ex, "Count,Message,Traceback,Nodes\r\n1,\"boom, \"\"x\"\"\",\"boom, \"\"x\"\"\nstack traceback:\n\tscript.lua:3: in function 'task'\",local\r\n")
    }

    func testCSVFieldQuoting() {
        XCTAssertEqual(CSVReport.field("plain"), "plain")
        XCTAssertEqual(CSVReport.field("a,b"), "\"a,b\"")
        XCTAssertEqual(CSVReport.field("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSVReport.field("two\nlines"), "\"two\nlines\"")
        XCTAssertEqual(CSVReport.field("cr\r"), "\"cr\r\"")
        XCTAssertEqual(CSVReport.py(130), "130.0")
        XCTAssertEqual(CSVReport.py(6.04877171772041), "6.04877171772041")
    }

    // MARK: HdrHistogram

    func testHdrRoundTrip() throws {
        var h = makeLatencyHistogram()
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 { _ = h.record(UInt64.random(in: 1...5_000_000, using: &rng)) }
        _ = h.record(1); _ = h.record(3_600_000_000, count: 7)
        let text = HdrCodec.encodeBase64(h)
        XCTAssertTrue(text.hasPrefix("HISTFAAA"), String(text.prefix(12)))
        let decoded = try HdrCodec.decodeBase64(text)
        XCTAssertEqual(decoded.lowest, 1)
        XCTAssertEqual(decoded.highest, 3_600_000_000)
        XCTAssertEqual(decoded.significantDigits, 3)
        XCTAssertEqual(decoded.totalCount, h.totalCount)
        let back = try decoded.histogram()
        XCTAssertEqual(back.totalCount, h.totalCount)
        XCTAssertEqual(Array(back.recordedValues().map { [$0.value, UInt64($0.count)] }),
                       Array(h.recordedValues().map { [$0.value, UInt64($0.count)] }))
        // Identical counts; min/max come back as bucket values, so percentiles agree up to bucket equivalence.
        for p in [50.0, 90, 99, 99.9, 100] {
            XCTAssertTrue(h.valuesAreEquivalent(back.valueAtPercentile(p), h.valueAtPercentile(p)), "p\(p)")
        }
        // Re-encoding the decoded histogram gives the same bytes.
        XCTAssertEqual(HdrCodec.encode(back), HdrCodec.encode(h))
    }

    /// Writes a JSON report with a wide spread of latencies (1 µs … 1 h) for Tests/helpers/check-hdr.py when
    /// LUALOAD_HDR_SAMPLE names a file; otherwise does nothing.
    func testWriteHdrSampleForPythonCheck() throws {
        guard let path = ProcessInfo.processInfo.environment["LUALOAD_HDR_SAMPLE"] else { return }
        var w = WorkerStats()
        var rng = SystemRandomNumberGenerator()
        for (k, name) in ["/small", "/wide", "/huge"].enumerated() {
            var r = RequestStats(method: "GET", name: name)
            for _ in 0..<(5000 * (k + 1)) {
                let micros: UInt64 = k == 0 ? .random(in: 1...3000, using: &rng)
                    : k == 1 ? UInt64(exp(Double.random(in: 0...log(3.6e9), using: &rng)))
                    : .random(in: 1_000_000...3_600_000_000, using: &rng)
                r.record(micros: max(micros, 1), failed: false)
            }
            w.rows.append(r)
        }
        let s = Summary(workers: [w], durationSeconds: 10, users: 1, threads: 1, stopReason: .duration, history: [])
        try JSONReport.render(s).write(toFile: path, atomically: true, encoding: .utf8)
    }

    func testHdrEmptyAndHeader() throws {
        let h = makeLatencyHistogram()
        let raw = HdrCodec.encode(h)
        XCTAssertEqual(Array(raw[0..<4]), [0x1c, 0x84, 0x93, 0x13])
        XCTAssertEqual(Array(raw[4..<8]), [0, 0, 0, 1])                   // payload: one zero
        XCTAssertEqual(Array(raw[32..<40]), [0x3f, 0xf0, 0, 0, 0, 0, 0, 0]) // ratio 1.0
        XCTAssertEqual(raw.count, 41)
        let compressed = HdrCodec.encodeCompressed(h)
        XCTAssertEqual(Array(compressed[0..<4]), [0x1c, 0x84, 0x93, 0x14])
        XCTAssertEqual(try HdrCodec.decode(compressed).totalCount, 0)
    }

    func testZigZagLEB128() {
        for v: Int64 in [0, 1, -1, 63, -64, 64, 1 << 20, -(1 << 40), Int64.max, Int64.min] {
            var out: [UInt8] = []
            HdrCodec.putZigZag(&out, v)
            XCTAssertLessThanOrEqual(out.count, 9)
            var pos = 0
            XCTAssertEqual(HdrCodec.getZigZag(out, &pos, out.count), v)
            XCTAssertEqual(pos, out.count)
        }
        var out: [UInt8] = []
        HdrCodec.putZigZag(&out, -3)   // zigzag 5
        XCTAssertEqual(out, [5])
    }

    func testBase64() {
        for n in 0..<8 {
            let bytes = (0..<n).map { UInt8(($0 * 91 + 7) & 0xff) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes)
        }
        XCTAssertEqual(Base64.encode(Array("foobar".utf8)), "Zm9vYmFy")
        XCTAssertEqual(Base64.encode(Array("fo".utf8)), "Zm8=")
    }

    func testJSONHasHdrAndRates() throws {
        let s = makeSummary()
        let json = JSONReport.render(s)
        let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let total = obj["total"] as! [String: Any]
        let decoded = try HdrCodec.decodeBase64(total["hdr"] as! String)
        XCTAssertEqual(decoded.totalCount, 110)
        for row in obj["stats"] as! [[String: Any]] { XCTAssertNotNil(row["hdr"] as? String) }
        let history = obj["history"] as! [[String: Any]]
        XCTAssertEqual(history[0]["rps"] as? Double, 40)
        XCTAssertEqual(history[2]["fps"] as? Double, 10)
    }

    // MARK: HTML

    func testHTMLContainsDataAndNoExternalAssets() {
        let html = HTMLReport.render(makeSummary())
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        for needle in ["/hello, &quot;quoted&quot;", "/fail", "HTTP 500: Internal Server Error", "boom, &quot;x&quot;",
                       "Aggregated", "99.9%", "id=\"chart-rps\"", "id=\"chart-latency\"", "id=\"chart-users\"",
                       "id=\"chart-distribution\"", "<select id=\"ll-name\">", ">All requests (Aggregated)</option>",
                       ">POST /fail</option>", "Requests per second", "Users", "Chart.js v3.9.1"] {
            XCTAssertTrue(html.contains(needle), needle)
        }
        // Self-contained: Chart.js and the data are inline; nothing is fetched.
        XCTAssertFalse(html.contains("src="))
        XCTAssertFalse(html.contains("href="))
        XCTAssertFalse(html.contains("<link"))
        XCTAssertFalse(html.contains("@import"))
        XCTAssertFalse(html.contains("url("))
        XCTAssertEqual(html.components(separatedBy: "</script>").count - 1, html.components(separatedBy: "<script").count - 1,
                       "every script block closes once: the JSON data cannot end one early")
    }

    /// The top of the page: when, against what, how (profile, command), the thresholds' verdict first, and
    /// the open model's arrivals with corrected and uncorrected latencies.
    func testHTMLHeadVerdictAndArrivals() throws {
        var s = makeSummary()
        s.placement.startUnixMs = 1_764_748_800_000   // 2025-12-03 08:00:00 UTC
        s.placement.endUnixMs = s.placement.startUnixMs + 10_000
        s.placement.targets = ["http://127.0.0.1:8080", "http://127.0.0.1:9090/api"]
        s.placement.command = Format.shellWords(["luaload", "--rate", "50/s", "-H", "http://127.0.0.1:8080", "my script.lua"])
        s.profile = "rate 50.00/s"
        s.lateMode = .drop
        var a = ArrivalCounts()
        a.scheduled = 500; a.started = 480; a.droppedNoVU = 15; a.unstartedAtStop = 5; a.late = 7
        s.arrivals = a
        var u = RequestStats(method: "", name: "Aggregated (uncorrected)")
        for i in 1...110 { u.record(micros: UInt64(i) * 500, failed: false) }
        s.uncorrected = RowSummary(u)
        s.evaluate([try Threshold(name: "Aggregated", text: "p95 < 1000", origin: "t"),
                    try Threshold(name: "Aggregated", text: "fail_rate < 0.01", origin: "t")])
        let html = HTMLReport.render(s)
        for needle in ["2025-12-03 08:00:00 UTC → 2025-12-03 08:00:10 UTC", "http://127.0.0.1:8080, http://127.0.0.1:9090/api",
                       "luaload --rate 50/s -H http://127.0.0.1:8080 &#39;my script.lua&#39;",
                       "open model (arrivals), rate 50.00/s, late arrivals: drop", "✗ Failed: 1 of 2 thresholds crossed",
                       "<td>500</td><td>480</td><td class=\"bad\">20</td><td>15</td><td>5</td><td>7</td>",
                       "uncorrected: from the first byte written"] {
            XCTAssertTrue(html.contains(needle), needle)
        }
        let verdict = try XCTUnwrap(html.range(of: "id=\"verdict\""))
        let charts = try XCTUnwrap(html.range(of: "<h2>Charts</h2>"))
        XCTAssertLessThan(verdict.lowerBound, charts.lowerBound, "the verdict comes before the figures")
        // The uncorrected p50 and p90 (of 0.5…55 ms) beside the corrected ones.
        XCTAssertTrue(html.contains("<td class=\"l\">uncorrected: from the first byte written</td><td>27.50</td><td>49.50</td>"), html.components(separatedBy: "uncorrected: from the first byte written</td>").last!.prefix(40).description)
        s.thresholdResults = s.thresholdResults.filter(\.ok)
        XCTAssertTrue(HTMLReport.render(s).contains("✓ Passed: all 1 threshold held"))
    }

    /// A run shorter than a second still has a latency distribution; bins count requests, never average them.
    func testHTMLDistributionCountsEveryRequest() {
        var h = makeLatencyHistogram()
        for i in 1...1000 { _ = h.record(UInt64(i) * 10) }   // 10 µs … 10 ms
        let bins = HTMLReport.distribution(h)
        XCTAssertEqual(bins.reduce(0) { $0 + $1.count }, 1000)
        XCTAssertEqual(bins.first?.upperMs ?? 0, 0.0126, accuracy: 0.0001)
        XCTAssertEqual(bins.last?.upperMs ?? 0, 12.589, accuracy: 0.001)   // 10 ms opens the bin [10, 12.59)
        XCTAssertTrue(zip(bins, bins.dropFirst()).allSatisfy { $0.upperMs < $1.upperMs })
        XCTAssertTrue(HTMLReport.distribution(makeLatencyHistogram()).isEmpty)
    }

    /// Renders the page in headless Chromium (Tests/helpers/screenshot-report.sh) and checks the PNG is a real picture.
    func testHTMLScreenshot() throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("chromium is not installed")
        }
        _ = chromium
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("Tests/helpers/screenshot-report.sh").path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("luaload-html-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let htmlPath = dir.appendingPathComponent("report.html").path
        let pngPath = dir.appendingPathComponent("report.png").path
        try HTMLReport.render(makeSummary()).write(toFile: htmlPath, atomically: true, encoding: .utf8)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script, htmlPath, pngPath]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let png = try Data(contentsOf: URL(fileURLWithPath: pngPath))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
        XCTAssertGreaterThan(png.count, 20_000)

        // Count distinct colours with Python's zlib-based PNG reading when python3 is there.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { return }
        let count = Process()
        count.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        count.arguments = [root.appendingPathComponent("Tests/helpers/png-colors.py").path, pngPath]
        let out = Pipe()
        count.standardOutput = out
        try count.run()
        count.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let colors = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertGreaterThan(colors, 8, "the screenshot looks blank: \(colors) colours")
    }
}
