// A Lua state's allocator: small blocks come from free lists of the state's own, by size class.
//
// Each request makes and drops a response (a Table and its array part) and sometimes strings: with
// glibc's malloc behind luaL_newstate's realloc-based allocator, those allocations and frees cost ~470
// instructions a request. A state runs on one thread at a time, so its free lists need no lock: taking or
// giving back a block is a pointer swap. Blocks over LL_POOL_MAX bytes go to malloc as before. The lists
// keep what the state once used at its peak, and are freed when it closes (ll_close).
#include "luashim.h"
#include <stdlib.h>
#include <string.h>

#define LL_POOL_STEP 16                                 // size classes 1-16, 17-32, ... bytes
#define LL_POOL_MAX 256                                 // the largest block from a free list
#define LL_POOL_CLASSES (LL_POOL_MAX / LL_POOL_STEP)

typedef struct ll_pool {
    void *free[LL_POOL_CLASSES];   // per class, a chain of free blocks linked through their first word
} ll_pool;

static inline size_t class_of(size_t size) { return (size - 1) / LL_POOL_STEP; }

// A block for `size` bytes: from its class's list (blocks hold the class's largest size) or malloc.
static void *take(ll_pool *pool, size_t size) {
    if (size > LL_POOL_MAX) return malloc(size);
    size_t c = class_of(size);
    void *block = pool->free[c];
    if (block == NULL) return malloc((c + 1) * LL_POOL_STEP);
    pool->free[c] = *(void **)block;
    return block;
}

static void give_back(ll_pool *pool, void *block, size_t size) {
    if (block == NULL) return;
    if (size > LL_POOL_MAX) { free(block); return; }
    size_t c = class_of(size);
    *(void **)block = pool->free[c];
    pool->free[c] = block;
}

// lua_Alloc. `osize` is the block's size, except when `ptr` is NULL (then it names what Lua allocates).
static void *pool_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    ll_pool *pool = ud;
    if (ptr == NULL) osize = 0;
    if (nsize == 0) { give_back(pool, ptr, osize); return NULL; }
    if (osize > 0 && osize <= LL_POOL_MAX && nsize <= LL_POOL_MAX && class_of(osize) == class_of(nsize)) return ptr;
    if (osize > LL_POOL_MAX && nsize > LL_POOL_MAX) return realloc(ptr, nsize);
    void *block = take(pool, nsize);   // into another class, or across LL_POOL_MAX: move the bytes
    // Lua counts on a shrink never failing: keep the old block, big enough; a list may take it later, as
    // blocks in a list are only ever asked for their class's size or less.
    if (block == NULL) return ptr != NULL && nsize <= osize ? ptr : NULL;
    if (ptr != NULL) {
        memcpy(block, ptr, osize < nsize ? osize : nsize);
        give_back(pool, ptr, osize);
    }
    return block;
}

// As lauxlib's: the error message, then Lua aborts.
static int panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    lua_writestringerror("luaload: unprotected Lua error: %s\n", msg != NULL ? msg : "(not a string)");
    return 0;
}

lua_State *ll_pooled_state(void) {
    ll_pool *pool = calloc(1, sizeof(ll_pool));
    if (pool == NULL) return NULL;
    lua_State *L = lua_newstate(pool_alloc, pool);
    if (L == NULL) { free(pool); return NULL; }
    lua_atpanic(L, panic);
    return L;   // no warning function: warnings stay off, as luaL_newstate leaves them
}

void ll_close(lua_State *L) {
    void *ud = NULL;
    lua_Alloc alloc = lua_getallocf(L, &ud);
    lua_close(L);
    if (alloc != pool_alloc) return;
    ll_pool *pool = ud;
    for (size_t c = 0; c < LL_POOL_CLASSES; c++) {
        while (pool->free[c] != NULL) {
            void *next = *(void **)pool->free[c];
            free(pool->free[c]);
            pool->free[c] = next;
        }
    }
    free(pool);
}
