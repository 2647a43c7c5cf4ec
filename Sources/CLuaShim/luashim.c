#include "luashim.h"
#include "lualoadversion.h"
#include "timings.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
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
    lua_createtable(L, 0, 48);
    SET_CONSTANT(OP_HTTP); SET_CONSTANT(OP_SLEEP); SET_CONSTANT(OP_WAIT);
    SET_CONSTANT(OP_ERROR); SET_CONSTANT(OP_STOPPED); SET_CONSTANT(OP_IDLE);
    SET_CONSTANT(OP_RAW); SET_CONSTANT(OP_THREAD_STOP);
    SET_CONSTANT(SLOT_OP); SET_CONSTANT(SLOT_OUTCOME); SET_CONSTANT(SLOT_FINISHED);
    SET_CONSTANT(SLOT_STAT); SET_CONSTANT(SLOT_METHOD); SET_CONSTANT(SLOT_URL); SET_CONSTANT(SLOT_HEADERS);
    SET_CONSTANT(SLOT_BODY); SET_CONSTANT(SLOT_TIMEOUT); SET_CONSTANT(SLOT_NAME); SET_CONSTANT(SLOT_FOLLOWS);
    SET_CONSTANT(HTTP_FRAME_SIZE);
    SET_CONSTANT(SLOT_SECONDS); SET_CONSTANT(SLOT_MESSAGE); SET_CONSTANT(SLOT_TRACEBACK);
    SET_CONSTANT(SLOT_SETUP_JSON); SET_CONSTANT(SLOT_SETUP_FAILURE);
    SET_CONSTANT(REPLY_STATUS); SET_CONSTANT(REPLY_ELAPSED); SET_CONSTANT(REPLY_BODY);
    SET_CONSTANT(REPLY_ERROR); SET_CONSTANT(REPLY_HEADERS); SET_CONSTANT(REPLY_FLAGS); SET_CONSTANT(REPLY_COUNT);
    SET_CONSTANT(FLAG_SET_COOKIE); SET_CONSTANT(FLAG_REDIRECT);
    SET_CONSTANT(SLOT_RAW_BYTES); SET_CONSTANT(SLOT_RAW_WANT); SET_CONSTANT(SLOT_RAW_REPEAT);
    SET_CONSTANT(RAW_REPLY_STATUS); SET_CONSTANT(RAW_REPLY_HEAD); SET_CONSTANT(RAW_REPLY_BODY);
    SET_CONSTANT(RAW_REPLY_STRIDE);
    SET_CONSTANT(OP_BATCH); SET_CONSTANT(SLOT_BATCH_COUNT); SET_CONSTANT(SLOT_BATCH_FIRST);
    SET_CONSTANT(BATCH_STRIDE); SET_CONSTANT(BATCH_MAX); SET_CONSTANT(SLOT_BATCH_REDIRECTS);
}

// res.timings: the running VU's last request, from the ll_timings its coroutine points at, in ms:
// dns, connect, tls, send, wait (to the first response byte), receive, total (send + wait + receive, plus
// the earlier hops of a redirect chain).
static int l_timings(lua_State *L) {
    const ll_timings *t = *(ll_timings **)lua_getextraspace(L);
    if (t == NULL) return 0;
    uint64_t first = t->first_byte ? t->first_byte : t->end;
    double send = t->sent ? (double)(t->sent - t->started) : 0;
    double wait = t->sent && first >= t->sent ? (double)(first - t->sent) : 0;
    double receive = t->sent && t->end >= first ? (double)(t->end - first) : 0;
    double total = (t->started && t->end >= t->started ? (double)(t->end - t->started) : 0) + (double)t->carried;
    lua_createtable(L, 0, 7);
    lua_pushnumber(L, (double)t->dns / 1000); lua_setfield(L, -2, "dns");
    lua_pushnumber(L, (double)t->connect / 1000); lua_setfield(L, -2, "connect");
    lua_pushnumber(L, (double)t->tls / 1000); lua_setfield(L, -2, "tls");
    lua_pushnumber(L, send / 1000); lua_setfield(L, -2, "send");
    lua_pushnumber(L, wait / 1000); lua_setfield(L, -2, "wait");
    lua_pushnumber(L, receive / 1000); lua_setfield(L, -2, "receive");
    lua_pushnumber(L, total / 1000); lua_setfield(L, -2, "total");
    return 1;
}

// Data feeders: rows of a file are handed out once each across the whole run, all threads together.
// Each feeder is a process-wide counter found by key (the same script in every thread makes the same
// keys); taking a row is one atomic add. The lock is taken only when a script creates a feeder.
#define LL_MAX_FEEDERS 256
static pthread_mutex_t feeders_lock = PTHREAD_MUTEX_INITIALIZER;
static char *feeder_keys[LL_MAX_FEEDERS];
static unsigned long long feeder_tickets[LL_MAX_FEEDERS];
static int feeder_count;

void ll_feeders_reset(void) {
    pthread_mutex_lock(&feeders_lock);
    for (int i = 0; i < feeder_count; i++) { free(feeder_keys[i]); feeder_keys[i] = NULL; feeder_tickets[i] = 0; }
    feeder_count = 0;
    pthread_mutex_unlock(&feeders_lock);
}

// feeder_id(key) -> id, or nil when there are too many feeders.
static int l_feeder_id(lua_State *L) {
    const char *key = lua_tostring(L, 1);
    if (key == NULL) return 0;
    int id = -1;
    pthread_mutex_lock(&feeders_lock);
    for (int i = 0; i < feeder_count && id < 0; i++) if (strcmp(feeder_keys[i], key) == 0) id = i;
    if (id < 0 && feeder_count < LL_MAX_FEEDERS) {
        char *copy = strdup(key);
        if (copy != NULL) { id = feeder_count++; feeder_keys[id] = copy; feeder_tickets[id] = 0; }
    }
    pthread_mutex_unlock(&feeders_lock);
    if (id < 0) return 0;
    lua_pushinteger(L, id);
    return 1;
}

// feeder_take(id) -> the run's next ticket for that feeder (0, 1, 2, ...).
static int l_feeder_take(lua_State *L) {
    lua_Integer id = lua_tointeger(L, 1);
    if (id < 0 || id >= LL_MAX_FEEDERS) return 0;
    lua_pushinteger(L, (lua_Integer)__atomic_fetch_add(&feeder_tickets[id], 1, __ATOMIC_RELAXED));
    return 1;
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
    lua_pushcfunction(L, l_timings);
    lua_setfield(L, -2, "timings");
    lua_pushcfunction(L, l_feeder_id);
    lua_setfield(L, -2, "feeder_id");
    lua_pushcfunction(L, l_feeder_take);
    lua_setfield(L, -2, "feeder_take");
    lua_pushstring(L, LUALOAD_VERSION);
    lua_setfield(L, -2, "version");
    lua_setfield(L, LUA_REGISTRYINDEX, "luaload");
    return 0;
}

lua_State *ll_newstate(void) {
    lua_State *L = ll_pooled_state();
    if (L == NULL) return NULL;
    lua_pushcfunction(L, open_all);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) { ll_close(L); return NULL; }
    /* Generational: a request's response and head die young, and a minor collection visits only young
       objects, where the incremental mode marks the whole state (prelude, VUs) every cycle. */
    lua_gc(L, LUA_GCGEN, 0, 0);
    return L;
}

int ll_dochunk(lua_State *L, const char *code, size_t len, const char *chunkname, const char *mode) {
    int rc = luaL_loadbufferx(L, code, len, chunkname, mode);
    if (rc != LUA_OK) return rc;
    lua_getfield(L, LUA_REGISTRYINDEX, "luaload");   // a plain table: no metamethod can raise here
    return lua_pcall(L, 1, 0, 0);
}

void ll_push_kept(lua_State *L, int kept, lua_Integer slot, const char *p, size_t n) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, kept);
    if (lua_rawgeti(L, -1, slot) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        if (len == n && memcmp(s, p, n) == 0) {   /* the same bytes as last time: that string again */
            lua_copy(L, -1, -2);
            lua_pop(L, 1);
            return;
        }
    }
    lua_pop(L, 1);
    lua_pushlstring(L, p, n);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, slot);
    lua_copy(L, -1, -2);
    lua_pop(L, 1);
}

/* lua_dump's writer: appends to a malloc'd buffer; a failed realloc stops the dump (non-zero). */
typedef struct { unsigned char *data; size_t len, cap; } ll_bytes;

static int ll_append(lua_State *L, const void *p, size_t size, void *ud) {
    (void)L;
    ll_bytes *b = ud;
    if (b->len + size > b->cap) {
        size_t cap = (b->len + size) * 2;
        unsigned char *data = realloc(b->data, cap);
        if (data == NULL) return 1;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, size);
    b->len += size;
    return 0;
}

int ll_compile(lua_State *L, const char *code, size_t len, const char *chunkname, unsigned char **out, size_t *outlen) {
    int rc = luaL_loadbufferx(L, code, len, chunkname, "t");
    if (rc != LUA_OK) return rc;
    ll_bytes b = { NULL, 0, 0 };
    int failed = lua_dump(L, ll_append, &b, 0);   /* with debug info: tracebacks keep the prelude's lines */
    lua_pop(L, 1);
    if (failed) { free(b.data); return LUA_ERRMEM; }
    *out = b.data;
    *outlen = b.len;
    return LUA_OK;
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
    lua_getfield(L, LUA_REGISTRYINDEX, "luaload");   // data.csv & co. find files next to the script
    lua_pushstring(L, folder);
    lua_setfield(L, -2, "script_dir");
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

struct finalize_options { const char *tags, *exclude_tags, *setup_json, *host; };

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
    set_string_field(L, "host", o->host);
    lua_call(L, 1, 1);
    return 1;
}

int ll_finalize(lua_State *L, const char *tags, const char *exclude_tags, const char *setup_json, const char *host) {
    struct finalize_options o = { tags, exclude_tags, setup_json, host };
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

struct shape_result { double run_time; lua_Integer users; double rate; int ended; int scenario; };

// Runs inside lua_pcall: the prelude's shape_tick checks what the script's shape() returned.
static int l_shape(lua_State *L) {
    struct shape_result *r = (struct shape_result *)lua_touserdata(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "luaload");
    lua_getfield(L, -1, "shape_tick");
    lua_pushnumber(L, r->run_time);
    lua_pushinteger(L, r->scenario);
    lua_call(L, 2, 2);
    r->ended = lua_isnil(L, -2);
    if (!r->ended) { r->users = lua_tointeger(L, -2); r->rate = lua_tonumber(L, -1); }
    return 0;
}

int ll_shape(lua_State *L, double run_time, int scenario, lua_Integer *users, double *rate) {
    struct shape_result r = { run_time, 0, 0, 0, scenario };
    lua_pushcfunction(L, traceback_handler);
    int handler = lua_gettop(L);
    lua_pushcfunction(L, l_shape);
    lua_pushlightuserdata(L, &r);
    int rc = lua_pcall(L, 1, 0, handler);
    lua_remove(L, handler);
    if (rc != LUA_OK) return -1;
    *users = r.users;
    *rate = r.rate;
    return r.ended ? 1 : 0;
}

static int l_json_decode(lua_State *L) {
    lua_getglobal(L, "json");
    lua_getfield(L, -1, "decode");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

int ll_json_decode(lua_State *L, const char *text, size_t len) {
    lua_pushcfunction(L, l_json_decode);
    lua_pushlstring(L, text, len);
    return lua_pcall(L, 1, 1, 0);
}
