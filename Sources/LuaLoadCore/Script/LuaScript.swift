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

/// What the run tells the script before finalize: task tag filters and setup()'s result.
public struct ScriptOptions: Sendable {
    /// --tags / --exclude-tags: keep tasks with any of `tags` (all when empty), minus those with any of `excludeTags`.
    public var tags: [String] = []
    public var excludeTags: [String] = []
    /// setup()'s result as JSON; the script sees it decoded as `setup_data`.
    public var setupJSON: String?
    /// The base URL of relative paths (-H, else the script's `host`): cookies and redirects need the origin.
    public var host: String?
    /// -e NAME=value, --env-file: the script's `env` table (set before it runs); `secrets`: --secret values.
    public var env: [(name: String, value: String)] = []
    public var secrets: [String] = []

    public init(tags: [String] = [], excludeTags: [String] = [], setupJSON: String? = nil, host: String? = nil) {
        self.tags = tags
        self.excludeTags = excludeTags
        self.setupJSON = setupJSON
        self.host = host
    }
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
    /// What the script declared about the load and its verdict (profile.lua): read once after finalize.
    public internal(set) var declared = DeclaredProfile()
    /// Registry references to the prelude's `vu_main` and `vu_stop`.
    public private(set) var vuMainRef: Int32 = 0
    public private(set) var vuStopRef: Int32 = 0
    public private(set) var setupRef: Int32 = 0
    public private(set) var teardownRef: Int32 = 0
    /// A table of each VU's last reply strings (`ll_push_kept`), so that a repeated head or body is no new string.
    public private(set) var keptRef: Int32 = 0

    /// Loads the prelude and the script at `path` (nil: prelude only, for tests that pass source).
    /// `wrk`: the state runs wrk's API (`luaload wrk`) with the target's parts set before the script runs.
    public init(path: String?, source: String? = nil, chunkName: String = "script", seed: Int = 0,
                options: ScriptOptions = ScriptOptions(), wrk: WrkTarget? = nil) throws {
        guard let state = ll_newstate() else { throw ScriptError(description: "cannot create a Lua state") }
        L = state
        if let wrk {
            try check(ll_wrk_install(L))
            if let message = Prelude.load(into: L, chunks: Prelude.compiledWrk) { throw ScriptError(description: message) }
            try check(wrk.configure(L))
        } else if let message = Prelude.load(into: L) {
            throw ScriptError(description: message)
        }
        if seed != 0 { try check(ll_seed(L, lua_Integer(seed))) }
        if wrk == nil { try setEnv(options.env, secrets: options.secrets) }
        if let path {
            // `require` finds modules next to the script first.
            let slash = path.lastIndex(of: "/")
            try check(ll_prepend_path(L, slash.map { String(path[..<$0]) } ?? "."))
            try check(ll_dofile(L, path))
        } else if let source {
            try check(source.withCString { ll_dostring(L, $0, strlen($0), "@" + chunkName) })
        }
        if wrk == nil { try finalize(options) }
        lua_getfield(L, ll_registryindex(), "luaload")
        vuMainRef = ref(field: "vu_main")
        vuStopRef = ref(field: "vu_stop")
        setupRef = ref(field: "setup_main")
        teardownRef = ref(field: "teardown_main")
        ll_pop(L, 1)
        lua_createtable(L, 0, 0)
        keptRef = luaL_ref(L, ll_registryindex())
    }

    deinit { ll_close(L) }

    /// Forgets the data feeders' positions (data.csv, data.lines), shared by every thread of a run.
    public static func resetDataFeeders() { ll_feeders_reset() }

    /// Throws the message a failed protected call left on the stack.
    func check(_ rc: Int32) throws {
        if rc != LUA_OK { throw ScriptError(description: popMessage()) }
    }

    func popMessage() -> String {
        var len = 0
        let message = ll_tostring(L, -1, &len).map { String(cString: $0) } ?? "(error object is not a string)"
        ll_pop(L, 1)
        return message
    }

    /// A registry reference to field `name` of the table on top (the prelude's internal table).
    private func ref(field name: String) -> Int32 {
        lua_getfield(L, -1, name)
        return luaL_ref(L, ll_registryindex())
    }

    private func finalize(_ options: ScriptOptions) throws {
        let tags = options.tags.isEmpty ? nil : options.tags.joined(separator: ",")
        let excluded = options.excludeTags.isEmpty ? nil : options.excludeTags.joined(separator: ",")
        if ll_finalize(L, tags, excluded, options.setupJSON, options.host) != LUA_OK {
            // The message carries a traceback; the first line is what a user needs.
            let full = popMessage()
            let firstLine = full.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? full
            throw ScriptError(description: firstLine)
        }
        // finalize's result is a plain table of plain tables: reading fields can raise nothing.
        host = string(field: "host")
        hasSetup = boolean(field: "has_setup")
        hasTeardown = boolean(field: "has_teardown")
        lua_getfield(L, -1, "classes")
        for i in 0..<Int(lua_rawlen(L, -1)) {
            lua_rawgeti(L, -1, lua_Integer(i + 1))
            classes.append(UserClassInfo(weight: integer(field: "weight"), fixedCount: integer(field: "fixed_count"),
                                         hasOnStop: boolean(field: "has_on_stop"), host: string(field: "host")))
            ll_pop(L, 1)
        }
        ll_pop(L, 1)
        readDeclaredProfile()
        ll_pop(L, 1)
    }

    func integer(field name: String) -> Int {
        lua_getfield(L, -1, name)
        defer { ll_pop(L, 1) }
        return Int(lua_tointegerx(L, -1, nil))
    }

    func boolean(field name: String) -> Bool {
        lua_getfield(L, -1, name)
        defer { ll_pop(L, 1) }
        return lua_toboolean(L, -1) != 0
    }

    func string(field name: String) -> String? {
        lua_getfield(L, -1, name)
        defer { ll_pop(L, 1) }
        var len = 0
        return ll_tostring(L, -1, &len).map { String(cString: $0) }
    }
}
