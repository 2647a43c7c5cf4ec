import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// Resolves host names off the event loops: getaddrinfo blocks, and a host met for the first time in a
/// full URL must not stall the other VUs of its thread. One background thread for the process, started at
/// the first use; each answer goes to the asking worker's inbox, whose loop is woken.
final class Resolver: @unchecked Sendable {
    static let shared = Resolver()

    private struct Job {
        var endpoint: Endpoint
        var index: Int32
        var inbox: ResolverInbox
    }

    private var mutex = pthread_mutex_t()
    private var ready = pthread_cond_t()
    private var jobs: [Job] = []
    private var started = false

    private init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&ready, nil)
    }

    /// Resolves `endpoint` (table index `index`) for the worker that owns `inbox`.
    func submit(_ endpoint: Endpoint, index: Int32, to inbox: ResolverInbox) {
        pthread_mutex_lock(&mutex)
        jobs.append(Job(endpoint: endpoint, index: index, inbox: inbox))
        if !started {
            started = true
            startThread()
        }
        pthread_cond_signal(&ready)
        pthread_mutex_unlock(&mutex)
    }

    private func startThread() {
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { _ in
            Resolver.shared.serve()
            return nil
        }, nil)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(tid)
    }

    private func serve() {
        // Signals stay with the main thread (it waits for them with sigtimedwait).
        var all = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, nil)
        while true {
            pthread_mutex_lock(&mutex)
            while jobs.isEmpty { pthread_cond_wait(&ready, &mutex) }
            var job = jobs.removeFirst()
            pthread_mutex_unlock(&mutex)
            let problem = job.endpoint.resolve()
            job.inbox.post(ResolverInbox.Answer(index: job.index, endpoint: job.endpoint, failure: problem))
        }
    }
}

/// Where a worker's resolved names arrive (from the resolver thread); the worker takes them when woken.
final class ResolverInbox: @unchecked Sendable {
    struct Answer {
        var index: Int32
        /// The endpoint with its address filled in (unless `failure`).
        var endpoint: Endpoint
        var failure: String?
    }

    private var mutex = pthread_mutex_t()
    private var answers: [Answer] = []
    private let loop: EventLoop

    init(loop: EventLoop) {
        self.loop = loop
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    func post(_ answer: Answer) {
        pthread_mutex_lock(&mutex)
        answers.append(answer)
        pthread_mutex_unlock(&mutex)
        loop.wake()
    }

    /// The answers so far (worker side; a lock only when the loop was woken).
    func take() -> [Answer] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let out = answers
        answers.removeAll()
        return out
    }
}
