import Synchronization

/// One presigned upload, kept in memory.
struct UploadRecord {
    var fileID: [UInt8]
    var owner: [UInt8]
    var filename: [UInt8]
    var contentType: [UInt8]
    var folder: [UInt8]
    var sizeBytes: Int
    var createdMicros: UInt64
    var createdWall: Double
}

/// Uploads created by POST /api/v1/uploads/presign, shared by all threads (a lock per presign/list, never on GET /health).
/// Keeps the most recent `capacity` uploads.
final class UploadStore: Sendable {
    static let capacity = 10_000
    /// An upload counts as "complete" this long after it was presigned (the simulated client has uploaded it by then).
    static let completeAfterMicros: UInt64 = 5_000_000

    private struct Ring {
        var items: [UploadRecord] = []
        var next = 0
    }

    private let ring = Mutex(Ring())

    func add(_ r: UploadRecord) {
        ring.withLock { s in
            if s.items.count < UploadStore.capacity {
                s.items.append(r)
            } else {
                s.items[s.next] = r
            }
            s.next = (s.next + 1) % UploadStore.capacity
        }
    }

    /// The owner's newest uploads first, at most `limit`, filtered by status ("pending"/"complete") when given.
    func list(owner: [UInt8], limit: Int, now: UInt64, includePending: Bool, includeComplete: Bool) -> [(UploadRecord, Bool)] {
        ring.withLock { s in
            var out: [(UploadRecord, Bool)] = []
            let n = s.items.count
            var k = 0
            while k < n && out.count < limit {
                let idx = ((s.next - 1 - k) % n + n) % n
                let r = s.items[idx]
                k += 1
                guard r.owner == owner else { continue }
                let complete = now >= r.createdMicros + UploadStore.completeAfterMicros
                if (complete && includeComplete) || (!complete && includePending) { out.append((r, complete)) }
            }
            return out
        }
    }
}
