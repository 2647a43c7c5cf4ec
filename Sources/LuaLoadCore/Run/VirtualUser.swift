/// Where a virtual user is in its life. The connection's progress is part of it: one connection per VU.
enum VUState: UInt8 {
    case notStarted   // waiting for its spawn time
    case runningLua   // inside lua_resume, or queued to resume
    case sleeping     // a wait or sleep() timer is armed
    case connecting   // request encoded, TCP connect under way
    case handshaking  // TCP connected, TLS handshake under way
    case writing      // sending the request
    case reading      // awaiting / parsing the response
    case parked       // stopped at the end of a task run, while others finish theirs (--stop-timeout)
    case done         // its coroutine ended, or the run stopped
}

/// One virtual user: its coroutine, its connection and the request in flight. Lives in a buffer the worker
/// allocates once, so its address is stable (http_parser points back into it) and it is never retained.
struct VirtualUser {
    var state = VUState.notStarted
    var classIndex: Int32
    var globalID: Int32
    var startOffset: UInt64
    var role = VURole.user
    var inWait = false             // sleeping or queued in the wait between two task runs
    var co: OpaquePointer? = nil
    var coRef: Int32 = -2          // LUA_NOREF

    // The connection.
    var fd: Int32 = -1
    var generation: UInt32 = 0
    var endpoint: Int32 = -1       // which endpoint `fd` is connected to
    var wantsWrite = false         // EPOLLOUT in the interest set
    var reused = false             // the connection has carried a response before
    var ssl: OpaquePointer? = nil  // SSL*: the connection is TLS
    var tlsBroken = false          // a fatal TLS error: no close_notify on close
    var handshakeStarted: UInt64 = 0
    var session: OpaquePointer? = nil  // SSL_SESSION*: the last one the server gave, to resume with
    var sessionEndpoint: Int32 = -1    // …at this endpoint

    // The request in flight.
    var request = ByteBuffer()
    var written = 0
    var target: Int32 = 0          // endpoint of the request
    var stat: Int32 = 0
    var started: UInt64 = 0        // µs, when its first byte was written
    var retried = false
    var gotBytes = false
    var response = ResponseParser()

    // The last outcome, recorded when the script settles it (its next yield).
    var pendingStat: Int32 = -1
    var pendingMicros: UInt64 = 0
    var pendingBytes = 0           // response body size
    var pendingCode = 0            // FailureCode or 0

    init(classIndex: Int32, globalID: Int32, startOffset: UInt64) {
        self.classIndex = classIndex
        self.globalID = globalID
        self.startOffset = startOffset
    }
}

/// What a coroutine runs: a virtual user, or the test-level setup() / teardown().
public enum VURole: UInt8, Sendable {
    case user, setup, teardown
}

/// Which VUs a worker runs: their class, global id and spawn time after the start.
public struct VUPlan: Sendable {
    public var classIndex: Int
    public var globalID: Int
    public var startOffsetMicros: UInt64
    public var role = VURole.user

    public init(classIndex: Int, globalID: Int, startOffsetMicros: UInt64, role: VURole = .user) {
        self.classIndex = classIndex
        self.globalID = globalID
        self.startOffsetMicros = startOffsetMicros
        self.role = role
    }
}
