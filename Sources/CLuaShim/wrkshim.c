// `luaload wrk`: wrk's C-level Lua API, written from its SCRIPTING document. Every function here is called
// by Lua (so it may raise) or runs under ll_wrk_call's lua_pcall.
#include "wrkshim.h"
#include <lauxlib.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>

#define ADDR_MT "wrk.addr"
#define THREAD_MT "wrk.thread"
// Tables copied between states (thread:get/set) nest at most this deep, so a cycle ends in an error.
#define MAX_DEPTH 32

struct addr { socklen_t len; int family; struct sockaddr_storage sa; };

static struct addr *push_addr(lua_State *L, const struct sockaddr *sa, socklen_t len, int family) {
    struct addr *a = (struct addr *)lua_newuserdatauv(L, sizeof(struct addr), 0);
    memset(a, 0, sizeof(*a));
    memcpy(&a->sa, sa, len);
    a->len = len;
    a->family = family;
    luaL_setmetatable(L, ADDR_MT);
    return a;
}

// wrk.lookup(host, service): every address getaddrinfo gives, as address objects.
static int l_lookup(lua_State *L) {
    const char *host = luaL_checkstring(L, 1);
    const char *service = luaL_checkstring(L, 2);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *list;
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) return luaL_error(L, "wrk.lookup: cannot resolve %s:%s: %s", host, service, gai_strerror(rc));
    lua_newtable(L);
    int i = 1;
    for (struct addrinfo *p = list; p != NULL; p = p->ai_next) {
        push_addr(L, p->ai_addr, p->ai_addrlen, p->ai_family);
        lua_rawseti(L, -2, i++);
    }
    freeaddrinfo(list);
    return 1;
}

// wrk.connect(addr): whether a TCP connection to it succeeds (bounded: 5 s, so a silent address cannot hang setup).
static int l_connect(lua_State *L) {
    struct addr *a = (struct addr *)luaL_checkudata(L, 1, ADDR_MT);
    int fd = socket(a->family, SOCK_STREAM, 0), ok = 0;
    if (fd >= 0) {
        struct timeval tv = { .tv_sec = 5 };
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        ok = connect(fd, (struct sockaddr *)&a->sa, a->len) == 0;
        close(fd);
    }
    lua_pushboolean(L, ok);
    return 1;
}

// tostring(addr): "host:port", numeric.
static int l_addr_tostring(lua_State *L) {
    struct addr *a = (struct addr *)luaL_checkudata(L, 1, ADDR_MT);
    char host[NI_MAXHOST], service[NI_MAXSERV];
    int rc = getnameinfo((struct sockaddr *)&a->sa, a->len, host, sizeof(host), service, sizeof(service),
                         NI_NUMERICHOST | NI_NUMERICSERV);
    if (rc != 0) return luaL_error(L, "address: %s", gai_strerror(rc));
    lua_pushfstring(L, "%s:%s", host, service);
    return 1;
}

// Whether `other` is L's own state (L may be one of its coroutines).
static int same_state(lua_State *L, lua_State *other) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    lua_State *main = lua_tothread(L, -1);
    lua_pop(L, 1);
    return main == other;
}

static struct ll_wrk_thread *check_thread(lua_State *L) {
    return *(struct ll_wrk_thread **)luaL_checkudata(L, 1, THREAD_MT);
}

// Only nil, booleans, numbers, strings and tables of them cross between states (as in wrk).
static void check_transferable(lua_State *from, int idx, int depth, lua_State *raise_on) {
    int t = lua_type(from, idx);
    if (t == LUA_TNIL || t == LUA_TBOOLEAN || t == LUA_TNUMBER || t == LUA_TSTRING) return;
    if (t != LUA_TTABLE) luaL_error(raise_on, "cannot transfer a %s between threads (only nil, booleans, numbers, strings and tables of them)", lua_typename(from, t));
    if (depth >= MAX_DEPTH) luaL_error(raise_on, "cannot transfer a table nested deeper than %d levels between threads", MAX_DEPTH);
    idx = lua_absindex(from, idx);
    lua_pushnil(from);
    while (lua_next(from, idx)) {
        check_transferable(from, -2, depth + 1, raise_on);
        check_transferable(from, -1, depth + 1, raise_on);
        lua_pop(from, 1);
    }
}

// Copies a value checked by check_transferable from `from` onto `to`.
static void copy_value(lua_State *from, int idx, lua_State *to) {
    idx = lua_absindex(from, idx);
    switch (lua_type(from, idx)) {
    case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); break;
    case LUA_TNUMBER:
        if (lua_isinteger(from, idx)) lua_pushinteger(to, lua_tointeger(from, idx));
        else lua_pushnumber(to, lua_tonumber(from, idx));
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(from, idx, &len);
        lua_pushlstring(to, s, len);
        break;
    }
    case LUA_TTABLE:
        lua_newtable(to);
        lua_pushnil(from);
        while (lua_next(from, idx)) {
            copy_value(from, -2, to);
            copy_value(from, -1, to);
            lua_rawset(to, -3);
            lua_pop(from, 1);
        }
        break;
    default: lua_pushnil(to);
    }
}

// thread:get(name): the global `name` of the thread's state.
static int l_thread_get(lua_State *L) {
    struct ll_wrk_thread *t = check_thread(L);
    const char *name = luaL_checkstring(L, 2);
    if (same_state(L, t->L)) { lua_getglobal(L, name); return 1; }
    lua_getglobal(t->L, name);
    check_transferable(t->L, -1, 0, L);   // raises in L; the value left on t->L is dropped below or next time
    copy_value(t->L, -1, L);
    lua_pop(t->L, 1);
    return 1;
}

// thread:set(name, value): sets the global `name` of the thread's state.
static int l_thread_set(lua_State *L) {
    struct ll_wrk_thread *t = check_thread(L);
    const char *name = luaL_checkstring(L, 2);
    lua_settop(L, 3);
    if (same_state(L, t->L)) { lua_setglobal(L, name); return 0; }
    check_transferable(L, 3, 0, L);
    copy_value(L, 3, t->L);
    lua_setglobal(t->L, name);
    return 0;
}

static int l_thread_stop_outside(lua_State *L) {
    return luaL_error(L, "thread:stop() can only be called while the thread is running (in init, delay, request or response)");
}

static int l_thread_index(lua_State *L) {
    struct ll_wrk_thread *t = check_thread(L);
    const char *key = luaL_checkstring(L, 2);
    if (!strcmp(key, "get")) lua_pushcfunction(L, l_thread_get);
    else if (!strcmp(key, "set")) lua_pushcfunction(L, l_thread_set);
    else if (!strcmp(key, "stop")) {
        // In the thread's own state the prelude's stop ends the running connection's cycle (LL_OP_THREAD_STOP).
        if (same_state(L, t->L)) {
            lua_getfield(L, LUA_REGISTRYINDEX, "luaload");
            lua_getfield(L, -1, "wrk_thread_stop");
        } else {
            lua_pushcfunction(L, l_thread_stop_outside);
        }
    } else if (!strcmp(key, "addr")) {
        if (t->has_addr) push_addr(L, (struct sockaddr *)&t->addr, t->addrlen, t->addr.ss_family);
        else lua_pushnil(L);
    } else lua_pushnil(L);
    return 1;
}

static int l_thread_newindex(lua_State *L) {
    struct ll_wrk_thread *t = check_thread(L);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "addr") != 0) return luaL_error(L, "thread.%s cannot be set (only thread.addr)", key);
    struct addr *a = (struct addr *)luaL_checkudata(L, 3, ADDR_MT);
    memcpy(&t->addr, &a->sa, sizeof(a->sa));
    t->addrlen = a->len;
    t->has_addr = 1;
    return 0;
}

static int l_install(lua_State *L) {
    luaL_newmetatable(L, ADDR_MT);
    lua_pushcfunction(L, l_addr_tostring);
    lua_setfield(L, -2, "__tostring");
    luaL_newmetatable(L, THREAD_MT);
    lua_pushcfunction(L, l_thread_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_thread_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_getfield(L, LUA_REGISTRYINDEX, "luaload");
    lua_pushcfunction(L, l_lookup);
    lua_setfield(L, -2, "wrk_lookup");
    lua_pushcfunction(L, l_connect);
    lua_setfield(L, -2, "wrk_connect");
    return 0;
}

int ll_wrk_install(lua_State *L) {
    lua_pushcfunction(L, l_install);
    return lua_pcall(L, 0, 0, 0);
}

static int traceback_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) msg = luaL_tolstring(L, 1, NULL);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

struct call { const char *name; struct ll_wrk_thread *thread; int nresults; };

// Stack: the call's description (light userdata), then the arguments.
static int l_call(lua_State *L) {
    const struct call *c = (const struct call *)lua_touserdata(L, 1);
    lua_remove(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "luaload");
    lua_getfield(L, -1, c->name);
    lua_remove(L, -2);
    lua_insert(L, 1);
    if (c->thread != NULL) {
        struct ll_wrk_thread **p = (struct ll_wrk_thread **)lua_newuserdatauv(L, sizeof(*p), 0);
        *p = c->thread;
        luaL_setmetatable(L, THREAD_MT);
        lua_insert(L, 2);
    }
    lua_call(L, lua_gettop(L) - 1, c->nresults);
    return c->nresults;
}

int ll_wrk_call(lua_State *L, const char *name, struct ll_wrk_thread *thread, int nargs, int nresults) {
    struct call c = { name, thread, nresults };
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback_handler);
    lua_insert(L, base + 1);
    lua_pushcfunction(L, l_call);
    lua_insert(L, base + 2);
    lua_pushlightuserdata(L, &c);
    lua_insert(L, base + 3);
    int rc = lua_pcall(L, nargs + 1, nresults, base + 1);
    lua_remove(L, base + 1);
    return rc;
}
