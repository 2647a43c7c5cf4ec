import CPosix
#if canImport(Glibc)
import Glibc
#endif

/// Where requests go: scheme, host, port and the resolved socket address (resolved once, at first use).
public struct Endpoint {
    public var tls: Bool
    public var host: String
    /// An IPv4 or IPv6 literal: TLS sends no SNI for it and checks it against the certificate's IP addresses.
    public var hostIsIP: Bool
    public var port: UInt16
    /// Bytes of the Host header value ("host" or "host:port" when the port is not the scheme's default).
    public var hostHeader: [UInt8]
    public var address = sockaddr_storage()
    public var addressLength: socklen_t = 0
    public var family: Int32 = AF_INET

    /// Parses "http://host[:port][/...]" or "https://…"; returns nil for anything else.
    /// IPv6 literals go in brackets: "http://[::1]:8080".
    public init?(url: String) {
        guard let parsed = URLParts(url) else { return nil }
        tls = parsed.tls
        host = parsed.host
        port = parsed.port
        var scratch = in6_addr()
        hostIsIP = inet_pton(AF_INET, host, &scratch) == 1 || inet_pton(AF_INET6, host, &scratch) == 1
        let defaultPort: UInt16 = tls ? 443 : 80
        let shownHost = host.contains(":") ? "[\(host)]" : host
        hostHeader = Array((port == defaultPort ? shownHost : "\(shownHost):\(port)").utf8)
    }

    /// Resolves the host with getaddrinfo (blocking: done before traffic or once per new host).
    /// Returns an error message, or nil on success.
    public mutating func resolve() -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            return "cannot resolve \(host): \(String(cString: gai_strerror(rc)))"
        }
        defer { freeaddrinfo(result) }
        family = first.pointee.ai_family
        addressLength = first.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &address) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return nil
    }
}

/// The pieces of an absolute http(s) URL.
public struct URLParts {
    public var tls: Bool
    public var host: String
    public var port: UInt16
    /// Path and query, "/" when the URL has none.
    public var target: String

    public init?(_ url: String) {
        let bytes = Array(url.utf8)
        let rest: ArraySlice<UInt8>
        if bytes.starts(with: Array("http://".utf8)) {
            tls = false; rest = bytes[7...]
        } else if bytes.starts(with: Array("https://".utf8)) {
            tls = true; rest = bytes[8...]
        } else {
            return nil
        }
        let authorityEnd = rest.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }) ?? rest.endIndex
        let authority = rest[rest.startIndex..<authorityEnd]
        var t = String(decoding: rest[authorityEnd...], as: UTF8.self)
        if t.isEmpty { t = "/" } else if t.hasPrefix("?") { t = "/" + t }
        target = t
        var hostPart: ArraySlice<UInt8>
        var portPart: ArraySlice<UInt8>? = nil
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            hostPart = authority[(authority.startIndex + 1)..<close]
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { return nil }
                portPart = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: UInt8(ascii: ":")) {
            hostPart = authority[authority.startIndex..<colon]
            portPart = authority[(colon + 1)...]
        } else {
            hostPart = authority
        }
        guard !hostPart.isEmpty, !hostPart.contains(UInt8(ascii: "@")) else { return nil }
        host = String(decoding: hostPart, as: UTF8.self)
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let p = Int(String(decoding: portPart, as: UTF8.self)), p > 0, p <= 65535 else { return nil }
            port = UInt16(p)
        } else {
            port = tls ? 443 : 80
        }
    }
}
