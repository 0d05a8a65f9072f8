/*
 * The server transaction state machines: INVITE (RFC 3261 §17.2.1, figure
 * 7, with the RFC 6026 Accepted state) and non-INVITE (§17.2.2, figure 8),
 * plus the automatic 100 (Trying).
 *
 * Every function runs with the shard lock held and reports to the TU only
 * by queuing events (table.c delivers them). The last response sent is kept
 * in txn->out, owned by the transaction, to answer retransmitted requests
 * and for Timer G.
 */
#include "txn_int.h"

#include <string.h>

static uint32_t t1(const struct sk_txn *txn)
{
    return txn->table->set.t1_ms;
}

/* Keep the response as the one to retransmit, then send it. */
static int store_and_send(struct sk_txn *txn, const char *data, size_t len)
{
    sk_buf_reset(&txn->out);
    sk_buf_append(&txn->out, data, len);
    if (!sk_buf_ok(&txn->out)) {
        sk_buf_free(&txn->out);
        sk_buf_init(&txn->out);
        return SK_ENOMEM;
    }
    return sk__txn_send(txn, txn->out.p, txn->out.len);
}

static int resend(struct sk__ctx *ctx, struct sk_txn *txn)
{
    int rc;

    if (txn->out.len == 0)
        return 0;
    rc = sk__txn_send(txn, txn->out.p, txn->out.len);
    return rc != 0 ? sk__txn_fail(ctx, txn, rc) : 0;
}

/* §17.2.1: the 100 (Trying) that tells the client to stop retransmitting
 * the INVITE (§17.1.1.2: Calling -> Proceeding). */
static void send_trying(struct sk__ctx *ctx, struct sk_txn *txn)
{
    int rc;

    sk__txn_disarm(txn, &txn->tm_retx);
    rc = sk__build_response(&txn->req, 100, "Trying", SK_SLICE_NULL, &txn->out);
    if (rc == 0)
        rc = sk__txn_send(txn, txn->out.p, txn->out.len);
    if (rc != 0) {
        sk_buf_reset(&txn->out);
        sk__txn_fail(ctx, txn, rc);
        return;
    }
    txn->status = 100;
}

void sk__server_start(struct sk__ctx *ctx, struct sk_txn *txn)
{
    int32_t trying = txn->table->set.trying_ms;

    sk__txn_post(ctx, txn, SK__EV_REQUEST, 0, NULL);
    if (txn->kind == SK_TXN_NON_INVITE_SERVER) {
        txn->state = SK_TXN_TRYING; /* §17.2.2 */
        return;
    }
    txn->state = SK_TXN_PROCEEDING; /* §17.2.1 */
    if (trying < 0)
        send_trying(ctx, txn);
    else
        sk__txn_arm(txn, &txn->tm_retx, SK_TXN_TIMER_TRYING, ctx->now, (uint32_t)trying);
}

static void confirm(struct sk__ctx *ctx, struct sk_txn *txn)
{
    /* §17.2.1: the ACK stops G and H; Timer I (T4 over UDP, zero over a
     * reliable transport) absorbs further ACK retransmissions. */
    sk__txn_disarm(txn, &txn->tm_retx);
    sk__txn_disarm(txn, &txn->tm_life);
    txn->state = SK_TXN_CONFIRMED;
    if (txn->reliable)
        sk__txn_terminate(ctx, txn);
    else
        sk__txn_arm(txn, &txn->tm_life, SK_TXN_TIMER_I, ctx->now, txn->table->set.t4_ms);
}

bool sk__server_request(struct sk__ctx *ctx, struct sk_txn *txn, const struct sk_msg *req)
{
    if (txn->kind == SK_TXN_NON_INVITE_SERVER) {
        /* §17.2.2: dropped in Trying, answered from the last response
         * in Proceeding and Completed. */
        if (txn->state == SK_TXN_PROCEEDING || txn->state == SK_TXN_COMPLETED)
            resend(ctx, txn);
        return false;
    }
    if (req->method_id == SK_METHOD_ACK) {
        if (txn->state == SK_TXN_COMPLETED)
            confirm(ctx, txn);
        /* RFC 6026 §8.5: in Accepted, the ACK goes up to the TU. */
        return txn->state == SK_TXN_ACCEPTED;
    }
    /* A retransmitted INVITE (§17.2.1). Accepted and Confirmed absorb it. */
    if (txn->state == SK_TXN_PROCEEDING) {
        /* The most recent provisional response goes out again; if the TU
         * sent none yet and the 100 is still waiting, the client is
         * retransmitting, so send the 100 now. */
        if (txn->out.len == 0)
            send_trying(ctx, txn);
        else
            resend(ctx, txn);
    } else if (txn->state == SK_TXN_COMPLETED) {
        resend(ctx, txn);
    }
    return false;
}

/* RFC 2543 peers acknowledge with the To tag of our final response
 * (§17.2.3); keep a copy of it for matching. */
static void remember_to_tag(struct sk_txn *txn)
{
    struct sk_msg m;

    if (!txn->rfc2543)
        return;
    sk_msg_init(&m);
    if (sk_msg_parse(&m, txn->out.p, txn->out.len, SK_MSG_DATAGRAM, &txn->table->set.limits) == 0 &&
        m.to.tag.len > 0) {
        char *tag = sk_arena_strndup(&txn->arena, m.to.tag.p, m.to.tag.len);
        if (tag != NULL)
            txn->resp_to_tag = sk_slice_make(tag, m.to.tag.len);
    }
    sk_msg_free(&m);
}

static int invite_respond(struct sk__ctx *ctx, struct sk_txn *txn, const char *data, size_t len,
                          unsigned status)
{
    int rc;

    if (txn->state == SK_TXN_ACCEPTED) {
        /* RFC 6026 §8.7: 2xx retransmissions (or other 2xx) from the TU are
         * sent; the transaction does not retransmit them itself. */
        if (status < 200 || status >= 300)
            return SK_ESTATE;
        rc = sk__txn_send(txn, data, len);
        return rc != 0 ? sk__txn_fail(ctx, txn, rc) : 0;
    }
    if (txn->state != SK_TXN_PROCEEDING)
        return SK_ESTATE;
    sk__txn_disarm(txn, &txn->tm_retx); /* the pending 100 is moot */
    rc = store_and_send(txn, data, len);
    if (rc != 0)
        return sk__txn_fail(ctx, txn, rc);
    txn->status = status;
    if (status < 200)
        return 0;
    remember_to_tag(txn);
    if (status < 300) {
        /* §17.2.1: a 2xx ends the transaction (the TU retransmits it until
         * the ACK). RFC 6026 §8.6: Accepted for 64*T1 (Timer L) instead. */
        if (txn->table->set.no_accepted_state) {
            sk__txn_terminate(ctx, txn);
        } else {
            txn->state = SK_TXN_ACCEPTED;
            sk__txn_arm(txn, &txn->tm_life, SK_TXN_TIMER_L, ctx->now, 64 * t1(txn));
        }
        return 0;
    }
    /* 300-699: Completed; Timer G retransmits over UDP until the ACK, Timer
     * H gives up after 64*T1 on any transport. */
    txn->state = SK_TXN_COMPLETED;
    if (!txn->reliable) {
        txn->retx_ms = t1(txn);
        sk__txn_arm(txn, &txn->tm_retx, SK_TXN_TIMER_G, ctx->now, txn->retx_ms);
    }
    sk__txn_arm(txn, &txn->tm_life, SK_TXN_TIMER_H, ctx->now, 64 * t1(txn));
    return 0;
}

static int non_invite_respond(struct sk__ctx *ctx, struct sk_txn *txn, const char *data, size_t len,
                              unsigned status)
{
    int rc;

    /* §17.2.2: responses are taken in Trying and Proceeding; once
     * Completed, further finals from the TU are discarded. */
    if (txn->state != SK_TXN_TRYING && txn->state != SK_TXN_PROCEEDING)
        return SK_ESTATE;
    rc = store_and_send(txn, data, len);
    if (rc != 0)
        return sk__txn_fail(ctx, txn, rc);
    txn->status = status;
    if (status < 200) {
        txn->state = SK_TXN_PROCEEDING;
        return 0;
    }
    /* Timer J: 64*T1 over UDP to answer retransmissions, zero otherwise. */
    txn->state = SK_TXN_COMPLETED;
    if (txn->reliable)
        sk__txn_terminate(ctx, txn);
    else
        sk__txn_arm(txn, &txn->tm_life, SK_TXN_TIMER_J, ctx->now, 64 * t1(txn));
    return 0;
}

int sk__server_respond(struct sk__ctx *ctx, struct sk_txn *txn, const char *data, size_t len,
                       unsigned status)
{
    if (txn->kind == SK_TXN_INVITE_SERVER)
        return invite_respond(ctx, txn, data, len, status);
    return non_invite_respond(ctx, txn, data, len, status);
}

void sk__server_timer(struct sk__ctx *ctx, struct sk_txn *txn, enum sk_txn_timer which)
{
    uint32_t t2 = txn->table->set.t2_ms;

    switch (which) {
    case SK_TXN_TIMER_TRYING:
        if (txn->state == SK_TXN_PROCEEDING && txn->out.len == 0)
            send_trying(ctx, txn);
        break;
    case SK_TXN_TIMER_G:
        /* §17.2.1: resend the final response, interval doubling to T2. */
        if (txn->state != SK_TXN_COMPLETED || resend(ctx, txn) != 0)
            break;
        txn->retx_ms = txn->retx_ms * 2 < t2 ? txn->retx_ms * 2 : t2;
        sk__txn_arm(txn, &txn->tm_retx, SK_TXN_TIMER_G, ctx->now, txn->retx_ms);
        break;
    case SK_TXN_TIMER_H:
        /* §17.2.1: no ACK came; the TU is told (§17.2.4 asks it to treat
         * this like a transport failure) and the transaction ends. */
        sk__txn_log_timeout(txn, which);
        sk__txn_post(ctx, txn, SK__EV_TIMEOUT, SK_ETIMEDOUT, NULL);
        sk__txn_terminate(ctx, txn);
        break;
    case SK_TXN_TIMER_I:
    case SK_TXN_TIMER_J:
    case SK_TXN_TIMER_L:
        sk__txn_terminate(ctx, txn);
        break;
    default:
        break;
    }
}
