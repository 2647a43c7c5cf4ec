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

#define SET_CONSTANT(name) (lua_pushinteger(L, LL_##name), lua_setfield(L, -2, #name))

// yield_protocol.h's numbers, by name without the LL_ prefix, for the prelude to read.
static void push_protocol(lua_State *L) {
    lua_createtable(L, 0, 32);
    SET_CONSTANT(OP_HTTP); SET_CONSTANT(OP_SLEEP); SET_CONSTANT(OP_WAIT);
    SET_CONSTANT(OP_ERROR); SET_CONSTANT(OP_STOPPED); SET_CONSTANT(OP_RAW); SET_CONSTANT(OP_THREAD_STOP);
    SET_CONSTANT(SLOT_OP); SET_CONSTANT(SLOT_OUTCOME); SET_CONSTANT(SLOT_FINISHED);
    SET_CONSTANT(SLOT_STAT); SET_CONSTANT(SLOT_METHOD); SET_CONSTANT(SLOT_URL); SET_CONSTANT(SLOT_HEADERS);
    SET_CONSTANT(SLOT_BODY); SET_CONSTANT(SLOT_TIMEOUT); SET_CONSTANT(SLOT_NAME); SET_CONSTANT(HTTP_FRAME_SIZE);
    SET_CONSTANT(SLOT_SECONDS); SET_CONSTANT(SLOT_MESSAGE); SET_CONSTANT(SLOT_TRACEBACK);
    SET_CONSTANT(SLOT_SETUP_JSON); SET_CONSTANT(SLOT_SETUP_FAILURE);
    SET_CONSTANT(REPLY_STATUS); SET_CONSTANT(REPLY_ELAPSED); SET_CONSTANT(REPLY_BODY);
    SET_CONSTANT(REPLY_ERROR); SET_CONSTANT(REPLY_HEADERS); SET_CONSTANT(REPLY_COUNT);
    SET_CONSTANT(SLOT_RAW_BYTES); SET_CONSTANT(SLOT_RAW_WANT); SET_CONSTANT(SLOT_RAW_REPEAT);
    SET_CONSTANT(RAW_REPLY_STATUS); SET_CONSTANT(RAW_REPLY_HEAD); SET_CONSTANT(RAW_REPLY_BODY);
    SET_CONSTANT(RAW_REPLY_STRIDE);
}

static int open_all(lua_State *L) {
    luaL_openlibs(L);
    luaL_requiref(L, "cjson", luaopen_cjson, 0);
    lua_setglobal(L, "json");
    // The prelude's internal table lives in the registry, out of the script's reach.
    lua_createtable(L, 0, 16);
    push_protocol(L);
    lua_setfield(L, -2, "protocol");
    lua_pushcfunction(L, l_now);
    lua_setfield(L, -2, "now");
    lua_pushcfunction(L, l_wallclock);
    lua_setfield(L, -2, "wallclock");
    lua_setfield(L, LUA_REGISTRYINDEX, "luaload");
    return 0;
}

lua_State *ll_newstate(void) {
    lua_State *L = luaL_newstate();
    if (L == NULL) return NULL;
    lua_pushcfunction(L, open_all);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) { lua_close(L); return NULL; }
    return L;
}

int ll_dochunk(lua_State *L, const char *code, size_t len, const char *chunkname) {
    int rc = luaL_loadbufferx(L, code, len, chunkname, "t");
    if (rc != LUA_OK) return rc;
    lua_getfield(L, LUA_REGISTRYINDEX, "luaload");   // a plain table: no metamethod can raise here
    return lua_pcall(L, 1, 0, 0);
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

static int l_seed(lua_State *L) {
    lua_Integer seed = lua_tointeger(L, 1);
    lua_getglobal(L, "math");
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, seed);
    lua_call(L, 1, 0);
    return 0;
}

int ll_seed(lua_State *L, lua_Integer seed) {
    lua_pushcfunction(L, l_seed);
    lua_pushinteger(L, seed);
    return lua_pcall(L, 1, 0, 0);
}

static int l_prepend_path(lua_State *L) {
    const char *folder = (const char *)lua_touserdata(L, 1);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s", folder, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    return 0;
}

int ll_prepend_path(lua_State *L, const char *folder) {
    lua_pushcfunction(L, l_prepend_path);
    lua_pushlightuserdata(L, (void *)folder);
    return lua_pcall(L, 1, 0, 0);
}

static int traceback_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) msg = luaL_tolstring(L, 1, NULL);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

struct finalize_options { const char *tags, *exclude_tags, *setup_json; };

static void set_string_field(lua_State *L, const char *name, const char *value) {
    if (value == NULL) return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, name);
}

// Runs inside lua_pcall: building the options table may fail (memory) and finalize raises script errors.
static int l_finalize(lua_State *L) {
    const struct finalize_options *o = (const struct finalize_options *)lua_touserdata(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "luaload");
    lua_getfield(L, -1, "finalize");
    lua_createtable(L, 0, 3);
    set_string_field(L, "tags", o->tags);
    set_string_field(L, "exclude_tags", o->exclude_tags);
    set_string_field(L, "setup_json", o->setup_json);
    lua_call(L, 1, 1);
    return 1;
}

int ll_finalize(lua_State *L, const char *tags, const char *exclude_tags, const char *setup_json) {
    struct finalize_options o = { tags, exclude_tags, setup_json };
    lua_pushcfunction(L, traceback_handler);
    int handler = lua_gettop(L);
    lua_pushcfunction(L, l_finalize);
    lua_pushlightuserdata(L, &o);
    int rc = lua_pcall(L, 1, 1, handler);
    lua_remove(L, handler);
    return rc;
}

void ll_traceback(lua_State *L, lua_State *co, const char *msg) {
    luaL_traceback(L, co, msg, 0);
}
