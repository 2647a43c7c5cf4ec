import CNGHTTP2

/// nghttp2's allocator (`nghttp2_mem`) for one worker's HTTP/2 sessions: size-classed free lists carved from
/// slabs. nghttp2 allocates and frees about 11 blocks a request (the stream, its outbound item, the header
/// fields' copies, the received fields' buffers); through glibc's malloc/free they cost ~1,500 instructions a
/// request (callgrind, nginx h2c /health, -u 1), through these lists ~340 (h2load links jemalloc for the same
/// reason: ~1,000). The lists are C (`ll_h2mem_*` in CNGHTTP2/shim.h): nghttp2 calls them through function
/// pointers, and the same code as Swift closures cost ~660 instructions a request (callgrind, pooled h2c, -u 50
/// --h2-pool 5). Only the worker's thread allocates or frees here: no locks.
///
/// Blocks up to 2 KiB are rounded up to 32 bytes plus a 16-byte header and stay in the worker's lists once
/// freed; the slabs are freed with the worker (after its sessions).
final class HTTP2Memory {
    let arena: UnsafeMutablePointer<ll_h2mem_arena>
    /// What `nghttp2_session_client_new3` takes (it copies it); `mem_user_data` is the arena.
    var mem = nghttp2_mem()

    init() {
        arena = .allocate(capacity: 1)
        ll_h2mem_init(arena, &mem)
    }

    deinit {
        ll_h2mem_release(arena)
        arena.deallocate()
    }
}
