/*
 * The user agent's own transport: plain UDP and TCP sockets driven by
 * poll(2) in the caller's thread. The server transport (src/transport) is
 * built for many worker threads with SO_REUSEPORT listeners; a command-line
 * client wants the opposite: one thread, one ephemeral port, outgoing TCP
 * connections, and a loop it can interrupt with a signal.
 *
 * RFC 3261 §18.1.1: requests go over UDP or TCP as configured; §18.2.2 and
 * §18.1.2: over TCP, responses come back on the connection the request went
 * out on, so we read every connection we opened; §18.3: stream framing by
 * Content-Length (sk_msg_frame). Over TCP we also listen on our port, so a
 * request sent to our Contact (an INVITE, a NOTIFY) can open a connection.
 *
 * TLS (RFC 3261 §26.2) is TCP with an SSL on each connection we open
 * (net_tls.c); the server reaches us over the connection we registered
 * on (RFC 5923), so connections to our listener are refused (we hold no
 * certificate to serve them).
 *
 * Memory: struct sk__net owns its sockets and one receive buffer per TCP
 * connection; the receive callback gets bytes valid for the call only.
 */
#include "ua/ua_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_CONNS          32
#define RX_MAX             (SK_MSG_DEFAULT_MAX_SIZE * 2)
#define CONNECT_TIMEOUT_MS 5000

struct conn {
    int fd;
    SSL *ssl; /* SK_TP_TLS only */
    struct sk_addr peer;
    uint64_t id;
    char *buf;
    size_t len;
};

struct sk__net {
    enum sk_transport tp;
    int fd[2]; /* UDP socket or TCP listener per family: [0] IPv4, [1] IPv6 */
    struct sk_addr bound[2];
    bool have_local;
    struct sk_addr local;
    struct conn conns[MAX_CONNS];
    size_t nconns;
    uint64_t next_id;
    SSL_CTX *tls; /* SK_TP_TLS only */
    struct {
        struct sk_addr addr;
        char name[256];
    } names[8]; /* sk__net_expect_name, oldest replaced first */
    size_t nnames;
    char udp_buf[SK_MSG_DEFAULT_MAX_SIZE + 1];
};

static int fam_index(int family)
{
    return family == AF_INET6 ? 1 : 0;
}

static int open_family(struct sk__net *n, int family)
{
    int i = fam_index(family), fd, one = 1;
    struct sk_addr a;

    if (n->fd[i] >= 0)
        return 0;
    if (n->have_local) {
        if (n->local.sa.sa_family != family)
            return SK_ENOTFOUND; /* bound to the other family */
        a = n->local;
    } else {
        memset(&a, 0, sizeof(a));
        a.ss.ss_family = (sa_family_t)family;
        a.sslen = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    }
    fd = socket(family, (n->tp == SK_TP_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (n->tp != SK_TP_UDP)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, &a.sa, sk_addr_len(&a)) != 0 || (n->tp != SK_TP_UDP && listen(fd, 8) != 0)) {
        int err = -errno;
        close(fd);
        return err;
    }
    a.sslen = sizeof(a.ss);
    getsockname(fd, &a.sa, &a.sslen);
    a.tp = n->tp;
    n->bound[i] = a;
    n->fd[i] = fd;
    return 0;
}

int sk__net_new(struct sk__net **out, enum sk_transport tp, const struct sk_addr *local,
                const char *tls_ca, bool tls_insecure)
{
    struct sk__net *n;
    int rc = 0;

    if (tp != SK_TP_UDP && tp != SK_TP_TCP && tp != SK_TP_TLS)
        return SK_EINVAL;
    n = sk_calloc(1, sizeof(*n));
    if (n == NULL)
        return SK_ENOMEM;
    n->tp = tp;
    n->fd[0] = n->fd[1] = -1;
    n->next_id = 1;
    if (tp == SK_TP_TLS && (rc = sk__ua_tls_ctx(&n->tls, tls_ca, tls_insecure)) != 0) {
        sk_free(n);
        return rc;
    }
    if (local != NULL && local->sslen != 0) {
        n->have_local = true;
        n->local = *local;
        rc = open_family(n, local->sa.sa_family);
    } else {
        /* Open at once so that a UAS has a port to announce. */
        rc = open_family(n, AF_INET);
    }
    if (rc != 0) {
        sk__net_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

void sk__net_expect_name(struct sk__net *n, const struct sk_addr *addr, const char *name)
{
    size_t i = n->nnames % 8;

    for (size_t k = 0; k < n->nnames && k < 8; k++) {
        if (sk_addr_equal(&n->names[k].addr, addr))
            i = k;
    }
    if (i == n->nnames % 8)
        n->nnames++;
    n->names[i].addr = *addr;
    snprintf(n->names[i].name, sizeof(n->names[i].name), "%s", name);
}

/* The name a TLS server at addr must prove: what the user gave, or the
 * address. */
static void expected_name(const struct sk__net *n, const struct sk_addr *addr, char *out,
                          size_t outsz)
{
    for (size_t k = 0; k < n->nnames && k < 8; k++) {
        if (sk_addr_equal(&n->names[k].addr, addr)) {
            snprintf(out, outsz, "%s", n->names[k].name);
            return;
        }
    }
    sk_addr_format_host(addr, false, out, outsz);
}

static void conn_close(struct sk__net *n, size_t i)
{
    sk__ua_tls_close(n->conns[i].ssl);
    close(n->conns[i].fd);
    sk_free(n->conns[i].buf);
    n->conns[i] = n->conns[--n->nconns];
}

void sk__net_free(struct sk__net *n)
{
    if (n == NULL)
        return;
    while (n->nconns > 0)
        conn_close(n, n->nconns - 1);
    for (int i = 0; i < 2; i++) {
        if (n->fd[i] >= 0)
            close(n->fd[i]);
    }
    SSL_CTX_free(n->tls);
    sk_free(n);
}

void sk__net_bound(const struct sk__net *n, struct sk_addr *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < 2; i++) {
        if (n->fd[i] >= 0) {
            *out = n->bound[i];
            return;
        }
    }
}

int sk__net_local_for(struct sk__net *n, const struct sk_addr *dst, struct sk_addr *out)
{
    int family = dst->sa.sa_family, rc = open_family(n, family), fd;
    struct sk_addr probe;

    if (rc != 0)
        return rc;
    *out = n->bound[fam_index(family)];
    if (!sk_addr_is_any(out))
        return 0;
    /* Ask the routing table which source address reaches dst: a connected
     * UDP socket sends nothing, and getsockname() tells. */
    fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    probe.sslen = sizeof(probe.ss);
    if (connect(fd, &dst->sa, sk_addr_len(dst)) != 0 ||
        getsockname(fd, &probe.sa, &probe.sslen) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    close(fd);
    sk_addr_set_port(&probe, sk_addr_port(out));
    probe.tp = out->tp;
    probe.conn_id = 0;
    *out = probe;
    return 0;
}

static int add_conn(struct sk__net *n, int fd, const struct sk_addr *peer)
{
    struct conn *c;

    if (n->nconns == MAX_CONNS) {
        close(fd);
        return SK_ETOOBIG;
    }
    c = &n->conns[n->nconns++];
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->peer = *peer;
    c->peer.tp = n->tp == SK_TP_TLS ? SK_TP_TLS : SK_TP_TCP;
    c->id = n->next_id++;
    c->peer.conn_id = c->id;
    return 0;
}

/* A TCP connection to dst, bounded in time (a blocking connect to a host
 * that drops SYNs would hang for minutes). */
static int tcp_connect(struct sk__net *n, const struct sk_addr *dst, struct conn **out)
{
    int fd = socket(dst->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0;
    socklen_t elen = sizeof(err);

    if (fd < 0)
        return -errno;
    if (connect(fd, &dst->sa, sk_addr_len(dst)) != 0) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (errno != EINPROGRESS) {
            err = -errno;
            close(fd);
            return err;
        }
        int pr = poll(&p, 1, CONNECT_TIMEOUT_MS);
        if (pr <= 0) {
            close(fd);
            return pr == 0 ? SK_ETIMEDOUT : -errno;
        }
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
        if (err != 0) {
            close(fd);
            return -err;
        }
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    SSL *ssl = NULL;
    if (n->tls != NULL) {
        char name[256];
        expected_name(n, dst, name, sizeof(name));
        int trc = sk__ua_tls_connect(n->tls, fd, name, &ssl);
        if (trc != 0) {
            close(fd);
            return trc;
        }
        /* From here reads never block: poll() says when to read. */
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    int rc = add_conn(n, fd, dst);
    if (rc != 0) {
        sk__ua_tls_close(ssl);
        return rc;
    }
    *out = &n->conns[n->nconns - 1];
    (*out)->ssl = ssl;
    return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, data, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : SK_EIO;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

int sk__net_send(struct sk__net *n, const struct sk_addr *dst, const char *data, size_t len)
{
    struct conn *c = NULL;
    int rc;

    if (n->tp == SK_TP_UDP) {
        rc = open_family(n, dst->sa.sa_family);
        if (rc != 0)
            return rc;
        if (sendto(n->fd[fam_index(dst->sa.sa_family)], data, len, 0, &dst->sa, sk_addr_len(dst)) <
            0)
            return -errno;
        return 0;
    }
    /* §18.2.2: a response goes back on the connection its request came on;
     * anything else reuses an open connection to the peer. */
    for (size_t i = 0; i < n->nconns && c == NULL; i++) {
        if ((dst->conn_id != 0 && n->conns[i].id == dst->conn_id) ||
            sk_addr_equal(&n->conns[i].peer, dst))
            c = &n->conns[i];
    }
    if (c == NULL) {
        rc = open_family(n, dst->sa.sa_family);
        if (rc == 0)
            rc = tcp_connect(n, dst, &c);
        if (rc != 0)
            return rc;
    }
    rc = c->ssl != NULL ? sk__ua_tls_write(c->ssl, c->fd, data, len) : write_all(c->fd, data, len);
    if (rc != 0)
        conn_close(n, (size_t)(c - n->conns));
    return rc;
}

static void read_udp(struct sk__net *n, int fd, sk__net_rx_cb cb, void *arg)
{
    struct sk_addr from;

    memset(&from, 0, sizeof(from));
    from.sslen = sizeof(from.ss);
    ssize_t got =
        recvfrom(fd, n->udp_buf, sizeof(n->udp_buf) - 1, MSG_DONTWAIT, &from.sa, &from.sslen);
    if (got <= 0)
        return;
    from.tp = SK_TP_UDP;
    cb(arg, n->udp_buf, (size_t)got, &from);
}

static void accept_conn(struct sk__net *n, int lfd)
{
    struct sk_addr peer;

    memset(&peer, 0, sizeof(peer));
    peer.sslen = sizeof(peer.ss);
    int fd = accept4(lfd, &peer.sa, &peer.sslen, SOCK_CLOEXEC);
    if (fd >= 0 && n->tls != NULL)
        close(fd); /* no certificate to serve TLS with */
    else if (fd >= 0)
        add_conn(n, fd, &peer);
}

static struct conn *find_conn(struct sk__net *n, uint64_t id)
{
    for (size_t i = 0; i < n->nconns; i++) {
        if (n->conns[i].id == id)
            return &n->conns[i];
    }
    return NULL;
}

/* Read what connection id has and hand up every complete frame, copied out
 * first: the callback may send, and a failed send closes a connection.
 * Returns false when the connection must be closed (by the peer, for
 * garbage). */
static bool read_conn(struct sk__net *n, uint64_t id, sk__net_rx_cb cb, void *arg)
{
    struct conn *c = find_conn(n, id);
    size_t skip, mlen;

    if (c == NULL)
        return true;
    if (c->buf == NULL) {
        c->buf = sk_malloc(RX_MAX);
        if (c->buf == NULL)
            return false;
    }
    if (c->ssl != NULL) {
        /* Everything OpenSSL has decrypted or can read now: poll() does
         * not see what sits in its buffer. */
        long got;
        do {
            got = sk__ua_tls_read(c->ssl, c->buf + c->len, RX_MAX - c->len);
            if (got == 0)
                return false;
            if (got > 0)
                c->len += (size_t)got;
        } while (got > 0 && c->len < RX_MAX && sk__ua_tls_pending(c->ssl));
    } else {
        ssize_t got = recv(c->fd, c->buf + c->len, RX_MAX - c->len, MSG_DONTWAIT);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
            return false;
        if (got > 0)
            c->len += (size_t)got;
    }
    for (;;) {
        int rc = sk_msg_frame(c->buf, c->len, NULL, &skip, &mlen);
        if (rc == SK_EAGAIN) {
            if (c->len == RX_MAX)
                return false;
            memmove(c->buf, c->buf + skip, c->len - skip);
            c->len -= skip;
            return true;
        }
        if (rc != 0 || mlen >= sizeof(n->udp_buf))
            return false;
        struct sk_addr from = c->peer;
        memcpy(n->udp_buf, c->buf + skip, mlen);
        memmove(c->buf, c->buf + skip + mlen, c->len - skip - mlen);
        c->len -= skip + mlen;
        cb(arg, n->udp_buf, mlen, &from);
        c = find_conn(n, id);
        if (c == NULL)
            return true;
    }
}

int sk__net_poll(struct sk__net *n, int timeout_ms, sk__net_rx_cb cb, void *arg)
{
    struct pollfd p[2 + MAX_CONNS];
    uint64_t ids[MAX_CONNS];
    size_t np = 0, nc = n->nconns;

    for (int i = 0; i < 2; i++) {
        p[np].fd = n->fd[i];
        p[np++].events = POLLIN;
    }
    for (size_t i = 0; i < nc; i++) {
        p[np].fd = n->conns[i].fd;
        p[np++].events = POLLIN;
        ids[i] = n->conns[i].id;
    }
    int pr = poll(p, np, timeout_ms);
    if (pr < 0)
        return -errno;
    for (int i = 0; i < 2; i++) {
        if (!(p[i].revents & POLLIN))
            continue;
        if (n->tp == SK_TP_UDP)
            read_udp(n, p[i].fd, cb, arg);
        else
            accept_conn(n, p[i].fd);
    }
    /* Callbacks may open or close connections: each is found by its id. */
    for (size_t k = 0; k < nc; k++) {
        if (!(p[2 + k].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (!read_conn(n, ids[k], cb, arg)) {
            struct conn *c = find_conn(n, ids[k]);
            if (c != NULL)
                conn_close(n, (size_t)(c - n->conns));
        }
    }
    return 0;
}
