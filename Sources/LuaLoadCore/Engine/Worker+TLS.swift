import COpenSSL
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// TLS on a Worker's connections: the handshake (its time recorded apart from request latency) and the
/// per-thread table of distinct failure texts.
extension SessionWorker {
    /// TCP is up on an https endpoint: start the handshake, offering the connection's last session with this
    /// endpoint (a reconnect after the server closed the connection resumes instead of a full handshake).
    func startHandshake(_ i: Int) {
        if tls == nil {
            do {
                tls = try TLSContext(config.tls)
            } catch {
                return Session.fail(self, i, tlsFailure("TLS: \(error)"))
            }
        }
        let ep = vus[i].conn.endpoint
        let from = Session.tlsSessionOwner(self, i)
        let session = vus[from].conn.sessionEndpoint == ep && vus[from].conn.session != nil ? vus[from].conn.session
            : vus[i].conn.sessionEndpoint == ep ? vus[i].conn.session : nil
        let owner = (UnsafeMutableRawPointer(vus + i) + MemoryLayout<VirtualUser<Session>>.offset(of: \VirtualUser<Session>.conn)!)
            .assumingMemoryBound(to: Connection.self)
        guard let ssl = tls!.connection(fd: vus[i].conn.fd, endpoint: endpoints[ep], owner: owner, session: session) else {
            return Session.fail(self, i, tlsFailure("TLS: cannot create a connection: " + (TLS.queuedError() ?? "out of memory")))
        }
        vus[i].conn.transport = .tls(ssl)
        vus[i].conn.handshakeStarted = monotonicMicros()
        vus[i].conn.state = .handshaking
        handshake(i)
    }

    /// One handshake step; OpenSSL says which readiness it waits for. Its time is recorded apart: the
    /// request's latency starts when its first byte is written, after the handshake.
    func handshake(_ i: Int) {
        guard case .tls(let ssl) = vus[i].conn.transport else { return }
        let result = TLS.handshake(ssl)
        switch result {
        case .done:
            let micros = monotonicMicros() &- vus[i].conn.handshakeStarted
            vus[i].request.clock.tls = micros
            stats.tls.recordHandshake(micros: micros, resumed: TLS.resumed(ssl))
            guard Session.connected(self, i, alpnH2: TLS.negotiatedH2(ssl)) else { return }
            vus[i].conn.state = .writing
            write(i)
        case .wantRead, .wantWrite:   // the transport says which readiness it waits for
            setWantsWrite(i, result == .wantWrite)
        default:
            vus[i].conn.broken = true
            Session.fail(self, i, tlsFailure(i, "TLS handshake", result))
        }
    }

    /// The failure for a TLS call's `result`, with OpenSSL's reason in the thread's table of texts.
    func tlsFailure(_ i: Int, _ phase: String, _ result: IOResult) -> Failure {
        guard case .tls(let ssl) = vus[i].conn.transport else { return .closedEarly }
        return tlsFailure(TLS.failureMessage(ssl, phase: phase, result: result))
    }

    /// Counts a TLS failure and returns it: `text` is kept once in the thread's table of distinct texts
    /// (added on first sight; past the cap, one catch-all entry). Failure path only.
    func tlsFailure(_ text: String) -> Failure {
        stats.tls.errors += 1
        if let k = stats.tlsMessages.firstIndex(of: text) { return .tls(Int32(k)) }
        if stats.tlsMessages.count < Worker.maxTLSMessages - 1 {
            stats.tlsMessages.append(text)
        } else if stats.tlsMessages.count == Worker.maxTLSMessages - 1 {
            stats.tlsMessages.append("TLS error (one of too many distinct TLS errors to list)")
        }
        return .tls(Int32(stats.tlsMessages.count - 1))
    }
}
