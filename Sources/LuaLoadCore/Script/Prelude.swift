import CLua
import CLuaShim
#if canImport(Glibc)
import Glibc
#endif

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
        ("checks.lua", PackageResources.checks_lua),
        ("metrics.lua", PackageResources.metrics_lua),
        ("scenarios.lua", PackageResources.scenarios_lua),
        ("profile.lua", PackageResources.profile_lua),
    ]

    /// `luaload wrk`'s prelude instead: wrk's API and a wrk connection's cycle (Lua/wrk/).
    static let wrkChunks: [(name: String, code: [UInt8])] = [
        ("wrk.lua", PackageResources.wrk_lua),
        ("wrk_runner.lua", PackageResources.wrk_runner_lua),
    ]

    /// A chunk as the states load it: bytecode ("b") compiled once per process, or its text ("t").
    typealias Loadable = (name: String, code: [UInt8], mode: String)

    /// Parsing the prelude's text is most of a state's start-up (~9M instructions, so a short run's whole
    /// cost per request moves with it), and every run makes at least two states (the Runner's, which
    /// reads the classes, and one per thread). So the text is parsed once, in a bare state of its own, and
    /// every state loads the bytecode; the bytecode keeps its debug info, so tracebacks are unchanged.
    static let compiled: [Loadable] = compile(chunks)
    static let compiledWrk: [Loadable] = compile(wrkChunks)

    /// The chunks as bytecode, or all as text when one does not compile (its error then shows on loading).
    static func compile(_ list: [(name: String, code: [UInt8])]) -> [Loadable] {
        let text = list.map { (name: $0.name, code: $0.code, mode: "t") }
        guard let L = luaL_newstate() else { return text }
        defer { lua_close(L) }
        var out: [Loadable] = []
        for chunk in list {
            var bytes: UnsafeMutablePointer<UInt8>?
            var count = 0
            let rc = chunk.code.withUnsafeBufferPointer { code in
                code.baseAddress!.withMemoryRebound(to: CChar.self, capacity: code.count) {
                    ll_compile(L, $0, code.count, "=luaload/" + chunk.name, &bytes, &count)
                }
            }
            guard rc == LUA_OK, let bytes else { return text }
            out.append((name: chunk.name, code: Array(UnsafeBufferPointer(start: bytes, count: count)), mode: "b"))
            free(bytes)
        }
        return out
    }

    /// Runs every chunk in `L` (a state from `ll_newstate`); on failure returns the error message.
    static func load(into L: OpaquePointer, chunks: [Loadable] = Prelude.compiled) -> String? {
        for chunk in chunks {
            let rc = chunk.code.withUnsafeBufferPointer { code in
                code.baseAddress!.withMemoryRebound(to: CChar.self, capacity: code.count) {
                    ll_dochunk(L, $0, code.count, "=luaload/" + chunk.name, chunk.mode)
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
