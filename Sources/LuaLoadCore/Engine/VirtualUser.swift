/// Where a virtual user is in its life. Its connection's progress is the connection's own state.
enum VUState: UInt8 {
    case notStarted   // waiting for its spawn time
    case runningLua   // inside lua_resume, or queued to resume
    case sleeping     // a wait or sleep() timer is armed
    case inRequest    // a request is out; `conn.state` says how far it got
    case parked       // stopped at the end of a task run, while others finish theirs (--stop-timeout)
    case idle         // open model: between task runs, in the free list until an arrival
    case retired      // stopped by a ramp-down (--stages, shape()); a later ramp-up starts it afresh
    case done         // its coroutine ended, or the run stopped
}

import CLuaShim

/// The exchange in flight, as the connection driver sees it: the bytes to write (encoded by the session, reused
/// from one request to the next), how much of them went out, where they go, and when its phases happened.
struct RequestInFlight {
    var bytes = ByteBuffer()
    var written = 0
    /// The endpoint it goes to.
    var endpoint: Int32 = 0
    /// Its stats row.
    var stat: Int32 = 0
    /// When its phases happened (µs): what `res.timings` shows and the per-row phase histograms record.
    var clock = ll_timings()
    /// µs, when its first byte was written (0: not yet).
    var started: UInt64 {
        @inline(__always) get { clock.started }
        @inline(__always) set { clock.started = newValue }
    }
    /// µs, when it times out. The VU's timer may be set earlier (a former request's, left armed): when that
    /// fires first, the timer is set again for this (Worker.onTimer).
    var deadline: UInt64 = 0
    /// Already resent once on a new connection (see `retryOnStaleConnection`).
    var retried = false
    /// Any response byte arrived: the server had the request.
    var gotBytes = false
}

/// A finished request whose outcome the script may still override (res:failure / res:success); recorded
/// when the VU's next frame settles it.
struct PendingOutcome {
    /// Its stats row, -1 when nothing is pending.
    var stat: Int32 = -1
    var micros: UInt64 = 0
    /// Response body bytes.
    var bytes = 0
    /// Why it failed by the default rule; nil: a success.
    var failure: Failure? = nil
    /// Its wait (to the first response byte) equals `micros`: one write, one read, no redirect hop before it
    /// (PhaseStats records nothing more for it).
    var waitIsLatency = false
    /// Open model: how long its late arrival waited before the request's first byte (µs), included in
    /// `micros`; the uncorrected figure is `micros - late`.
    var late: UInt64 = 0
}

/// One virtual user: its coroutine, its connection, the exchange in flight and its protocol session's state
/// (only its worker's session type). Lives in a buffer the worker allocates once, so its address is stable
/// (OpenSSL and parsers point back into it) and it is never retained. Its state changes in one place
/// (Worker+VUState). `pending` and `request.clock` belong to the yield protocol (the outcome the next frame
/// settles, `res.timings`), above any session.
struct VirtualUser<Session: VUSession> {
    var state = VUState.notStarted
    var classIndex: Int32
    var globalID: Int32
    var startOffset: UInt64
    var role = VURole.user
    /// `scenarios`: its scenario (0 in a single model) and its open scenario's arrival set (-1: closed model).
    var scenario: UInt8 = 0
    var arrivalSet: Int8 = -1
    var inWait = false             // sleeping or queued in the wait between two task runs
    var windingDown = false        // its scenario ended: it stops at its task run's end (graceful_stop)
    var dueAt: UInt64 = 0          // open model: when the arrival its task run serves was due, until its first request ends
    var co: OpaquePointer? = nil
    var coRef: Int32 = -2          // LUA_NOREF
    var conn = Connection()
    var request = RequestInFlight()
    var pending = PendingOutcome()
    var session = Session()

    init(classIndex: Int32, globalID: Int32, startOffset: UInt64) {
        self.classIndex = classIndex
        self.globalID = globalID
        self.startOffset = startOffset
    }
}

/// What a coroutine runs: a virtual user, or the test-level setup() / teardown().
public enum VURole: UInt8, Sendable {
    case user, setup, teardown
    /// a user VU retired by a ramp-down, running its on_stop; it becomes a retired `user` again
    case stopHook
}

/// Which VUs a worker runs: their class, global id and spawn time after the start.
public struct VUPlan: Sendable {
    public var classIndex: Int
    public var globalID: Int
    public var startOffsetMicros: UInt64
    public var role = VURole.user
    /// `scenarios`: which one (Runner+Scenarios.swift); its globalID is its index in that scenario's pool.
    public var scenario = 0

    public init(classIndex: Int, globalID: Int, startOffsetMicros: UInt64, role: VURole = .user, scenario: Int = 0) {
        self.classIndex = classIndex
        self.globalID = globalID
        self.startOffsetMicros = startOffsetMicros
        self.role = role
        self.scenario = scenario
    }
}
