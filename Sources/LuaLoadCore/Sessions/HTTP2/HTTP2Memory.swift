import CNGHTTP2
#if canImport(Glibc)
import Glibc
#endif

/// nghttp2's allocator (`nghttp2_mem`) for one worker's HTTP/2 sessions: size-classed free lists carved from
/// slabs. nghttp2 allocates and frees about 11 blocks a request (the stream, its outbound item, the header
/// fields' copies, the received fields' buffers); through glibc's malloc/free they cost ~1,500 instructions a
/// request (callgrind, nginx h2c /health, -u 1), through these lists a few dozen each (h2load links jemalloc
/// for the same reason). Only the worker's thread allocates or frees here: no locks.
///
/// A block is a 16-byte header holding its capacity, then the payload (16-byte aligned, as malloc's).
/// Capacities up to `maxSmall` are multiples of `granule` and come back to their class's free list; larger
/// blocks go to malloc and back to free. The slabs are freed with the worker (after its sessions).
final class HTTP2Memory {
    struct Arena {
        var heads: UnsafeMutablePointer<UnsafeMutableRawPointer?>
        var slab: UnsafeMutableRawPointer?   // the newest slab; its first word links the one before
        var next: UnsafeMutableRawPointer?
        var end: UnsafeMutableRawPointer?
    }

    static let granule = 32
    static let maxSmall = 2048
    static let headerSize = 16
    static let slabSize = 64 * 1024

    let arena: UnsafeMutablePointer<Arena>
    /// What `nghttp2_session_client_new3` takes; `mem_user_data` is the arena.
    var mem: nghttp2_mem

    init() {
        let heads = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: Self.maxSmall / Self.granule + 1)
        heads.initialize(repeating: nil, count: Self.maxSmall / Self.granule + 1)
        arena = .allocate(capacity: 1)
        arena.initialize(to: Arena(heads: heads, slab: nil, next: nil, end: nil))
        mem = nghttp2_mem(
            mem_user_data: UnsafeMutableRawPointer(arena),
            malloc: { size, user in HTTP2Memory.allocate(user!.assumingMemoryBound(to: Arena.self), size) },
            free: { p, user in HTTP2Memory.release(user!.assumingMemoryBound(to: Arena.self), p) },
            calloc: { count, size, user in
                let (total, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow, let p = HTTP2Memory.allocate(user!.assumingMemoryBound(to: Arena.self), total) else { return nil }
                memset(p, 0, total)
                return p
            },
            realloc: { p, size, user in HTTP2Memory.reallocate(user!.assumingMemoryBound(to: Arena.self), p, size) })
    }

    deinit {
        var slab = arena.pointee.slab
        while let s = slab {
            slab = s.load(as: UnsafeMutableRawPointer?.self)
            Glibc.free(s)
        }
        arena.pointee.heads.deallocate()
        arena.deallocate()
    }

    @inline(__always)
    static func allocate(_ a: UnsafeMutablePointer<Arena>, _ size: Int) -> UnsafeMutableRawPointer? {
        guard size <= maxSmall else {
            guard let block = malloc(headerSize + size) else { return nil }
            block.storeBytes(of: size, as: Int.self)
            return block + headerSize
        }
        let k = max(1, (size + granule - 1) / granule)
        if let p = a.pointee.heads[k] {
            a.pointee.heads[k] = p.load(as: UnsafeMutableRawPointer?.self)
            return p
        }
        return carve(a, k)
    }

    /// A new block of class `k` from the slab (a new slab when it is used up; its tail is left unused).
    static func carve(_ a: UnsafeMutablePointer<Arena>, _ k: Int) -> UnsafeMutableRawPointer? {
        let bytes = headerSize + k * granule
        if a.pointee.next == nil || a.pointee.end! - a.pointee.next! < bytes {
            guard let slab = malloc(slabSize) else { return nil }
            slab.storeBytes(of: a.pointee.slab, as: UnsafeMutableRawPointer?.self)
            a.pointee.slab = slab
            a.pointee.next = slab + headerSize
            a.pointee.end = slab + slabSize
        }
        let block = a.pointee.next!
        a.pointee.next = block + bytes
        block.storeBytes(of: k * granule, as: Int.self)
        return block + headerSize
    }

    @inline(__always)
    static func release(_ a: UnsafeMutablePointer<Arena>, _ p: UnsafeMutableRawPointer?) {
        guard let p else { return }
        let capacity = (p - headerSize).load(as: Int.self)
        guard capacity <= maxSmall else { return Glibc.free(p - headerSize) }
        let k = capacity / granule
        p.storeBytes(of: a.pointee.heads[k], as: UnsafeMutableRawPointer?.self)
        a.pointee.heads[k] = p
    }

    static func reallocate(_ a: UnsafeMutablePointer<Arena>, _ p: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
        guard let p else { return allocate(a, size) }
        let capacity = (p - headerSize).load(as: Int.self)
        if size <= capacity { return p }
        guard let q = allocate(a, size) else { return nil }
        memcpy(q, p, capacity)
        release(a, p)
        return q
    }
}
