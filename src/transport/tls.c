/*
 * SIP over TLS (RFC 3261 §26.2, RFC 5630, RFC 5922): a layer (struct
 * sk__layer_ops, internal.h) that tcp.c puts on an accepted connection of
 * a TLS listener or on an outgoing connection for a TLS destination.
 * Everything else about the connection (framing, reuse by RFC 5923 alias
 * through the registry, limits, timeouts, who owns it) stays tcp.c's.
 *
 * OpenSSL runs on memory BIOs, not on the socket: libuv keeps reading and
 * writing the socket as for plain TCP, the bytes read are written into the
 * SSL's read BIO, and whatever OpenSSL puts in its write BIO (handshake
 * records, encrypted messages) is written out with sk__layer_down(). So
 * the handshake never blocks the loop, libuv's write queue and the
 * per-connection buffer cap apply to TLS unchanged, and a WebSocket layer
 * can sit on top (wss) without knowing TLS is below (docs/architecture.md).
 *
 * Verification: a listener asks for a client certificate when
 * verify_client says so and checks it against ca_file. An outgoing
 * connection verifies the server's chain against ca_file (or the system
 * bundle) and its identity (RFC 5922) against the destination: the
 * proxy forwards to numeric hosts only, so that is the address, matched
 * against the certificate's IP subjectAltName.
 *
 * Reload (SIGHUP): new contexts are built from the files and swapped in
 * under a lock; a connection's SSL holds a reference to the context it
 * was made from, so open connections keep their certificate.
 *
 * Memory: struct sk__tls (the contexts) is the transport's; struct tconn
 * (one SSL and the plaintext queued while the handshake runs) is its
 * connection's, freed with it.
 */
#include "transport/internal.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>

struct sk__tls {
    uv_mutex_t lock;
    SSL_CTX *server; /* NULL without a certificate: no TLS listener */
    SSL_CTX *client;
};

struct tconn {
    SSL *ssl;
    BIO *net_in;        /* bytes from the peer, for OpenSSL to read */
    BIO *net_out;       /* bytes from OpenSSL, for the peer */
    struct sk_buf held; /* messages sent before the handshake ended */
    bool server, established;
};

int sk_tls_verify_parse(const char *text, enum sk_tls_verify *out)
{
    static const char *const names[] = {"none", "optional", "required"};

    for (unsigned i = 0; i < 3; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (enum sk_tls_verify)i;
            return 0;
        }
    }
    return SK_EINVAL;
}

int sk_tls_version_parse(const char *text, int *out)
{
    if (strcmp(text, "1.2") == 0)
        *out = TLS1_2_VERSION;
    else if (strcmp(text, "1.3") == 0)
        *out = TLS1_3_VERSION;
    else
        return SK_EINVAL;
    return 0;
}

/* The first queued OpenSSL error as text, and the queue emptied. */
static const char *ssl_error_text(char *buf, size_t bufsz)
{
    unsigned long e = ERR_get_error();

    if (e == 0)
        snprintf(buf, bufsz, "unknown");
    else
        ERR_error_string_n(e, buf, bufsz);
    ERR_clear_error();
    return buf;
}

/* ---- contexts ------------------------------------------------------------- */

/* Settings both sides share: the protocol floor (RFC 3261 §26.2.1 names
 * TLS with AES; we hold to 1.2 and up), no renegotiation, ciphers. */
static int ctx_common(SSL_CTX *ctx, const struct sk_tls_config *cfg)
{
    char e[160];
    int min = cfg->min_version != 0 ? cfg->min_version : TLS1_2_VERSION;

    if (SSL_CTX_set_min_proto_version(ctx, min) != 1) {
        SK_LOG(SK_LOG_ERROR, "transport", "event=tls_config_failed what=min_version error=\"%s\"",
               ssl_error_text(e, sizeof(e)));
        return SK_EINVAL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    if (cfg->ciphers != NULL && cfg->ciphers[0] != '\0' &&
        SSL_CTX_set_cipher_list(ctx, cfg->ciphers) != 1) {
        SK_LOG(SK_LOG_ERROR, "transport",
               "event=tls_config_failed what=ciphers ciphers=\"%s\" error=\"%s\"", cfg->ciphers,
               ssl_error_text(e, sizeof(e)));
        return SK_EINVAL;
    }
    if (cfg->ca_file != NULL && cfg->ca_file[0] != '\0') {
        if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
            SK_LOG(SK_LOG_ERROR, "transport",
                   "event=tls_config_failed what=ca file=\"%s\" error=\"%s\"", cfg->ca_file,
                   ssl_error_text(e, sizeof(e)));
            return SK_EINVAL;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        ERR_clear_error(); /* no system bundle: verification fails later */
    }
    return 0;
}

static int ctx_cert(SSL_CTX *ctx, const struct sk_tls_config *cfg)
{
    char e[160];

    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        SK_LOG(SK_LOG_ERROR, "transport",
               "event=tls_config_failed what=certificate cert=\"%s\" key=\"%s\" error=\"%s\"",
               cfg->cert_file, cfg->key_file != NULL ? cfg->key_file : "",
               ssl_error_text(e, sizeof(e)));
        return SK_EINVAL;
    }
    return 0;
}

static SSL_CTX *server_ctx(const struct sk_tls_config *cfg)
{
    static const unsigned char sid[] = "sipkit";
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    int mode = SSL_VERIFY_NONE;

    if (ctx == NULL || ctx_common(ctx, cfg) != 0 || ctx_cert(ctx, cfg) != 0)
        goto fail;
    if (cfg->verify_client != SK_TLS_VERIFY_NONE) {
        mode = SSL_VERIFY_PEER;
        if (cfg->verify_client == SK_TLS_VERIFY_REQUIRED)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        if (cfg->ca_file != NULL && cfg->ca_file[0] != '\0') {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);
            if (names != NULL)
                SSL_CTX_set_client_CA_list(ctx, names);
        }
    }
    SSL_CTX_set_verify(ctx, mode, NULL);
    /* Sessions resumed under client verification need an id context. */
    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static SSL_CTX *client_ctx(const struct sk_tls_config *cfg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL || ctx_common(ctx, cfg) != 0)
        goto fail;
    /* RFC 5922: a server connecting to another presents its own
     * certificate when it has one, for mutual authentication. */
    if (cfg->cert_file != NULL && cfg->cert_file[0] != '\0' && ctx_cert(ctx, cfg) != 0)
        goto fail;
    SSL_CTX_set_verify(ctx, cfg->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* Both contexts from cfg, or neither. */
static int ctx_pair(const struct sk_tls_config *cfg, SSL_CTX **srv, SSL_CTX **cli)
{
    *srv = NULL;
    if (cfg->cert_file != NULL && cfg->cert_file[0] != '\0' && (*srv = server_ctx(cfg)) == NULL)
        return SK_EINVAL;
    *cli = client_ctx(cfg);
    if (*cli == NULL) {
        SSL_CTX_free(*srv);
        return SK_EINVAL;
    }
    return 0;
}

int sk__tls_new(struct sk__tls **out, const struct sk_tls_config *cfg)
{
    struct sk__tls *t = sk_calloc(1, sizeof(*t));
    int err;

    if (t == NULL)
        return SK_ENOMEM;
    if ((err = ctx_pair(cfg, &t->server, &t->client)) != 0) {
        sk_free(t);
        return err;
    }
    uv_mutex_init(&t->lock);
    *out = t;
    return 0;
}

void sk__tls_free(struct sk__tls *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->server);
    SSL_CTX_free(t->client);
    uv_mutex_destroy(&t->lock);
    sk_free(t);
}

int sk_tp_tls_reload(struct sk_tp *tp, const struct sk_tls_config *cfg)
{
    struct sk__tls *t = tp->tls;
    SSL_CTX *srv, *cli, *old_srv, *old_cli;
    int err;

    if (t == NULL)
        return SK_ESTATE;
    if ((err = ctx_pair(cfg, &srv, &cli)) != 0) {
        SK_LOG(SK_LOG_WARN, "transport", "event=tls_reload_failed reason=\"kept the old ones\"");
        return err;
    }
    uv_mutex_lock(&t->lock);
    old_srv = t->server;
    old_cli = t->client;
    t->server = srv;
    t->client = cli;
    uv_mutex_unlock(&t->lock);
    /* Connections made from the old ones hold their own references. */
    SSL_CTX_free(old_srv);
    SSL_CTX_free(old_cli);
    SK_LOG(SK_LOG_INFO, "transport", "event=tls_reloaded cert=\"%s\"",
           cfg->cert_file != NULL ? cfg->cert_file : "");
    return 0;
}

/* ---- the layer -------------------------------------------------------------- */

static struct tconn *tc_of(struct sk__conn *c, unsigned level)
{
    return c->layers[level].state;
}

/* Hand what OpenSSL wrote to the layer below (the socket). */
static int flush_out(struct sk__conn *c, unsigned level)
{
    struct tconn *t = tc_of(c, level);
    char *p;
    long n = BIO_get_mem_data(t->net_out, &p);
    int err = 0;

    if (n > 0) {
        err = sk__layer_down(c, level, p, (size_t)n);
        (void)BIO_reset(t->net_out);
    }
    return err;
}

static void log_established(struct sk__conn *c, struct tconn *t)
{
    char a[SK_ADDR_STRLEN], subj[256] = "-";
    X509 *peer = SSL_get0_peer_certificate(t->ssl);

    if (peer != NULL)
        X509_NAME_oneline(X509_get_subject_name(peer), subj, (int)sizeof(subj));
    SK_LOG(SK_LOG_DEBUG, "transport",
           "event=tls_established peer=%s conn=%llu side=%s version=%s cipher=%s peer_cert=\"%s\"",
           sk_addr_format(&c->peer, a, sizeof(a)), (unsigned long long)c->id,
           t->server ? "server" : "client", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl),
           subj);
}

static int handshake_failed(struct sk__conn *c, unsigned level, struct tconn *t)
{
    char a[SK_ADDR_STRLEN], e[160];
    long v = SSL_get_verify_result(t->ssl);

    /* An alert for the peer may be waiting. */
    (void)flush_out(c, level);
    SK_LOG(SK_LOG_INFO, "transport",
           "event=tls_handshake_failed peer=%s conn=%llu side=%s error=\"%s\" verify=\"%s\"",
           sk_addr_format(&c->peer, a, sizeof(a)), (unsigned long long)c->id,
           t->server ? "server" : "client", ssl_error_text(e, sizeof(e)),
           v == X509_V_OK ? "ok" : X509_verify_cert_error_string(v));
    return -EPROTO;
}

/* Send the plaintext queued while the handshake ran. */
static int write_plain(struct sk__conn *c, unsigned level, const char *p, size_t n)
{
    struct tconn *t = tc_of(c, level);
    char e[160];

    /* With memory BIOs and no partial writes, SSL_write takes it all. */
    if (n > 0 && SSL_write(t->ssl, p, (int)n) <= 0) {
        SK_LOG(SK_LOG_INFO, "transport", "event=tls_write_failed conn=%llu error=\"%s\"",
               (unsigned long long)c->id, ssl_error_text(e, sizeof(e)));
        return -EPROTO;
    }
    return flush_out(c, level);
}

static int step_handshake(struct sk__conn *c, unsigned level)
{
    struct tconn *t = tc_of(c, level);
    int r = SSL_do_handshake(t->ssl), err;

    if (r != 1) {
        int se = SSL_get_error(t->ssl, r);
        if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
            return flush_out(c, level);
        return handshake_failed(c, level, t);
    }
    t->established = true;
    log_established(c, t);
    sk__conn_handshake_done(c);
    if ((err = flush_out(c, level)) != 0)
        return err;
    err = write_plain(c, level, t->held.p, t->held.len);
    sk_buf_free(&t->held);
    sk_buf_init(&t->held);
    return err;
}

static int tls_start(struct sk__conn *c, unsigned level)
{
    struct tconn *t = tc_of(c, level);

    sk__conn_handshake_started(c);
    if (t->server)
        return 0;                    /* the client speaks first */
    return step_handshake(c, level); /* the ClientHello */
}

static int tls_input(struct sk__conn *c, unsigned level, const char *p, size_t n)
{
    struct tconn *t = tc_of(c, level);
    char buf[16384];
    int err;

    if (BIO_write(t->net_in, p, (int)n) != (int)n)
        return SK_ENOMEM;
    if (!t->established) {
        if ((err = step_handshake(c, level)) != 0 || !t->established)
            return err;
    }
    for (;;) {
        int r = SSL_read(t->ssl, buf, (int)sizeof(buf));
        if (r <= 0) {
            int se = SSL_get_error(t->ssl, r);
            /* TLS 1.3 tickets and key updates may want an answer. */
            err = flush_out(c, level);
            if (se == SSL_ERROR_WANT_READ)
                return err;
            if (se == SSL_ERROR_ZERO_RETURN) {
                sk__conn_close(c, "tls close_notify");
                return 0;
            }
            return handshake_failed(c, level, t);
        }
        if ((err = sk__layer_up(c, level, buf, (size_t)r)) != 0)
            return err;
        if (c->closing || c->shutting)
            return 0;
    }
}

static int tls_output(struct sk__conn *c, unsigned level, const char *p, size_t n)
{
    struct tconn *t = tc_of(c, level);

    if (!t->established) {
        sk_buf_append(&t->held, p, n);
        return sk_buf_ok(&t->held) ? 0 : SK_ENOMEM;
    }
    return write_plain(c, level, p, n);
}

static size_t tls_pending(struct sk__conn *c, unsigned level)
{
    return tc_of(c, level)->held.len;
}

static void tls_free(struct sk__conn *c, unsigned level)
{
    struct tconn *t = tc_of(c, level);

    if (t == NULL)
        return;
    SSL_free(t->ssl); /* frees both BIOs */
    sk_buf_free(&t->held);
    sk_free(t);
    c->layers[level].state = NULL;
}

static const struct sk__layer_ops tls_ops = {
    .name = "tls",
    .start = tls_start,
    .input = tls_input,
    .output = tls_output,
    .pending = tls_pending,
    .free = tls_free,
};

/* RFC 5922: the identity the server's certificate must carry. The
 * destination is an address, so it is matched against IP subjectAltNames. */
static int expect_identity(SSL *ssl, const struct sk_addr *peer)
{
    char host[SK_ADDR_STRLEN];

    sk_addr_format_host(peer, false, host, sizeof(host));
    return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? 0 : SK_EINVAL;
}

int sk__tls_attach(struct sk__conn *c, bool server)
{
    struct sk__tls *tls = c->w->tp->tls;
    struct tconn *t;
    SSL_CTX *ctx;

    if (tls == NULL || c->nlayers == SK__MAX_LAYERS)
        return SK_ESTATE;
    t = sk_calloc(1, sizeof(*t));
    if (t == NULL)
        return SK_ENOMEM;
    sk_buf_init(&t->held);
    t->server = server;
    uv_mutex_lock(&tls->lock);
    ctx = server ? tls->server : tls->client;
    t->ssl = ctx != NULL ? SSL_new(ctx) : NULL; /* SSL_new takes a reference on ctx */
    uv_mutex_unlock(&tls->lock);
    t->net_in = BIO_new(BIO_s_mem());
    t->net_out = BIO_new(BIO_s_mem());
    if (t->ssl == NULL || t->net_in == NULL || t->net_out == NULL) {
        BIO_free(t->net_in);
        BIO_free(t->net_out);
        SSL_free(t->ssl);
        sk_free(t);
        return SK_ENOMEM;
    }
    /* An empty read BIO means "want read", not end of stream. */
    BIO_set_mem_eof_return(t->net_in, -1);
    SSL_set_bio(t->ssl, t->net_in, t->net_out);
    if (server) {
        SSL_set_accept_state(t->ssl);
    } else {
        SSL_set_connect_state(t->ssl);
        if (expect_identity(t->ssl, &c->peer) != 0) {
            SSL_free(t->ssl);
            sk_free(t);
            return SK_EINVAL;
        }
    }
    c->layers[c->nlayers].ops = &tls_ops;
    c->layers[c->nlayers].state = t;
    c->nlayers++;
    c->tp = SK_TP_TLS;
    return 0;
}
