// Inline wrappers for Lua's C macros, and the few C functions that may raise Lua errors.
// Swift never calls a Lua function that can longjmp except lua_resume / the protected calls here.
#ifndef LUASHIM_H
#define LUASHIM_H
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "yield_protocol.h"
#include "timings.h"
#include "lualoadversion.h"

static inline int ll_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline void ll_pop(lua_State *L, int n) { lua_settop(L, -(n) - 1); }
static inline const char *ll_tostring(lua_State *L, int i, size_t *len) { return lua_tolstring(L, i, len); }
static inline int ll_isnoneornil(lua_State *L, int i) { return lua_type(L, i) <= 0; }

/// New state with the standard libraries, `json` (lua-cjson) and the registry table `luaload`: the
/// prelude's internal table, holding `protocol` (yield_protocol.h's numbers), `now` and `wallclock`.
/// NULL on failure.
lua_State *ll_newstate(void);
/// A bare state whose small blocks come from free lists of its own (statealloc.c); close it with ll_close.
lua_State *ll_pooled_state(void);
/// Closes a state from ll_newstate or ll_pooled_state and frees its free lists (any other state: lua_close).
void ll_close(lua_State *L);
/// Loads and runs a prelude chunk, text ("t") or bytecode ("b") as `mode` says, in protected mode with the
/// registry's `luaload` table as its `...`. On error leaves "chunk:line: message" on the stack.
int ll_dochunk(lua_State *L, const char *code, size_t len, const char *chunkname, const char *mode);
/// Compiles text `code` without running it and returns its bytecode (with debug info) in a malloc'd `*out`,
/// for other states to load instead of parsing the text again. LUA_OK, or the load's status with its
/// message on the stack.
int ll_compile(lua_State *L, const char *code, size_t len, const char *chunkname, unsigned char **out, size_t *outlen);
/// Pushes p[0..n) as lua_pushlstring does, unless the string kept at `slot` of the registry table `kept` has
/// the same bytes: that one is pushed again, with no allocation, copy or garbage. A server's heads differ
/// only when its Date header turns (once a second), so a VU's next head is nearly always its last.
/// The new string is kept in its place otherwise.
void ll_push_kept(lua_State *L, int kept, lua_Integer slot, const char *p, size_t n);
/// Loads and runs a chunk (or a file) in protected mode; on error leaves "file:line: message" on the stack.
int ll_dostring(lua_State *L, const char *code, size_t len, const char *chunkname);
int ll_dofile(lua_State *L, const char *path);
/// math.randomseed(seed), protected; on error leaves the message on the stack.
int ll_seed(lua_State *L, lua_Integer seed);
/// package.path = folder .. "/?.lua;" .. package.path, protected (`require` looks next to the script first);
/// also the prelude's `script_dir` (data files are found next to the script).
int ll_prepend_path(lua_State *L, const char *folder);
/// Calls the prelude's finalize with an options table { tags =, exclude_tags =, setup_json =, host = } (NULL
/// leaves a field out), protected. Leaves its result table on the stack, or a message with a traceback.
int ll_finalize(lua_State *L, const char *tags, const char *exclude_tags, const char *setup_json, const char *host);
/// Forgets every data feeder and its position: called once at the start of each run.
void ll_feeders_reset(void);
/// Calls the prelude's shape_tick(run_time, scenario) (the script's shape(), or scenario k's when k > 0,
/// checked), protected. Returns 0 with `users` and `rate` set, 1 when shape() returned nil (the run or
/// scenario ends), -1 with a message and traceback on the stack.
int ll_shape(lua_State *L, double run_time, int scenario, lua_Integer *users, double *rate);
/// Pushes the traceback of coroutine `co` prefixed by `msg` onto L.
void ll_traceback(lua_State *L, lua_State *co, const char *msg);
/// Monotonic clock in seconds (CLOCK_MONOTONIC), also the prelude's `now`.
double ll_monotonic_seconds(void);
/// Decodes one JSON text with lua-cjson, protected: leaves the value on the stack and returns 0, or leaves
/// cjson's message and returns non-zero (`luaload merge` reads run JSON this way).
int ll_json_decode(lua_State *L, const char *text, size_t len);
#endif
