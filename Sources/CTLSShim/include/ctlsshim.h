// Inline wrappers for OpenSSL's function-like macros, which Swift cannot import.
#ifndef CTLSSHIM_H
#define CTLSSHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/// TLS 1.2 at least; partial writes (SSL_write returns after each record, as send(2) returns a short count);
/// the write buffer may move between retries; an EOF without close_notify reads as an EOF, as on plain TCP
/// (the HTTP parser decides whether the response was whole); client-side session caching with the
/// new-session callback only: sessions live in the VUs, not in the context's shared (locked) store.
static inline void tls_ctx_configure(SSL_CTX *ctx) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    /* One read(2) per record instead of two (header, then body); the reader drains with SSL_has_pending. */
    SSL_CTX_set_read_ahead(ctx, 1);
}

static inline int tls_set_sni(SSL *ssl, const char *host) { return (int)SSL_set_tlsext_host_name(ssl, host); }
static inline int tls_set_app_data(SSL *ssl, void *data) { return SSL_set_app_data(ssl, data); }
static inline void *tls_get_app_data(const SSL *ssl) { return SSL_get_app_data(ssl); }

#endif
