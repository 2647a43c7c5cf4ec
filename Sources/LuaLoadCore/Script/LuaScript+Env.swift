import CLua
import CLuaShim

extension LuaScript {
    /// The script's `env` table (-e, --env-file), and print() masking the --secret values; set before the
    /// script runs, through the prelude's E.set_env (checks.lua) under lua_pcall.
    func setEnv(_ env: [(name: String, value: String)], secrets: [String]) throws {
        lua_getfield(L, ll_registryindex(), "luaload")
        lua_getfield(L, -1, "set_env")
        lua_rotate(L, -2, -1); ll_pop(L, 1)   // lua_remove(L, -2): a macro
        lua_createtable(L, 0, Int32(env.count))
        for (name, value) in env {
            lua_pushlstring(L, value, value.utf8.count)
            lua_setfield(L, -2, name)
        }
        lua_createtable(L, Int32(secrets.count), 0)
        for (k, s) in secrets.enumerated() {
            lua_pushlstring(L, s, s.utf8.count)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        try check(lua_pcallk(L, 2, 0, 0, 0, nil))
    }
}
