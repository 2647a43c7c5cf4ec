import XCTest
@testable import LuaLoadCore

/// The pieces of the session seam that have no I/O: HTTP/2's reading of the encoder's HTTP/1.1 bytes, and the
/// VU state transitions the engine allows.
final class SessionUnitTests: XCTestCase {
    private func encoded(_ method: String, _ target: String, headers: String?, body: String?) -> ByteBuffer {
        var out = ByteBuffer()
        var layout = RequestEncoder.Layout()
        let host = Array("example.test:8443".utf8)
        method.withCString { m in target.withCString { t in
            host.withUnsafeBytes { h in
                let encode = { (hp: UnsafePointer<CChar>?, hl: Int, bp: UnsafePointer<CChar>?, bl: Int) in
                    RequestEncoder.encode(into: &out, layout: &layout, endpoint: 0, method: m, methodLength: method.utf8.count,
                                          target: t, targetLength: target.utf8.count, host: h, headers: hp, headersLength: hl,
                                          body: bp, bodyLength: bl)
                }
                (headers ?? "").withCString { hp in (body ?? "").withCString { bp in
                    encode(headers == nil ? nil : hp, headers?.utf8.count ?? 0, body == nil ? nil : bp, body?.utf8.count ?? 0)
                } }
            }
        } }
        return out
    }

    private func text(_ s: HTTP1Request.Span) -> String { String(decoding: UnsafeBufferPointer(start: s.base, count: s.length), as: UTF8.self) }

    func testHTTP1RequestReadsTheEncodersBytesBack() {
        var out = encoded("POST", "/api/v1/events?x=1", headers: "Content-Type: application/json\r\nConnection: keep-alive\r\nX-Trace:  abc\r\n", body: "{\"a\":1}")
        defer { out.free() }
        let r = HTTP1Request(out.base!, out.count)
        XCTAssertEqual(text(r.method), "POST")
        XCTAssertEqual(text(r.target), "/api/v1/events?x=1")
        XCTAssertEqual(text(r.host), "example.test:8443")
        var fields: [String] = []
        r.forEachHeader { name, value in
            if !HTTP1Request.isConnectionSpecific(name) { fields.append(self.text(name) + "=" + self.text(value)) }
        }
        XCTAssertEqual(fields, ["Content-Type=application/json", "X-Trace=abc", "Content-Length=7"])
        XCTAssertEqual(String(decoding: UnsafeBufferPointer(start: out.base! + r.bodyOffset, count: out.count - r.bodyOffset), as: UTF8.self), "{\"a\":1}")
    }

    func testHTTP1RequestWithoutHeadersOrBody() {
        var out = encoded("GET", "/health", headers: nil, body: nil)
        defer { out.free() }
        let r = HTTP1Request(out.base!, out.count)
        XCTAssertEqual(text(r.method), "GET")
        XCTAssertEqual(text(r.target), "/health")
        XCTAssertEqual(r.bodyOffset, out.count)
        var names: [String] = []
        r.forEachHeader { name, _ in names.append(self.text(name)) }
        XCTAssertEqual(names, ["Host"])
        XCTAssertTrue(HTTP1Request.isConnectionSpecific(HTTP1Request.Span(static: "Transfer-Encoding")))
        XCTAssertFalse(HTTP1Request.isConnectionSpecific(HTTP1Request.Span(static: "TE")))
    }

    func testVUTransitions() {
        XCTAssertTrue(VUState.allowed(from: .notStarted, to: .runningLua))
        XCTAssertTrue(VUState.allowed(from: .runningLua, to: .inRequest))
        XCTAssertTrue(VUState.allowed(from: .inRequest, to: .runningLua))
        XCTAssertTrue(VUState.allowed(from: .sleeping, to: .parked))
        XCTAssertTrue(VUState.allowed(from: .parked, to: .done))
        XCTAssertFalse(VUState.allowed(from: .inRequest, to: .parked))    // a request in flight is never parked
        XCTAssertFalse(VUState.allowed(from: .notStarted, to: .inRequest))
        XCTAssertFalse(VUState.allowed(from: .parked, to: .runningLua))   // parked until the stop
        XCTAssertFalse(VUState.allowed(from: .notStarted, to: .retired))  // only an active VU retires
        XCTAssertEqual([VUState.runningLua, .sleeping, .inRequest, .parked, .idle].filter(\.isActive).count, 5)
        XCTAssertFalse(VUState.notStarted.isActive || VUState.retired.isActive || VUState.done.isActive)
    }
}
