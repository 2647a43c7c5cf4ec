import CLua
import CLuaShim

/// `luaload wrk`'s target: the URL's parts as wrk's Lua API shows them, and the -H headers.
public struct WrkTarget: Sendable {
    /// The URL as given (init(args) gets it as args[0], as in wrk).
    public var url: String
    public var scheme: String
    public var host: String
    /// The URL's port, nil when it has none (wrk.port is then nil).
    public var port: String?
    /// Path and query, "/" when the URL has none.
    public var path: String
    /// -H "Name: value", in order.
    public var headers: [(name: String, value: String)]

    public init(url: String, scheme: String, host: String, port: String?, path: String, headers: [(name: String, value: String)]) {
        self.url = url
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.headers = headers
    }

    /// Fills in the `wrk` table of a state whose prelude is wrk's, before the script runs.
    func configure(_ L: OpaquePointer) -> Int32 {
        lua_pushstring(L, scheme)
        lua_pushstring(L, host)
        if let port { lua_pushstring(L, port) } else { lua_pushnil(L) }
        lua_pushstring(L, path)
        for h in headers {
            lua_pushstring(L, h.name)
            lua_pushstring(L, h.value)
        }
        return ll_wrk_call(L, "wrk_configure", nil, Int32(4 + 2 * headers.count), 0)
    }
}

/// A statistics object of done(): distinct values ascending with their counts, and wrk's moments.
public struct WrkStatsData {
    public var min: UInt64 = 0
    public var max: UInt64 = 0
    public var mean: Double = 0
    public var stdev: Double = 0
    public var values: [UInt64] = []
    public var counts: [UInt64] = []

    public init() {}

    public var count: UInt64 { counts.reduce(0, +) }
}

/// The phases of wrk's API on states made with `wrk:` (their errors carry the script's file:line).
extension LuaScript {
    /// Main state: setup(thread) for one thread.
    public func wrkSetup(_ thread: UnsafeMutablePointer<ll_wrk_thread>) throws {
        try check(ll_wrk_call(L, "wrk_setup", thread, 0, 0))
    }

    /// A thread's state: wrk.thread, then init(args) (args[0] is the URL, as in wrk); returns wrk.method.
    public func wrkInit(_ thread: UnsafeMutablePointer<ll_wrk_thread>, url: String, args: [String]) throws -> String {
        try check(ll_wrk_call(L, "wrk_bind", thread, 0, 0))
        lua_createtable(L, Int32(args.count), 1)
        for (k, arg) in ([url] + args).enumerated() {
            lua_pushstring(L, arg)
            lua_rawseti(L, -2, lua_Integer(k))
        }
        try check(ll_wrk_call(L, "wrk_init", nil, 1, 1))
        var length = 0
        defer { ll_pop(L, 1) }
        return ll_tostring(L, -1, &length).map { String(cString: $0) } ?? "GET"
    }

    /// Main state: whether the script defines done().
    public func wrkHasDone() -> Bool {
        guard ll_wrk_call(L, "wrk_has_done", nil, 0, 1) == LUA_OK else { ll_pop(L, 1); return false }
        defer { ll_pop(L, 1) }
        return lua_toboolean(L, -1) != 0
    }

    /// Main state: done(summary, latency, requests) with wrk's fields (durations and latencies in µs).
    public func wrkDone(durationMicros: UInt64, requests: Int, bytes: UInt64, errors: [(String, Int)],
                        latency: WrkStatsData, rates: WrkStatsData) throws {
        lua_createtable(L, 0, 4)
        setInteger("duration", Int(durationMicros))
        setInteger("requests", requests)
        setInteger("bytes", Int(bytes))
        lua_createtable(L, 0, Int32(errors.count))
        for (name, n) in errors { setInteger(name, n) }
        lua_setfield(L, -2, "errors")
        push(latency)
        push(rates)
        try check(ll_wrk_call(L, "wrk_done", nil, 3, 0))
    }

    private func setInteger(_ name: String, _ value: Int) {
        lua_pushinteger(L, lua_Integer(value))
        lua_setfield(L, -2, name)
    }

    private func push(_ s: WrkStatsData) {
        lua_createtable(L, 0, 7)
        setInteger("min", Int(s.min))
        setInteger("max", Int(s.max))
        lua_pushnumber(L, s.mean)
        lua_setfield(L, -2, "mean")
        lua_pushnumber(L, s.stdev)
        lua_setfield(L, -2, "stdev")
        setInteger("count", Int(s.count))
        for (name, list) in [("values", s.values), ("counts", s.counts)] {
            lua_createtable(L, Int32(list.count), 0)
            for (k, v) in list.enumerated() {
                lua_pushinteger(L, lua_Integer(v))
                lua_rawseti(L, -2, lua_Integer(k + 1))
            }
            lua_setfield(L, -2, name)
        }
    }
}
