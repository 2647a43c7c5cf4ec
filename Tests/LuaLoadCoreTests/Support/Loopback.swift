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
