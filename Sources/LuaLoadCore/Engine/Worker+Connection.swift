import LuaLoadLoop
import CPosix
#if canImport(Glibc)
import Glibc
#endif

/// The connection driver (h2load's Client): a VU's connection — connect, readiness events, write, read — one
/// code path for plain TCP and TLS, which differ only behind `Transport` (and in the handshake, Worker+TLS), and
/// for every protocol session, to which it reports what happened (bytes read, the peer's close, failures).
extension SessionWorker {
    /// Sends the exchange's bytes on the VU's kept-alive connection to its endpoint, or connects first.
    @inline(__always)
    func send(_ i: Int) {
        if vus[i].conn.state == .idle && vus[i].conn.endpoint == vus[i].request.endpoint {
            vus[i].conn.state = .writing
            write(i)
        } else {
            connect(i)
        }
    }

    func connect(_ i: Int) {
        if Session.connectsElsewhere(self, i) { return }   // (--h2-pool: a stream of a shared connection)
        closeConnection(i)
        let ep = vus[i].request.endpoint
        switch endpoints.state(ep) {
        case .resolved: break
        case .failed: return Session.fail(self, i, .resolve)
        case .unresolved, .pending: return awaitName(i, ep)
        }
        let fd = Sys.tcpSocket(family: endpoints[ep].family)
        guard fd >= 0 else { return Session.fail(self, i, .connect(-fd)) }
        vus[i].conn.fd = fd
        vus[i].conn.generation &+= 1
        vus[i].conn.endpoint = ep
        vus[i].conn.reused = false
        vus[i].conn.broken = false
        vus[i].conn.wantsWrite = true
        vus[i].conn.state = .connecting
        vus[i].conn.connectStarted = monotonicMicros()
        _ = loop.add(fd, events: EPOLLIN.rawValue | EPOLLOUT.rawValue, token: token(i))
        var address = endpoints[ep].address
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Sys.connect(fd, $0, endpoints[ep].addressLength) }
        }
        if rc != 0 && rc != -EINPROGRESS { Session.fail(self, i, .connect(-rc)) }
        // Connected or under way: EPOLLOUT reports it.
    }

    @inline(__always)
    func token(_ i: Int) -> UInt64 { UInt64(vus[i].conn.generation) << 32 | UInt64(i) }

    func onSocketEvent(token: UInt64, events: UInt32) {
        let i = Int(token & 0xffff_ffff)
        guard i < bufferCount, vus[i].conn.fd >= 0, UInt64(vus[i].conn.generation) == token >> 32 else { return }
        switch vus[i].conn.state {
        case .reading: read(i)
        case .writing: write(i)
        case .connecting: onConnected(i, events)
        case .handshaking: handshake(i)
        case .idle: onIdleReadable(i)
        case .closed, .resolving: break
        }
    }

    func onConnected(_ i: Int, _ events: UInt32) {
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
            let err = Sys.socketError(vus[i].conn.fd)
            return Session.fail(self, i, .connect(err != 0 ? err : ECONNREFUSED))
        }
        guard events & EPOLLOUT.rawValue != 0 else { return }
        vus[i].request.clock.connect = monotonicMicros() &- vus[i].conn.connectStarted
        if endpoints[vus[i].conn.endpoint].tls {
            startHandshake(i)
        } else if Session.connected(self, i, alpnH2: false) {
            vus[i].conn.state = .writing
            write(i)
        }
    }

    /// An idle kept-alive connection became readable: the server closed it (or misbehaved). Drop it now, so
    /// the next request opens a fresh one instead of failing on a dead socket. (On TLS, a session ticket is
    /// read here and keeps the connection: the transport then wants more.)
    func onIdleReadable(_ i: Int) {
        if Session.idleReadable(self, i) { return }
        if vus[i].conn.read(readBuffer, readCapacity) != .wantRead { closeConnection(i) }
    }

    /// Keeps EPOLLOUT in the interest set only while a call waits for the socket to be writable:
    /// the set is level-triggered, so a writable socket would wake the loop for nothing.
    @inline(__always)
    func setWantsWrite(_ i: Int, _ on: Bool) {
        guard vus[i].conn.wantsWrite != on else { return }
        vus[i].conn.wantsWrite = on
        _ = loop.modify(vus[i].conn.fd, events: on ? EPOLLIN.rawValue | EPOLLOUT.rawValue : EPOLLIN.rawValue, token: token(i))
    }

    func write(_ i: Int) {
        if vus[i].request.started == 0 { vus[i].request.started = monotonicMicros() }
        let remaining = vus[i].request.bytes.count - vus[i].request.written
        let result = vus[i].conn.write(vus[i].request.bytes.base! + vus[i].request.written, remaining)
        switch result {
        case .done(let n):
            vus[i].request.written += n
            if n == remaining {
                vus[i].conn.state = .reading
                // Written in one call: the send phase is that call's (not timed apart).
                // (Set once: HTTP/2's later frames — acknowledgements, more DATA — leave it.)
                if vus[i].request.clock.sent == 0 {
                    vus[i].request.clock.sent = n == vus[i].request.bytes.count ? vus[i].request.started : monotonicMicros()
                }
            }
            setWantsWrite(i, n != remaining)
        case .wantRead, .wantWrite:   // the transport says which readiness it waits for (EPOLLIN is always set)
            setWantsWrite(i, result == .wantWrite)
        default:
            if retryOnStaleConnection(i) { return }
            Session.fail(self, i, result == .tlsFailed ? tlsFailure(i, "TLS write", result) : .send(result.errno))
        }
    }

    /// Readable while a response is due: the bytes go to the session until it has what it waits for.
    func read(_ i: Int) {
        var result = vus[i].conn.read(readBuffer, readCapacity)
        while case .done(let n) = result {
            guard Session.received(self, i, readBuffer, n) else { return }
            // The transport may already hold the next bytes, which epoll cannot see: take them now.
            guard vus[i].conn.transport.hasBufferedBytes else { return }
            result = vus[i].conn.read(readBuffer, readCapacity)
        }
        switch result {
        case .wantRead, .wantWrite:   // the transport says which readiness it waits for
            setWantsWrite(i, result == .wantWrite)
        case .closed:
            Session.peerClosed(self, i)
        default:
            if retryOnStaleConnection(i) { return }
            Session.fail(self, i, result == .tlsFailed ? tlsFailure(i, "TLS read", result) : .receive(result.errno))
        }
    }

    /// A request sent on a kept-alive connection the server had already closed never reached it:
    /// resend it once on a new connection rather than fail it.
    func retryOnStaleConnection(_ i: Int) -> Bool {
        guard vus[i].conn.reused, !vus[i].request.retried, !vus[i].request.gotBytes else { return false }
        vus[i].request.retried = true
        vus[i].request.written = 0
        vus[i].request.started = 0
        vus[i].request.clock.sent = 0
        Session.restart(self, i)
        connect(i)
        return true
    }

    @inline(__always)
    func closeConnection(_ i: Int) {
        Session.connectionClosed(self, i)
        vus[i].conn.close()
    }
}

extension IOResult {
    /// The errno of `.failed`; EPIPE for the rest, which are not errors of the socket.
    var errno: Int32 {
        if case .failed(let e) = self { return e }
        return EPIPE
    }
}
