import CLua
import CLuaShim

/// One entry of the script's `scenarios` (scenarios.lua checked keys and types; durations are parsed by
/// the Runner, which names `at` in its errors).
public struct DeclaredScenario: Sendable {
    public var name: String
    /// "file:line" of the scenario's table.
    public var at: String
    /// 0-based user class, or nil: every class, by weight.
    public var classIndex: Int?
    public var users: Int?
    public var spawnRate: Double?
    /// (duration as written, users).
    public var stages: [(duration: String, users: Double)]?
    /// Arrivals per second (the start of `rateStages` when both are given).
    public var rate: Double?
    public var rateStages: [(duration: String, rate: Double)]?
    public var maxVUs: Int?
    public var startTime: String?
    public var duration: String?
    /// `iterations` (shared by its users) or `iterations_per_user` (`perUser`), and their bound.
    public var iterations: Int?
    public var perUser = false
    public var maxDuration: String?
    /// `graceful_stop`, as written.
    public var gracefulStop: String?
    /// It has a `shape` function (scenarios.lua keeps it; the Runner calls it through shapeTick).
    public var hasShape = false
    /// "scenario:NAME,k:v", keys sorted: the tags of its requests' stats rows.
    public var tags: String
}

extension LuaScript {
    /// finalize's `scenarios` (on top of the stack: finalize's result), a list in name order.
    func readDeclaredScenarios() {
        lua_getfield(L, -1, "scenarios")
        defer { ll_pop(L, 1) }
        guard lua_type(L, -1) == LUA_TTABLE else { return }
        var list: [DeclaredScenario] = []
        for k in 0..<Int(lua_rawlen(L, -1)) {
            lua_rawgeti(L, -1, lua_Integer(k + 1))
            let cls = integer(field: "class")
            list.append(DeclaredScenario(
                name: string(field: "name") ?? "", at: string(field: "at") ?? "", classIndex: cls > 0 ? cls - 1 : nil,
                users: optionalNumber("users").map { Int($0) }, spawnRate: optionalNumber("spawn_rate"),
                stages: steps("stages"), rate: optionalNumber("rate"), rateStages: steps("rate_stages"),
                maxVUs: optionalNumber("max_vus").map { Int($0) }, startTime: string(field: "start_time"),
                duration: string(field: "duration"), iterations: optionalNumber("iterations").map { Int($0) },
                perUser: boolean(field: "per_user"), maxDuration: string(field: "max_duration"), gracefulStop: string(field: "graceful_stop"),
                hasShape: boolean(field: "shape"), tags: string(field: "tags") ?? ""))
            ll_pop(L, 1)
        }
        declared.scenarios = list
    }

    private func optionalNumber(_ name: String) -> Double? {
        lua_getfield(L, -1, name)
        defer { ll_pop(L, 1) }
        return lua_type(L, -1) == LUA_TNUMBER ? lua_tonumberx(L, -1, nil) : nil
    }

    /// A list of { duration = "30s", value = n }.
    private func steps(_ name: String) -> [(String, Double)]? {
        lua_getfield(L, -1, name)
        defer { ll_pop(L, 1) }
        guard lua_type(L, -1) == LUA_TTABLE else { return nil }
        return (0..<Int(lua_rawlen(L, -1))).map { k in
            lua_rawgeti(L, -1, lua_Integer(k + 1))
            defer { ll_pop(L, 1) }
            return (string(field: "duration") ?? "", optionalNumber("value") ?? 0)
        }
    }
}
