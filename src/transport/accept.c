/*
 * Accepting TCP connections: the listening sockets of one worker, the caps
 * that keep one peer from taking what all peers share (descriptors,
 * connection slots), and what happens when descriptors run out.
 *
 * Why not uv_listen(): libuv answers EMFILE by closing one spare
 * descriptor per loop to accept and drop a connection. With several
 * worker loops in one process another thread can take the freed slot, the
 * spare is lost, and from then on libuv's accept loop retries accept4()
 * forever without returning to the loop: every worker spins, nothing else
 * on the loop runs (UDP, cross-thread mail, the stop request). Here each
 * listener is a level-triggered poll handle and we call accept4() at most
 * ACCEPT_BATCH times per wake-up; out of descriptors, the worker sheds
 * waiting connections with its own spare descriptor when it can and stops
 * polling that listener for PAUSE_MS, whatever happened to the spare. No
 * path retries without going back to the loop.
 *
 * Caps, checked before a connection costs more than its descriptor:
 * tcp_max_connections over all workers (itself kept below the descriptor
 * limit, tp.c) and tcp_max_per_address per source host (an IPv4 address,
 * an IPv6 /64, since one IPv6 host usually holds a whole /64). A refused
 * connection is closed at once, so the peer sees FIN rather than a
 * connection that hangs.
 *
 * Memory: a host's count (struct sk__host, in tp->hosts, a table keyed
 * with the secret sk_hash so that peers cannot aim at one chain) is
 * allocated with its first connection and freed with its last; there are
 * never more of them than open connections.
 */
#include "transport/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections accepted per wake-up: the other handles of the loop (UDP,
 * mail, timers) get their turn between batches. */
#define ACCEPT_BATCH 64
/* Out of descriptors: the listener is not polled for this long. */
#define PAUSE_MS 100

/* ---- connections per host ------------------------------------------------ */

static void host_key(const struct sk_addr *peer, struct sk_addr *key)
{
    memset(key, 0, sizeof(*key));
    if (peer->sa.sa_family == AF_INET6) {
        key->in6.sin6_family = AF_INET6;
        memcpy(&key->in6.sin6_addr, &peer->in6.sin6_addr, 8); /* the /64 */
    } else {
        key->in.sin_family = AF_INET;
        key->in.sin_addr = peer->in.sin_addr;
    }
}

/* The keyed hash: peers cannot pick addresses that share one chain. */
static uint64_t host_hash(const struct sk_addr *key)
{
    if (key->sa.sa_family == AF_INET6)
        return sk_hash(&key->in6.sin6_addr, 8);
    return sk_hash(&key->in.sin_addr, sizeof(key->in.sin_addr));
}

/* Under reg_lock: key's entry, or NULL. */
static struct sk__host *host_find(struct sk_tp *tp, const struct sk_addr *key, uint64_t hash)
{
    for (struct sk_hnode *n = sk_htab_first(&tp->hosts, hash); n != NULL; n = sk_htab_next(n)) {
        struct sk__host *h = SK_CONTAINER_OF(n, struct sk__host, node);
        if (sk_addr_same_host(&h->key, key))
            return h;
    }
    return NULL;
}

/* Count one more connection from peer's host; false when it holds cap
 * already (or no memory is left to count it). */
static bool host_acquire(struct sk_tp *tp, const struct sk_addr *peer, unsigned cap)
{
    struct sk_addr key;
    struct sk__host *h;
    uint64_t hash;
    bool ok = false;

    host_key(peer, &key);
    hash = host_hash(&key);
    uv_mutex_lock(&tp->reg_lock);
    h = host_find(tp, &key, hash);
    if (h == NULL && cap > 0 && (h = sk_calloc(1, sizeof(*h))) != NULL) {
        h->key = key;
        if (sk_htab_insert(&tp->hosts, &h->node, hash) != 0) {
            sk_free(h);
            h = NULL;
        }
    }
    if (h != NULL && h->n < cap) {
        h->n++;
        ok = true;
    }
    uv_mutex_unlock(&tp->reg_lock);
    return ok;
}

void sk__host_release(struct sk_tp *tp, const struct sk_addr *peer)
{
    struct sk_addr key;
    struct sk__host *h;
    uint64_t hash;

    host_key(peer, &key);
    hash = host_hash(&key);
    uv_mutex_lock(&tp->reg_lock);
    h = host_find(tp, &key, hash);
    if (h != NULL && (h->n == 0 || --h->n == 0)) {
        sk_htab_remove(&tp->hosts, &h->node);
        sk_free(h);
    }
    uv_mutex_unlock(&tp->reg_lock);
}

void sk__host_free_all(struct sk_tp *tp)
{
    struct sk_htab_iter it;
    struct sk_hnode *n;

    sk_htab_iter_init(&it, &tp->hosts);
    while ((n = sk_htab_iter_next(&it)) != NULL) {
        sk_htab_remove(&tp->hosts, n);
        sk_free(SK_CONTAINER_OF(n, struct sk__host, node));
    }
    sk_htab_free(&tp->hosts);
}

/* ---- refusing ---------------------------------------------------------- */

/* A flood refuses thousands of connections a second: log the first, then
 * at most one line a second per worker with how many went unlogged. */
static void log_refusal(struct sk_tp_worker *w, const char *event, const char *peer,
                        const char *reason)
{
    uint64_t now = uv_now(&w->loop);

    if (w->refuse_log_ms != 0 && now - w->refuse_log_ms < 1000) {
        w->refuse_quiet++;
        return;
    }
    SK_LOG(SK_LOG_WARN, "transport", "event=%s peer=%s reason=\"%s\" unlogged_since=%u", event,
           peer, reason, w->refuse_quiet);
    w->refuse_log_ms = now == 0 ? 1 : now;
    w->refuse_quiet = 0;
}

static void refuse(struct sk_tp_worker *w, int fd, const struct sk_addr *peer, const char *reason)
{
    char a[SK_ADDR_STRLEN];

    close(fd);
    SK__INC(w->tcp_refused);
    log_refusal(w, "tcp_refused", sk_addr_format(peer, a, sizeof(a)), reason);
}

/* ---- accepting --------------------------------------------------------- */

static void accept_one(struct sk__tcpl *l, int fd, const struct sk_addr *peer)
{
    struct sk_tp_worker *w = l->w;
    struct sk_tp *tp = w->tp;
    struct sk__conn *c;

    if (atomic_load(&tp->nconns) >= atomic_load(&tp->max_conns)) {
        refuse(w, fd, peer, "connection limit");
        return;
    }
    if (!host_acquire(tp, peer, atomic_load(&tp->max_per_host))) {
        refuse(w, fd, peer, "per-address connection limit");
        return;
    }
    c = sk__conn_new(w, l->listener);
    if (c == NULL) {
        sk__host_release(tp, peer);
        refuse(w, fd, peer, "out of memory");
        return;
    }
    c->peer = *peer;
    c->peer.conn_id = c->id;
    c->counted = true;
    if (uv_tcp_open(&c->h, fd) != 0) {
        close(fd);
        sk__conn_close(c, "accept failed");
        return;
    }
    sk__conn_accepted(c);
}

static void on_listen_readable(uv_poll_t *h, int status, int events);

static void resume_accepting(uv_timer_t *t)
{
    struct sk__tcpl *l = t->data;
    struct sk_tp_worker *w = l->w;

    l->paused = false;
    if (w->stopping || !l->active)
        return;
    if (w->spare_fd < 0)
        w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    uv_poll_start(&l->h, UV_READABLE, on_listen_readable);
}

static void pause_accepting(struct sk__tcpl *l)
{
    if (l->paused)
        return;
    l->paused = true;
    uv_poll_stop(&l->h);
    uv_timer_start(&l->resume, resume_accepting, PAUSE_MS, 0);
}

/* EMFILE / ENFILE: the first waiting connection stays in the backlog and
 * the socket stays readable. Give the spare descriptor back, accept and
 * close what waits (the peers hear FIN instead of hanging), take the spare
 * again, and pause. Another thread may take the freed slot first: then
 * accept4() fails, the spare is reopened when the pause ends, and the
 * pause alone keeps the worker from spinning. */
static void out_of_descriptors(struct sk__tcpl *l, int err)
{
    struct sk_tp_worker *w = l->w;
    unsigned shed = 0;
    char why[96];

    if (w->spare_fd >= 0) {
        close(w->spare_fd);
        w->spare_fd = -1;
        for (int i = 0; i < ACCEPT_BATCH; i++) {
            int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0)
                break;
            close(fd);
            SK__INC(w->tcp_refused);
            shed++;
        }
        w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    snprintf(why, sizeof(why), "%s; shed %u, accepting paused %d ms", strerror(err), shed,
             PAUSE_MS);
    log_refusal(w, "tcp_accept_paused", "-", why);
    pause_accepting(l);
}

static void on_listen_readable(uv_poll_t *h, int status, int events)
{
    struct sk__tcpl *l = h->data;
    struct sk_tp_worker *w = l->w;

    (void)events;
    if (status != 0) {
        pause_accepting(l);
        return;
    }
    for (int i = 0; i < ACCEPT_BATCH && !w->stopping && !l->paused; i++) {
        struct sk_addr peer;
        socklen_t sl = sizeof(peer.ss);
        int fd;

        memset(&peer, 0, sizeof(peer));
        fd = accept4(l->fd, &peer.sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            peer.sslen = sl;
            peer.tp = SK_TP_TCP;
            accept_one(l, fd, &peer);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue; /* that one is gone; the batch bounds the retries */
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EMFILE || errno == ENFILE) {
            out_of_descriptors(l, errno);
            return;
        }
        /* ENOBUFS, ENOMEM, EPERM (a firewall): also worth a pause. */
        log_refusal(w, "tcp_accept_paused", "-", strerror(errno));
        pause_accepting(l);
        return;
    }
}

int sk__tcp_listen_start(struct sk_tp_worker *w, unsigned listener, int fd)
{
    struct sk__tcpl *l = &w->tcpl[listener];
    int err;

    l->w = w;
    l->listener = listener;
    l->fd = fd;
    l->h.data = l;
    l->resume.data = l;
    if (listen(fd, 511) != 0) {
        err = -errno;
        close(fd);
        return err;
    }
    err = uv_poll_init(&w->loop, &l->h, fd);
    if (err != 0) {
        close(fd);
        return err;
    }
    uv_timer_init(&w->loop, &l->resume);
    l->active = true;
    err = uv_poll_start(&l->h, UV_READABLE, on_listen_readable);
    if (err != 0)
        sk__tcp_listen_stop_one(l);
    return err;
}

static void close_nop(uv_handle_t *h)
{
    (void)h;
}

void sk__tcp_listen_stop_one(struct sk__tcpl *l)
{
    if (!l->active)
        return;
    l->active = false;
    uv_poll_stop(&l->h);
    uv_close((uv_handle_t *)&l->h, close_nop);
    uv_close((uv_handle_t *)&l->resume, close_nop);
    close(l->fd); /* a poll handle does not own its socket */
    l->fd = -1;
}

void sk__tcp_listen_stop(struct sk_tp_worker *w)
{
    for (size_t i = 0; i < w->tp->nlisteners; i++)
        sk__tcp_listen_stop_one(&w->tcpl[i]);
}
