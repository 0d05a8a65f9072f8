/*
 * Transport core: worker threads with one libuv loop each, the
 * SO_REUSEPORT sockets every worker binds for every listener, handing
 * messages up, sending (RFC 3261 §18.1 / §18.2, with the §18.1.1 move of
 * large requests to TCP) and the cross-worker mailbox. UDP reading and
 * writing live in udp.c, TCP connections in tcp.c.
 *
 * Memory: a worker's receive buffer and parsed message are
 * reused for every message, so the UDP path allocates nothing in steady
 * state. Mail carries a copy of the bytes and is freed by the receiving
 * worker. See internal.h for who owns what.
 */
#include "transport/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <string.h>
#include <unistd.h>

static _Thread_local struct sk_tp_worker *current_worker;

struct sk_tp_worker *sk__tp_current(void)
{
    return current_worker;
}

/* ---- sockets ---------------------------------------------------------- */

/* A socket every worker can bind to the same address: the kernel spreads
 * datagrams and connections over them. IPv6 sockets are IPv6-only so that
 * 0.0.0.0:P and [::]:P can both be listened on. */
static int bound_socket(const struct sk_addr *addr, int type)
{
    int one = 1;
    int fd = socket(addr->sa.sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (addr->sa.sa_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
        bind(fd, &addr->sa, sk_addr_len(addr)) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* A burst of datagrams (a NOTIFY fan-out's 200 OKs, a registration
 * storm after a restart) overflows the default 208 KB receive buffer and
 * turns into retransmissions; ask for 4 MB each way (the kernel caps it
 * at net.core.rmem_max / wmem_max). Failure only means a smaller buffer. */
static void widen_udp_buffers(int fd)
{
    int size = 4 * 1024 * 1024;

    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* Port 0: find a port free for both UDP and TCP. The probes are bound
 * without SO_REUSEPORT, so the port cannot be one another process's
 * SO_REUSEPORT listener holds (sharing it would split its traffic). */
static int pick_free_port(struct sk_addr *addr)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        struct sk_addr probe = *addr;
        socklen_t sl = sizeof(probe.ss);
        int u = socket(addr->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int t = socket(addr->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int ok = u >= 0 && t >= 0 && bind(u, &probe.sa, sk_addr_len(&probe)) == 0 &&
                 getsockname(u, &probe.sa, &sl) == 0 &&
                 bind(t, &probe.sa, sk_addr_len(&probe)) == 0;
        int err = -errno;
        if (u >= 0)
            close(u);
        if (t >= 0)
            close(t);
        if (ok) {
            *addr = probe;
            return 0;
        }
        if (err != -EADDRINUSE)
            return err;
    }
    return -EADDRINUSE;
}

/* ---- receiving ---------------------------------------------------------- */

void sk__tp_deliver(struct sk_tp_worker *w, enum sk_transport t, unsigned listener,
                    const struct sk_addr *peer, struct sk__conn *conn, const char *p, size_t n,
                    int frame_err)
{
    struct sk_tp *tp = w->tp;
    struct sk_rx rx;
    int err;

    /* A connection we opened (to a proxy target) belongs to no listener
     * (UINT32_MAX): it counts as the first one's, but the trace shows the
     * address it really has. */
    const struct sk_addr *local = &tp->bound[0];
    if (listener >= tp->nlisteners) {
        listener = 0;
        if (conn != NULL)
            local = &conn->local;
    } else {
        local = &tp->bound[listener];
    }
    if (atomic_load_explicit(&tp->trace, memory_order_relaxed) && tp->on_trace != NULL)
        tp->on_trace(tp->trace_arg, SK_TRACE_IN, t, local, peer, sk_slice_make(p, n));
    memset(&rx, 0, sizeof(rx));
    rx.tp = tp;
    rx.worker = w;
    rx.transport = t;
    rx.peer = *peer;
    rx.peer.sslen = sk_addr_len(peer);
    rx.peer.tp = t;
    rx.peer.conn_id = conn != NULL ? conn->id : 0;
    rx.local = tp->bound[listener];
    rx.listener = listener;
    rx.conn_id = conn != NULL ? conn->id : 0;
    rx.msg = &w->msg;
    rx.bytes = sk_slice_make(p, n);
    sk_addr_format_host(peer, false, w->src_ip, sizeof(w->src_ip));
    SK__INC(w->rx_msgs);

    if (frame_err == 0) {
        /* RFC 7118 §5.1: a WebSocket message is one SIP message, delimited
         * by its frame as a datagram is, Content-Length optional. */
        bool stream = conn != NULL && !sk_transport_is_ws(t);
        err = sk_msg_parse(&w->msg, p, n, stream ? SK_MSG_STREAM : SK_MSG_DATAGRAM, &tp->limits);
    } else {
        /* The head of an unframeable stream: read what can be read so a
         * response can name the defect; the size limit was hit already. */
        struct sk_msg_limits roomy = tp->limits;
        roomy.max_size = n + 1;
        err = sk_msg_parse(&w->msg, p, n, SK_MSG_DATAGRAM, &roomy);
    }
    if (frame_err != 0) {
        /* The stream cannot be framed (§18.3: Content-Length is mandatory
         * on streams); say so even when the bytes parse as a datagram. */
        if (err == 0) {
            w->msg.cause = frame_err == SK_ETOOBIG ? SK_CAUSE_TOO_LARGE : SK_CAUSE_CONTENT_LENGTH;
            w->msg.cause_hdr = SK_HDR_OTHER;
            w->msg.cause_name = SK_SLICE_NULL;
            err = frame_err;
        }
        rx.close_after = true;
    }
    if (err == 0 || w->msg.respondable) {
        /* RFC 3261 §18.2.1, RFC 3581 §4: the message layer adds received
         * and the rport value to the top Via when it writes a response or
         * forwards the request. */
        sk_msg_set_source(&w->msg, sk_slice_cstr(w->src_ip), sk_addr_port(peer));
    }
    if (err != 0) {
        SK__INC(w->rx_bad);
        /* A stream peer that sent something unparseable is answered (when
         * possible) and then disconnected: its framing cannot be trusted. */
        if (conn != NULL)
            rx.close_after = true;
    }
    rx.parse_err = err;
    tp->on_recv(tp->recv_arg, &rx);
    if (rx.close_after && conn != NULL)
        sk__conn_close_after_flush(conn, "bad message");
}

/* ---- sending ------------------------------------------------------------ */

void sk__tp_trace_out(struct sk_tp *tp, enum sk_transport t, const struct sk_addr *local,
                      const struct sk_addr *peer, const void *data, size_t len)
{
    if (atomic_load_explicit(&tp->trace, memory_order_relaxed) && tp->on_trace != NULL)
        tp->on_trace(tp->trace_arg, SK_TRACE_OUT, t, local, peer, sk_slice_make(data, len));
}

static int post_mail(struct sk_tp_worker *w, const struct sk_dest *dst, const void *data,
                     size_t len, unsigned flags)
{
    struct sk__mail *m = sk_malloc(sizeof(*m) + len);
    int err = 0;

    if (m == NULL)
        return SK_ENOMEM;
    m->next = NULL;
    m->dst = *dst;
    m->flags = flags;
    m->len = len;
    memcpy(m->data, data, len);
    uv_mutex_lock(&w->mlock);
    if (w->stop_requested || !w->async_ready) {
        err = SK_ESTATE;
    } else {
        if (w->mtail != NULL)
            w->mtail->next = m;
        else
            w->mhead = m;
        w->mtail = m;
        uv_async_send(&w->wake);
    }
    uv_mutex_unlock(&w->mlock);
    if (err != 0)
        sk_free(m);
    return err;
}

/* TCP: write on the worker that owns the connection (or will open it). */
static int stream_send(struct sk_tp *tp, const struct sk_dest *dst, const void *data, size_t len,
                       unsigned flags)
{
    struct sk_tp_worker *cur = current_worker;
    unsigned owner;
    uint64_t id = dst->conn_id;

    if (cur != NULL && cur->tp != tp)
        cur = NULL;
    if (len > atomic_load_explicit(&tp->max_buffer, memory_order_relaxed))
        return SK_ETOOBIG;
    if (id != 0 && SK__CONN_WORKER(id) < tp->nworkers) {
        owner = SK__CONN_WORKER(id);
    } else if (sk__reg_lookup_tp(tp, &dst->addr, dst->transport, &owner, &id) != 0) {
        owner = cur != NULL ? cur->idx : 0;
        id = 0;
    }
    if (cur != NULL && cur->idx == owner) {
        struct sk_dest d = *dst;
        d.conn_id = id;
        sk__tcp_send_local(cur, &d, data, len, flags);
        return 0;
    }
    struct sk_dest d = *dst;
    d.conn_id = id;
    return post_mail(&tp->workers[owner], &d, data, len, flags);
}

int sk_tp_send(struct sk_tp *tp, const struct sk_dest *dst, const void *data, size_t len)
{
    if (dst->transport == SK_TP_UDP)
        return sk__udp_send(tp, dst, data, len);
    return stream_send(tp, dst, data, len, 0);
}

bool sk_tp_stream_open(struct sk_tp *tp, const struct sk_addr *peer)
{
    unsigned owner;
    uint64_t id;

    /* A TLS or WebSocket peer needs a connection of its kind; for TCP
     * any stream will do. */
    bool any = peer->tp == SK_TP_UDP || peer->tp == SK_TP_TCP;
    return sk__reg_lookup_tp(tp, peer, any ? SK_TP_UDP : peer->tp, &owner, &id) == 0;
}

int sk_tp_send_request(struct sk_tp *tp, const struct sk_dest *dst, const void *data, size_t len)
{
    struct sk_dest d;

    if (dst->transport != SK_TP_UDP || len <= tp->udp_request_max)
        return sk_tp_send(tp, dst, data, len);
    /* RFC 3261 §18.1.1: a request that may not fit the path goes over a
     * congestion-controlled transport; the peer's TCP listens on the port
     * of its UDP. The owning worker rewrites the Via and keeps the UDP
     * form for a retry if the connection is refused. */
    d = *dst;
    d.transport = SK_TP_TCP;
    d.addr.tp = SK_TP_TCP;
    d.conn_id = 0;
    return stream_send(tp, &d, data, len, SK__SEND_UDP_FALLBACK);
}

/* ---- the worker loop ------------------------------------------------------ */

static void close_cb_nop(uv_handle_t *h)
{
    (void)h;
}

static void drain_expired(uv_timer_t *t)
{
    struct sk_tp_worker *w = t->data;

    while (!sk_dlist_empty(&w->conn_list))
        sk__conn_close(SK__FIRST_CONN(w), "shutdown");
}

static void begin_stop(struct sk_tp_worker *w)
{
    if (w->stopping)
        return;
    w->stopping = true;
    for (size_t i = 0; i < w->tp->nlisteners; i++) {
        if (w->udp[i].active) {
            uv_poll_stop(&w->udp[i].h);
            uv_close((uv_handle_t *)&w->udp[i].h, close_cb_nop);
            w->udp[i].active = false;
        }
    }
    sk__tcp_listen_stop(w);
    sk__tcp_stop(w);
    if (!uv_is_closing((uv_handle_t *)&w->ws_tick))
        uv_close((uv_handle_t *)&w->ws_tick, close_cb_nop);
    uv_close((uv_handle_t *)&w->wake, close_cb_nop);
    if (!uv_is_closing((uv_handle_t *)&w->lag))
        uv_close((uv_handle_t *)&w->lag, close_cb_nop);
    if (!sk_dlist_empty(&w->conn_list)) {
        /* Bounded drain: connections still flushing are cut at the end. */
        uv_timer_start(&w->drain, drain_expired, w->tp->drain_ms, 0);
        uv_unref((uv_handle_t *)&w->drain);
    }
}

static void on_wake(uv_async_t *a)
{
    struct sk_tp_worker *w = a->data;
    struct sk__mail *m;
    bool stop;

    uv_mutex_lock(&w->mlock);
    m = w->mhead;
    w->mhead = w->mtail = NULL;
    stop = w->stop_requested;
    uv_mutex_unlock(&w->mlock);
    while (m != NULL) {
        struct sk__mail *next = m->next;
        if (!w->stopping)
            sk__tcp_send_local(w, &m->dst, m->data, m->len, m->flags);
        sk_free(m);
        m = next;
    }
    if (stop)
        begin_stop(w);
}

/* Event-loop lag: a timer due every LAG_PERIOD_MS; how late it runs is
 * how long a message that arrived meanwhile waited behind other work. */
#define LAG_PERIOD_MS 100

static void lag_tick(uv_timer_t *t)
{
    struct sk_tp_worker *w = t->data;
    uint64_t now = sk_now_us();

    sk_histo_observe(&w->tp->loop_lag, now > w->lag_due_us ? now - w->lag_due_us : 0);
    w->lag_due_us = now + LAG_PERIOD_MS * 1000u;
}

/* WebSocket keepalive: once a second, see whether a ping round is due
 * (ws.ping_interval may change on SIGHUP). */
static void ws_tick(uv_timer_t *t)
{
    struct sk_tp_worker *w = t->data;
    unsigned s = atomic_load_explicit(&w->tp->ws_ping_s, memory_order_relaxed);
    uint64_t now = sk_now_ms();

    if (s == 0 || now < w->ws_ping_due)
        return;
    w->ws_ping_due = now + (uint64_t)s * 1000;
    sk__ws_tick(w);
}

static void worker_main(void *arg)
{
    struct sk_tp_worker *w = arg;

    current_worker = w;
    w->lag_due_us = sk_now_us() + LAG_PERIOD_MS * 1000u;
    uv_timer_start(&w->lag, lag_tick, LAG_PERIOD_MS, LAG_PERIOD_MS);
    uv_unref((uv_handle_t *)&w->lag); /* never keeps a stopping loop alive */
    if (w->tp->has_ws) {
        w->ws_ping_due =
            sk_now_ms() +
            (uint64_t)atomic_load_explicit(&w->tp->ws_ping_s, memory_order_relaxed) * 1000;
        uv_timer_start(&w->ws_tick, ws_tick, 1000, 1000);
        uv_unref((uv_handle_t *)&w->ws_tick);
    }
    uv_run(&w->loop, UV_RUN_DEFAULT);
    current_worker = NULL;
}

/* ---- lifecycle ------------------------------------------------------------ */

/* Descriptors left for connections: the soft RLIMIT_NOFILE less what the
 * workers' own sockets, loops and spares take and what the application
 * keeps (cfg->fd_reserve: its store, logs). Refuse to run without room
 * for a few connections. */
static int fd_budget(struct sk_tp *tp, const struct sk_tp_config *cfg)
{
    struct rlimit rl;
    uint64_t per_worker = 2 * (uint64_t)cfg->nlisteners + 6; /* sockets, epoll, async, spare */

    tp->fd_limit = UINT32_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < UINT32_MAX)
        tp->fd_limit = rl.rlim_cur;
    tp->fd_reserve = 16 + cfg->fd_reserve + per_worker * tp->nworkers;
    if (tp->fd_limit < tp->fd_reserve + 16) {
        SK_LOG(SK_LOG_ERROR, "transport",
               "event=fd_limit_too_low fd_limit=%llu needed=%llu workers=%u",
               (unsigned long long)tp->fd_limit, (unsigned long long)(tp->fd_reserve + 16),
               tp->nworkers);
        return -EMFILE;
    }
    return 0;
}

/* Bind listener li on worker w. The first worker binds the configured
 * address (port 0 picks one); the others bind the address it got. */
static int bind_listener(struct sk_tp *tp, struct sk_tp_worker *w, unsigned li)
{
    struct sk_addr *addr = &tp->bound[li];
    char a[SK_ADDR_STRLEN];
    int ufd, tfd, err;

    if (w->idx == 0 && sk_addr_port(addr) == 0 && (err = pick_free_port(addr)) != 0)
        return err;
    if (tp->listeners[li].tls || tp->listeners[li].ws) {
        /* RFC 3261 §26.2: TLS runs over TCP only; so does WebSocket. */
        addr->tp = sk_listener_transport(&tp->listeners[li]);
        tfd = bound_socket(addr, SOCK_STREAM);
        if (tfd < 0)
            return tfd;
        ufd = -1;
        goto listen_tcp;
    }
    ufd = bound_socket(addr, SOCK_DGRAM);
    if (ufd < 0)
        return ufd;
    widen_udp_buffers(ufd);
    tfd = bound_socket(addr, SOCK_STREAM);
    if (tfd < 0) {
        close(ufd);
        return tfd;
    }
    w->udp[li].w = w;
    w->udp[li].listener = li;
    w->udp[li].h.data = &w->udp[li];
    w->udp[li].fd = ufd;
    err = uv_poll_init(&w->loop, &w->udp[li].h, ufd);
    if (err == 0)
        err = uv_poll_start(&w->udp[li].h, UV_READABLE, sk__udp_readable);
    if (err != 0) {
        w->udp[li].fd = 0;
        close(ufd);
        close(tfd);
        return err;
    }
    w->udp[li].active = true;
listen_tcp:
    err = sk__tcp_listen_start(w, li, tfd);
    if (err != 0) {
        SK_LOG(SK_LOG_ERROR, "transport", "event=listen_failed transport=%s addr=%s error=\"%s\"",
               ufd < 0 ? sk_transport_name(addr->tp) : "tcp", sk_addr_format(addr, a, sizeof(a)),
               uv_strerror(err));
        return err;
    }
    return 0;
}

static int worker_init(struct sk_tp *tp, struct sk_tp_worker *w, unsigned idx)
{
    int err;

    w->tp = tp;
    w->idx = idx;
    sk_dlist_init(&w->conn_list);
    w->next_id = 1;
    sk_msg_init(&w->msg);
    sk_buf_init(&w->scratch);
    sk_buf_init(&w->txbuf);
    sk_buf_init(&w->txq_bytes);
    w->rbuf_size = tp->limits.max_size + 1;
    if (w->rbuf_size < 65536)
        w->rbuf_size = 65536;
    w->rbuf = sk_malloc(w->rbuf_size * SK__UDP_BATCH);
    if ((tp->tls != NULL || tp->has_ws) && (w->layer_rbuf = sk_malloc(SK__LAYER_RBUF)) == NULL)
        return SK_ENOMEM;
    w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    w->udp = sk_calloc(tp->nlisteners, sizeof(*w->udp));
    w->tcpl = sk_calloc(tp->nlisteners, sizeof(*w->tcpl));
    if (w->rbuf == NULL || w->udp == NULL || w->tcpl == NULL || sk_htab_reserve(&w->conns, 64) != 0)
        return SK_ENOMEM;
    if ((err = uv_mutex_init(&w->mlock)) != 0)
        return err;
    if ((err = uv_loop_init(&w->loop)) != 0)
        return err;
    w->loop_ready = true;
    w->wake.data = w;
    w->drain.data = w;
    uv_timer_init(&w->loop, &w->drain);
    w->lag.data = w;
    uv_timer_init(&w->loop, &w->lag);
    w->ws_tick.data = w;
    uv_timer_init(&w->loop, &w->ws_tick);
    if ((err = uv_async_init(&w->loop, &w->wake, on_wake)) != 0)
        return err;
    w->async_ready = true;
    return 0;
}

int sk_tp_new(struct sk_tp **out, const struct sk_tp_config *cfg)
{
    struct sk_tp *tp;
    unsigned n = cfg->workers;
    int err = SK_ENOMEM;
    char a[SK_ADDR_STRLEN];

    if (cfg->nlisteners == 0 || cfg->on_recv == NULL)
        return SK_EINVAL;
    if (n == 0)
        n = (unsigned)uv_available_parallelism();
    if (n == 0)
        n = 1;
    if (n > SK__MAX_WORKERS)
        n = SK__MAX_WORKERS;
    tp = sk_calloc(1, sizeof(*tp));
    if (tp == NULL)
        return SK_ENOMEM;
    /* Registry inserts cannot fail once it has buckets. */
    if (sk_htab_reserve(&tp->reg, 256) != 0) {
        sk_free(tp);
        return SK_ENOMEM;
    }
    uv_mutex_init(&tp->reg_lock);
    sk_htab_init(&tp->hosts);
    tp->nlisteners = cfg->nlisteners;
    tp->limits = cfg->limits;
    if (tp->limits.max_size == 0)
        tp->limits.max_size = SK_MSG_DEFAULT_MAX_SIZE;
    tp->on_recv = cfg->on_recv;
    tp->recv_arg = cfg->recv_arg;
    tp->on_closed = cfg->on_closed;
    tp->closed_arg = cfg->closed_arg;
    tp->on_idle = cfg->on_idle;
    tp->idle_arg = cfg->idle_arg;
    tp->on_trace = cfg->on_trace;
    tp->trace_arg = cfg->trace_arg;
    tp->drain_ms = 2000;
    /* §18.1.1: within 200 bytes of a known path MTU, else over 1300. */
    tp->udp_request_max = cfg->path_mtu > 1200 ? cfg->path_mtu - 200 : 1300;
    tp->listeners = sk_calloc(cfg->nlisteners, sizeof(*tp->listeners));
    tp->bound = sk_calloc(cfg->nlisteners, sizeof(*tp->bound));
    tp->skipped = sk_calloc(cfg->nlisteners, sizeof(*tp->skipped));
    tp->workers = sk_calloc(n, sizeof(*tp->workers));
    if (tp->listeners == NULL || tp->bound == NULL || tp->skipped == NULL || tp->workers == NULL)
        goto fail;
    tp->nworkers = n;
    for (unsigned i = 0; i < n; i++)
        tp->workers[i].spare_fd = -1;
    if ((err = fd_budget(tp, cfg)) != 0)
        goto fail;
    memcpy(tp->listeners, cfg->listeners, cfg->nlisteners * sizeof(*tp->listeners));
    for (size_t i = 0; i < cfg->nlisteners; i++) {
        if (cfg->listeners[i].tls && cfg->tls == NULL) {
            SK_LOG(SK_LOG_ERROR, "transport", "event=tls_listener_without_tls");
            err = SK_EINVAL;
            goto fail;
        }
    }
    if (cfg->tls != NULL && (err = sk__tls_new(&tp->tls, cfg->tls)) != 0)
        goto fail;
    for (size_t i = 0; i < cfg->nlisteners; i++)
        tp->has_ws = tp->has_ws || cfg->listeners[i].ws;
    if (cfg->ws_origins != NULL && cfg->ws_origins[0] != '\0') {
        size_t len = strlen(cfg->ws_origins) + 1;
        if ((tp->ws_origins = sk_malloc(len)) == NULL) {
            err = SK_ENOMEM;
            goto fail;
        }
        memcpy(tp->ws_origins, cfg->ws_origins, len);
    }
    for (size_t i = 0; i < cfg->nlisteners; i++)
        tp->bound[i] = cfg->listeners[i].addr;
    sk_tp_set_runtime(tp, &cfg->runtime);
    for (unsigned i = 0; i < n; i++) {
        if ((err = worker_init(tp, &tp->workers[i], i)) != 0)
            goto fail;
    }
    for (unsigned li = 0; li < tp->nlisteners; li++) {
        for (unsigned i = 0; i < n; i++) {
            err = bind_listener(tp, &tp->workers[i], li);
            if (err == 0)
                continue;
            sk_addr_format(&tp->bound[li], a, sizeof(a));
            if (i == 0 && tp->listeners[li].optional) {
                SK_LOG(SK_LOG_WARN, "transport", "event=listener_skipped addr=%s error=\"%s\"", a,
                       sk_strerror(err));
                tp->skipped[li] = true;
                break;
            }
            SK_LOG(SK_LOG_ERROR, "transport", "event=bind_failed addr=%s error=\"%s\"", a,
                   sk_strerror(err));
            goto fail;
        }
    }
    *out = tp;
    return 0;
fail:
    sk_tp_free(tp);
    return err;
}

int sk_tp_start(struct sk_tp *tp)
{
    for (unsigned i = 0; i < tp->nworkers; i++) {
        int err = uv_thread_create(&tp->workers[i].thread, worker_main, &tp->workers[i]);
        if (err != 0) {
            tp->nworkers = i; /* stop and join those that run */
            return err;
        }
    }
    tp->started = true;
    return 0;
}

void sk_tp_stop(struct sk_tp *tp, unsigned drain_ms)
{
    if (tp == NULL || !tp->started)
        return;
    tp->drain_ms = drain_ms;
    for (unsigned i = 0; i < tp->nworkers; i++) {
        struct sk_tp_worker *w = &tp->workers[i];
        uv_mutex_lock(&w->mlock);
        w->stop_requested = true;
        uv_async_send(&w->wake);
        uv_mutex_unlock(&w->mlock);
    }
    for (unsigned i = 0; i < tp->nworkers; i++)
        uv_thread_join(&tp->workers[i].thread);
    tp->started = false;
}

static void worker_free(struct sk_tp_worker *w)
{
    if (w->loop_ready) {
        /* Never started, or stopped: close what is still open. */
        if (!w->stopping)
            begin_stop(w);
        if (!uv_is_closing((uv_handle_t *)&w->drain))
            uv_close((uv_handle_t *)&w->drain, close_cb_nop);
        if (!uv_is_closing((uv_handle_t *)&w->lag))
            uv_close((uv_handle_t *)&w->lag, close_cb_nop);
        if (!uv_is_closing((uv_handle_t *)&w->ws_tick))
            uv_close((uv_handle_t *)&w->ws_tick, close_cb_nop);
        while (!sk_dlist_empty(&w->conn_list))
            sk__conn_close(SK__FIRST_CONN(w), "shutdown");
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_loop_close(&w->loop);
        uv_mutex_destroy(&w->mlock);
    }
    while (w->mhead != NULL) {
        struct sk__mail *m = w->mhead;
        w->mhead = m->next;
        sk_free(m);
    }
    sk_msg_free(&w->msg);
    sk_buf_free(&w->scratch);
    sk_buf_free(&w->txbuf);
    sk_buf_free(&w->txq_bytes);
    for (size_t i = 0; w->udp != NULL && i < w->tp->nlisteners; i++) {
        if (w->udp[i].fd > 0)
            close(w->udp[i].fd); /* a poll handle does not own its socket */
    }
    if (w->spare_fd >= 0)
        close(w->spare_fd);
    sk_free(w->rbuf);
    sk_free(w->layer_rbuf);
    sk_free(w->udp);
    sk_free(w->tcpl);
    sk_htab_free(&w->conns);
}

void sk_tp_free(struct sk_tp *tp)
{
    if (tp == NULL)
        return;
    sk_tp_stop(tp, 0);
    for (unsigned i = 0; tp->workers != NULL && i < tp->nworkers; i++)
        worker_free(&tp->workers[i]);
    sk__host_free_all(tp);
    sk__tls_free(tp->tls);
    sk_free(tp->ws_origins);
    uv_mutex_destroy(&tp->reg_lock);
    sk_htab_free(&tp->reg);
    sk_free(tp->workers);
    sk_free(tp->listeners);
    sk_free(tp->bound);
    sk_free(tp->skipped);
    sk_free(tp);
}

unsigned sk_tp_worker_count(const struct sk_tp *tp)
{
    return tp->nworkers;
}

unsigned sk_tp_worker_index(const struct sk_tp_worker *w)
{
    return w->idx;
}

int sk_tp_listener_addr(const struct sk_tp *tp, unsigned listener, struct sk_addr *out)
{
    if (listener >= tp->nlisteners || tp->skipped[listener])
        return SK_ENOTFOUND;
    *out = tp->bound[listener];
    return 0;
}

void sk_tp_set_runtime(struct sk_tp *tp, const struct sk_tp_runtime *rt)
{
    unsigned max = rt->tcp_max_connections;
    uint64_t room = tp->fd_limit - tp->fd_reserve; /* > 0, see fd_budget */

    if (max > room) {
        /* More connections than descriptors would end in EMFILE, where
         * the server can neither accept nor open anything. */
        SK_LOG(SK_LOG_WARN, "transport",
               "event=tcp_max_connections_lowered configured=%u max=%llu fd_limit=%llu "
               "fd_reserve=%llu",
               max, (unsigned long long)room, (unsigned long long)tp->fd_limit,
               (unsigned long long)tp->fd_reserve);
        max = (unsigned)room;
    }
    atomic_store(&tp->idle_timeout_s, rt->tcp_idle_timeout_s);
    atomic_store(&tp->message_timeout_s, rt->tcp_message_timeout_s);
    atomic_store(&tp->max_conns, max);
    atomic_store(&tp->max_per_host,
                 rt->tcp_max_per_address == 0 ? UINT32_MAX : rt->tcp_max_per_address);
    atomic_store(&tp->max_buffer, rt->tcp_max_buffer);
    atomic_store(&tp->trace, rt->trace);
    atomic_store(&tp->ws_ping_s, rt->ws_ping_interval_s);
}

void sk_tp_get_stats(const struct sk_tp *tp, struct sk_tp_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < tp->nworkers; i++) {
        const struct sk_tp_worker *w = &tp->workers[i];
        out->rx_msgs += atomic_load_explicit(&w->rx_msgs, memory_order_relaxed);
        out->tx_msgs += atomic_load_explicit(&w->tx_msgs, memory_order_relaxed);
        out->rx_bad += atomic_load_explicit(&w->rx_bad, memory_order_relaxed);
        out->tcp_accepted += atomic_load_explicit(&w->tcp_accepted, memory_order_relaxed);
        out->tcp_closed += atomic_load_explicit(&w->tcp_closed, memory_order_relaxed);
        out->tcp_refused += atomic_load_explicit(&w->tcp_refused, memory_order_relaxed);
    }
    out->tcp_open = atomic_load_explicit(&tp->nconns, memory_order_relaxed);
}

const struct sk_histo *sk_tp_loop_lag(const struct sk_tp *tp)
{
    return &tp->loop_lag;
}
