import XCTest
@testable import LuaLoadCore

/// ClientResponseParser against http_parser on the fuzzer's corpus (Tests/Fuzz/corpus: seeds and the inputs that
/// once found a difference), each whole, byte by byte and cut at random, so CI checks the equivalence without
/// running the fuzzer. Plus a few exact expectations that hold whatever http_parser does.
final class ParserDifferentialTests: XCTestCase {
    func testCorpusAgreesWithHTTPParser() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertGreaterThanOrEqual(files.count, 20, "the seed corpus is in Tests/Fuzz/corpus")
        for name in files {
            let data = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            // The file's own cuts, then more random ones: the file's seed bytes varied.
            for variant in 0..<4 {
                var input = data
                if input.count >= 2 { input[1] ^= UInt8(variant * 37) }
                XCTAssertEqual(ParserDifferential.check(input), [], name)
            }
        }
    }

    func testTypicalResponseAndItsFlags() {
        let r = parse("HTTP/1.1 200 OK\r\nServer: nginx\r\nSet-Cookie: a=1\r\nContent-Length: 5\r\n\r\nhello")
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.complete && r.keepAlive && r.setsCookie && !r.needsScan)
        XCTAssertEqual(r.body, "hello")
        XCTAssertEqual(r.head, "HTTP/1.1 200 OK\r\nServer: nginx\r\nSet-Cookie: a=1\r\nContent-Length: 5\r\n\r\n")
    }

    func testInterimResponsesAreSkippedAndOthersHaveNoBody() {
        let c = parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\nhi")
        XCTAssertEqual(c.status, 201)
        XCTAssertEqual(c.head, "HTTP/1.1 201 Created\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n", "only the final head")
        XCTAssertTrue(c.needsScan)
        let n = parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n")
        XCTAssertTrue(n.complete && n.keepAlive, "a 304's Content-Length announces no body")
        let s = parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        XCTAssertTrue(s.complete)
        XCTAssertFalse(s.keepAlive, "the connection now speaks another protocol")
        let h = parse("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", bodyless: true)
        XCTAssertTrue(h.complete && h.keepAlive && h.body.isEmpty)
    }

    func testChunkedWithExtensionsAndTrailers() {
        let r = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nA: b\r\n\r\n")
        XCTAssertTrue(r.complete && r.keepAlive)
        XCTAssertEqual(r.body, "hello!")
        XCTAssertEqual(r.head, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "trailers are not part of the head")
    }

    func testKeepAliveDecisions() {
        XCTAssertFalse(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keepAlive)
        XCTAssertTrue(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").keepAlive)
        XCTAssertFalse(parse("HTTP/1.1 200 OK\r\nConnection: x, close\r\nContent-Length: 0\r\n\r\n").keepAlive)
        XCTAssertFalse(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab", whole: true).keepAlive, "a stray byte after the body")
        XCTAssertTrue(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\r\n", whole: true).keepAlive, "blank lines may follow")
    }

    func testRejectionsNameTheirCause() {
        XCTAssertEqual(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n").error, .lengthWithTransferEncoding)
        XCTAssertEqual(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n").error, .duplicateContentLength)
        XCTAssertEqual(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").error, .badChunkSize)
        XCTAssertEqual(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n").error, .badChunkEnd)
        XCTAssertEqual(parse("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 81920) + "\r\n\r\n").error, .headTooLarge)
        XCTAssertEqual(parse("SSH-2.0\r\n").error, .notHTTP)
        XCTAssertEqual(Failure.badResponse(UInt32(ResponseError.badChunkSize.rawValue)).text(), "invalid HTTP response: bad chunk size")
    }

    struct Parsed {
        var complete = false, keepAlive = false, setsCookie = false, needsScan = false
        var status = 0
        var error: ResponseError?
        var head = "", body = ""
    }

    /// Parses `text` fed one byte at a time (the hardest split) or `whole`, then EOF.
    func parse(_ text: String, bodyless: Bool = false, whole: Bool = false) -> Parsed {
        var p = ClientResponseParser()
        p.reset(bodyless: bodyless)
        defer { p.head.free(); p.body.free() }
        let bytes = Array(text.utf8)
        if whole {
            _ = bytes.withUnsafeBytes { p.feed($0.baseAddress!, $0.count) }
        }
        for byte in bytes where !whole && !p.complete && p.error == nil {
            _ = withUnsafeBytes(of: byte) { p.feed($0.baseAddress!, 1) }
        }
        p.feedEOF()
        return Parsed(complete: p.complete, keepAlive: p.keepAlive, setsCookie: p.setsCookie, needsScan: p.needsScan,
                      status: p.status, error: p.error, head: String(decoding: p.head.bytes, as: UTF8.self),
                      body: String(decoding: p.body.bytes, as: UTF8.self))
    }
}
