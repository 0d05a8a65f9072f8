/*
 * The client transaction state machines: INVITE (RFC 3261 §17.1.1, figure
 * 5, with the RFC 6026 Accepted state) and non-INVITE (§17.1.2, figure 6).
 *
 * Every function runs with the shard lock held and reports to the TU only
 * by queuing events (table.c delivers them). Retransmissions send the
 * request copy the transaction owns; the ACK for a non-2xx final response
 * is built once into txn->out and resent from there.
 */
#include "txn_int.h"

#include <string.h>

static uint32_t t1(const struct sk_txn *txn)
{
    return txn->table->set.t1_ms;
}

static int send_request(struct sk_txn *txn)
{
    return sk__txn_send(txn, txn->req.raw.p, txn->req.raw.len);
}

int sk__client_start(struct sk__ctx *ctx, struct sk_txn *txn)
{
    bool invite = txn->kind == SK_TXN_INVITE_CLIENT;
    int rc;

    /* §17.1.1.2 / §17.1.2.2: the machine starts in Calling / Trying with
     * the request handed to the transport. */
    txn->state = invite ? SK_TXN_CALLING : SK_TXN_TRYING;
    rc = send_request(txn);
    if (rc != 0)
        return sk__txn_fail(ctx, txn, rc);
    /* Timer A / E only over an unreliable transport; B / F always, 64*T1. */
    if (!txn->reliable) {
        txn->retx_ms = t1(txn);
        sk__txn_arm(txn, &txn->tm_retx, invite ? SK_TXN_TIMER_A : SK_TXN_TIMER_E, ctx->now,
                    txn->retx_ms);
    }
    sk__txn_arm(txn, &txn->tm_life, invite ? SK_TXN_TIMER_B : SK_TXN_TIMER_F, ctx->now,
                64 * t1(txn));
    return 0;
}

/* Arm a lifetime timer, or terminate at once when its value is zero (the
 * reliable-transport case of Timers D and K). */
static void linger(struct sk__ctx *ctx, struct sk_txn *txn, enum sk_txn_timer which, uint32_t ms)
{
    if (ms == 0)
        sk__txn_terminate(ctx, txn);
    else
        sk__txn_arm(txn, &txn->tm_life, which, ctx->now, ms);
}

/* RFC 6026 §7.2: in Accepted the transaction only matches 2xx responses
 * (§17.1.3: top Via branch and CSeq method) and passes them up; it sends
 * nothing. When the TU let go of the request (sk_txn_let_go_at_2xx), its
 * copy (about 2 KB with the parsed header array) is swapped for those two
 * values for the 64*T1 of Timer M. On failure the full copy simply stays. */
static void keep_key_only(struct sk_txn *txn)
{
    const struct sk_msg *r = &txn->req;
    size_t bl = r->via.branch.len, ml = r->cseq.method.len;
    struct sk_arena a;
    struct sk_msg m;
    char *p;

    if (!txn->let_go_at_2xx)
        return;
    sk_arena_init(&a, bl + ml + 1);
    p = sk_arena_alloc(&a, bl + ml + 1);
    if (p == NULL) {
        sk_arena_free(&a);
        return;
    }
    memcpy(p, r->via.branch.p, bl);
    memcpy(p + bl, r->cseq.method.p, ml);
    p[bl + ml] = '\0';
    sk_msg_init(&m);
    m.is_request = true;
    m.method_id = r->method_id;
    m.method = sk_slice_make(p + bl, ml);
    m.via.branch = sk_slice_make(p, bl);
    m.cseq.num = r->cseq.num;
    m.cseq.method = m.method;
    m.cseq.method_id = r->cseq.method_id;
    sk_msg_free(&txn->req);
    sk_arena_free(&txn->arena);
    txn->arena = a;
    txn->req = m;
}

static void invite_2xx(struct sk__ctx *ctx, struct sk_txn *txn, const struct sk_msg *resp)
{
    sk__txn_disarm(txn, &txn->tm_retx);
    sk__txn_disarm(txn, &txn->tm_life);
    sk__txn_post(ctx, txn, SK__EV_RESPONSE, 0, resp);
    /* §17.1.1.2: a 2xx ends the transaction, the TU sends the ACK. RFC 6026
     * §7.2: Accepted instead, for 64*T1 (Timer M), so that retransmitted
     * 2xx responses still reach the TU. */
    if (txn->table->set.no_accepted_state) {
        sk__txn_terminate(ctx, txn);
        return;
    }
    txn->state = SK_TXN_ACCEPTED;
    sk__txn_arm(txn, &txn->tm_life, SK_TXN_TIMER_M, ctx->now, 64 * t1(txn));
    keep_key_only(txn);
}

static void invite_final(struct sk__ctx *ctx, struct sk_txn *txn, const struct sk_msg *resp)
{
    int rc;

    /* §17.1.1.2: 300-699 moves to Completed, the ACK is sent and the
     * response passed up; Timer D (at least 32 s over UDP, zero over a
     * reliable transport) absorbs retransmitted responses. */
    sk__txn_disarm(txn, &txn->tm_retx);
    sk__txn_disarm(txn, &txn->tm_life);
    txn->state = SK_TXN_COMPLETED;
    sk__txn_post(ctx, txn, SK__EV_RESPONSE, 0, resp);
    rc = sk__build_ack(&txn->req, resp, &txn->out);
    if (rc == 0)
        rc = sk__txn_send(txn, txn->out.p, txn->out.len);
    if (rc != 0) {
        sk__txn_fail(ctx, txn, rc);
        return;
    }
    linger(ctx, txn, SK_TXN_TIMER_D, txn->reliable ? 0 : txn->table->set.timer_d_ms);
}

static void invite_response(struct sk__ctx *ctx, struct sk_txn *txn, const struct sk_msg *resp)
{
    unsigned st = resp->status;

    switch (txn->state) {
    case SK_TXN_CALLING:
    case SK_TXN_PROCEEDING:
        if (st < 200) {
            /* §17.1.1.2: no more retransmissions, and Timer B only runs
             * in Calling (figure 5); the TU guards Proceeding (Timer C). */
            if (txn->state == SK_TXN_CALLING) {
                sk__txn_disarm(txn, &txn->tm_retx);
                sk__txn_disarm(txn, &txn->tm_life);
                txn->state = SK_TXN_PROCEEDING;
            }
            sk__txn_post(ctx, txn, SK__EV_RESPONSE, 0, resp);
        } else if (st < 300) {
            invite_2xx(ctx, txn, resp);
        } else {
            invite_final(ctx, txn, resp);
        }
        break;
    case SK_TXN_COMPLETED:
        /* A retransmitted final response: resend the ACK, tell no one. */
        if (st >= 300) {
            int rc = sk__txn_send(txn, txn->out.p, txn->out.len);
            if (rc != 0)
                sk__txn_fail(ctx, txn, rc);
        }
        break;
    case SK_TXN_ACCEPTED:
        /* RFC 6026 §7.2: 2xx responses go up (one per forking branch, or
         * retransmissions the TU answers with its ACK); others are dropped. */
        if (st >= 200 && st < 300)
            sk__txn_post(ctx, txn, SK__EV_RESPONSE, 0, resp);
        break;
    default:
        break;
    }
}

static void non_invite_response(struct sk__ctx *ctx, struct sk_txn *txn, const struct sk_msg *resp)
{
    if (txn->state != SK_TXN_TRYING && txn->state != SK_TXN_PROCEEDING)
        return; /* Completed: §17.1.2.2, retransmissions are absorbed */
    if (resp->status < 200) {
        txn->state = SK_TXN_PROCEEDING;
        sk__txn_post(ctx, txn, SK__EV_RESPONSE, 0, resp);
        return;
    }
    /* A final response: Completed, with Timer K (T4 over UDP, zero over a
     * reliable transport) to absorb its retransmissions. */
    sk__txn_disarm(txn, &txn->tm_retx);
    sk__txn_disarm(txn, &txn->tm_life);
    txn->state = SK_TXN_COMPLETED;
    sk__txn_post(ctx, txn, SK__EV_RESPONSE, 0, resp);
    linger(ctx, txn, SK_TXN_TIMER_K, txn->reliable ? 0 : txn->table->set.t4_ms);
}

void sk__client_response(struct sk__ctx *ctx, struct sk_txn *txn, const struct sk_msg *resp)
{
    if (resp->status < 100 || resp->status > 699)
        return;
    if (txn->state != SK_TXN_COMPLETED)
        txn->status = resp->status;
    if (txn->kind == SK_TXN_INVITE_CLIENT)
        invite_response(ctx, txn, resp);
    else
        non_invite_response(ctx, txn, resp);
}

static void retransmit(struct sk__ctx *ctx, struct sk_txn *txn, enum sk_txn_timer which)
{
    int rc = send_request(txn);

    if (rc != 0) {
        sk__txn_fail(ctx, txn, rc);
        return;
    }
    sk__txn_arm(txn, &txn->tm_retx, which, ctx->now, txn->retx_ms);
}

void sk__client_timer(struct sk__ctx *ctx, struct sk_txn *txn, enum sk_txn_timer which)
{
    uint32_t t2 = txn->table->set.t2_ms;

    switch (which) {
    case SK_TXN_TIMER_A:
        /* §17.1.1.2: retransmit, and double the interval each time (no
         * cap for INVITE; Timer B ends it). */
        if (txn->state == SK_TXN_CALLING) {
            txn->retx_ms *= 2;
            retransmit(ctx, txn, SK_TXN_TIMER_A);
        }
        break;
    case SK_TXN_TIMER_E:
        /* §17.1.2.2: doubling up to T2 in Trying; every T2 in Proceeding. */
        if (txn->state == SK_TXN_TRYING)
            txn->retx_ms = txn->retx_ms * 2 < t2 ? txn->retx_ms * 2 : t2;
        else if (txn->state == SK_TXN_PROCEEDING)
            txn->retx_ms = t2;
        else
            break;
        retransmit(ctx, txn, SK_TXN_TIMER_E);
        break;
    case SK_TXN_TIMER_B:
    case SK_TXN_TIMER_F:
        /* §17.1.1.2 / §17.1.2.2: the TU is told of the timeout (as a 408,
         * §8.1.3.1) and the transaction ends. */
        sk__txn_log_timeout(txn, which);
        sk__txn_post(ctx, txn, SK__EV_TIMEOUT, SK_ETIMEDOUT, NULL);
        sk__txn_terminate(ctx, txn);
        break;
    case SK_TXN_TIMER_D:
    case SK_TXN_TIMER_K:
    case SK_TXN_TIMER_M:
        sk__txn_terminate(ctx, txn);
        break;
    default:
        break;
    }
}
