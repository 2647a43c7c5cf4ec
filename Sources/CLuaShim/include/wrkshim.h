// `luaload wrk`: the C half of wrk's Lua API — addresses (wrk.lookup, wrk.connect, thread.addr) and the
// thread objects of setup()/done() (thread:get/set across Lua states). Everything here runs inside the
// protected calls below, so its Lua errors never unwind through Swift.
#ifndef WRKSHIM_H
#define WRKSHIM_H
#include <lua.h>
#include <sys/socket.h>

/// One wrk thread as the Lua side sees it: its Lua state and the server address setup() may choose.
/// Owned by Swift (one per worker), at a stable address; the userdata in Lua points here.
struct ll_wrk_thread {
    lua_State *L;                   // the thread's own state (its globals are what get/set reach)
    int has_addr;                   // setup() set thread.addr
    socklen_t addrlen;
    struct sockaddr_storage addr;
};

/// Adds wrk's C functions to the registry table `luaload` (wrk_lookup, wrk_connect) and
/// the metatables of addresses and threads. Protected; on error leaves the message on the stack.
int ll_wrk_install(lua_State *L);
/// Calls `luaload[name](thread?, args...)` protected with a traceback handler: the `nargs` values on top
/// of the stack are its arguments; when `thread` is not NULL its userdata goes first. On error leaves the
/// message (with a traceback) on the stack.
int ll_wrk_call(lua_State *L, const char *name, struct ll_wrk_thread *thread, int nargs, int nresults);
#endif
