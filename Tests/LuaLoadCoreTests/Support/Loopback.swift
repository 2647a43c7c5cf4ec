import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Loopback sockets for the tests' own servers and for waiting on third-party ones.

func loopback(port: Int) -> sockaddr_in {
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_port = in_port_t(UInt16(port).bigEndian)
    a.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
    return a
}

func withSockaddr<T>(_ a: inout sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
}

/// A loopback listening socket on a port the kernel picks; returns (fd, port).
func listenSocket(backlog: Int32 = 128) throws -> (Int32, Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(4))
    var a = loopback(port: 0)
    guard withSockaddr(&a, { bind(fd, $0, $1) }) == 0, listen(fd, backlog) == 0 else {
        throw NSError(domain: "Loopback", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "cannot listen on loopback"])
    }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return (fd, Int(UInt16(bigEndian: a.sin_port)))
}

/// A port nobody listened on a moment ago. Between this and a server's bind another process can take it: a
/// server the test starts goes through onFreePorts/launchOnFreePort (Process.swift), which retry on another.
func freePort() throws -> Int {
    let (fd, port) = try listenSocket()
    close(fd)
    return port
}

/// Whether something listens on loopback `port` now.
func canConnect(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var a = loopback(port: port)
    return withSockaddr(&a) { connect(fd, $0, $1) } == 0
}

/// One request over a fresh connection to a loopback address; the whole response, read to the server's close
/// (5 s receive limit). nil when the connection is refused.
func loopbackExchange(address: String = "127.0.0.1", port: Int, _ request: String) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var tv = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var addr = loopback(port: port)
    inet_pton(AF_INET, address, &addr.sin_addr)
    guard withSockaddr(&addr, { connect(fd, $0, $1) }) == 0 else { return nil }
    _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var got: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        got += buf[0..<n]
    }
    return String(decoding: got, as: UTF8.self)
}
