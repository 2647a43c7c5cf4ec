import CPosix
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// The agent link's address, "[HOST:]PORT" (HOST defaults to loopback; an IPv6 host in brackets).
public struct LinkAddress: CustomStringConvertible, Sendable {
    public var host: String
    public var port: UInt16

    public init?(_ text: String) {
        var host = "127.0.0.1"
        var portText = Substring(text)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = text[text.index(close, offsetBy: 2)...]
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = UInt16(portText) else { return nil }
        self.host = host
        self.port = port
    }

    /// Whether only this machine can reach it (then a token is still asked, but no one else can try).
    public var isLoopback: Bool { host == "localhost" || host.hasPrefix("127.") || host == "::1" }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct LinkError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One end of the agent link: a TCP socket carrying length-prefixed frames (a 4-byte big-endian length,
/// then that many bytes of JSON). Frames over `maxFrame` are refused before any of them is buffered, so a
/// peer cannot make this side allocate more. Non-blocking; waits go through poll(2) with a deadline.
public final class LinkConnection {
    public let fd: Int32
    /// "1.2.3.4:5678", for messages.
    public let peer: String
    /// The largest frame accepted (bytes).
    public var maxFrame: Int
    private var inbox: [UInt8] = []
    private var consumed = 0
    public private(set) var isClosed = false
    /// The TLS session, when the link has TLS (LinkTLS.swift).
    var ssl: OpaquePointer?
    var handshakeDone = false

    init(fd: Int32, peer: String, maxFrame: Int) {
        self.fd = fd
        self.peer = peer
        self.maxFrame = maxFrame
    }

    deinit { close() }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        if let ssl { TLS.close(ssl, cleanly: handshakeDone); self.ssl = nil }
        Sys.close(fd)
    }

    /// read(2), or SSL_read: bytes, 0 at the end, -EAGAIN when there is nothing now, else -errno.
    private func readSome(_ buf: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard let ssl else { return Sys.read(fd, buf, count) }
        if !handshakeDone {
            guard let done = try? continueHandshake() else { return -Int(EPROTO) }
            if !done { return -Int(EAGAIN) }
        }
        switch TLS.read(ssl, buf, count) {
        case .done(let n): return n
        case .wantRead, .wantWrite: return -Int(EAGAIN)
        case .closed: return 0
        case .failed(let e): return -Int(e)
        case .tlsFailed: return -Int(EPROTO)
        }
    }

    /// send(2), or SSL_write: bytes sent, -EAGAIN when the socket is full, else -errno.
    private func writeSome(_ buf: UnsafeRawPointer, _ count: Int) -> Int {
        guard let ssl else { return Sys.send(fd, buf, count) }
        if !handshakeDone {
            guard let done = try? continueHandshake() else { return -Int(EPROTO) }
            if !done { return -Int(EAGAIN) }
        }
        switch TLS.write(ssl, buf, count) {
        case .done(let n): return n
        case .wantRead, .wantWrite: return -Int(EAGAIN)
        case .failed(let e): return -Int(e)
        default: return -Int(EPROTO)
        }
    }

    /// Reads whatever the socket holds now; false at end of stream or on an error.
    public func pump() -> Bool {
        guard !isClosed else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { readSome($0.baseAddress!, $0.count) }
            if n > 0 { inbox += chunk[0..<n]; if n < chunk.count && ssl == nil { return true }; continue }
            if n == -Int(EAGAIN) || n == -Int(EINTR) { return true }
            return false   // 0: the peer closed; else an error (ECONNRESET…)
        }
    }

    /// The next whole frame already read, if any; throws when its length is over the cap.
    public func nextFrame() throws -> [UInt8]? {
        let available = inbox.count - consumed
        guard available >= 4 else { return nil }
        let b = inbox[consumed..<consumed + 4]
        let length = Int(b[b.startIndex]) << 24 | Int(b[b.startIndex + 1]) << 16 | Int(b[b.startIndex + 2]) << 8 | Int(b[b.startIndex + 3])
        guard length <= maxFrame else { throw LinkError("a message of \(length) bytes (the limit is \(maxFrame))") }
        guard available >= 4 + length else { return nil }
        let frame = Array(inbox[consumed + 4..<consumed + 4 + length])
        consumed += 4 + length
        if consumed == inbox.count { inbox.removeAll(keepingCapacity: true); consumed = 0 }
        else if consumed > 1 << 20 { inbox.removeFirst(consumed); consumed = 0 }
        return frame
    }

    /// Waits up to `timeout` seconds for a whole frame: nil at the deadline; throws when the peer closed. A frame
    /// read together with the end (a refusal and the close, in one TLS read) is returned first.
    public func receive(timeout: Double) throws -> [UInt8]? {
        let deadline = monotonicMicros() + UInt64(max(0, timeout) * 1e6)
        while true {
            if let frame = try nextFrame() { return frame }
            let now = monotonicMicros()
            guard now < deadline else { return nil }
            if Link.poll(fd, events: Int16(POLLIN), timeoutMs: Int32(min((deadline - now) / 1000 + 1, 1000))) {
                let open = pump()
                if let frame = try nextFrame() { return frame }
                guard open else { throw LinkError("\(peer) closed the connection") }
            }
        }
    }

    /// Sends one frame whole, waiting for room up to `timeout` seconds.
    public func send(_ payload: [UInt8], timeout: Double = 10) throws {
        guard !isClosed else { throw LinkError("the connection to \(peer) is closed") }
        let n = payload.count
        var frame = [UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
        frame += payload
        let deadline = monotonicMicros() + UInt64(timeout * 1e6)
        var sent = 0
        while sent < frame.count {
            let w = frame.withUnsafeBytes { writeSome($0.baseAddress! + sent, frame.count - sent) }
            if w > 0 { sent += w; continue }
            guard w == -Int(EAGAIN) || w == -Int(EINTR) else { throw LinkError("sending to \(peer): \(Sys.describe(errno: Int32(-w)))") }
            let now = monotonicMicros()
            guard now < deadline else { throw LinkError("sending to \(peer): no progress for \(Int(timeout)) s") }
            _ = Link.poll(fd, events: Int16(POLLOUT), timeoutMs: Int32(min((deadline - now) / 1000 + 1, 1000)))
        }
    }
}

/// Sockets of the agent link.
public enum Link {
    /// The frame size limits: a peer that has not authenticated may send only a small hello; the run's
    /// files and a final report may be large.
    public static let helloLimit = 64 * 1024
    public static let messageLimit = 256 * 1024 * 1024

    /// Waits for `events` on `fd`; true when they (or an error) came.
    static func poll(_ fd: Int32, events: Int16, timeoutMs: Int32) -> Bool {
        var p = pollfd(fd: fd, events: events, revents: 0)
        return Glibc.poll(&p, 1, timeoutMs) > 0
    }

    private static func addresses(_ a: LinkAddress, passive: Bool) throws -> [(family: Int32, addr: [UInt8])] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE : 0
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(a.host, String(a.port), &hints, &list)
        guard rc == 0, let first = list else { throw LinkError("cannot resolve \(a.host): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(list) }
        var out: [(Int32, [UInt8])] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p {
            out.append((ai.pointee.ai_family, Array(UnsafeRawBufferPointer(start: ai.pointee.ai_addr, count: Int(ai.pointee.ai_addrlen)))))
            p = ai.pointee.ai_next
        }
        return out
    }

    /// A listening socket on `a` (port 0: any free port), and the port it got.
    public static func listen(_ a: LinkAddress) throws -> (fd: Int32, port: UInt16) {
        guard let target = try addresses(a, passive: true).first else { throw LinkError("no address for \(a)") }
        let fd = Sys.tcpSocket(family: target.family)
        guard fd >= 0 else { throw LinkError("socket: \(Sys.describe(errno: -fd))") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = target.addr.withUnsafeBytes { Glibc.bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else {
            let e = errno
            Sys.close(fd)
            throw LinkError("cannot listen on \(a): \(Sys.describe(errno: e))")
        }
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, port(of: storage))
    }

    /// The next pending connection on `listener`, if any.
    public static func accept(_ listener: Int32, maxFrame: Int = helloLimit) -> LinkConnection? {
        let fd = cposix_accept4(listener, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &len) } }
        return LinkConnection(fd: fd, peer: describe(storage), maxFrame: maxFrame)
    }

    /// Connects to `a`, trying its addresses in turn, each for up to `timeout` seconds.
    public static func connect(_ a: LinkAddress, timeout: Double, maxFrame: Int = messageLimit) throws -> LinkConnection {
        var last = "no address"
        for target in try addresses(a, passive: false) {
            let fd = Sys.tcpSocket(family: target.family)
            guard fd >= 0 else { last = Sys.describe(errno: -fd); continue }
            var rc = target.addr.withUnsafeBytes { Sys.connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) }
            if rc == -EINPROGRESS {
                rc = poll(fd, events: Int16(POLLOUT), timeoutMs: Int32(timeout * 1000)) ? -Sys.socketError(fd) : -ETIMEDOUT
            }
            if rc == 0 { return LinkConnection(fd: fd, peer: a.description, maxFrame: maxFrame) }
            last = Sys.describe(errno: -rc)
            Sys.close(fd)
        }
        throw LinkError("cannot connect to \(a): \(last)")
    }

    private static func port(of s: sockaddr_storage) -> UInt16 {
        var s = s
        return withUnsafeBytes(of: &s) { b in UInt16(b[2]) << 8 | UInt16(b[3]) }   // sin_port / sin6_port: same offset, network order
    }

    private static func describe(_ s: sockaddr_storage) -> String {
        var s = s
        var host = [CChar](repeating: 0, count: 64)
        let family = Int32(s.ss_family)
        withUnsafeMutableBytes(of: &s) { b in
            let at = family == AF_INET6 ? 8 : 4   // sin6_addr / sin_addr
            _ = inet_ntop(family, b.baseAddress! + at, &host, socklen_t(host.count))
        }
        let p = port(of: s)
        let h = String(cString: host)
        return family == AF_INET6 ? "[\(h)]:\(p)" : "\(h):\(p)"
    }
}
