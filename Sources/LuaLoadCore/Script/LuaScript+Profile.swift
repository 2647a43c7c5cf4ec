import CLua
import CLuaShim

/// What a script declares about its run (profile.lua checked the types): `stages`, `thresholds`, `shape`.
public struct DeclaredProfile: Sendable {
    /// `stages = { {duration = "30s", users = 100}, ... }`: durations as written (the Runner parses them).
    public var stages: [(duration: String, users: Int)]?
    /// `thresholds`, flattened: names sorted, each name's expressions in order.
    public var thresholds: [(name: String, expression: String, abortOnFail: Bool, delay: String?)] = []
    /// Whether the script defines `shape(run_time)`.
    public var hasShape = false
    /// "file:line" where the script set `stages` / `thresholds`, for errors found after the script ran.
    public var stagesAt: String?
    public var thresholdsAt: String?
    /// `scenarios` (LuaScript+Scenarios.swift), in name order; empty: the run has one model.
    public var scenarios: [DeclaredScenario] = []
}

/// The outcome of one call of the script's shape().
public enum ShapeTick {
    case users(Int, spawnRate: Double)
    /// shape() returned nil: the run ends.
    case end
    /// It raised, or returned something else: the message (the script's file:line) and its traceback.
    case failed(String)
}

extension LuaScript {
    /// Reads finalize's result (on top of the stack): plain tables of plain values, so nothing can raise.
    func readDeclaredProfile() {
        declared.hasShape = boolean(field: "has_shape")
        declared.stagesAt = string(field: "stages_at")
        declared.thresholdsAt = string(field: "thresholds_at")
        lua_getfield(L, -1, "stages")
        if lua_type(L, -1) == LUA_TTABLE {
            var stages: [(String, Int)] = []
            for k in 0..<Int(lua_rawlen(L, -1)) {
                lua_rawgeti(L, -1, lua_Integer(k + 1))
                stages.append((string(field: "duration") ?? "", integer(field: "users")))
                ll_pop(L, 1)
            }
            declared.stages = stages
        }
        ll_pop(L, 1)
        lua_getfield(L, -1, "thresholds")
        for k in 0..<Int(lua_rawlen(L, -1)) {
            lua_rawgeti(L, -1, lua_Integer(k + 1))
            declared.thresholds.append((string(field: "name") ?? "", string(field: "expr") ?? "",
                                        boolean(field: "abort_on_fail"), string(field: "delay")))
            ll_pop(L, 1)
        }
        ll_pop(L, 1)
        readDeclaredScenarios()
    }

    /// Calls the script's shape(run_time) through the prelude, protected (the shim's ll_shape); with
    /// `scenario` (0-based), that scenario's shape.
    public func shapeTick(runTime: Double, scenario: Int? = nil) -> ShapeTick {
        var users: lua_Integer = 0
        var rate = 0.0
        switch ll_shape(L, runTime, Int32(scenario.map { $0 + 1 } ?? 0), &users, &rate) {
        case 0: return .users(Int(users), spawnRate: rate)
        case 1: return .end
        default:
            var len = 0
            let message = ll_tostring(L, -1, &len).map { String(cString: $0) } ?? "shape() failed"
            ll_pop(L, 1)
            return .failed(message)
        }
    }
}
