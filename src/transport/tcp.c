/*
 * TCP connections: accepting (with a cap on the number of connections),
 * stream framing with sk_msg_frame() (RFC 3261 §18.3: Content-Length
 * delimits messages on a stream), connection reuse in both directions
 * (§18.2.2 responses on the request's connection; requests to a peer on an
 * open connection to it, the registry below), an idle timeout, and a cap on
 * the bytes buffered per connection each way.
 *
 * A peer whose stream cannot be framed gets its message handed up marked
 * bad and close_after set, so the server can answer 400/513 when a
 * response can be built; the connection is then shut down after the answer
 * is written. Other connections are not affected.
 *
 * Layers (TLS, WebSocket) sit between the socket and framing:
 * a layered connection reads socket bytes into the worker's layer buffer
 * and hands them to its layer 0; what comes out of the top layer is
 * framed here as plain TCP bytes are. Writes go through the top layer
 * down to conn_raw_write(). See struct sk__layer_ops in internal.h.
 *
 * Memory: a connection is allocated on accept or connect and freed once
 * both its libuv handles have closed. Its receive buffer grows up to the
 * frame limit. Writes that cannot complete at once are copied into a write
 * request freed by the write callback.
 */
#include "transport/internal.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

struct wreq {
    uv_write_t req;
    struct sk__conn *c;
    size_t len;
    char data[];
};

/* ---- registry: peer address -> owning worker and connection id ---------- */

static void reg_add(struct sk__conn *c)
{
    struct sk_tp *tp = c->w->tp;
    uint64_t h = sk_addr_hash(&c->peer);

    uv_mutex_lock(&tp->reg_lock);
    (void)sk_htab_insert(&tp->reg, &c->by_peer, h); /* reserved: cannot fail */
    c->registered = true;
    uv_mutex_unlock(&tp->reg_lock);
}

static void reg_del(struct sk__conn *c)
{
    struct sk_tp *tp = c->w->tp;
    if (!c->registered)
        return;
    uv_mutex_lock(&tp->reg_lock);
    sk_htab_remove(&tp->reg, &c->by_peer);
    c->registered = false;
    uv_mutex_unlock(&tp->reg_lock);
}

/* t: SK_TP_UDP matches a connection of any transport. */
int sk__reg_lookup_tp(struct sk_tp *tp, const struct sk_addr *peer, enum sk_transport t,
                      unsigned *widx, uint64_t *id)
{
    uint64_t h = sk_addr_hash(peer);
    int err = SK_ENOTFOUND;

    uv_mutex_lock(&tp->reg_lock);
    for (struct sk_hnode *n = sk_htab_first(&tp->reg, h); n != NULL; n = sk_htab_next(n)) {
        const struct sk__conn *c = SK_CONTAINER_OF(n, struct sk__conn, by_peer);
        /* RFC 5630: a message meant for TLS never takes a plain TCP
         * connection to the same address, nor the reverse. */
        if (sk_addr_equal(&c->peer, peer) && (t == SK_TP_UDP || c->tp == t)) {
            /* Reading another worker's connection is safe here: peer, id
             * and w never change while it is registered. */
            *widx = c->w->idx;
            *id = c->id;
            err = 0;
            break;
        }
    }
    uv_mutex_unlock(&tp->reg_lock);
    return err;
}

int sk__reg_lookup(struct sk_tp *tp, const struct sk_addr *peer, unsigned *widx, uint64_t *id)
{
    return sk__reg_lookup_tp(tp, peer, SK_TP_UDP, widx, id);
}

/* ---- connection lifetime ------------------------------------------------- */

struct sk__conn *sk__conn_find(struct sk_tp_worker *w, uint64_t id)
{
    for (struct sk_hnode *n = sk_htab_first(&w->conns, id >> 8); n != NULL; n = sk_htab_next(n)) {
        struct sk__conn *c = SK_CONTAINER_OF(n, struct sk__conn, by_id);
        if (c->id == id)
            return c->closing ? NULL : c;
    }
    return NULL;
}

struct sk__conn *sk__conn_new(struct sk_tp_worker *w, unsigned listener)
{
    struct sk__conn *c = sk_calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->w = w;
    c->listener = listener;
    c->tp = SK_TP_TCP;
    c->id = (w->next_id++ << 8) | w->idx;
    c->h.data = c;
    c->idle.data = c;
    uv_tcp_init(&w->loop, &c->h);
    uv_timer_init(&w->loop, &c->idle);
    c->open_handles = 2;
    /* Ids are ours, not a peer's: the id is its own hash. The worker
     * reserved the table, so the insert cannot fail. */
    (void)sk_htab_insert(&w->conns, &c->by_id, c->id >> 8);
    sk_dlist_push_front(&w->conn_list, &c->in_worker);
    atomic_fetch_add(&w->tp->nconns, 1);
    return c;
}

static void conn_unlink(struct sk__conn *c)
{
    struct sk_tp_worker *w = c->w;

    sk_htab_remove(&w->conns, &c->by_id);
    sk_dlist_remove(&c->in_worker);
}

static void fallback_free(struct sk__conn *c)
{
    while (c->fallback != NULL) {
        struct sk__mail *m = c->fallback;
        c->fallback = m->next;
        sk_free(m);
    }
}

static void conn_handle_closed(uv_handle_t *h)
{
    struct sk__conn *c = h->data;

    if (--c->open_handles > 0)
        return;
    atomic_fetch_sub(&c->w->tp->nconns, 1);
    for (unsigned i = c->nlayers; i-- > 0;)
        c->layers[i].ops->free(c, i);
    fallback_free(c);
    sk_free(c->rbuf);
    sk_free(c);
}

void sk__conn_close(struct sk__conn *c, const char *reason)
{
    char a[SK_ADDR_STRLEN];

    if (c->closing)
        return;
    c->closing = true;
    SK_LOG(SK_LOG_DEBUG, "transport", "event=tcp_close peer=%s conn=%llu reason=\"%s\"",
           sk_addr_format(&c->peer, a, sizeof(a)), (unsigned long long)c->id, reason);
    SK__INC(c->w->tcp_closed);
    reg_del(c);
    if (c->counted) {
        c->counted = false;
        sk__host_release(c->w->tp, &c->peer);
    }
    conn_unlink(c);
    if (c->w->tp->on_closed != NULL)
        c->w->tp->on_closed(c->w->tp->closed_arg, c->id, &c->peer);
    uv_close((uv_handle_t *)&c->idle, conn_handle_closed);
    uv_close((uv_handle_t *)&c->h, conn_handle_closed);
}

static void shutdown_done(uv_shutdown_t *req, int status)
{
    struct sk__conn *c = req->data;

    sk_free(req);
    if (status != 0 && status != UV_ECANCELED)
        sk__conn_close(c, "shutdown failed");
}

static void linger_expired(uv_timer_t *t)
{
    sk__conn_close(t->data, "closed after flush");
}

/* Send what is queued (the 400 to a garbage sender), then FIN; keep
 * reading and discarding until the peer closes or a short linger ends, so
 * that unread input does not turn our close into a reset that destroys the
 * answer in flight. */
void sk__conn_close_after_flush(struct sk__conn *c, const char *reason)
{
    uv_shutdown_t *req;
    char a[SK_ADDR_STRLEN];

    if (c->closing || c->shutting)
        return;
    c->shutting = true;
    SK_LOG(SK_LOG_INFO, "transport", "event=tcp_drop peer=%s conn=%llu reason=\"%s\"",
           sk_addr_format(&c->peer, a, sizeof(a)), (unsigned long long)c->id, reason);
    reg_del(c);
    req = sk_malloc(sizeof(*req));
    if (req == NULL || uv_shutdown(req, (uv_stream_t *)&c->h, shutdown_done) != 0) {
        sk_free(req);
        sk__conn_close(c, reason);
        return;
    }
    req->data = c;
    uv_timer_start(&c->idle, linger_expired, 2000, 0);
}

static void touch(struct sk__conn *c);

/* RFC 5626 §5.3 and RFC 3261 §18: a connection a UA registered over is
 * its flow, the only way to it through a NAT; the application says so
 * (on_idle) and the connection stays, asked again after each period. */
static void idle_expired(uv_timer_t *t)
{
    struct sk__conn *c = t->data;
    struct sk_tp *tp = c->w->tp;
    char a[SK_ADDR_STRLEN];

    if (tp->on_idle != NULL && tp->on_idle(tp->idle_arg, c->id, &c->peer)) {
        SK_LOG(SK_LOG_DEBUG, "transport", "event=tcp_idle_kept peer=%s conn=%llu",
               sk_addr_format(&c->peer, a, sizeof(a)), (unsigned long long)c->id);
        touch(c);
        return;
    }
    sk__conn_close(c, "idle timeout");
}

/* Between messages: the idle timeout starts again. Not while a message is
 * partly received: then only completing it does (see conn_read). */
static void touch(struct sk__conn *c)
{
    unsigned s = atomic_load_explicit(&c->w->tp->idle_timeout_s, memory_order_relaxed);

    if (s > 0 && !c->closing && !c->shutting && !c->in_msg)
        uv_timer_start(&c->idle, idle_expired, (uint64_t)s * 1000, 0);
}

static void message_expired(uv_timer_t *t)
{
    struct sk__conn *c = t->data;
    char a[SK_ADDR_STRLEN];

    SK_LOG(SK_LOG_INFO, "transport", "event=tcp_slow_message peer=%s conn=%llu pending_bytes=%zu",
           sk_addr_format(&c->peer, a, sizeof(a)), (unsigned long long)c->id, c->rlen);
    sk__conn_close(c, "message timeout");
}

/* The first bytes of a message arrived: it has tcp_message_timeout to
 * arrive whole (or the idle timeout, if shorter). Bytes that trickle in
 * do not extend it, so a peer cannot hold the connection, and the buffer
 * behind it, by sending a header byte now and then (slowloris). */
static void message_started(struct sk__conn *c)
{
    struct sk_tp *tp = c->w->tp;
    unsigned s = atomic_load_explicit(&tp->message_timeout_s, memory_order_relaxed);
    unsigned idle = atomic_load_explicit(&tp->idle_timeout_s, memory_order_relaxed);

    if (c->closing || c->shutting)
        return;
    c->in_msg = true;
    if (s == 0 || (idle > 0 && idle < s))
        s = idle;
    if (s > 0)
        uv_timer_start(&c->idle, message_expired, (uint64_t)s * 1000, 0);
}

/* ---- reading --------------------------------------------------------------- */

/* Largest frame plus room for keep-alive CRLFs in front of it. */
static size_t frame_cap(const struct sk_tp *tp)
{
    return tp->limits.max_size + 64;
}

/* Room at the end of the receive buffer, grown up to the frame limit. */
static void rbuf_room(struct sk__conn *c, uv_buf_t *buf)
{
    size_t cap = frame_cap(c->w->tp);

    if (c->rcap < cap && c->rcap - c->rlen < 16384) {
        size_t want = c->rcap == 0 ? 16384 : c->rcap * 2;
        char *p;
        if (want > cap)
            want = cap;
        p = sk_realloc(c->rbuf, want);
        if (p != NULL) {
            c->rbuf = p;
            c->rcap = want;
        }
    }
    buf->base = c->rbuf == NULL ? NULL : c->rbuf + c->rlen;
    buf->len = c->rbuf == NULL ? 0 : c->rcap - c->rlen;
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct sk__conn *c = h->data;

    (void)suggested;
    if (c->nlayers > 0) {
        /* Layer 0 consumes what was read before the next read. */
        buf->base = c->w->layer_rbuf;
        buf->len = c->w->layer_rbuf == NULL ? 0 : SK__LAYER_RBUF;
        return;
    }
    rbuf_room(c, buf);
}

/* Hand up bytes that cannot be framed, so the server can answer 400 or
 * 513. For an oversized frame the header lines that did arrive whole are
 * handed up, closed with an empty line, so Via, From, To, Call-ID and CSeq
 * can still be read when they came first. */
static void deliver_unframeable(struct sk__conn *c, const char *p, size_t n, int err)
{
    struct sk_buf *b = &c->w->scratch;
    const char *end = NULL;

    if (err == SK_ETOOBIG) {
        for (size_t i = n; i >= 2 && end == NULL; i--) {
            if (p[i - 2] == '\r' && p[i - 1] == '\n')
                end = p + i;
        }
    }
    if (end == NULL) {
        sk__tp_deliver(c->w, c->tp, c->listener, &c->peer, c, p, n, SK_EPARSE);
        return;
    }
    sk_buf_reset(b);
    sk_buf_append(b, p, (size_t)(end - p));
    sk_buf_append(b, "\r\n", 2);
    if (!sk_buf_ok(b)) {
        sk__tp_deliver(c->w, c->tp, c->listener, &c->peer, c, p, n, SK_ETOOBIG);
        return;
    }
    sk__tp_deliver(c->w, c->tp, c->listener, &c->peer, c, b->p, b->len, SK_ETOOBIG);
}

static int conn_write(struct sk__conn *c, const char *data, size_t len);

/* RFC 5626 §4.4.1: a double CRLF between messages is a keep-alive "ping"
 * and gets a single CRLF "pong", so a client behind NAT learns its flow
 * is alive. Returns the bytes consumed at p: 4 for a ping, 0 when p does
 * not start one, or -1 when it may be a ping still arriving. */
static long keepalive_ping(struct sk__conn *c, const char *p, size_t n)
{
    static const char ping[] = "\r\n\r\n";

    if (n < 4)
        return n > 0 && memcmp(p, ping, n) == 0 ? -1 : 0;
    if (memcmp(p, ping, 4) != 0)
        return 0;
    SK_LOG(SK_LOG_DEBUG, "transport", "event=keepalive_ping conn=%" PRIu64, c->id);
    if (conn_write(c, "\r\n", 2) != 0)
        SK_LOG(SK_LOG_DEBUG, "transport", "event=pong_not_sent");
    return 4;
}

/* Cut and hand up every complete message in the buffer. Returns the
 * bytes consumed (messages and keep-alives). */
static size_t conn_frame(struct sk__conn *c)
{
    struct sk_tp *tp = c->w->tp;
    size_t off = 0;

    while (!c->closing && !c->shutting && off < c->rlen) {
        size_t skip = 0, mlen = 0;
        long ka = keepalive_ping(c, c->rbuf + off, c->rlen - off);
        if (ka < 0)
            break;
        if (ka > 0) {
            off += (size_t)ka;
            continue;
        }
        int err = sk_msg_frame(c->rbuf + off, c->rlen - off, &tp->limits, &skip, &mlen);
        if (err == SK_EAGAIN) {
            off += skip;
            if (c->rlen - off < frame_cap(tp) - 64)
                break;
            err = SK_ETOOBIG; /* no end in sight within the limit */
        }
        if (err != 0) {
            deliver_unframeable(c, c->rbuf + off, c->rlen - off, err);
            /* Answered if possible; now shut it down. */
            sk__conn_close_after_flush(c, "unframeable stream");
            return off;
        }
        sk__tp_deliver(c->w, c->tp, c->listener, &c->peer, c, c->rbuf + off + skip, mlen, 0);
        off += skip + mlen;
    }
    if (off > 0 && !c->closing) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
    return off;
}

/* n bytes were added at the end of the receive buffer. */
static void conn_received(struct sk__conn *c, size_t n)
{
    size_t consumed;

    c->rlen += n;
    consumed = conn_frame(c);
    if (c->closing || c->shutting)
        return;
    if (c->rlen == 0) {
        /* Everything received is handled: idle from now. */
        c->in_msg = false;
        touch(c);
    } else if (!c->in_msg || consumed > 0) {
        /* What is left is the start of a new message. */
        message_started(c);
    }
}

int sk__layer_up(struct sk__conn *c, unsigned level, const char *p, size_t n)
{
    if (level + 1 < c->nlayers)
        return c->layers[level + 1].ops->input(c, level + 1, p, n);
    /* Above the top layer: into the receive buffer, framed as it fills. */
    while (n > 0 && !c->closing && !c->shutting) {
        uv_buf_t b;
        rbuf_room(c, &b);
        if (b.len == 0)
            return SK_ENOMEM; /* a full buffer was framed or refused */
        size_t k = n < b.len ? n : b.len;
        memcpy(b.base, p, k);
        p += k;
        n -= k;
        conn_received(c, k);
    }
    return 0;
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct sk__conn *c = s->data;

    if (nread == 0)
        return;
    if (nread < 0) {
        sk__conn_close(c, nread == UV_EOF ? "peer closed" : uv_strerror((int)nread));
        return;
    }
    if (c->nlayers > 0) {
        if (c->shutting)
            return;
        int err = c->layers[0].ops->input(c, 0, buf->base, (size_t)nread);
        if (err != 0 && !c->closing)
            sk__conn_close(c, err == SK_ENOMEM ? "out of memory" : c->layers[0].ops->name);
        return;
    }
    if (c->rbuf == NULL) {
        sk__conn_close(c, "out of memory");
        return;
    }
    if (c->shutting)
        return; /* draining a dropped peer: discard */
    conn_received(c, (size_t)nread);
}

/* A layer's handshake counts as a message: it must end within
 * tcp_message_timeout, or a peer could hold a connection (and the memory
 * of a TLS session) by never finishing it. */
void sk__conn_handshake_started(struct sk__conn *c)
{
    message_started(c);
}

void sk__conn_handshake_done(struct sk__conn *c)
{
    if (c->rlen == 0) {
        c->in_msg = false;
        touch(c);
    }
}

/* Start the layers of a connection that is up. */
static int layers_start(struct sk__conn *c)
{
    for (unsigned i = 0; i < c->nlayers; i++) {
        int err = c->layers[i].ops->start(c, i);
        if (err != 0)
            return err;
    }
    return 0;
}

/* ---- accepted and outgoing connections ----------------------------------- */

void sk__conn_accepted(struct sk__conn *c)
{
    char a[SK_ADDR_STRLEN];

    SK__INC(c->w->tcp_accepted);
    SK_LOG(SK_LOG_DEBUG, "transport", "event=tcp_accept peer=%s conn=%llu",
           sk_addr_format(&c->peer, a, sizeof(a)), (unsigned long long)c->id);
    uv_tcp_nodelay(&c->h, 1);
    const struct sk_listener *l =
        c->listener < c->w->tp->nlisteners ? &c->w->tp->listeners[c->listener] : NULL;
    if (l != NULL && l->tls && sk__tls_attach(c, true) != 0) {
        sk__conn_close(c, "tls setup failed");
        return;
    }
    /* RFC 7118: wss is WebSocket over TLS, ws WebSocket alone. */
    if (l != NULL && l->ws && sk__ws_attach(c) != 0) {
        sk__conn_close(c, "websocket setup failed");
        return;
    }
    c->peer.tp = c->tp;
    reg_add(c);
    touch(c);
    if (layers_start(c) != 0) {
        sk__conn_close(c, "layer start failed");
        return;
    }
    uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_read);
}

/* RFC 3261 §18.1.1: a request moved from UDP to TCP because of its size
 * "SHOULD" be retried over UDP when the connection is refused or reset
 * (the peer has no TCP). */
static void fallback_to_udp(struct sk__conn *c, int status)
{
    bool retry =
        status == UV_ECONNREFUSED || status == UV_ECONNRESET || status == UV_EPROTONOSUPPORT;
    char a[SK_ADDR_STRLEN];

    while (c->fallback != NULL) {
        struct sk__mail *m = c->fallback;
        c->fallback = m->next;
        if (retry) {
            SK_LOG(SK_LOG_INFO, "transport", "event=tcp_refused_udp_retry peer=%s bytes=%zu",
                   sk_addr_format(&m->dst.addr, a, sizeof(a)), m->len);
            sk__udp_send(c->w->tp, &m->dst, m->data, m->len);
        }
        sk_free(m);
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    struct sk__conn *c = req->data;
    char a[SK_ADDR_STRLEN];

    sk_free(req);
    c->connecting = false;
    if (c->closing)
        return;
    if (status != 0) {
        SK_LOG(SK_LOG_WARN, "transport", "event=tcp_connect_failed peer=%s error=\"%s\"",
               sk_addr_format(&c->peer, a, sizeof(a)), uv_strerror(status));
        if (c->fallback != NULL)
            fallback_to_udp(c, status);
        sk__conn_close(c, "connect failed");
        return;
    }
    fallback_free(c); /* the peer takes TCP: no retry needed */
    uv_tcp_nodelay(&c->h, 1);
    touch(c);
    if (layers_start(c) != 0) {
        sk__conn_close(c, "layer start failed");
        return;
    }
    uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_read);
}

static struct sk__conn *conn_connect(struct sk_tp_worker *w, const struct sk_addr *peer,
                                     enum sk_transport t)
{
    struct sk__conn *c;
    uv_connect_t *req;

    if (atomic_load(&w->tp->nconns) >= atomic_load(&w->tp->max_conns))
        return NULL;
    c = sk__conn_new(w, UINT32_MAX);
    req = sk_malloc(sizeof(*req));
    if (c == NULL || req == NULL) {
        sk_free(req);
        if (c != NULL)
            sk__conn_close(c, "out of memory");
        return NULL;
    }
    c->peer = *peer;
    c->peer.tp = SK_TP_TCP;
    if (t == SK_TP_TLS && sk__tls_attach(c, false) != 0) {
        sk_free(req);
        sk__conn_close(c, "tls setup failed");
        return NULL;
    }
    c->peer.tp = c->tp;
    req->data = c;
    if (uv_tcp_connect(req, &c->h, &peer->sa, on_connect) != 0) {
        sk_free(req);
        sk__conn_close(c, "connect failed");
        return NULL;
    }
    /* connect() has bound the socket already: keep the address, so that
     * --trace shows where our messages on it really come from. */
    int len = (int)sizeof(c->local.ss);
    if (uv_tcp_getsockname(&c->h, &c->local.sa, &len) == 0) {
        c->local.sslen = (socklen_t)len;
        c->local.tp = c->tp;
    }
    c->connecting = true;
    reg_add(c);
    return c;
}

/* ---- writing ----------------------------------------------------------------- */

static void write_done(uv_write_t *req, int status)
{
    struct wreq *wr = (struct wreq *)req;
    struct sk__conn *c = wr->c;

    c->wpending -= wr->len;
    sk_free(wr);
    if (status != 0 && status != UV_ECANCELED)
        sk__conn_close(c, uv_strerror(status));
}

static int conn_raw_write(struct sk__conn *c, const char *data, size_t len)
{
    struct sk_tp *tp = c->w->tp;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    size_t done = 0;
    struct wreq *wr;
    int n;

    if (c->wpending == 0) {
        n = uv_try_write((uv_stream_t *)&c->h, &b, 1);
        if (n > 0)
            done = (size_t)n;
        else if (n != UV_EAGAIN && n != UV_ENOSYS)
            return n;
    }
    if (done == len)
        return 0;
    size_t held = c->wpending;
    for (unsigned i = 0; i < c->nlayers; i++)
        held += c->layers[i].ops->pending(c, i);
    if (held + (len - done) > atomic_load(&tp->max_buffer)) {
        sk__conn_close(c, "send buffer limit");
        return SK_ETOOBIG;
    }
    wr = sk_malloc(sizeof(*wr) + len - done);
    if (wr == NULL)
        return SK_ENOMEM;
    wr->c = c;
    wr->len = len - done;
    memcpy(wr->data, data + done, wr->len);
    b = uv_buf_init(wr->data, (unsigned)wr->len);
    n = uv_write(&wr->req, (uv_stream_t *)&c->h, &b, 1, write_done);
    if (n != 0) {
        sk_free(wr);
        return n;
    }
    c->wpending += wr->len;
    return 0;
}

int sk__layer_down(struct sk__conn *c, unsigned level, const char *p, size_t n)
{
    if (level == 0)
        return conn_raw_write(c, p, n);
    return c->layers[level - 1].ops->output(c, level - 1, p, n);
}

static int conn_write(struct sk__conn *c, const char *data, size_t len)
{
    if (c->nlayers > 0)
        return c->layers[c->nlayers - 1].ops->output(c, c->nlayers - 1, data, len);
    return conn_raw_write(c, data, len);
}

/* Keep the UDP form of a request queued on a connection still being
 * opened, in case the peer refuses it. */
static int prepare_fallback(struct sk__conn *c, const struct sk_dest *dst, const void *data,
                            size_t len)
{
    struct sk__mail *m = sk_malloc(sizeof(*m) + len), **tail = &c->fallback;

    if (m == NULL)
        return SK_ENOMEM;
    m->next = NULL;
    m->dst = *dst;
    m->dst.transport = SK_TP_UDP;
    m->dst.addr.tp = SK_TP_UDP;
    m->dst.conn_id = 0;
    m->flags = 0;
    m->len = len;
    memcpy(m->data, data, len);
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = m;
    return 0;
}

void sk__tcp_send_local(struct sk_tp_worker *w, const struct sk_dest *dst, const void *data,
                        size_t len, unsigned flags)
{
    struct sk__conn *c = dst->conn_id != 0 ? sk__conn_find(w, dst->conn_id) : NULL;
    struct sk_tp *tp = w->tp;
    char a[SK_ADDR_STRLEN];
    const void *orig = data;
    size_t orig_len = len;
    int err;

    if (flags & SK__SEND_UDP_FALLBACK) {
        /* §18.1.1: the top Via must name the transport actually used. */
        if (sk__via_to_tcp(data, len, &w->txbuf) != 0) {
            SK_LOG(SK_LOG_WARN, "transport", "event=send_failed transport=tcp peer=%s error=\"%s\"",
                   sk_addr_format(&dst->addr, a, sizeof(a)), "request without a usable Via");
            return;
        }
        data = w->txbuf.p;
        len = w->txbuf.len;
    }

    /* RFC 5630: what must go over TLS never takes a plain connection;
     * nor WebSocket (RFC 7118) anything but a WebSocket one. */
    if (c != NULL && (dst->transport == SK_TP_TLS || sk_transport_is_ws(dst->transport)) &&
        c->tp != dst->transport)
        c = NULL;
    if (c == NULL && dst->conn_id != 0) {
        /* §18.2.2: the request's connection is gone; try another one to
         * the same peer, else open a new one. */
        unsigned widx;
        uint64_t id;
        if (sk__reg_lookup_tp(tp, &dst->addr, dst->transport, &widx, &id) == 0 && widx == w->idx)
            c = sk__conn_find(w, id);
    }
    /* A WebSocket client is reached over the connection it opened, or
     * not at all: we never connect to one (RFC 7118 §5, Outbound style). */
    if (c == NULL && !sk_transport_is_ws(dst->transport))
        c = conn_connect(w, &dst->addr, dst->transport == SK_TP_TLS ? SK_TP_TLS : SK_TP_TCP);
    if (c != NULL && c->connecting && (flags & SK__SEND_UDP_FALLBACK) &&
        prepare_fallback(c, dst, orig, orig_len) != 0)
        SK_LOG(SK_LOG_WARN, "transport", "event=udp_retry_unavailable error=\"out of memory\"");
    if (c == NULL) {
        SK_LOG(SK_LOG_WARN, "transport", "event=send_failed transport=%s peer=%s error=\"%s\"",
               sk_transport_name(dst->transport), sk_addr_format(&dst->addr, a, sizeof(a)),
               "no connection");
        return;
    }
    sk__tp_trace_out(tp, c->tp, c->listener < tp->nlisteners ? &tp->bound[c->listener] : &c->local,
                     &c->peer, data, len);
    err = conn_write(c, data, len);
    if (err != 0) {
        SK_LOG(SK_LOG_WARN, "transport", "event=send_failed transport=%s peer=%s error=\"%s\"",
               sk_transport_name(c->tp), sk_addr_format(&c->peer, a, sizeof(a)),
               err < -10000 ? sk_strerror(err) : uv_strerror(err));
        return;
    }
    SK__INC(w->tx_msgs);
    touch(c);
}

void sk__tcp_stop(struct sk_tp_worker *w)
{
    struct sk_dlist *l, *tmp;

    SK_DLIST_FOREACH_SAFE(l, tmp, &w->conn_list)
    {
        struct sk__conn *c = SK_CONTAINER_OF(l, struct sk__conn, in_worker);
        /* Connections already flushing finish on their own. */
        if (c->wpending > 0)
            sk__conn_close_after_flush(c, "shutdown");
        else if (!c->shutting)
            sk__conn_close(c, "shutdown");
    }
}
