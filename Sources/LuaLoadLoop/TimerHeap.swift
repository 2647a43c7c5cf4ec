/// A min-heap of deadlines keyed by small integer ids (a virtual user, a connection), at most one timer each.
/// Each id remembers its position, so re-arming or cancelling is O(log n) and an id never has two entries:
/// arming an armed id moves its one deadline in place. Callers use that to avoid work on the hot path —
/// the Worker leaves a request's timeout armed when the response arrives, keeps it for the VU's next request
/// when it is sooner (`armUnlessSooner`; if it fires during that request, the Worker sets it again for the
/// request's own deadline) and moves it for a sleep; if a stale deadline fires while the VU waits on no
/// request, the Worker ignores it.
@frozen public struct TimerHeap {
    @usableFromInline var heap: [Int32] = []          // ids, ordered by deadline
    @usableFromInline var position: [Int32]            // id → index in heap, or -1
    @usableFromInline var deadline: [UInt64]           // id → deadline (µs, monotonic)

    public init(capacity: Int) {
        position = [Int32](repeating: -1, count: capacity)
        deadline = [UInt64](repeating: 0, count: capacity)
        heap.reserveCapacity(capacity)
    }

    @inlinable public var isEmpty: Bool { heap.isEmpty }
    @inlinable public var count: Int { heap.count }
    @inlinable public var earliest: UInt64? { heap.isEmpty ? nil : deadline[Int(heap[0])] }

    @inlinable public func isArmed(_ id: Int) -> Bool { position[id] >= 0 }

    /// Arms `id` for `when` unless it is armed already for that time or earlier: for a deadline that is
    /// checked again when the timer fires (the caller re-arms for the rest then), this spares the heap a
    /// move per call when the deadline only ever moves later.
    @inlinable public mutating func armUnlessSooner(_ id: Int, at when: UInt64) {
        if position[id] >= 0 && deadline[id] <= when { return }
        arm(id, at: when)
    }

    /// Grows the id space (ids are dense, 0..<capacity).
    @inlinable public mutating func reserve(ids capacity: Int) {
        if capacity > position.count {
            position.append(contentsOf: repeatElement(-1, count: capacity - position.count))
            deadline.append(contentsOf: repeatElement(0, count: capacity - deadline.count))
        }
    }

    @inlinable public mutating func arm(_ id: Int, at when: UInt64) {
        let pos = Int(position[id])
        if pos >= 0 {
            let earlier = when < deadline[id]
            deadline[id] = when
            if earlier { siftUp(pos) } else { siftDown(pos) }
            return
        }
        deadline[id] = when
        heap.append(Int32(id))
        position[id] = Int32(heap.count - 1)
        siftUp(heap.count - 1)
    }

    @inlinable public mutating func cancel(_ id: Int) {
        let pos = Int(position[id])
        guard pos >= 0 else { return }
        position[id] = -1
        let last = heap.removeLast()
        if pos < heap.count {
            heap[pos] = last
            position[Int(last)] = Int32(pos)
            siftDown(pos)
            siftUp(Int(position[Int(last)]))
        }
    }

    /// Removes and returns the id whose deadline is at or before `now`, if any.
    @inlinable public mutating func popExpired(now: UInt64) -> Int? {
        guard let first = heap.first, deadline[Int(first)] <= now else { return nil }
        cancel(Int(first))
        return Int(first)
    }

    @inlinable mutating func siftUp(_ start: Int) {
        var i = start
        let id = heap[i]
        let d = deadline[Int(id)]
        while i > 0 {
            let parent = (i - 1) >> 1
            let pid = heap[parent]
            if deadline[Int(pid)] <= d { break }
            heap[i] = pid
            position[Int(pid)] = Int32(i)
            i = parent
        }
        heap[i] = id
        position[Int(id)] = Int32(i)
    }

    @inlinable mutating func siftDown(_ start: Int) {
        var i = start
        let n = heap.count
        let id = heap[i]
        let d = deadline[Int(id)]
        while true {
            var child = 2 * i + 1
            if child >= n { break }
            if child + 1 < n, deadline[Int(heap[child + 1])] < deadline[Int(heap[child])] { child += 1 }
            let cid = heap[child]
            if deadline[Int(cid)] >= d { break }
            heap[i] = cid
            position[Int(cid)] = Int32(i)
            i = child
        }
        heap[i] = id
        position[Int(id)] = Int32(i)
    }
}
