import COpenSSL
import CTLSShim
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// How https connections verify the server and which client certificate they present (CLI: -k, --cacert,
/// --cert, --key).
public struct TLSOptions: Sendable {
    /// No verification of the server's certificate or name.
    public var insecure = false
    /// PEM file of CA certificates to trust instead of the system store.
    public var caFile: String?
    /// PEM client certificate (chain) for servers that ask for one; its key is in `keyFile`, or in this file.
    public var certFile: String?
    public var keyFile: String?
    /// ALPN offers h2 before http/1.1 (HTTP/2 unless --http1.1).
    public var offerH2 = false

    public init() {}
}

/// Why a TLS context could not be set up: one line for the user (a file that cannot be read, holds no
/// certificate, a key that does not match its certificate).
public struct TLSSetupError: Error, CustomStringConvertible {
    public var description: String
}

/// One worker thread's OpenSSL client context. Per thread rather than shared: OpenSSL's context is
/// thread-safe, but through locks and reference counts that every connection of every thread would touch.
public final class TLSContext {
    let ctx: OpaquePointer
    let verifies: Bool

    /// `systemStore: false` skips loading the system's CA certificates (tens of ms): for checking the
    /// option files before traffic, where only the files matter.
    public init(_ options: TLSOptions, systemStore: Bool = true) throws {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else {
            throw TLSSetupError(description: "cannot create a TLS context: " + (TLS.queuedError() ?? "out of memory"))
        }
        self.ctx = ctx
        verifies = !options.insecure
        tls_ctx_configure(ctx)
        // Length-prefixed protocol list: h2 first when the run may speak HTTP/2 (the server picks).
        let alpn: [UInt8] = (options.offerH2 ? [2] + Array("h2".utf8) : []) + [8] + Array("http/1.1".utf8)
        _ = SSL_CTX_set_alpn_protos(ctx, alpn, UInt32(alpn.count))
        SSL_CTX_set_verify(ctx, verifies ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        SSL_CTX_sess_set_new_cb(ctx, tlsNewSession)

        if let ca = options.caFile {
            try Self.checkReadable(ca, option: "--cacert")
            ERR_clear_error()
            guard SSL_CTX_load_verify_locations(ctx, ca, nil) == 1 else {
                throw TLSSetupError(description: "--cacert \(ca): no PEM CA certificate in it (\(TLS.queuedError() ?? "none found"))")
            }
        } else if verifies && systemStore {
            SSL_CTX_set_default_verify_paths(ctx)
        }
        if let cert = options.certFile {
            let key = options.keyFile ?? cert
            try Self.checkReadable(cert, option: "--cert")
            try Self.checkReadable(key, option: "--key")
            ERR_clear_error()
            guard SSL_CTX_use_certificate_chain_file(ctx, cert) == 1 else {
                throw TLSSetupError(description: "--cert \(cert): no PEM certificate in it (\(TLS.queuedError() ?? "none found"))")
            }
            ERR_clear_error()
            guard SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 else {
                if options.keyFile == nil { throw TLSSetupError(description: "--cert \(cert) holds no private key: give it with --key") }
                throw TLSSetupError(description: "--key \(key): not a PEM private key for the certificate in --cert \(cert) (\(TLS.queuedError() ?? "none found"))")
            }
            guard SSL_CTX_check_private_key(ctx) == 1 else {
                throw TLSSetupError(description: "--key \(key) does not match the certificate in --cert \(cert)")
            }
        } else if options.keyFile != nil {
            throw TLSSetupError(description: "--key needs --cert")
        }
        ERR_clear_error()
    }

    deinit { SSL_CTX_free(ctx) }

    private static func checkReadable(_ path: String, option: String) throws {
        if access(path, R_OK) != 0 {
            throw TLSSetupError(description: "cannot read \(option) \(path): " + Sys.describe(errno: errno))
        }
    }

    /// A client connection over the connected socket `fd`: SNI and name verification for the endpoint's
    /// host (IP literals get no SNI, and are checked against the certificate's IP addresses), and the
    /// connection's last session with this endpoint to resume. nil when OpenSSL cannot allocate one.
    func connection(fd: Int32, endpoint: Endpoint, owner: UnsafeMutablePointer<Connection>, session: OpaquePointer?) -> OpaquePointer? {
        guard let ssl = SSL_new(ctx) else { return nil }
        SSL_set_fd(ssl, fd)
        SSL_set_connect_state(ssl)
        _ = tls_set_app_data(ssl, owner)   // for tlsNewSession
        if endpoint.hostIsIP {
            if verifies { X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), endpoint.host) }
        } else {
            _ = tls_set_sni(ssl, endpoint.host)
            if verifies { SSL_set1_host(ssl, endpoint.host) }
        }
        if let session { SSL_set_session(ssl, session) }   // takes its own reference
        return ssl
    }
}

/// OpenSSL hands over each new session here (TLS 1.3 tickets arrive after the handshake, during reads, so
/// SSL_get1_session right after the handshake would miss them). The connection keeps the latest, tagged
/// with the endpoint, for its next connect there. Returning 1 tells OpenSSL the reference is now ours.
private let tlsNewSession: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
    guard let ssl, let session, let owner = tls_get_app_data(ssl) else { return 0 }
    let conn = owner.assumingMemoryBound(to: Connection.self)
    if let old = conn.pointee.session { SSL_SESSION_free(old) }
    conn.pointee.session = session
    conn.pointee.sessionEndpoint = conn.pointee.endpoint
    return 1
}

/// Per-connection calls of the TLS transport, each returning an `IOResult` like the plain one.
/// The error queue and errno are cleared before each call, so neither reports a stale error.
enum TLS {
    /// `.done(1)` when finished; `.wantRead` / `.wantWrite`; `.closed` when the server closed; `.failed`; `.tlsFailed`.
    @inline(never)
    static func handshake(_ ssl: OpaquePointer) -> IOResult {
        errno = 0
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        return rc == 1 ? .done(1) : outcome(ssl, rc)
    }

    /// Like read(2): `.done(bytes)`, `.closed` at the end of the stream (close_notify, or EOF), `.wantRead`
    /// until readable; also `.wantWrite` (the record layer must send first), `.failed`, `.tlsFailed`.
    @inline(never)
    static func read(_ ssl: OpaquePointer, _ buf: UnsafeMutableRawPointer, _ count: Int) -> IOResult {
        errno = 0
        ERR_clear_error()
        let rc = SSL_read(ssl, buf, Int32(min(count, Int(Int32.max))))
        return rc > 0 ? .done(Int(rc)) : outcome(ssl, rc)
    }

    /// Like send(2): `.done(bytes)` (one record or more: partial writes are on), `.wantWrite` until writable;
    /// also `.wantRead`, `.failed`, `.tlsFailed`. A repeat after a want must pass the same bytes.
    @inline(never)
    static func write(_ ssl: OpaquePointer, _ buf: UnsafeRawPointer, _ count: Int) -> IOResult {
        errno = 0
        ERR_clear_error()
        let rc = SSL_write(ssl, buf, Int32(min(count, Int(Int32.max))))
        if rc > 0 { return .done(Int(rc)) }
        let r = outcome(ssl, rc)
        return r == .closed ? .failed(EPIPE) : r   // the peer's close_notify: nothing more can be sent
    }

    @inline(__always)
    private static func outcome(_ ssl: OpaquePointer, _ rc: Int32) -> IOResult {
        let err = errno   // before anything else can touch it
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL: return err != 0 ? .failed(err) : .tlsFailed
        default: return .tlsFailed
        }
    }

    /// Ends a connection: a close_notify when it is healthy and past its handshake (sent, not awaited),
    /// then the SSL object is freed. The caller closes the socket.
    static func close(_ ssl: OpaquePointer, cleanly: Bool) {
        if cleanly && SSL_is_init_finished(ssl) == 1 {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
        }
        SSL_free(ssl)
    }

    /// The text of a failure (`result` from the calls above), prefixed by `phase`, e.g.
    /// "TLS handshake: certificate verify failed: self-signed certificate". Only on the failure path.
    static func failureMessage(_ ssl: OpaquePointer, phase: String, result: IOResult) -> String {
        switch result {
        case .tlsFailed:
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK && SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER != 0 {
                return phase + ": certificate verify failed: " + String(cString: X509_verify_cert_error_string(verify))
            }
            if let reason = queuedError() { return phase + ": " + reason }
            return phase + ": connection closed by the server"
        case .failed(let err):
            return phase + ": " + Sys.describe(errno: err)
        default:
            return phase + ": connection closed by the server"
        }
    }

    /// OpenSSL's reason for the first queued error, the cause ("wrong version number", "no start line"),
    /// or its full line; nil when none.
    static func queuedError() -> String? {
        let code = ERR_peek_error()
        guard code != 0 else { return nil }
        defer { ERR_clear_error() }
        if let reason = ERR_reason_error_string(code) { return String(cString: reason) }
        var buf = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buf, buf.count)
        return String(cString: buf)
    }
}

extension TLS {
    /// Whether OpenSSL holds bytes (decrypted or not) that epoll cannot see.
    @inline(__always)
    static func hasPending(_ ssl: OpaquePointer) -> Bool { SSL_has_pending(ssl) == 1 }

    /// Whether the handshake resumed the session offered.
    static func resumed(_ ssl: OpaquePointer) -> Bool { SSL_session_reused(ssl) == 1 }

    /// The server picked h2 by ALPN.
    static func negotiatedH2(_ ssl: OpaquePointer) -> Bool {
        var p: UnsafePointer<UInt8>? = nil
        var n: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &p, &n)
        return n == 2 && p![0] == 0x68 && p![1] == 0x32
    }

    static func free(session: OpaquePointer) { SSL_SESSION_free(session) }
}
