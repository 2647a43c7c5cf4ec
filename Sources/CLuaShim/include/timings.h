// When each phase of a VU's last request happened, kept by the engine (µs, monotonic) and shown to the
// script as `res.timings` (ms). The VU's coroutine keeps a pointer to them in its extra space, so
// `res.timings` costs nothing until a script reads it.
#ifndef LL_TIMINGS_H
#define LL_TIMINGS_H
#include <stdint.h>
#include <lua.h>

typedef struct {
    uint64_t started;     // first request byte written (0: nothing was written)
    uint64_t sent;        // last request byte written (0: not yet)
    uint64_t first_byte;  // first response byte, when it came before the read that ended the response (else 0)
    uint64_t end;         // last response byte, or the failure
    uint64_t carried;     // µs of the earlier hops of a redirect chain
    uint64_t dns;         // µs waiting for the host name (its first use only)
    uint64_t connect;     // µs of the TCP connect (0 on a kept-alive connection)
    uint64_t tls;         // µs of the TLS handshake
} ll_timings;

/// Points coroutine `co` at the VU's timings (before its first resume).
static inline void ll_set_timings(lua_State *co, ll_timings *t) { *(ll_timings **)lua_getextraspace(co) = t; }
#endif
