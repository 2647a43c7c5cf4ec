#include "luashim.h"
#include <time.h>
#include <lua-cjson.h>

double ll_monotonic_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int l_now(lua_State *L) {
    lua_pushnumber(L, ll_monotonic_seconds());
    return 1;
}

static int l_wallclock(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
    return 1;
}

static int open_all(lua_State *L) {
    luaL_openlibs(L);
    luaL_requiref(L, "cjson", luaopen_cjson, 0);
    lua_setglobal(L, "json");
    lua_register(L, "__luaload_now", l_now);
    lua_register(L, "__luaload_wallclock", l_wallclock);
    return 0;
}

lua_State *ll_newstate(void) {
    lua_State *L = luaL_newstate();
    if (L == NULL) return NULL;
    lua_pushcfunction(L, open_all);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) { lua_close(L); return NULL; }
    return L;
}

int ll_dostring(lua_State *L, const char *code, size_t len, const char *chunkname) {
    int rc = luaL_loadbufferx(L, code, len, chunkname, "t");
    if (rc != LUA_OK) return rc;
    return lua_pcall(L, 0, 0, 0);
}

int ll_dofile(lua_State *L, const char *path) {
    int rc = luaL_loadfilex(L, path, "t");
    if (rc != LUA_OK) return rc;
    return lua_pcall(L, 0, 0, 0);
}

static int traceback_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) msg = luaL_tolstring(L, 1, NULL);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

// Runs inside lua_pcall, so even the global lookup (which may hit metamethods) is protected.
static int call_named(lua_State *L) {
    const char *name = (const char *)lua_touserdata(L, lua_upvalueindex(1));
    int nresults = (int)lua_tointeger(L, lua_upvalueindex(2));
    if (lua_getglobal(L, name) != LUA_TFUNCTION) return luaL_error(L, "%s is not a function", name);
    lua_call(L, 0, nresults);
    return nresults;
}

int ll_callglobal(lua_State *L, const char *name, int nresults) {
    lua_pushcfunction(L, traceback_handler);
    int handler = lua_gettop(L);
    lua_pushlightuserdata(L, (void *)name);
    lua_pushinteger(L, nresults);
    lua_pushcclosure(L, call_named, 2);
    int rc = lua_pcall(L, 0, nresults, handler);
    lua_remove(L, handler);
    return rc;
}

void ll_traceback(lua_State *L, lua_State *co, const char *msg) {
    luaL_traceback(L, co, msg, 0);
}
