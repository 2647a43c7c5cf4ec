import CLua
import CLuaShim

/// The Lua half of the engine: the chunks in `Sources/LuaLoadCore/Lua/`, compiled into the binary
/// (SwiftPM's `.embedInCode`) and run in order in every thread's Lua state before the user's script.
///
/// `http.*`, `sleep` and the task runner are plain Lua that `coroutine.yield` a frame to the engine; the
/// engine only ever calls `lua_resume`, so no Lua error or yield ever unwinds through Swift. Frames and
/// replies follow `yield_protocol.h` (LL_OP_*, LL_SLOT_*, LL_REPLY_*), which both sides read.
enum Prelude {
    /// In load order: later chunks use what earlier ones put in the internal table. A chunk's name is how
    /// errors and tracebacks cite it ("luaload/http.lua:42").
    static let chunks: [(name: String, code: [UInt8])] = [
        ("json.lua", PackageResources.json_lua),
        ("helpers.lua", PackageResources.helpers_lua),
        ("url.lua", PackageResources.url_lua),
        ("cookies.lua", PackageResources.cookies_lua),
        ("options.lua", PackageResources.options_lua),
        ("http.lua", PackageResources.http_lua),
        ("waits.lua", PackageResources.waits_lua),
        ("data.lua", PackageResources.data_lua),
        ("model.lua", PackageResources.model_lua),
        ("runner.lua", PackageResources.runner_lua),
        ("profile.lua", PackageResources.profile_lua),
    ]

    /// `luaload wrk`'s prelude instead: wrk's API and a wrk connection's cycle (Lua/wrk/).
    static let wrkChunks: [(name: String, code: [UInt8])] = [
        ("wrk.lua", PackageResources.wrk_lua),
        ("wrk_runner.lua", PackageResources.wrk_runner_lua),
    ]

    /// Runs every chunk in `L` (a state from `ll_newstate`); on failure returns the error message.
    static func load(into L: OpaquePointer, chunks: [(name: String, code: [UInt8])] = Prelude.chunks) -> String? {
        for chunk in chunks {
            let rc = chunk.code.withUnsafeBufferPointer { code in
                code.baseAddress!.withMemoryRebound(to: CChar.self, capacity: code.count) {
                    ll_dochunk(L, $0, code.count, "=luaload/" + chunk.name)
                }
            }
            if rc != LUA_OK {
                var len = 0
                let message = ll_tostring(L, -1, &len).map { String(cString: $0) } ?? "luaload/\(chunk.name): error"
                ll_pop(L, 1)
                return message
            }
        }
        return nil
    }
}
