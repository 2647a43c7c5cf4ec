import XCTest
import CNGHTTP2
@testable import LuaLoadCore

/// HTTP2Memory, the nghttp2 allocator of a worker's HTTP/2 sessions, through the nghttp2_mem functions nghttp2
/// calls: blocks of a class are reused after free, calloc zeroes, realloc keeps the bytes, large blocks go to
/// malloc; and a real nghttp2 session lives and dies on it.
final class HTTP2MemoryTests: XCTestCase {
    func testFreedBlocksAreReusedByClass() {
        let memory = HTTP2Memory()
        let mem = memory.mem
        let a = mem.malloc(100, mem.mem_user_data)!
        let b = mem.malloc(100, mem.mem_user_data)!
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(Int(bitPattern: a) % 16, 0, "16-byte aligned, as malloc's")
        mem.free(a, mem.mem_user_data)
        XCTAssertEqual(mem.malloc(97, mem.mem_user_data), a, "same class (97...128 bytes): the freed block")
        let c = mem.malloc(200, mem.mem_user_data)!
        XCTAssertNotEqual(c, b)
        mem.free(nil, mem.mem_user_data)   // free(NULL) is allowed
    }

    func testCallocReallocAndLargeBlocks() {
        let memory = HTTP2Memory()
        let mem = memory.mem
        let dirty = mem.malloc(64, mem.mem_user_data)!
        memset(dirty, 0xAB, 64)
        mem.free(dirty, mem.mem_user_data)
        let zeroed = mem.calloc(8, 8, mem.mem_user_data)!.assumingMemoryBound(to: UInt8.self)
        XCTAssertTrue((0..<64).allSatisfy { zeroed[$0] == 0 }, "calloc zeroes a reused block")
        XCTAssertNil(mem.calloc(Int.max, 2, mem.mem_user_data), "an overflowing calloc fails")

        for k in 0..<64 { zeroed[k] = UInt8(k) }
        let grown = mem.realloc(zeroed, 5000, mem.mem_user_data)!.assumingMemoryBound(to: UInt8.self)   // to a large block
        XCTAssertTrue((0..<64).allSatisfy { grown[$0] == UInt8($0) }, "realloc keeps the bytes")
        memset(grown + 64, 0x5A, 5000 - 64)
        XCTAssertEqual(mem.realloc(grown, 4000, mem.mem_user_data)?.assumingMemoryBound(to: UInt8.self), grown, "shrinking keeps the block")
        let larger = mem.realloc(grown, 100_000, mem.mem_user_data)!.assumingMemoryBound(to: UInt8.self)
        XCTAssertEqual(larger[4999], 0x5A)
        mem.free(larger, mem.mem_user_data)
    }

    /// Many slabs' worth of blocks, then an nghttp2 client session made, used and deleted on the allocator.
    func testSessionsLiveOnIt() {
        let memory = HTTP2Memory()
        var mem = memory.mem
        var blocks: [UnsafeMutableRawPointer] = []
        for k in 0..<5000 { blocks.append(mem.malloc(1 + k % 2048, mem.mem_user_data)!) }   // ~5 MB: many slabs
        for p in blocks { mem.free(p, mem.mem_user_data) }
        var session: OpaquePointer? = nil
        XCTAssertEqual(nghttp2_session_client_new3(&session, http2Callbacks, nil, nil, &mem), 0)
        var settings = [nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0)]
        XCTAssertEqual(nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count), 0)
        var p: UnsafePointer<UInt8>? = nil, total = 0
        while case let n = nghttp2_session_mem_send(session, &p), n > 0 { total += n }
        XCTAssertEqual(total, 24 + 9 + 6, "the preface, then SETTINGS with one entry")
        nghttp2_session_del(session)
    }
}
