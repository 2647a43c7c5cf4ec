import Foundation
import XCTest
import CLua
import CLuaShim
@testable import LuaLoadCore

/// The prelude tested at the Lua level: `Tests/LuaLoadCoreTests/Lua/*_test.lua` run in a plain luaload
/// Lua state (the prelude loaded; no Worker, no sockets), one fresh state per test.
final class LuaPreludeTests: XCTestCase {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Lua").path
    static let preludeDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/LuaLoadCore/Lua").standardized.path

    func testJSON() { runLuaTests("json_test.lua") }
    func testHTTP() { runLuaTests("http_test.lua") }
    func testWaits() { runLuaTests("waits_test.lua") }
    func testModel() { runLuaTests("model_test.lua") }
    func testProtocol() { runLuaTests("protocol_test.lua") }
    func testURL() { runLuaTests("url_test.lua") }
    func testCookies() { runLuaTests("cookies_test.lua") }
    func testRedirectFrames() { runLuaTests("redirect_test.lua") }
    func testStateAllocator() { runLuaTests("alloc_test.lua") }
    func testChecksAndMetrics() { runLuaTests("checks_test.lua") }

    /// Every prelude file is valid Lua to `luac -p`, and every one of them is loaded.
    func testPreludeFilesCompileAndAreAllLoaded() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.preludeDir).filter { $0.hasSuffix(".lua") }.sorted()
        XCTAssertEqual(files, Prelude.chunks.map(\.name).sorted(), "Package.swift and Prelude.chunks must list every file")
        // One file per luac: Debian's luac5.4 (5.4.4) frees twice when given several files.
        for file in files {
            let luac = Process()
            luac.executableURL = URL(fileURLWithPath: "/usr/bin/luac5.4")
            luac.arguments = ["-p", Self.preludeDir + "/" + file]
            let errors = Pipe()
            luac.standardError = errors
            try luac.run()
            luac.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(luac.terminationStatus, 0, "luac -p \(file): \(message)")
        }
    }

    /// Every test of `file`, each in a fresh state; each failure fails this case with its message.
    func runLuaTests(_ file: String, line: UInt = #line) {
        let names: [String]
        do {
            names = try withPreludeState { L in
                try runHarness(L, file: file, test: nil)
                lua_getglobal(L, "__test_names")
                var len = 0
                return ll_tostring(L, -1, &len).map { String(cString: $0) }?.split(separator: ",").map(String.init) ?? []
            }
        } catch {
            return XCTFail("\(file): \(error)", line: line)
        }
        XCTAssertFalse(names.isEmpty, "\(file) has no tests", line: line)
        for name in names {
            do {
                try withPreludeState { L in try runHarness(L, file: file, test: name) }
            } catch {
                XCTFail("\(file) \(name): \(error)", line: line)
            }
        }
    }

    private func withPreludeState<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        guard let L = ll_newstate() else { throw ScriptError(description: "cannot create a Lua state") }
        defer { ll_close(L) }
        if let message = Prelude.load(into: L) { throw ScriptError(description: message) }
        return try body(L)
    }

    private func runHarness(_ L: OpaquePointer, file: String, test: String?) throws {
        let dir = Self.testsDir
        let call = "assert(loadfile(\"\(dir)/harness.lua\"))(\"\(dir)\")(\"\(file)\"\(test.map { ", \"\($0)\"" } ?? ""))"
        if ll_dostring(L, call, call.utf8.count, "=harness") != LUA_OK {
            var len = 0
            let message = ll_tostring(L, -1, &len).map { String(cString: $0) } ?? "(no message)"
            throw ScriptError(description: message)
        }
    }
}
