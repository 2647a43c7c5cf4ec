import CPosix
import LuaLoadHTTP
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// Accepting, reading, writing and closing (level-triggered: few connections, simple code).
extension LiveServer {
    func acceptAll() {
        while true {
            let fd = ServerSys.accept(listenFD)
            if fd == -EINTR || fd == -ECONNABORTED { continue }
            guard fd >= 0 else { return }
            if conns.count >= limits.maxConnections { Sys.close(fd); continue }
            ServerSys.setNoDelay(fd)
            nextGen &+= 1
            let c = LiveConnection(fd: fd, gen: nextGen, now: monotonicMicros())
            guard loop.add(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue, token: c.token) == 0 else { Sys.close(fd); continue }
            conns[fd] = c
        }
    }

    func service(_ c: LiveConnection, events: UInt32) {
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { close(c); return }
        if events & EPOLLOUT.rawValue != 0 { flush(c); if conns[c.fd] !== c { return } }
        guard events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Sys.read(c.fd, $0.baseAddress!, $0.count) }
            if n == -Int(EINTR) { continue }
            if n == -Int(EAGAIN) { break }
            if n <= 0 { close(c); return }   // the peer closed, or an error
            // A stream's client has nothing more to say; the rest is bounded by the largest request.
            if c.channel != nil || c.closeAfterFlush { continue }
            c.input.append(contentsOf: chunk[0..<n])
            if c.input.count > limits.request.maxHead + limits.request.maxBody { reject(c, 413); return }
        }
        handleInput(c)
    }

    /// Answers each complete request in `input`, in order.
    private func handleInput(_ c: LiveConnection) {
        while c.channel == nil, !c.closeAfterFlush, !c.input.isEmpty {
            let step: (consumed: Int, response: LiveResponse?, close: Bool)? = c.input.withUnsafeBufferPointer { buf in
                let b = buf.baseAddress!
                var scan = 0
                guard let end = HTTPRequestParser.findHeadEnd(b, start: 0, scanFrom: &scan, end: buf.count) else {
                    return buf.count > limits.request.maxHead ? (0, LiveServer.errorResponse(431), true) : nil
                }
                if end > limits.request.maxHead { return (0, LiveServer.errorResponse(431), true) }
                switch HTTPRequestParser.parseHead(b, start: 0, headEnd: end, limits: limits.request) {
                case .bad(let status):
                    return (0, LiveServer.errorResponse(status), true)
                case .ok(let head):
                    guard end + head.contentLength <= buf.count else { return nil }   // the body is on its way
                    return (end + head.contentLength, answer(b, head), !head.keepAlive)
                }
            }
            guard let step else { return }
            if step.consumed > 0 { c.input.removeFirst(step.consumed) } else { c.input.removeAll() }
            c.lastActive = monotonicMicros()
            if let r = step.response { write(c, r, close: step.close) }
        }
    }

    func reject(_ c: LiveConnection, _ status: Int) {
        c.input.removeAll()
        write(c, LiveServer.errorResponse(status), close: true)
    }

    static func errorResponse(_ status: Int) -> LiveResponse {
        .text(String(status) + " " + (reasonPhrase(status).map { "\($0)" } ?? "Error"), status: status)
    }

    /// Queues the response's head and body and starts sending.
    func write(_ c: LiveConnection, _ r: LiveResponse, close: Bool) {
        var head = "HTTP/1.1 \(r.status) \(reasonPhrase(r.status).map { "\($0)" } ?? "Status")\r\n"
        head += "Content-Type: \(r.contentType)\r\nX-Content-Type-Options: nosniff\r\n"
        for h in r.headers { head += h + "\r\n" }
        if r.eventChannel != nil {
            head += "Connection: close\r\n\r\n"   // the stream's end is the connection's
            c.channel = r.eventChannel
        } else {
            if !r.headers.contains(where: { $0.lowercased().hasPrefix("cache-control:") }) { head += "Cache-Control: no-store\r\n" }
            head += "Content-Length: \(r.body.count)\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n"
            c.closeAfterFlush = close
        }
        c.out.append(contentsOf: Array(head.utf8))
        c.out.append(contentsOf: r.body)
        flush(c)
    }

    /// Sends what it can; watches for writability while output waits; closes when a closing response is out.
    func flush(_ c: LiveConnection) {
        while c.outSent < c.out.count {
            let n = c.out.withUnsafeBytes { Sys.send(c.fd, $0.baseAddress! + c.outSent, $0.count - c.outSent) }
            if n > 0 { c.outSent += n; continue }
            if n == -Int(EINTR) { continue }
            if n == -Int(EAGAIN) { break }
            close(c)
            return
        }
        if c.outSent == c.out.count {
            c.out.removeAll(keepingCapacity: c.out.capacity <= 256 * 1024)
            c.outSent = 0
            if c.closeAfterFlush { ServerSys.shutdownWrite(c.fd); close(c); return }
        } else if c.outSent >= 64 * 1024 {
            c.out.removeFirst(c.outSent)
            c.outSent = 0
        }
        let wantWrites = c.outSent < c.out.count
        if wantWrites != c.watchingWrites {
            c.watchingWrites = wantWrites
            let events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (wantWrites ? EPOLLOUT.rawValue : 0)
            _ = loop.modify(c.fd, events: events, token: c.token)
        }
    }

    func close(_ c: LiveConnection) {
        guard conns[c.fd] === c else { return }
        conns[c.fd] = nil
        Sys.close(c.fd)
    }

    /// Connections that sent no complete request for `idleSeconds` (streams excepted) are closed.
    func closeIdle() {
        let now = monotonicMicros()
        let limit = limits.idleSeconds * 1_000_000
        for c in Array(conns.values) where c.channel == nil && now - c.lastActive > limit { close(c) }
    }
}
