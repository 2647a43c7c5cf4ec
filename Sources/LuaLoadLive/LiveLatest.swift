import Synchronization

/// The latest value one thread publishes for others to read: the Runner's once-a-second snapshot for the
/// live server's routes. One lock per publish and per read; a read copies the value (copy-on-write types
/// copy a reference), so the lock is held for nanoseconds and nothing on the load's path ever takes it.
public final class LiveLatest<Value: Sendable>: Sendable {
    private let box: Mutex<(value: Value, version: UInt64)>

    public init(_ initial: Value) { box = Mutex((initial, 0)) }

    public func publish(_ value: Value) {
        box.withLock { $0 = (value, $0.version &+ 1) }
    }

    public var value: Value { box.withLock { $0.value } }
    /// How many times a value was published (0: only the initial one).
    public var version: UInt64 { box.withLock { $0.version } }

    /// Changes the value in place under the lock (e.g. appends to a history).
    public func update(_ body: (inout Value) -> Void) {
        box.withLock { body(&$0.value); $0.version &+= 1 }
    }
}
