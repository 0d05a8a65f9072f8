/*
 * Events for the transaction user and their delivery, plus the small
 * helpers the state machines use (send, timers, failure).
 *
 * Delivery: the machines run under the shard lock and only queue events on
 * the transaction. The first thread that queues an event on an idle queue
 * becomes its deliverer: after dropping the lock it pops the events one by
 * one and calls the TU, until the queue is empty. Another thread queuing
 * meanwhile leaves the delivery to it, copying the response bytes it was
 * given since its caller's buffer will be gone by then. This keeps
 * callbacks for one transaction ordered and never under a lock, so a TU
 * may call into the layer from any callback without deadlock.
 *
 * Memory: a queued event owns its copy of the message bytes (sk_malloc),
 * freed once delivered or with the transaction. When the queue of an
 * answered non-INVITE server transaction drains and no TU holds it, it is
 * retired (retire.c): it may wait 32 s for retransmissions (Timer J), and
 * a small record of its key and response does that job.
 */
#include "txn_int.h"

#include <string.h>

#define MOD "txn"

/* ---- events and delivery ------------------------------------------------- */

void sk__txn_post(struct sk__ctx *ctx, struct sk_txn *txn, enum sk__ev_kind kind, int err,
                  const struct sk_msg *msg)
{
    struct sk__event *ev;
    unsigned room = SK__EVQ;

    /* Responses cannot crowd out a timeout, an error or on_terminated, and
     * provisional ones cannot crowd out the final response. */
    if (kind == SK__EV_RESPONSE)
        room = msg->status < 200 ? SK__EVQ - 3 : SK__EVQ - 2;
    else if (kind == SK__EV_TIMEOUT || kind == SK__EV_TPERR)
        room = SK__EVQ - 1;
    if (txn->evcount >= room) {
        SK_LOG(SK_LOG_WARN, MOD, "event=dropped kind=%d status=%u", (int)kind,
               msg != NULL ? msg->status : 0u);
        return;
    }
    if (!txn->delivering) {
        txn->delivering = true;
        txn->dctx = ctx;
        sk_txn_ref(txn); /* the deliverer's reference */
        txn->dnext = ctx->deliver;
        ctx->deliver = txn;
    }
    ev = &txn->evq[(txn->evhead + txn->evcount) % SK__EVQ];
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->err = err;
    if (msg != NULL && txn->dctx == ctx) {
        ev->msg = msg; /* this call delivers before its caller's buffer goes */
    } else if (msg != NULL) {
        ev->copy = sk_malloc(msg->raw.len ? msg->raw.len : 1);
        if (ev->copy == NULL) {
            SK_LOG(SK_LOG_WARN, MOD, "event=dropped reason=nomem status=%u", msg->status);
            return;
        }
        memcpy(ev->copy, msg->raw.p, msg->raw.len);
        ev->copylen = msg->raw.len;
    }
    txn->evcount++;
}

/* Build and parse the local 408 / 503 a client transaction reports. */
static const struct sk_msg *local_response(struct sk_txn *txn, unsigned status, struct sk_buf *b,
                                           struct sk_msg *m)
{
    const char *reason = status == 408 ? "Request Timeout" : "Service Unavailable";

    if (txn->kind != SK_TXN_INVITE_CLIENT && txn->kind != SK_TXN_NON_INVITE_CLIENT)
        return NULL;
    if (sk__build_response(&txn->req, status, reason, SK_SLICE_NULL, b) != 0)
        return NULL;
    if (sk_msg_parse(m, b->p, b->len, SK_MSG_DATAGRAM, &txn->table->set.limits) != 0)
        return NULL;
    return m;
}

static void dispatch(struct sk_txn *txn, struct sk__event *ev)
{
    const struct sk_txn_hooks *hk = &txn->table->hooks;
    struct sk_msg m;
    struct sk_buf b;
    const struct sk_msg *msg = ev->msg;

    sk_msg_init(&m);
    sk_buf_init(&b);
    switch (ev->kind) {
    case SK__EV_REQUEST:
        if (hk->on_request != NULL)
            hk->on_request(hk->tu_arg, txn, &txn->req);
        break;
    case SK__EV_RESPONSE:
        if (msg == NULL &&
            sk_msg_parse(&m, ev->copy, ev->copylen, SK_MSG_DATAGRAM, &txn->table->set.limits) == 0)
            msg = &m;
        if (msg != NULL && hk->on_response != NULL)
            hk->on_response(hk->tu_arg, txn, msg);
        break;
    case SK__EV_TIMEOUT:
        if (hk->on_timeout != NULL)
            hk->on_timeout(hk->tu_arg, txn, local_response(txn, 408, &b, &m));
        break;
    case SK__EV_TPERR:
        if (hk->on_transport_error != NULL)
            hk->on_transport_error(hk->tu_arg, txn, ev->err, local_response(txn, 503, &b, &m));
        break;
    case SK__EV_TERMINATED:
        if (hk->on_terminated != NULL)
            hk->on_terminated(hk->tu_arg, txn);
        break;
    }
    sk_msg_free(&m);
    sk_buf_free(&b);
    sk_free(ev->copy);
}

/* Drain the queues this context owns. No lock may be held. */
static void deliver(struct sk__ctx *ctx)
{
    while (ctx->deliver != NULL) {
        struct sk_txn *txn = ctx->deliver;
        struct sk__shard *sh = txn->shard;

        ctx->deliver = txn->dnext;
        txn->dnext = NULL;
        for (;;) {
            struct sk__event ev;
            pthread_mutex_lock(&sh->lock);
            /* Answered, and only the table and we hold it: nobody reads
             * the request any more; a small record answers retransmissions
             * until Timer J and on_terminated goes out now (retire.c). */
            if (txn->evcount == 0 && sk__txn_retirable(txn, 2))
                (void)sk__txn_retire(ctx, txn);
            if (txn->evcount == 0) {
                txn->delivering = false;
                txn->dctx = NULL;
                pthread_mutex_unlock(&sh->lock);
                break;
            }
            ev = txn->evq[txn->evhead];
            txn->evhead = (txn->evhead + 1) % SK__EVQ;
            txn->evcount--;
            pthread_mutex_unlock(&sh->lock);
            dispatch(txn, &ev);
        }
        sk_txn_unref(txn);
    }
}

/* ---- contexts ------------------------------------------------------------ */

void sk__ctx_begin(struct sk__ctx *ctx, struct sk_txn_table *t)
{
    ctx->now = t->hooks.clock(t->hooks.clock_arg);
    ctx->deliver = NULL;
}

void sk__ctx_end(struct sk__ctx *ctx)
{
    deliver(ctx);
}

/* ---- helpers for the machines -------------------------------------------- */

int sk__txn_send(struct sk_txn *txn, const char *data, size_t len)
{
    const struct sk_txn_hooks *hk = &txn->table->hooks;

    return hk->send(hk->send_arg, &txn->peer, data, len);
}

void sk__txn_arm(struct sk_txn *txn, struct sk__timer *tm, enum sk_txn_timer which, uint64_t now,
                 uint32_t ms)
{
    sk__heap_remove(&txn->shard->heap, tm);
    tm->which = which;
    tm->due = now + ms;
    sk__heap_insert(&txn->shard->heap, tm);
}

void sk__txn_disarm(struct sk_txn *txn, struct sk__timer *tm)
{
    sk__heap_remove(&txn->shard->heap, tm);
    tm->which = SK_TXN_TIMER_NONE;
}

void sk__txn_log_timeout(const struct sk_txn *txn, enum sk_txn_timer which)
{
    const struct sk_msg *m = &txn->req;
    char a[SK_ADDR_STRLEN];

    if (sk__log_cb == NULL || SK_LOG_INFO > sk__log_max)
        return;
    /* Which request timed out, so that a 408 can be traced to its call:
     * the target is the Request-URI, the peer where it went or came
     * from. Call-ID and Request-URI were checked by the parser. */
    sk_addr_format(&txn->peer, a, sizeof(a));
    SK_LOG(SK_LOG_INFO, MOD,
           "event=timeout timer=%s kind=%s method=%.*s call_id=\"%.*s\" target=\"%.*s\" peer=%s "
           "transport=%s",
           sk_txn_timer_name(which), sk_txn_kind_name(txn->kind),
           (int)(m->method.len > 32 ? 32 : m->method.len), m->method.p,
           (int)(m->call_id.len > 128 ? 128 : m->call_id.len), m->call_id.p,
           (int)(m->ruri_raw.len > 256 ? 256 : m->ruri_raw.len), m->ruri_raw.p, a,
           sk_transport_name(txn->peer.tp));
}

int sk__txn_fail(struct sk__ctx *ctx, struct sk_txn *txn, int err)
{
    SK_LOG(SK_LOG_INFO, MOD, "event=transport_error kind=%s err=%d", sk_txn_kind_name(txn->kind),
           err);
    sk__txn_post(ctx, txn, SK__EV_TPERR, err, NULL);
    sk__txn_terminate(ctx, txn);
    return err;
}
