/*
 * TLS for the user agent's own transport (net.c): a client context that
 * verifies servers against a CA bundle (or the system's, or nothing with
 * --insecure), and the blocking-then-non-blocking use of one SSL per
 * connection. RFC 5922: the server's certificate must name the host
 * the user gave (the proxy or the Request-URI's host): a DNS name is
 * matched against dNSName subjectAltNames (and sent as SNI), an address
 * against iPAddress ones.
 *
 * Memory: the context is net.c's; an SSL is its connection's, freed with
 * it (sk__ua_tls_close).
 */
#include "ua/ua_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#define HANDSHAKE_TIMEOUT_S 5

int sk__ua_tls_ctx(SSL_CTX **out, const char *ca_file, bool insecure)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL)
        return SK_ENOMEM;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (ca_file != NULL && ca_file[0] != '\0') {
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
            SK_LOG(SK_LOG_ERROR, "ua", "event=tls_ca_unreadable file=\"%s\"", ca_file);
            SSL_CTX_free(ctx);
            ERR_clear_error();
            return SK_EINVAL;
        }
    } else {
        (void)SSL_CTX_set_default_verify_paths(ctx);
    }
    SSL_CTX_set_verify(ctx, insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    *out = ctx;
    return 0;
}

static bool is_address(const char *name)
{
    unsigned char b[16];

    return inet_pton(AF_INET, name, b) == 1 || inet_pton(AF_INET6, name, b) == 1;
}

int sk__ua_tls_connect(SSL_CTX *ctx, int fd, const char *name, SSL **out)
{
    struct timeval tv = {HANDSHAKE_TIMEOUT_S, 0};
    SSL *ssl = SSL_new(ctx);
    char e[160];
    int rc;

    if (ssl == NULL)
        return SK_ENOMEM;
    if (is_address(name)) {
        rc = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : SK_EINVAL;
    } else {
        rc = SSL_set1_host(ssl, name) == 1 && SSL_set_tlsext_host_name(ssl, name) == 1 ? 0
                                                                                       : SK_EINVAL;
    }
    if (rc != 0 || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return SK_EINVAL;
    }
    /* The socket blocks during the handshake, for a bounded time. */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (SSL_connect(ssl) != 1) {
        long v = SSL_get_verify_result(ssl);
        unsigned long err = ERR_get_error();
        ERR_error_string_n(err, e, sizeof(e));
        SK_LOG(SK_LOG_WARN, "ua",
               "event=tls_handshake_failed server=\"%s\" error=\"%s\" verify=\"%s\"", name,
               err != 0 ? e : "connection closed",
               v == X509_V_OK ? "ok" : X509_verify_cert_error_string(v));
        ERR_clear_error();
        SSL_free(ssl);
        return -EPROTO;
    }
    SK_LOG(SK_LOG_DEBUG, "ua", "event=tls_established server=\"%s\" version=%s", name,
           SSL_get_version(ssl));
    *out = ssl;
    return 0;
}

int sk__ua_tls_write(SSL *ssl, int fd, const char *data, size_t len)
{
    while (len > 0) {
        int w = SSL_write(ssl, data, (int)len);
        if (w > 0) {
            data += w;
            len -= (size_t)w;
            continue;
        }
        int se = SSL_get_error(ssl, w);
        struct pollfd p = {.fd = fd, .events = se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
        if ((se != SSL_ERROR_WANT_WRITE && se != SSL_ERROR_WANT_READ) || poll(&p, 1, 5000) <= 0) {
            ERR_clear_error();
            return SK_EIO;
        }
    }
    return 0;
}

long sk__ua_tls_read(SSL *ssl, char *buf, size_t cap)
{
    int r = SSL_read(ssl, buf, (int)cap);

    if (r > 0)
        return r;
    int se = SSL_get_error(ssl, r);
    ERR_clear_error();
    if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
        return SK_EAGAIN;
    return 0; /* closed or failed */
}

bool sk__ua_tls_pending(SSL *ssl)
{
    return SSL_pending(ssl) > 0;
}

void sk__ua_tls_close(SSL *ssl)
{
    if (ssl == NULL)
        return;
    (void)SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
}
