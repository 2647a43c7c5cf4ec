import Synchronization
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// The built-in target server: a small HTTP/1.1 demo API (the routes of the Locust guide the example scripts model)
/// on the project's own epoll loop. `threads` event-loop threads share one non-blocking listening socket.
/// See README.md beside this file for routes, credentials and fault injection.
public final class TargetServer: @unchecked Sendable {
    public let options: ServeOptions
    /// The bound port (the kernel's pick when options.port == 0).
    public let port: UInt16
    private let shared: ServeShared
    private let workers: [ServeWorker]
    private let lifecycle = Mutex<(started: Bool, stopped: Bool)>((false, false))

    /// Binds and listens at once, so a busy port fails here ("cannot listen on 127.0.0.1:8080: Address already in use").
    public init(options: ServeOptions) throws {
        guard options.threads >= 1, options.threads <= 256 else { throw ServeError("serve: threads must be 1...256") }
        guard options.errorRate >= 0, options.errorRate <= 1 else { throw ServeError("serve: error rate must be between 0 and 1") }
        Sys.ignoreSIGPIPE()
        Sys.raiseOpenFilesLimit()
        let (fd, bound, error) = ServerSys.listenTCP(host: options.host, port: options.port, backlog: 4096)
        if let error { throw ServeError(error) }
        self.options = options
        port = bound
        var seed = monotonicMicros() ^ UInt64(UInt(bitPattern: ObjectIdentifier(ServeShared.self).hashValue))
        seed = mix64(seed ^ UInt64(getpid()))
        let shared = ServeShared(options: options, listenFD: fd, signer: TokenSigner(secret: seed),
                                 stats: (0..<options.threads).map { _ in ServeStats() })
        self.shared = shared
        workers = (0..<options.threads).map { ServeWorker(index: $0, shared: shared) }
    }

    deinit { stop() }

    /// Spawns the event-loop threads and returns at once. Calling it again does nothing.
    public func start() {
        let go = lifecycle.withLock { s -> Bool in
            if s.started || s.stopped { return false }
            s.started = true
            return true
        }
        guard go else { return }
        for w in workers {
            let ctx = Unmanaged.passRetained(w).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { arg in
                let worker = Unmanaged<ServeWorker>.fromOpaque(arg!).takeRetainedValue()
                worker.run()
                return nil
            }, ctx)
            if rc == 0 {
                w.thread = tid
            } else {
                Unmanaged<ServeWorker>.fromOpaque(ctx).release()
            }
        }
    }

    /// Wakes the loops, joins the threads, closes every socket. Safe to call more than once.
    public func stop() {
        let go = lifecycle.withLock { s -> Bool in
            if s.stopped { return false }
            s.stopped = true
            return true
        }
        guard go else { return }
        shared.stopping.store(true, ordering: .releasing)
        for w in workers { w.loop.wake() }
        for w in workers {
            if let t = w.thread { pthread_join(t, nil); w.thread = nil }
        }
        Sys.close(shared.listenFD)
    }

    /// Same body as GET /__stats: `{"total":N,"rejected":R,"routes":{"GET /health":{"200":10},...}}`.
    public func statsJSON() -> String {
        String(decoding: ServeStats.json(shared.stats), as: UTF8.self)
    }
}
