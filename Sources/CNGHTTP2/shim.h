// libnghttp2 (Debian's libnghttp2-dev): HTTP/2 framing, HPACK and flow control for the engine's HTTP/2 session.
#include <nghttp2/nghttp2.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// nghttp2's allocator (nghttp2_mem) for one worker's HTTP/2 sessions (HTTP2Memory.swift owns it): size-classed
// free lists carved from 64 KiB slabs. Here in C because nghttp2 calls it ~11 times a request: the same lists
// written as Swift closures cost ~660 instructions a request (callgrind, pooled h2c), these ~340.
// A block is a 16-byte header holding its capacity, then the payload (16-byte aligned, as malloc's). Capacities
// up to LL_H2MEM_MAX_SMALL are multiples of LL_H2MEM_GRANULE and come back to their class's list; larger blocks
// go to malloc and back to free. One worker's thread only: no locks.
#define LL_H2MEM_GRANULE 32
#define LL_H2MEM_MAX_SMALL 2048
#define LL_H2MEM_HEADER 16
#define LL_H2MEM_SLAB (64 * 1024)

typedef struct ll_h2mem_arena {
    void *heads[LL_H2MEM_MAX_SMALL / LL_H2MEM_GRANULE + 1];
    char *slab;   // the newest slab; its first word links the one before
    char *next;
    char *end;
} ll_h2mem_arena;

// A new block of class k from the slab (a new slab when it is used up; its tail is left unused). Out of line,
// as is the large-block path, so the free-list path saves no registers (~12 instructions a call).
__attribute__((noinline)) static void *ll_h2mem_carve(ll_h2mem_arena *a, size_t k) {
    size_t bytes = LL_H2MEM_HEADER + k * LL_H2MEM_GRANULE;
    if (a->next == NULL || (size_t)(a->end - a->next) < bytes) {
        char *slab = malloc(LL_H2MEM_SLAB);
        if (slab == NULL) return NULL;
        *(char **)slab = a->slab;
        a->slab = slab;
        a->next = slab + LL_H2MEM_HEADER;
        a->end = slab + LL_H2MEM_SLAB;
    }
    char *block = a->next;
    a->next = block + bytes;
    *(size_t *)block = k * LL_H2MEM_GRANULE;
    return block + LL_H2MEM_HEADER;
}

__attribute__((noinline)) static void *ll_h2mem_large(size_t size) {
    if (size > PTRDIFF_MAX - LL_H2MEM_HEADER) return NULL;   // the header would wrap the size around
    char *block = malloc(LL_H2MEM_HEADER + size);
    if (block == NULL) return NULL;
    *(size_t *)block = size;
    return block + LL_H2MEM_HEADER;
}

static inline void *ll_h2mem_malloc(size_t size, void *user) {
    ll_h2mem_arena *a = user;
    if (size > LL_H2MEM_MAX_SMALL) return ll_h2mem_large(size);
    size_t k = size == 0 ? 1 : (size + LL_H2MEM_GRANULE - 1) / LL_H2MEM_GRANULE;
    void *p = a->heads[k];
    if (p != NULL) {
        a->heads[k] = *(void **)p;
        return p;
    }
    return ll_h2mem_carve(a, k);
}

static inline void ll_h2mem_free(void *p, void *user) {
    ll_h2mem_arena *a = user;
    if (p == NULL) return;
    size_t capacity = *(size_t *)((char *)p - LL_H2MEM_HEADER);
    if (capacity > LL_H2MEM_MAX_SMALL) {
        free((char *)p - LL_H2MEM_HEADER);
        return;
    }
    size_t k = capacity / LL_H2MEM_GRANULE;
    *(void **)p = a->heads[k];
    a->heads[k] = p;
}

static inline void *ll_h2mem_calloc(size_t count, size_t size, void *user) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total) || total > PTRDIFF_MAX) return NULL;
    void *p = ll_h2mem_malloc(total, user);
    if (p != NULL) memset(p, 0, total);
    return p;
}

static inline void *ll_h2mem_realloc(void *p, size_t size, void *user) {
    if (p == NULL) return ll_h2mem_malloc(size, user);
    size_t capacity = *(size_t *)((char *)p - LL_H2MEM_HEADER);
    if (size <= capacity) return p;
    void *q = ll_h2mem_malloc(size, user);
    if (q == NULL) return NULL;
    memcpy(q, p, capacity);
    ll_h2mem_free(p, user);
    return q;
}

// An empty arena and the nghttp2_mem that uses it (for nghttp2_session_client_new3).
static inline void ll_h2mem_init(ll_h2mem_arena *a, nghttp2_mem *mem) {
    memset(a, 0, sizeof *a);
    mem->mem_user_data = a;
    mem->malloc = ll_h2mem_malloc;
    mem->free = ll_h2mem_free;
    mem->calloc = ll_h2mem_calloc;
    mem->realloc = ll_h2mem_realloc;
}

// The arena's slabs back to malloc (after every session that used it is deleted).
static inline void ll_h2mem_release(ll_h2mem_arena *a) {
    char *slab = a->slab;
    while (slab != NULL) {
        char *before = *(char **)slab;
        free(slab);
        slab = before;
    }
    a->slab = a->next = a->end = NULL;
}
