// Inline wrappers for Lua's C macros, and the few C functions that may raise Lua errors.
// Swift never calls a Lua function that can longjmp except lua_resume / the protected calls here.
#ifndef LUASHIM_H
#define LUASHIM_H
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

static inline int ll_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline void ll_pop(lua_State *L, int n) { lua_settop(L, -(n) - 1); }
static inline const char *ll_tostring(lua_State *L, int i, size_t *len) { return lua_tolstring(L, i, len); }
static inline int ll_isnil(lua_State *L, int i) { return lua_type(L, i) == LUA_TNIL; }
static inline int ll_isnoneornil(lua_State *L, int i) { return lua_type(L, i) <= 0; }

/// New state with the standard libraries, `json` (lua-cjson) and `__luaload_now`. NULL on failure.
lua_State *ll_newstate(void);
/// Loads and runs a chunk in protected mode; on error leaves "file:line: message" on the stack.
int ll_dostring(lua_State *L, const char *code, size_t len, const char *chunkname);
int ll_dofile(lua_State *L, const char *path);
/// Calls global function `name` with no arguments in protected mode, `nresults` results.
int ll_callglobal(lua_State *L, const char *name, int nresults);
/// Pushes the traceback of coroutine `co` prefixed by `msg` onto L.
void ll_traceback(lua_State *L, lua_State *co, const char *msg);
/// Monotonic clock in seconds (CLOCK_MONOTONIC), also exported to Lua as __luaload_now.
double ll_monotonic_seconds(void);
#endif
