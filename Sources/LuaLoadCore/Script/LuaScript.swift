import CLua
import CLuaShim
#if canImport(Glibc)
import Glibc
#endif

/// What the script declares about one user class, read once after loading it.
public struct UserClassInfo: Equatable, Sendable {
    public var weight: Int
    public var fixedCount: Int
    public var hasOnStop: Bool
    /// The class's own base URL (`user{ host = ... }`), if any.
    public var host: String? = nil

    public init(weight: Int, fixedCount: Int, hasOnStop: Bool, host: String? = nil) {
        self.weight = weight
        self.fixedCount = fixedCount
        self.hasOnStop = hasOnStop
        self.host = host
    }
}

public struct ScriptError: Error, CustomStringConvertible {
    public var description: String
}

/// A thread's Lua state: the prelude, then the user's script. Everything here runs before any traffic,
/// or in protected mode, so a Lua error never unwinds through Swift.
public final class LuaScript {
    public let L: OpaquePointer
    public private(set) var classes: [UserClassInfo] = []
    /// The script's global `host`, if it set one (the -H flag wins).
    public private(set) var host: String?
    public private(set) var hasSetup = false
    public private(set) var hasTeardown = false
    /// Registry references to the prelude's `vu_main` and `vu_stop`.
    public private(set) var vuMainRef: Int32 = 0
    public private(set) var vuStopRef: Int32 = 0
    public private(set) var setupRef: Int32 = 0
    public private(set) var teardownRef: Int32 = 0

    /// Loads the prelude and the script at `path` (nil: prelude only, for tests that pass source).
    public init(path: String?, source: String? = nil, chunkName: String = "script", seed: Int = 0, globals: [String: String] = [:]) throws {
        guard let state = ll_newstate() else { throw ScriptError(description: "cannot create a Lua state") }
        L = state
        try run(Prelude.source, name: "=luaload prelude")
        if seed != 0 { try run("math.randomseed(\(seed))", name: "=seed") }
        for (name, value) in globals.sorted(by: { $0.key < $1.key }) {
            try run("\(name) = \(luaQuoted(value))", name: "=globals")
        }
        if let path {
            // `require` finds modules next to the script first.
            let slash = path.lastIndex(of: "/")
            let folder = slash.map { String(path[..<$0]) } ?? "."
            try run("package.path = \(luaQuoted(folder + "/?.lua;")) .. package.path", name: "=package.path")
            if ll_dofile(L, path) != LUA_OK { throw ScriptError(description: popMessage()) }
        } else if let source {
            try run(source, name: "@" + chunkName)
        }
        try finalize()
        lua_getfield(L, ll_registryindex(), "luaload")
        lua_getfield(L, -1, "vu_main")
        vuMainRef = luaL_ref(L, ll_registryindex())
        lua_getfield(L, -1, "vu_stop")
        vuStopRef = luaL_ref(L, ll_registryindex())
        lua_getfield(L, -1, "setup_main")
        setupRef = luaL_ref(L, ll_registryindex())
        lua_getfield(L, -1, "teardown_main")
        teardownRef = luaL_ref(L, ll_registryindex())
        ll_pop(L, 1)
    }

    deinit { lua_close(L) }

    private func run(_ code: String, name: String) throws {
        let rc = code.withCString { ll_dostring(L, $0, strlen($0), name) }
        if rc != LUA_OK { throw ScriptError(description: popMessage()) }
    }

    private func popMessage() -> String {
        var len = 0
        let message = ll_tostring(L, -1, &len).map { String(cString: $0) } ?? "(error object is not a string)"
        ll_pop(L, 1)
        return message
    }

    private func finalize() throws {
        if ll_callglobal(L, "__luaload_finalize", 4) != LUA_OK {
            // The message carries a traceback; the first line is what a user needs.
            let full = popMessage()
            let firstLine = full.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? full
            throw ScriptError(description: firstLine)
        }
        hasTeardown = lua_toboolean(L, -1) != 0
        hasSetup = lua_toboolean(L, -2) != 0
        var len = 0
        host = ll_tostring(L, -3, &len).map { String(cString: $0) }
        ll_pop(L, 3)
        let n = Int(lua_rawlen(L, -1))
        var i = 1
        while i + 3 <= n {
            lua_rawgeti(L, -1, lua_Integer(i + 3))
            let classHost = ll_tostring(L, -1, &len).map { String(cString: $0) } ?? ""
            ll_pop(L, 1)
            classes.append(UserClassInfo(weight: rawInt(at: i), fixedCount: rawInt(at: i + 1), hasOnStop: rawInt(at: i + 2) != 0,
                                         host: classHost.isEmpty ? nil : classHost))
            i += 4
        }
        ll_pop(L, 1)
    }

    private func rawInt(at index: Int) -> Int {
        lua_rawgeti(L, -1, lua_Integer(index))
        let v = Int(lua_tointegerx(L, -1, nil))
        ll_pop(L, 1)
        return v
    }
}

/// A Lua string literal for `s` (long-bracket form, safe for any content without "]==]").
func luaQuoted(_ s: String) -> String {
    var level = ""
    while s.contains("]\(level)]") { level += "=" }
    return "[\(level)[\(s)]\(level)]"
}
