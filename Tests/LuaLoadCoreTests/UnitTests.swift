import XCTest
@testable import LuaLoadCore
import LuaLoadLoop

final class UnitTests: XCTestCase {
    func testUsersSplitByWeightAndFixedCount() {
        let two = [UserClassInfo(weight: 3, fixedCount: 0, hasOnStop: false), UserClassInfo(weight: 1, fixedCount: 0, hasOnStop: false)]
        let order = distributeUsers(total: 8, classes: two)
        XCTAssertEqual(order.filter { $0 == 0 }.count, 6)
        XCTAssertEqual(order.filter { $0 == 1 }.count, 2)
        XCTAssertEqual(Array(order.prefix(4)), [0, 0, 1, 0], "interleaved, as Locust's dispatcher")
        let fixed = [UserClassInfo(weight: 1, fixedCount: 2, hasOnStop: false), UserClassInfo(weight: 1, fixedCount: 0, hasOnStop: false),
                     UserClassInfo(weight: 2, fixedCount: 0, hasOnStop: false)]
        let o2 = distributeUsers(total: 11, classes: fixed)
        XCTAssertEqual(o2.filter { $0 == 0 }.count, 2)
        XCTAssertEqual(o2.filter { $0 == 1 }.count, 3)
        XCTAssertEqual(o2.filter { $0 == 2 }.count, 6)
        XCTAssertEqual(distributeUsers(total: 1, classes: fixed), [0])
    }

    func testRequestBytesAreReusedOnlyForTheSameRequest() {
        var out = ByteBuffer()
        var layout = RequestEncoder.Layout()
        let host: [UInt8] = Array("h:80".utf8)
        func encode(_ method: String, _ target: String, _ headers: String?, _ body: String?) {
            host.withUnsafeBytes { h in
                method.withCString { m in target.withCString { t in
                    let hs = headers.map { strdup($0)! }, bs = body.map { strdup($0)! }
                    defer { free(hs); free(bs) }
                    RequestEncoder.encode(into: &out, layout: &layout, endpoint: 0, method: m, methodLength: strlen(m), target: t,
                                          targetLength: strlen(t), host: h, headers: hs, headersLength: hs.map { strlen($0) } ?? 0,
                                          body: bs, bodyLength: bs.map { strlen($0) } ?? 0)
                } }
            }
        }
        func reuses(_ method: String, _ target: String, _ headers: String?, _ body: String?, endpoint: Int32 = 0) -> Bool {
            method.withCString { m in target.withCString { t in
                let hs = headers.map { strdup($0)! }, bs = body.map { strdup($0)! }
                defer { free(hs); free(bs) }
                return RequestEncoder.reuses(out, layout, endpoint: endpoint, method: m, methodLength: strlen(m), target: t,
                                             targetLength: strlen(t), headers: hs, headersLength: hs.map { strlen($0) } ?? 0, body: bs)
            } }
        }
        encode("GET", "/a?x=1", "X-A: 1\r\n", nil)
        XCTAssertEqual(String(decoding: out.bytes, as: UTF8.self), "GET /a?x=1 HTTP/1.1\r\nHost: h:80\r\nX-A: 1\r\n\r\n")
        XCTAssertTrue(reuses("GET", "/a?x=1", "X-A: 1\r\n", nil))
        XCTAssertFalse(reuses("GET", "/a?x=2", "X-A: 1\r\n", nil), "another target")
        XCTAssertFalse(reuses("PUT", "/a?x=1", "X-A: 1\r\n", nil), "another method")
        XCTAssertFalse(reuses("GET", "/a?x=1", "X-A: 2\r\n", nil), "other header values of the same length")
        XCTAssertFalse(reuses("GET", "/a?x=1", nil, nil), "no headers")
        XCTAssertFalse(reuses("GET", "/a?x=1", "X-A: 1\r\n", "b"), "a body")
        XCTAssertFalse(reuses("GET", "/a?x=1", "X-A: 1\r\n", nil, endpoint: 1), "another endpoint")
        encode("POST", "/p", nil, "hi")
        XCTAssertEqual(String(decoding: out.bytes, as: UTF8.self), "POST /p HTTP/1.1\r\nHost: h:80\r\nContent-Length: 2\r\n\r\nhi")
        XCTAssertFalse(reuses("POST", "/p", nil, "hi"), "a request with a body is always encoded")
    }

    func testDurations() {
        XCTAssertEqual(parseDuration("30s"), 30)
        XCTAssertEqual(parseDuration("5m"), 300)
        XCTAssertEqual(parseDuration("1h30m"), 5400)
        XCTAssertEqual(parseDuration("250ms"), 0.25)
        XCTAssertEqual(parseDuration("1.5"), 1.5)
        XCTAssertNil(parseDuration("ten"))
        XCTAssertNil(parseDuration("5x"))
        XCTAssertNil(parseDuration(""))
        XCTAssertEqual(parseDuration("500us"), 0.0005)
        for bad in ["ms", "-1s", "inf", "1.2.3s", "10 parsecs"] { XCTAssertNil(parseDuration(bad), bad) }
    }

    func testTimerHeapOrdersRearmsAndCancels() {
        var heap = TimerHeap(capacity: 100)
        var expected: [(UInt64, Int)] = []
        var rng = SystemRandomNumberGenerator()
        for id in 0..<100 {
            let d = UInt64.random(in: 0..<10_000, using: &rng)
            heap.arm(id, at: d)
            expected.append((d, id))
        }
        for id in stride(from: 0, to: 100, by: 3) { heap.cancel(id) }
        for id in stride(from: 1, to: 100, by: 5) { heap.arm(id, at: 5_000) }   // re-arm in place
        var want: [Int: UInt64] = [:]
        for (d, id) in expected where id % 3 != 0 { want[id] = d }
        for id in stride(from: 1, to: 100, by: 5) { want[id] = 5_000 }
        var last: UInt64 = 0
        var seen = 0
        while let id = heap.popExpired(now: .max) {
            XCTAssertGreaterThanOrEqual(want[id]!, last)
            last = want[id]!
            seen += 1
        }
        XCTAssertEqual(seen, want.count)
        XCTAssertTrue(heap.isEmpty)
    }

    func testURLParts() {
        let u = URLParts("http://example.com:8080/a/b?x=1")!
        XCTAssertEqual(u.host, "example.com"); XCTAssertEqual(u.port, 8080); XCTAssertEqual(u.target, "/a/b?x=1")
        let v = URLParts("https://[::1]/")!
        XCTAssertEqual(v.host, "::1"); XCTAssertEqual(v.port, 443); XCTAssertTrue(v.tls)
        XCTAssertEqual(URLParts("http://h?q")!.target, "/?q")
        XCTAssertNil(URLParts("ftp://x"))
        XCTAssertNil(URLParts("http://:80"))
        XCTAssertNil(URLParts("http://h:99999"))
        XCTAssertEqual(Endpoint(url: "http://127.0.0.1:80")!.hostHeader, Array("127.0.0.1".utf8))
        XCTAssertEqual(Endpoint(url: "http://[::1]:8080")!.hostHeader, Array("[::1]:8080".utf8))
    }

    func testFormattingAndJSON() {
        XCTAssertEqual(Format.fixed(1.006, 2), "1.01")
        XCTAssertEqual(Format.fixed(0, 2), "0.00")
        XCTAssertEqual(Format.fixed(-2.5, 0), "-3")
        XCTAssertEqual(Format.fixed(12345.678, 1), "12345.7")
        XCTAssertEqual(JSONWriter.quote("a\"b\\c\n\u{1}"), #""a\"b\\c\n\u0001""#)
        let w = JSONWriter()
        w.object { w.key("a"); w.int(1); w.key("b"); w.array { w.string("x"); w.number(0.5) } }
        XCTAssertEqual(w.output, #"{"a":1,"b":["x",0.500]}"#)
    }

    func testPercentilesStayWithinMinAndMax() {
        var s = RequestStats(method: "GET", name: "/x")
        for v: UInt64 in [1_001, 1_003, 250_777, 250_999] { s.record(micros: v, failed: false) }
        let row = RowSummary(s)
        for p in Summary.percentiles {
            XCTAssertGreaterThanOrEqual(row.percentileMs(p), row.minMs)
            XCTAssertLessThanOrEqual(row.percentileMs(p), row.maxMs)
        }
        XCTAssertEqual(row.percentileMs(100), 250.999, accuracy: 0.3)
    }

    /// Our specialized walk must give what the library's `valueAtPercentile` gives, bucket for bucket.
    func testPercentileWalkMatchesTheLibrary() {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<20 {
            var h = makeLatencyHistogram()
            for _ in 0..<(round == 0 ? 1 : 1 + Int(rng.next() % 5_000)) {
                // Spread over µs to minutes, as latencies are, so the walk crosses many buckets.
                _ = h.record(UInt64.random(in: 1...(UInt64(1) << UInt64.random(in: 1...31)), using: &rng))
            }
            for p in Summary.percentiles + [0, 0.1, 1, 33.3, 99.999, 100] {
                XCTAssertEqual(h.value(atPercentile: p), h.valueAtPercentile(p), "p\(p), round \(round)")
                XCTAssertEqual(h.percentileMs(p, from: SparseHistogram(h)), h.percentileMs(p), "p\(p), round \(round)")
            }
            let ps: [Double] = [99, 0, 50, 100, 99.99, 33.3, 95, 0.1, 66]   // out of order on purpose
            XCTAssertEqual(h.percentilesMs(ps), ps.map { h.percentileMs($0) }, "round \(round)")
        }
    }

    func testScriptDescribesItsClasses() throws {
        let s = try LuaScript(path: nil, source: """
            local a = user { weight = 2 }
            a:task(function() end)
            local b = user { fixed_count = 1 }
            b:task(function() end)
            function b:on_stop() end
            host = "http://127.0.0.1:9"
            """)
        XCTAssertEqual(s.classes, [UserClassInfo(weight: 2, fixedCount: 0, hasOnStop: false), UserClassInfo(weight: 1, fixedCount: 1, hasOnStop: true)])
        XCTAssertEqual(s.host, "http://127.0.0.1:9")
        XCTAssertThrowsError(try LuaScript(path: nil, source: "local u = user{}\n")) { e in
            XCTAssertTrue("\(e)".contains("has no tasks"), "\(e)")
        }
    }
}

final class ResponseParserTests: XCTestCase {
    let response = Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello".utf8)
    let chunked = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".utf8)

    func parse(_ bytes: [UInt8], pieces: Int) -> (head: String, body: String, complete: Bool) {
        let p = UnsafeMutablePointer<ClientResponseParser>.allocate(capacity: 1)
        p.initialize(to: ClientResponseParser())
        p.pointee.bind(p)
        p.pointee.reset(bodyless: false)
        defer { p.pointee.head.free(); p.pointee.body.free(); p.deallocate() }
        let size = (bytes.count + pieces - 1) / pieces
        var i = 0
        while i < bytes.count {
            let piece = Array(bytes[i..<min(i + size, bytes.count)])
            XCTAssertEqual(piece.withUnsafeBytes { p.pointee.feed($0.baseAddress!, $0.count) }, 0)
            i += size
        }
        return (String(decoding: p.pointee.head.bytes, as: UTF8.self), String(decoding: p.pointee.body.bytes, as: UTF8.self), p.pointee.complete)
    }

    func testHeadAndBodyWhateverTheReadSizes() {
        for pieces in [1, 2, 3, 7, response.count] {
            let r = parse(response, pieces: pieces)
            XCTAssertTrue(r.complete)
            XCTAssertEqual(r.body, "hello", "pieces \(pieces)")
            XCTAssertEqual(r.head, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\n", "pieces \(pieces)")
        }
        for pieces in [1, 4, chunked.count] {
            let r = parse(chunked, pieces: pieces)
            XCTAssertTrue(r.complete)
            XCTAssertEqual(r.body, "hello world")
            XCTAssertTrue(r.head.hasPrefix("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), r.head)
        }
    }
}
