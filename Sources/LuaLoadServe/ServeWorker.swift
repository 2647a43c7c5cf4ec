import CPosix
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// One serve thread: its own epoll loop, connections, timers and counters.
/// Each connection has one timer (id slot + 1), which means, by the connection's state: paused → its response's
/// delay ends; draining → the linger ends; else → its idle or header timeout (ServeWorker+Timeouts.swift).
final class ServeWorker: @unchecked Sendable {
    static let listenToken: UInt64 = .max - 1
    /// Timer id 0 re-enables accepting after running out of file descriptors; connection slot s uses s + 1.
    static let listenerTimer = 0
    /// Stop parsing pipelined requests while this much output waits for the client to read.
    static let outputBacklogLimit = 256 * 1024
    static let lingerMicros: UInt64 = 2_000_000

    let index: Int
    let shared: ServeShared
    let loop: EventLoop
    let stats: ServeStats
    var timers = TimerHeap(capacity: 256)
    var conns: [ServeConnection] = []
    var freeSlots: [Int] = []
    var rng: ServeRandom
    /// Scratch for response bodies, reused.
    var body = ByteWriter(capacity: 16 * 1024)
    var thread: pthread_t?
    /// The monotonic clock (µs) read once per loop turn: activity stamps use it, so no request reads the clock for them.
    var now: UInt64 = 0

    init(index: Int, shared: ServeShared) {
        self.index = index
        self.shared = shared
        self.stats = shared.stats[index]
        loop = EventLoop(capacity: 512)
        rng = ServeRandom(seed: monotonicMicros() &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(index + 1) &* 0xD1B5_4A32_D192_ED03)
    }

    func run() {
        _ = addListener()
        now = monotonicMicros()
        while !shared.stopping.load(ordering: .acquiring) {
            let n = loop.wait(timeoutMs: EventLoop.timeoutMs(until: timers.earliest, now: now))
            now = monotonicMicros()
            for i in 0..<n { dispatch(loop.events[i]) }
            now = monotonicMicros()
            while let id = timers.popExpired(now: now) { fire(id) }
        }
        for c in conns where c.fd >= 0 { close(c) }
        _ = Sys.epollCtl(loop.epfd, EPOLL_CTL_DEL, shared.listenFD, 0, 0)
    }

    private func dispatch(_ ev: epoll_event) {
        let token = ev.data.u64
        if token == EventLoop.wakeToken { loop.drainWake(); return }
        if token == ServeWorker.listenToken { acceptAll(); return }
        let slot = Int(token & 0xFFFF_FFFF)
        guard slot < conns.count else { return }
        let c = conns[slot]
        guard c.fd >= 0, c.gen == UInt32(truncatingIfNeeded: token >> 32) else { return }
        if ev.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { close(c); return }
        if c.draining { drain(c) } else { service(c) }
    }

    private func addListener() -> Bool {
        // EPOLLEXCLUSIVE: one waiting thread is woken per new connection, not all of them.
        loop.add(shared.listenFD, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue, token: ServeWorker.listenToken) == 0
    }

    private func acceptAll() {
        var budget = 256
        while budget > 0 {
            let fd = ServerSys.accept(shared.listenFD)
            if fd >= 0 {
                budget -= 1
                adopt(fd)
                continue
            }
            if fd == -EINTR || fd == -ECONNABORTED { continue }
            if fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM {
                // Out of descriptors: stop watching the listener for a moment instead of spinning on it.
                _ = Sys.epollCtl(loop.epfd, EPOLL_CTL_DEL, shared.listenFD, 0, 0)
                timers.arm(ServeWorker.listenerTimer, at: monotonicMicros() + 100_000)
            }
            return  // EAGAIN (another thread took it) or an error for this round
        }
    }

    private func adopt(_ fd: Int32) {
        ServerSys.setNoDelay(fd)
        let c: ServeConnection
        if let slot = freeSlots.popLast() {
            c = conns[slot]
        } else {
            c = ServeConnection(slot: conns.count)
            conns.append(c)
            timers.reserve(ids: conns.count + 1)
        }
        c.reset(fd: fd, now: now)
        // Edge-triggered, registered once: the connection reads until EAGAIN and writes until EAGAIN.
        let events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        if loop.add(fd, events: events, token: c.token) != 0 {
            Sys.close(fd)
            c.release()
            freeSlots.append(c.slot)
            return
        }
        service(c)  // data may already be waiting
        watch(c)
    }

    private func fire(_ id: Int) {
        if id == ServeWorker.listenerTimer { _ = addListener(); return }
        let c = conns[id - 1]
        guard c.fd >= 0 else { return }
        if c.draining { close(c); return }
        if c.paused {
            c.heldFrom = -1
            service(c)
        } else {
            enforceTimeouts(c)
        }
        watch(c)  // the one timer was used up: it goes back to watching for a timeout
    }

    func close(_ c: ServeConnection) {
        timers.cancel(c.slot + 1)
        Sys.close(c.fd)
        c.release()
        freeSlots.append(c.slot)
    }
}
