import COpenSSL
import CTLSShim
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// TLS on the agent link (OpenSSL, as the engine's HTTPS): the controller presents `--link-cert`/`--link-key`;
/// an agent given `--cacert` verifies it (chain and the controller's name or IP) before it sends its token.
public final class LinkTLS {
    let ctx: OpaquePointer
    let isServer: Bool

    /// The controller's side.
    public init(certificate: String, key: String) throws {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw LinkError("cannot create a TLS context") }
        self.ctx = ctx
        isServer = true
        tls_ctx_configure(ctx)
        ERR_clear_error()
        guard SSL_CTX_use_certificate_chain_file(ctx, certificate) == 1 else {
            throw UsageError("--link-cert \(certificate): no PEM certificate in it (\(TLS.queuedError() ?? "cannot read it"))")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1, SSL_CTX_check_private_key(ctx) == 1 else {
            throw UsageError("--link-key \(key): not the PEM private key of --link-cert \(certificate) (\(TLS.queuedError() ?? "it does not match"))")
        }
    }

    /// An agent's side: trusts the CA certificates in `caFile`.
    public init(caFile: String) throws {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw LinkError("cannot create a TLS context") }
        self.ctx = ctx
        isServer = false
        tls_ctx_configure(ctx)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        ERR_clear_error()
        guard access(caFile, R_OK) == 0, SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
            throw UsageError("--cacert \(caFile): no PEM CA certificate in it (\(TLS.queuedError() ?? Sys.describe(errno: errno)))")
        }
    }

    deinit { SSL_CTX_free(ctx) }

    /// A TLS session over `fd`; an agent's checks the certificate names `host` (a name, or an IP address).
    func session(fd: Int32, host: String?) -> OpaquePointer? {
        guard let ssl = SSL_new(ctx) else { return nil }
        SSL_set_fd(ssl, fd)
        if isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let host {
                if Endpoint.isIPLiteral(host) {
                    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
                } else {
                    _ = tls_set_sni(ssl, host)
                    SSL_set1_host(ssl, host)
                }
            }
        }
        return ssl
    }
}

extension LinkConnection {
    /// Puts TLS on this connection; the handshake then runs with `continueHandshake` / `handshake`.
    func startTLS(_ tls: LinkTLS, host: String?) throws {
        guard let ssl = tls.session(fd: fd, host: host) else { throw LinkError("cannot start TLS with \(peer)") }
        self.ssl = ssl
    }

    /// One step of the handshake: true once it is done, false while it waits for the socket; throws on failure.
    func continueHandshake() throws -> Bool {
        guard let ssl, !handshakeDone else { return true }
        let r = TLS.handshake(ssl)
        switch r {
        case .done: handshakeDone = true; return true
        case .wantRead, .wantWrite: return false
        default: throw LinkError(TLS.failureMessage(ssl, phase: "TLS handshake with \(peer)", result: r))
        }
    }

    /// The whole handshake, waiting up to `timeout` seconds.
    func handshake(timeout: Double) throws {
        let deadline = monotonicMicros() + UInt64(timeout * 1e6)
        while try !continueHandshake() {
            guard monotonicMicros() < deadline else { throw LinkError("TLS handshake with \(peer): no answer in \(Int(timeout)) s") }
            _ = Link.poll(fd, events: Int16(POLLIN | POLLOUT), timeoutMs: 100)
        }
    }
}

extension Endpoint {
    /// Whether `host` is an IPv4 or IPv6 literal.
    static func isIPLiteral(_ host: String) -> Bool {
        var a4 = in_addr(), a6 = in6_addr()
        return inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1
    }
}
