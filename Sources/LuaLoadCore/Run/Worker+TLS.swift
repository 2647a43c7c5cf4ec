import COpenSSL
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// TLS on a Worker's connections: the handshake (its time recorded apart from request latency) and the
/// per-thread table of distinct failure texts.
extension Worker {
    /// TCP is up on an https endpoint: start the handshake, offering the VU's last session with this
    /// endpoint (a reconnect after the server closed the connection resumes instead of a full handshake).
    func startHandshake(_ i: Int) {
        if tls == nil {
            do {
                tls = try TLSContext(config.tls)
            } catch {
                failRequest(i, code: tlsFailureCode("TLS: \(error)"))
                return
            }
        }
        let ep = vus[i].endpoint
        let session = vus[i].sessionEndpoint == ep ? vus[i].session : nil
        guard let ssl = tls!.connection(fd: vus[i].fd, endpoint: endpoints[Int(ep)], vu: vus + i, session: session) else {
            failRequest(i, code: tlsFailureCode("TLS: cannot create a connection: " + (TLS.queuedError() ?? "out of memory")))
            return
        }
        vus[i].ssl = ssl
        vus[i].tlsBroken = false
        vus[i].handshakeStarted = monotonicMicros()
        vus[i].state = .handshaking
        handshake(i)
    }

    /// One handshake step; OpenSSL says which readiness it waits for. Its time is recorded apart: the
    /// request's latency starts when its first byte is written, after the handshake.
    func handshake(_ i: Int) {
        let ssl = vus[i].ssl!
        let n = TLS.handshake(ssl)
        switch n {
        case 1:
            stats.tls.recordHandshake(micros: monotonicMicros() &- vus[i].handshakeStarted, resumed: TLS.resumed(ssl))
            vus[i].state = .writing
            write(i)
        case TLS.wantRead:
            setWantsWrite(i, false)
        case TLS.wantWrite:
            setWantsWrite(i, true)
        default:
            vus[i].tlsBroken = true
            failRequest(i, code: tlsFailure(i, "TLS handshake", n))
        }
    }

    /// The failure code for a TLS call's `result`, with OpenSSL's reason in the thread's message table.
    func tlsFailure(_ i: Int, _ phase: String, _ result: Int) -> Int {
        tlsFailureCode(TLS.failureMessage(vus[i].ssl!, phase: phase, result: result))
    }

    /// Counts a TLS failure and returns its code: the index of `text` in the thread's table of distinct
    /// texts (added on first sight; past the cap, one catch-all entry). Failure path only.
    func tlsFailureCode(_ text: String) -> Int {
        stats.tls.errors += 1
        if let k = stats.tlsMessages.firstIndex(of: text) { return FailureCode.make(FailureCode.tls, k) }
        if stats.tlsMessages.count < Self.maxTLSMessages - 1 {
            stats.tlsMessages.append(text)
        } else if stats.tlsMessages.count == Self.maxTLSMessages - 1 {
            stats.tlsMessages.append("TLS error (one of too many distinct TLS errors to list)")
        }
        return FailureCode.make(FailureCode.tls, stats.tlsMessages.count - 1)
    }

}
