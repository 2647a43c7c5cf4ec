import CLua
import CLuaShim

/// Taking what checks.lua and metrics.lua counted out of a thread's Lua state, once a second and at the end
/// (Worker.publish). Only calls that cannot raise: lua_getfield with names the prelude already holds (no
/// new string), lua_next over plain tables of strings, lua_rawgeti, lua_to*. A script that never called
/// check() or metrics.* has no pending table: two lookups a second.
extension ScriptMetrics {
    /// Adds the state's pending counts and drops them (the prelude makes a new table at its next count).
    mutating func takePending(from L: OpaquePointer, nowMs: Int64) {
        lua_getfield(L, ll_registryindex(), "luaload")
        defer { ll_pop(L, 1) }
        guard lua_type(L, -1) == LUA_TTABLE else { return }
        lua_getfield(L, -1, "pending")
        guard lua_type(L, -1) == LUA_TTABLE else { ll_pop(L, 1); return }
        lua_getfield(L, -1, "checks")
        forEachEntry(L) { name in checks[name, default: CheckCounts()].add(Self.readCheck(L)) }
        ll_pop(L, 1)
        lua_getfield(L, -1, "metrics")
        forEachEntry(L) { series in
            guard let m = Self.readMetric(L, nowMs: nowMs) else { return }
            if metrics[series] == nil { metrics[series] = m } else { metrics[series]!.add(m) }
        }
        ll_pop(L, 2)
        lua_pushnil(L)
        lua_setfield(L, -2, "pending")
    }

    /// Calls `body` with each string key of the table on top, its value on top of the stack.
    private func forEachEntry(_ L: OpaquePointer, _ body: (String) -> Void) {
        guard lua_type(L, -1) == LUA_TTABLE else { return }
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            if lua_type(L, -2) == LUA_TSTRING, lua_type(L, -1) == LUA_TTABLE, let key = Self.string(L, -2) { body(key) }
            ll_pop(L, 1)
        }
    }

    private static func string(_ L: OpaquePointer, _ i: Int32) -> String? {
        guard lua_type(L, i) == LUA_TSTRING else { return nil }
        var len = 0
        let p = ll_tostring(L, i, &len)!
        return String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)
    }

    private static func number(_ L: OpaquePointer, _ k: Int) -> Double {
        lua_rawgeti(L, -1, lua_Integer(k))
        defer { ll_pop(L, 1) }
        return lua_type(L, -1) == LUA_TNUMBER ? lua_tonumberx(L, -1, nil) : 0
    }

    /// { passes, fails, first error } on top.
    private static func readCheck(_ L: OpaquePointer) -> CheckCounts {
        var c = CheckCounts(passes: Int(number(L, 1)), fails: Int(number(L, 2)))
        lua_rawgeti(L, -1, 3)
        c.firstError = string(L, -1)
        ll_pop(L, 1)
        return c
    }

    /// { kind, series, unit, count, sum, last, min, max, values } on top (metrics.lua's add_to).
    private static func readMetric(_ L: OpaquePointer, nowMs: Int64) -> CustomMetric? {
        let kinds: [MetricKind] = [.counter, .gauge, .rate, .trend]
        let k = Int(number(L, 1))
        guard k >= 1 && k <= 4 else { return nil }
        lua_rawgeti(L, -1, 3)
        var m = CustomMetric(kind: kinds[k - 1], unit: string(L, -1) ?? "")
        ll_pop(L, 1)
        let count = Int(number(L, 4))
        switch m.kind {
        case .rate:
            m.count = count
            m.passes = Int(number(L, 5))
        case .counter, .gauge:
            m.count = count
            m.sum = number(L, 5)
            (m.last, m.min, m.max) = (number(L, 6), number(L, 7), number(L, 8))
            m.lastAtMs = nowMs
        case .trend:
            lua_rawgeti(L, -1, 9)
            if lua_type(L, -1) == LUA_TTABLE {
                for i in 0..<Int(lua_rawlen(L, -1)) { m.recordTrend(number(L, i + 1)) }
            }
            ll_pop(L, 1)
        }
        return m
    }
}
