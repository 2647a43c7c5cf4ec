import CPosix
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// The agent's side of the link while its segment runs, on a thread of its own (never a worker's loop):
/// it sends what the Runner's main thread queues (one `second` a second, then the final report), a ping
/// when a second went by without one, and hands the controller's `users` and `stop` to the RunControls.
/// If the controller goes away the run goes on: the agent finishes its segment and writes its own report.
final class AgentLink: @unchecked Sendable {
    private let connection: LinkConnection
    private let control: RunControls
    private var mutex = pthread_mutex_t()
    private var outbox: [[UInt8]] = []
    private var closing = false
    /// Why the link went down, if it did.
    private var lostReason: String?
    private let wake: Int32
    private var thread = pthread_t()

    init(connection: LinkConnection, control: RunControls) {
        self.connection = connection
        self.control = control
        wake = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        pthread_mutex_init(&mutex, nil)
    }

    deinit {
        Glibc.close(wake)
        pthread_mutex_destroy(&mutex)
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            let link = Unmanaged<AgentLink>.fromOpaque(arg!).takeRetainedValue()
            var mask = sigset_t()   // the process's signals are the Runner's main thread's to take
            sigemptyset(&mask)
            for s in [SIGINT, SIGTERM, SIGUSR1] { sigaddset(&mask, s) }
            pthread_sigmask(SIG_BLOCK, &mask, nil)
            link.loop()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// Main thread: queues a message (dropped once the link is down).
    func send(_ message: [UInt8]) {
        locked { if lostReason == nil { outbox.append(message) } }
        var one: UInt64 = 1
        _ = Glibc.write(wake, &one, 8)
    }

    /// Main thread: queues the last message, waits until it went out (or the link failed) and closes.
    /// Returns why the link was lost, if it was.
    func finish(_ last: [UInt8]) -> String? {
        locked {
            if lostReason == nil { outbox.append(last) }
            closing = true   // with the last message, so the loop that takes one sees the other
        }
        var one: UInt64 = 1
        _ = Glibc.write(wake, &one, 8)
        pthread_join(thread, nil)
        connection.close()
        return locked { lostReason }
    }

    var lost: String? { locked { lostReason } }

    private func loop() {
        var lastSent = monotonicMicros()
        while true {
            var fds = [pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, 1000)
            var drain: UInt64 = 0
            _ = Glibc.read(wake, &drain, 8)
            if fds[0].revents != 0 && !receive() { return }
            let (batch, last) = locked { () -> ([[UInt8]], Bool) in
                defer { outbox.removeAll() }
                return (outbox, closing)
            }
            do {
                for m in batch { try connection.send(m, timeout: 10) }
                if !batch.isEmpty { lastSent = monotonicMicros() }
                if last { return }
                if monotonicMicros() - lastSent > 1_000_000 {
                    try connection.send(LinkMessage.encode("ping"), timeout: 10)
                    lastSent = monotonicMicros()
                }
            } catch {
                return fail("\(error)")
            }
        }
    }

    /// Reads the controller's commands; false when the link is down. The frames read before the end count: a
    /// controller that sends the stop and exits at once (a second Ctrl-C) is obeyed, also with TLS, whose pump
    /// reads on to the end of the stream in the same call.
    private func receive() -> Bool {
        let open = connection.pump()
        defer { if !open { fail("the controller closed the link") } }
        do {
            while let frame = try connection.nextFrame() {
                let m = try LinkMessage.decode(frame)
                switch m.type {
                case "users":
                    if let n = m.body["users"]?.int { control.post(.setUsers(n, spawnRate: m.body["spawn_rate"]?.number)) }
                case "rate":
                    if let rate = m.body["rate"]?.number { control.post(.setRate(rate, at: m.body["at"]?.number)) }
                case "stop":
                    let reason = m.body["reason"]?.string.flatMap(StopReason.init(rawValue:)) ?? .interrupted
                    control.post(.stopFor(reason, note: m.body["note"]?.string))
                default:
                    break   // a later controller's message this agent does not know: ignored, as documented
                }
            }
        } catch {
            fail("\(error)")
            return false
        }
        return open
    }

    private func fail(_ reason: String) {
        locked {
            if lostReason == nil { lostReason = reason }
            outbox.removeAll()
        }
    }
}
