/*
 * SIP over WebSocket (RFC 7118), server side: a layer (struct
 * sk__layer_ops, internal.h) that tcp.c puts on a connection accepted by
 * a ws listener, or above the TLS layer for wss. Everything else about
 * the connection (registry, limits, timeouts, who owns it) stays tcp.c's.
 *
 * First the opening handshake (RFC 6455 §4.2, ws_http.c): the HTTP
 * upgrade request is gathered (within tcp.message_timeout, as a TLS
 * handshake is) and answered with 101 or a refusal, after which the
 * connection is closed. Then framing is wslay's (Debian libwslay, event
 * API): it unmasks, reassembles fragments, checks UTF-8 in text frames,
 * answers pings and close frames, and refuses a message over the SIP
 * size limit with close code 1009. Each complete text or binary message
 * is one SIP message (RFC 7118 §5.1) handed up whole, parsed as a
 * datagram is: the frame delimits it, not Content-Length. Each message
 * we send is one text frame (binary when it is not UTF-8).
 *
 * Keepalive: every ws.ping_interval seconds a connection that was quiet
 * for that long gets a ping; one still quiet at the next tick is closed
 * (sk__ws_tick, from a timer of each worker). A pong, like any frame,
 * restarts the connection's idle timeout. RFC 5626 "\r\n\r\n" keepalives
 * sent as a message are answered with "\r\n".
 *
 * wslay is not asked to send from inside its receive callbacks: messages
 * received in one read are collected, and handed up once wslay_event_recv
 * has returned, so what the server answers goes out through
 * wslay_event_send at the top level.
 *
 * Memory: struct wconn (wslay context, the upgrade request as it arrives,
 * received messages waiting to be handed up) is its connection's, freed
 * with it. Threads: the connection's worker only.
 */
#include "transport/internal.h"
#include "transport/ws.h"

#include <errno.h>
#include <string.h>
#include <wslay/wslay.h>

struct wconn {
    wslay_event_context_ptr ctx;
    struct sk__conn *c;  /* NULL in sk__ws_decode() */
    struct sk_buf *sink; /* sk__ws_decode(): where wslay's output goes */
    unsigned level;
    struct sk_buf head; /* the upgrade request, until answered */
    const char *in;     /* bytes being fed to wslay_event_recv */
    size_t in_len;
    struct sk_buf rx; /* messages received: [u32 length][opcode][bytes] */
    bool open;        /* upgraded: frames from now on */
    bool in_msg;      /* a message is partly received */
    bool heard;       /* a frame arrived since the last tick */
    bool ping_out;    /* a ping went out at the last tick */
};

static struct wconn *wc_of(struct sk__conn *c, unsigned level)
{
    return c->layers[level].state;
}

/* ---- wslay callbacks -------------------------------------------------------- */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *arg)
{
    struct wconn *wc = arg;
    size_t n = len < wc->in_len ? len : wc->in_len;

    (void)flags;
    if (n == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    memcpy(buf, wc->in, n);
    wc->in += n;
    wc->in_len -= n;
    return (ssize_t)n;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *arg)
{
    struct wconn *wc = arg;

    (void)flags;
    if (wc->c == NULL) {
        sk_buf_append(wc->sink, data, len);
        return (ssize_t)len;
    }
    if (wc->c->closing || sk__layer_down(wc->c, wc->level, (const char *)data, len) != 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static void on_frame_start(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
    struct wconn *wc = user;

    (void)ctx;
    wc->heard = true;
    /* A message has tcp.message_timeout to arrive whole, as on TCP. */
    if (!wc->in_msg && !wslay_is_ctrl_frame(arg->opcode)) {
        wc->in_msg = true;
        if (wc->c != NULL)
            sk__conn_handshake_started(wc->c);
    }
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    struct wconn *wc = user;
    uint32_t len = (uint32_t)arg->msg_length;
    unsigned char op = arg->opcode;

    (void)ctx;
    wc->heard = true;
    wc->ping_out = false;
    if (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_BINARY_FRAME)
        return; /* ping (answered by wslay), pong, close */
    wc->in_msg = false;
    sk_buf_append(&wc->rx, &len, sizeof(len));
    sk_buf_append(&wc->rx, &op, 1);
    sk_buf_append(&wc->rx, arg->msg, arg->msg_length);
}

static const struct wslay_event_callbacks ws_callbacks = {
    .recv_callback = on_recv,
    .send_callback = on_send,
    .on_frame_recv_start_callback = on_frame_start,
    .on_msg_recv_callback = on_msg,
};

/* ---- messages --------------------------------------------------------------- */

/* Whether p is well-formed UTF-8 (RFC 3629), so it may go in a text frame. */
static bool utf8_ok(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char b = p[i];
        size_t k;
        if (b < 0x80) {
            i++;
            continue;
        }
        k = (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 : (b & 0xf8) == 0xf0 ? 3 : 0;
        if (k == 0 || k >= n - i)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return false;
        }
        /* Overlong forms, surrogates and values past U+10FFFF are not
         * UTF-8, and a browser fails the connection on them. */
        if ((k == 1 && b < 0xc2) || (k == 2 && b == 0xe0 && p[i + 1] < 0xa0) ||
            (k == 2 && b == 0xed && p[i + 1] >= 0xa0) || (k == 3 && b == 0xf0 && p[i + 1] < 0x90) ||
            (k == 3 && (b > 0xf4 || (b == 0xf4 && p[i + 1] >= 0x90))))
            return false;
        i += k + 1;
    }
    return true;
}

/* Queue one message and hand wslay's output to the layer below. */
static int send_msg(struct wconn *wc, unsigned char opcode, const char *p, size_t n)
{
    struct wslay_event_msg m = {opcode, (const uint8_t *)p, n};

    if (wslay_event_queue_msg(wc->ctx, &m) != 0)
        return SK_ESTATE; /* closing, or out of memory */
    return wslay_event_send(wc->ctx) == 0 ? 0 : -EPIPE;
}

/* RFC 5626 §4.4.1 over WebSocket: a message of CRLFs is a keepalive,
 * "\r\n\r\n" a ping that gets "\r\n". Returns whether p was one. */
static bool crlf_keepalive(struct wconn *wc, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\r' && p[i] != '\n')
            return false;
    }
    if (n == 4 && memcmp(p, "\r\n\r\n", 4) == 0)
        (void)send_msg(wc, WSLAY_TEXT_FRAME, "\r\n", 2);
    return true;
}

/* Hand up the messages one read brought, each a SIP message. */
static void deliver_rx(struct wconn *wc)
{
    struct sk__conn *c = wc->c;
    size_t off = 0;

    while (off < wc->rx.len && !c->closing && !c->shutting) {
        uint32_t len;
        memcpy(&len, wc->rx.p + off, sizeof(len));
        const char *msg = wc->rx.p + off + sizeof(len) + 1;
        off += sizeof(len) + 1 + len;
        if (!crlf_keepalive(wc, msg, len))
            sk__tp_deliver(c->w, c->tp, c->listener, &c->peer, c, msg, len, 0);
    }
    sk_buf_reset(&wc->rx);
    if (!wc->in_msg)
        sk__conn_handshake_done(c); /* idle again */
}

/* After wslay has read or written: a closing handshake done, or the
 * peer's protocol error answered, ends the connection. */
static void after_io(struct wconn *wc)
{
    if (wc->c->closing || wc->c->shutting)
        return;
    if (wslay_event_get_close_received(wc->ctx) || !wslay_event_get_read_enabled(wc->ctx)) {
        (void)wslay_event_send(wc->ctx); /* our close frame */
        uint16_t sent = wslay_event_get_status_code_sent(wc->ctx);
        sk__conn_close_after_flush(
            wc->c, wslay_event_get_close_received(wc->ctx) ? "websocket close"
                   : sent == WSLAY_CODE_MESSAGE_TOO_BIG ? "websocket message over max_message_size"
                                                        : "websocket protocol error");
    }
}

static int frames_in(struct wconn *wc, const char *p, size_t n)
{
    int err;

    wc->in = p;
    wc->in_len = n;
    err = wslay_event_recv(wc->ctx);
    wc->in = NULL;
    wc->in_len = 0;
    if (err != 0)
        return err == WSLAY_ERR_NOMEM ? SK_ENOMEM : -EPROTO;
    if (!sk_buf_ok(&wc->rx))
        return SK_ENOMEM;
    /* Pongs and the answer to a close first, then what was received. */
    if (wslay_event_want_write(wc->ctx) && wslay_event_send(wc->ctx) != 0)
        return -EPIPE;
    deliver_rx(wc);
    after_io(wc);
    return 0;
}

/* ---- the opening handshake ----------------------------------------------------- */

static void log_refused(struct sk__conn *c, const struct sk__ws_req *r, unsigned status,
                        const char *reason)
{
    char a[SK_ADDR_STRLEN];

    SK_LOG(SK_LOG_INFO, "transport",
           "event=ws_upgrade_refused peer=%s conn=%llu status=%u origin=\"%.*s\" reason=\"%s\"",
           sk_addr_format(&c->peer, a, sizeof(a)), (unsigned long long)c->id, status,
           r != NULL && r->has_origin ? (int)(r->origin.len < 200 ? r->origin.len : 200) : 0,
           r != NULL && r->has_origin ? r->origin.p : "", reason);
}

/* Answer the upgrade; returns the bytes of head it used, or 0 when the
 * connection is being closed. */
static size_t answer(struct wconn *wc, const struct sk__ws_req *r, const struct sk__ws_verdict *v)
{
    struct sk__conn *c = wc->c;
    struct sk_buf out;
    int err;

    sk_buf_init(&out);
    sk__ws_answer(r, v, &out);
    err = sk_buf_ok(&out) ? sk__layer_down(c, wc->level, out.p, out.len) : SK_ENOMEM;
    sk_buf_free(&out);
    if (v->status != 101 || err != 0) {
        log_refused(c, r, v->status, err != 0 ? "answer not sent" : v->reason);
        sk__conn_close_after_flush(c, "websocket upgrade refused");
        return 0;
    }
    return 1;
}

static int handshake_in(struct wconn *wc, const char *p, size_t n)
{
    struct sk__conn *c = wc->c;
    struct sk__ws_req r;
    struct sk__ws_verdict v;
    size_t used = 0;
    char a[SK_ADDR_STRLEN];
    int err;

    /* The request's first bytes (after TLS's handshake, for wss): it has
     * tcp.message_timeout to arrive whole. */
    if (wc->head.len == 0 && n > 0)
        sk__conn_handshake_started(c);
    sk_buf_append(&wc->head, p, n);
    if (!sk_buf_ok(&wc->head))
        return SK_ENOMEM;
    err = sk__ws_req_parse(wc->head.p, wc->head.len, &r, &used);
    if (err == SK_EAGAIN)
        return 0;
    if (err != 0) {
        v.status = err == SK_ETOOBIG ? 431 : 400;
        v.reason = err == SK_ETOOBIG ? "upgrade request over 8192 bytes"
                                     : "not an HTTP/1.1 request: this port speaks SIP over "
                                       "WebSocket";
        (void)answer(wc, NULL, &v);
        return 0;
    }
    sk__ws_req_check(&r, c->w->tp->ws_origins, &v);
    if (answer(wc, &r, &v) == 0)
        return 0;
    wc->open = true;
    SK_LOG(SK_LOG_DEBUG, "transport", "event=ws_upgraded peer=%s conn=%llu transport=%s",
           sk_addr_format(&c->peer, a, sizeof(a)), (unsigned long long)c->id,
           sk_transport_name(c->tp));
    sk__conn_handshake_done(c);
    /* Frames the client sent right behind its request. */
    if (used < wc->head.len) {
        struct sk_buf rest = wc->head;
        sk_buf_init(&wc->head);
        err = frames_in(wc, rest.p + used, rest.len - used);
        sk_buf_free(&rest);
        return err;
    }
    sk_buf_free(&wc->head);
    sk_buf_init(&wc->head);
    return 0;
}

/* ---- the layer ------------------------------------------------------------------ */

static int ws_start(struct sk__conn *c, unsigned level)
{
    (void)level;
    /* The upgrade request must arrive within tcp.message_timeout. */
    sk__conn_handshake_started(c);
    return 0;
}

static int ws_input(struct sk__conn *c, unsigned level, const char *p, size_t n)
{
    struct wconn *wc = wc_of(c, level);

    return wc->open ? frames_in(wc, p, n) : handshake_in(wc, p, n);
}

static int ws_output(struct sk__conn *c, unsigned level, const char *p, size_t n)
{
    struct wconn *wc = wc_of(c, level);

    /* A server speaks only once the client has upgraded. */
    if (!wc->open)
        return SK_ESTATE;
    return send_msg(
        wc, utf8_ok((const unsigned char *)p, n) ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME, p, n);
}

static size_t ws_pending(struct sk__conn *c, unsigned level)
{
    struct wconn *wc = wc_of(c, level);

    return wc->head.len + wslay_event_get_queued_msg_length(wc->ctx);
}

static void ws_free(struct sk__conn *c, unsigned level)
{
    struct wconn *wc = wc_of(c, level);

    if (wc == NULL)
        return;
    wslay_event_context_free(wc->ctx);
    sk_buf_free(&wc->head);
    sk_buf_free(&wc->rx);
    sk_free(wc);
    c->layers[level].state = NULL;
}

static const struct sk__layer_ops ws_ops = {
    .name = "websocket",
    .start = ws_start,
    .input = ws_input,
    .output = ws_output,
    .pending = ws_pending,
    .free = ws_free,
};

int sk__ws_attach(struct sk__conn *c)
{
    struct wconn *wc;

    if (c->nlayers == SK__MAX_LAYERS)
        return SK_ESTATE;
    wc = sk_calloc(1, sizeof(*wc));
    if (wc == NULL)
        return SK_ENOMEM;
    if (wslay_event_context_server_init(&wc->ctx, &ws_callbacks, wc) != 0) {
        sk_free(wc);
        return SK_ENOMEM;
    }
    /* RFC 7118 §5.1: one SIP message per WebSocket message, so the SIP
     * size limit bounds a message; wslay closes with 1009 beyond it. */
    wslay_event_config_set_max_recv_msg_length(wc->ctx, c->w->tp->limits.max_size);
    sk_buf_init(&wc->head);
    sk_buf_init(&wc->rx);
    wc->c = c;
    wc->level = c->nlayers;
    c->layers[c->nlayers].ops = &ws_ops;
    c->layers[c->nlayers].state = wc;
    c->nlayers++;
    c->tp = c->tp == SK_TP_TLS ? SK_TP_WSS : SK_TP_WS;
    return 0;
}

/* The receive path without a connection, for tests and the fuzz target
 * (ws.h): the same callbacks and limits as a connection's. */
int sk__ws_decode(const char *p, size_t n, size_t max_msg, struct sk_buf *msgs, struct sk_buf *out)
{
    struct wconn wc;
    int err;

    memset(&wc, 0, sizeof(wc));
    wc.sink = out;
    if (wslay_event_context_server_init(&wc.ctx, &ws_callbacks, &wc) != 0)
        return SK_ENOMEM;
    wslay_event_config_set_max_recv_msg_length(wc.ctx, max_msg);
    sk_buf_init(&wc.rx);
    wc.in = p;
    wc.in_len = n;
    err = wslay_event_recv(wc.ctx) == 0 ? 0 : -EPROTO;
    if (err == 0 && wslay_event_want_write(wc.ctx) && wslay_event_send(wc.ctx) != 0)
        err = -EPIPE;
    if (err == 0 && !wslay_event_get_read_enabled(wc.ctx) &&
        !wslay_event_get_close_received(wc.ctx))
        err = wslay_event_get_status_code_sent(wc.ctx) == WSLAY_CODE_MESSAGE_TOO_BIG ? SK_ETOOBIG
                                                                                     : -EPROTO;
    sk_buf_append(msgs, wc.rx.p, wc.rx.len);
    sk_buf_free(&wc.rx);
    wslay_event_context_free(wc.ctx);
    return err;
}

/* ---- keepalive ---------------------------------------------------------------- */

static void tick_one(struct sk__conn *c, struct wconn *wc)
{
    char a[SK_ADDR_STRLEN];

    if (!wc->open || c->closing || c->shutting)
        return;
    if (wc->heard) {
        wc->heard = false;
        wc->ping_out = false;
        return;
    }
    if (wc->ping_out) {
        SK_LOG(SK_LOG_INFO, "transport", "event=ws_ping_unanswered peer=%s conn=%llu",
               sk_addr_format(&c->peer, a, sizeof(a)), (unsigned long long)c->id);
        sk__conn_close(c, "websocket ping unanswered");
        return;
    }
    /* RFC 6455 §5.5.2: a ping the client must answer with a pong. */
    if (send_msg(wc, WSLAY_PING, "", 0) == 0)
        wc->ping_out = true;
}

void sk__ws_tick(struct sk_tp_worker *w)
{
    struct sk_dlist *l, *tmp;

    SK_DLIST_FOREACH_SAFE(l, tmp, &w->conn_list)
    {
        struct sk__conn *c = SK_CONTAINER_OF(l, struct sk__conn, in_worker);
        unsigned top = c->nlayers;
        if (top > 0 && c->layers[top - 1].ops == &ws_ops)
            tick_one(c, c->layers[top - 1].state);
    }
}
