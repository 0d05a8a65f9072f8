/*
 * TLS load for bench/tls.sh (Debian's SIPp has no TLS):
 *
 *   bench_tls_load handshakes HOST PORT SECONDS THREADS
 *       each thread connects, completes a full TLS handshake (no session
 *       resumption), sends nothing and closes, as fast as it can; prints
 *       the handshakes done per second.
 *   bench_tls_load register HOST PORT COUNT THREADS USERS DOMAIN
 *       each thread keeps one TLS connection and registers users in turn
 *       (user0000.., password pw-userNNNN, MD5 digest): REGISTER, 401,
 *       REGISTER with credentials, 200, as bench/scenarios/register_auth.xml
 *       does over UDP; prints registrations done, failed and per second.
 *
 * The server's certificate is not verified (the bench measures the
 * server). The digest is computed by sipkit's auth client.
 */
#include <sipkit/auth.h>
#include <sipkit/msg.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in target;
static SSL_CTX *ctx;
static _Atomic long done_ok, done_failed, next_reg;
static long reg_count, users;
static const char *domain;
static double deadline;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static SSL *tls_open(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    SSL *ssl;

    if (fd < 0)
        return NULL;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&target, sizeof(target)) != 0) {
        close(fd);
        return NULL;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
        ERR_clear_error();
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    return ssl;
}

static void tls_close(SSL *ssl)
{
    int fd = SSL_get_fd(ssl);
    SSL_free(ssl);
    close(fd);
}

static void *handshakes(void *arg)
{
    (void)arg;
    while (now_s() < deadline) {
        SSL *ssl = tls_open();
        if (ssl == NULL) {
            atomic_fetch_add(&done_failed, 1);
            continue;
        }
        tls_close(ssl);
        atomic_fetch_add(&done_ok, 1);
    }
    return NULL;
}

/* Read one framed response into m (buf keeps leftovers). */
static int read_response(SSL *ssl, char *buf, size_t *len, size_t cap, struct sk_msg *m,
                         char *msgbuf)
{
    for (;;) {
        size_t skip = 0, mlen = 0;
        int rc = sk_msg_frame(buf, *len, NULL, &skip, &mlen);
        if (rc == 0) {
            memcpy(msgbuf, buf + skip, mlen);
            memmove(buf, buf + skip + mlen, *len - skip - mlen);
            *len -= skip + mlen;
            return sk_msg_parse(m, msgbuf, mlen, SK_MSG_STREAM, NULL);
        }
        if (rc != SK_EAGAIN || *len == cap)
            return SK_EPARSE;
        int r = SSL_read(ssl, buf + *len, (int)(cap - *len));
        if (r <= 0)
            return SK_EIO;
        *len += (size_t)r;
    }
}

static int send_register(SSL *ssl, const char *user, long seq, int cseq, const char *authz)
{
    char req[2048];
    int n =
        snprintf(req, sizeof(req),
                 "REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bK%ld-%d\r\n"
                 "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%ld\r\nTo: <sip:%s@%s>\r\n"
                 "Call-ID: %ld-%s@bench\r\nCSeq: %d REGISTER\r\n"
                 "Contact: <sip:%s@127.0.0.1:9;transport=tls>\r\nExpires: 3600\r\n%s"
                 "Content-Length: 0\r\n\r\n",
                 domain, seq, cseq, user, domain, seq, user, domain, seq, user, cseq, user, authz);
    return SSL_write(ssl, req, n) == n ? 0 : SK_EIO;
}

static bool register_one(SSL *ssl, long seq, char *buf, size_t *len, size_t cap, char *msgbuf,
                         struct sk_msg *m)
{
    char user[32], pw[40], ruri[300];
    struct sk_auth_client *ac = NULL;
    struct sk_digest_hdr ch[4];
    struct sk_buf authz;
    size_t n = 0;
    bool ok = false;

    snprintf(user, sizeof(user), "user%04ld", seq % users);
    snprintf(pw, sizeof(pw), "pw-%s", user);
    snprintf(ruri, sizeof(ruri), "sip:%s", domain);
    sk_buf_init(&authz);
    if (send_register(ssl, user, seq, 1, "") != 0 ||
        read_response(ssl, buf, len, cap, m, msgbuf) != 0 || m->status != 401)
        goto out;
    for (size_t i = 0; i < m->nhdrs && n < 4; i++) {
        if (m->hdrs[i].id == SK_HDR_WWW_AUTHENTICATE &&
            sk_digest_hdr_parse(m->hdrs[i].value, &ch[n]) == 0)
            n++;
    }
    if (sk_auth_client_new(&ac, sk_slice_cstr(user), sk_slice_cstr(pw)) != 0 ||
        sk_auth_client_challenge(ac, SK_AUTH_WWW, ch, n) != 0 ||
        sk_auth_client_authorize(ac, SK_SLICE_LIT("REGISTER"), sk_slice_cstr(ruri), SK_SLICE_NULL,
                                 &authz) != 0 ||
        !sk_buf_ok(&authz))
        goto out;
    if (send_register(ssl, user, seq, 2, authz.p) != 0 ||
        read_response(ssl, buf, len, cap, m, msgbuf) != 0)
        goto out;
    ok = m->status == 200;
out:
    sk_auth_client_free(ac);
    sk_buf_free(&authz);
    return ok;
}

static void *registers(void *arg)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap), *msgbuf = malloc(cap);
    struct sk_msg m;
    SSL *ssl = tls_open();
    long seq;

    (void)arg;
    sk_msg_init(&m);
    while (ssl != NULL && buf != NULL && msgbuf != NULL &&
           (seq = atomic_fetch_add(&next_reg, 1)) < reg_count) {
        if (register_one(ssl, seq, buf, &len, cap, msgbuf, &m))
            atomic_fetch_add(&done_ok, 1);
        else
            atomic_fetch_add(&done_failed, 1);
    }
    if (ssl != NULL)
        tls_close(ssl);
    sk_msg_free(&m);
    free(buf);
    free(msgbuf);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th[64];
    long nthreads;
    double t0;
    bool hs = argc == 6 && strcmp(argv[1], "handshakes") == 0;

    if (!hs && !(argc == 8 && strcmp(argv[1], "register") == 0)) {
        fprintf(stderr,
                "usage: %s handshakes HOST PORT SECONDS THREADS\n"
                "       %s register HOST PORT COUNT THREADS USERS DOMAIN\n",
                argv[0], argv[0]);
        return 2;
    }
    memset(&target, 0, sizeof(target));
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &target.sin_addr) != 1)
        return 2;
    nthreads = atol(argv[5]);
    if (nthreads < 1 || nthreads > 64)
        return 2;
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    /* Every handshake a full one: no session cache, no tickets. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    t0 = now_s();
    if (hs) {
        deadline = t0 + atof(argv[4]);
    } else {
        reg_count = atol(argv[4]);
        users = atol(argv[6]);
        domain = argv[7];
    }
    for (long i = 0; i < nthreads; i++)
        pthread_create(&th[i], NULL, hs ? handshakes : registers, NULL);
    for (long i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    double secs = now_s() - t0;
    printf("ok=%ld failed=%ld seconds=%.2f rate=%.0f\n", (long)done_ok, (long)done_failed, secs,
           (double)done_ok / secs);
    SSL_CTX_free(ctx);
    return done_ok > 0 ? 0 : 1;
}
