/*
 * The transaction user's side of a transaction: responding on server
 * transactions, cancelling INVITE client transactions (RFC 3261 §9.1), and
 * accessors. The state machines themselves are in client.c and server.c.
 *
 * Memory: response bytes are copied by the machine into the transaction;
 * the caller keeps its buffer.
 */
#include "txn_int.h"

int sk_txn_respond(struct sk_txn *txn, const char *resp, size_t len)
{
    struct sk__ctx ctx;
    unsigned status;
    int rc;

    if (txn == NULL || resp == NULL)
        return SK_EINVAL;
    if (txn->kind != SK_TXN_INVITE_SERVER && txn->kind != SK_TXN_NON_INVITE_SERVER)
        return SK_EINVAL;
    status = sk__response_status(resp, len);
    if (status == 0)
        return SK_EPARSE;
    sk__ctx_begin(&ctx, txn->table);
    pthread_mutex_lock(&txn->shard->lock);
    rc = sk__server_respond(&ctx, txn, resp, len, status);
    /* A TU that let go at its final: retire now (retire.c). While the
     * transaction's events are being delivered, the deliverer does it once
     * the queue is empty. The caller's reference and the table's: 2. */
    if (rc == 0 && txn->let_go_at_final && !txn->delivering && sk__txn_retirable(txn, 2))
        (void)sk__txn_retire(&ctx, txn);
    pthread_mutex_unlock(&txn->shard->lock);
    sk__ctx_end(&ctx);
    return rc;
}

void sk_txn_let_go_at_final(struct sk_txn *txn)
{
    if (txn == NULL || (txn->kind != SK_TXN_INVITE_SERVER && txn->kind != SK_TXN_NON_INVITE_SERVER))
        return;
    pthread_mutex_lock(&txn->shard->lock);
    txn->let_go_at_final = true;
    pthread_mutex_unlock(&txn->shard->lock);
}

void sk_txn_let_go_at_2xx(struct sk_txn *txn)
{
    if (txn == NULL || txn->kind != SK_TXN_INVITE_CLIENT || txn->shard == NULL)
        return;
    pthread_mutex_lock(&txn->shard->lock);
    txn->let_go_at_2xx = true;
    pthread_mutex_unlock(&txn->shard->lock);
}

int sk_txn_forget(struct sk_txn *txn)
{
    struct sk__ctx ctx;
    int rc = 0;

    if (txn == NULL || (txn->kind != SK_TXN_INVITE_SERVER && txn->kind != SK_TXN_NON_INVITE_SERVER))
        return SK_EINVAL;
    sk__ctx_begin(&ctx, txn->table);
    pthread_mutex_lock(&txn->shard->lock);
    if (txn->status >= 200)
        rc = SK_ESTATE; /* answered statefully: the machine keeps its promise */
    else
        sk__txn_terminate(&ctx, txn);
    pthread_mutex_unlock(&txn->shard->lock);
    sk__ctx_end(&ctx);
    return rc;
}

int sk_txn_respond_status(struct sk_txn *txn, unsigned status, const char *reason,
                          struct sk_slice to_tag)
{
    struct sk_buf b;
    int rc;

    if (txn == NULL || reason == NULL || reason[0] == '\0' || status < 100 || status > 699)
        return SK_EINVAL;
    sk_buf_init(&b);
    rc = sk__build_response(&txn->req, status, reason, to_tag, &b);
    if (rc == 0)
        rc = sk_txn_respond(txn, b.p, b.len);
    sk_buf_free(&b);
    return rc;
}

int sk_txn_cancel(struct sk_txn *invite, void *user, struct sk_txn **out)
{
    struct sk_buf b;
    enum sk_txn_state st;
    int rc;

    if (invite == NULL || invite->kind != SK_TXN_INVITE_CLIENT)
        return SK_EINVAL;
    /* §9.1: a CANCEL before any provisional response could overtake the
     * INVITE; after a final response there is nothing to cancel. */
    sk_buf_init(&b);
    /* Under the lock: a 2xx arriving meanwhile may swap the request for
     * its key (sk_txn_let_go_at_2xx). */
    pthread_mutex_lock(&invite->shard->lock);
    st = invite->state;
    rc = st == SK_TXN_PROCEEDING ? sk_txn_build_cancel(&invite->req, &b) : SK_ESTATE;
    pthread_mutex_unlock(&invite->shard->lock);
    if (rc == 0)
        rc = sk_txn_client_new(invite->table, b.p, b.len, &invite->peer, user, out);
    sk_buf_free(&b);
    return rc;
}

enum sk_txn_kind sk_txn_kind(const struct sk_txn *txn)
{
    return txn->kind;
}

enum sk_txn_state sk_txn_state(struct sk_txn *txn)
{
    enum sk_txn_state st;

    if (txn->shard == NULL)
        return txn->state;
    pthread_mutex_lock(&txn->shard->lock);
    st = txn->state;
    pthread_mutex_unlock(&txn->shard->lock);
    return st;
}

unsigned sk_txn_status(struct sk_txn *txn)
{
    unsigned status;

    pthread_mutex_lock(&txn->shard->lock);
    status = txn->status;
    pthread_mutex_unlock(&txn->shard->lock);
    return status;
}

const struct sk_msg *sk_txn_request(const struct sk_txn *txn)
{
    return &txn->req;
}

const struct sk_addr *sk_txn_peer(const struct sk_txn *txn)
{
    return &txn->peer;
}

void *sk_txn_user(const struct sk_txn *txn)
{
    return txn->user;
}

void sk_txn_set_user(struct sk_txn *txn, void *user)
{
    txn->user = user;
}

struct sk_txn_table *sk_txn_table_of(const struct sk_txn *txn)
{
    return txn->table;
}

const char *sk_txn_state_name(enum sk_txn_state s)
{
    switch (s) {
    case SK_TXN_CALLING:
        return "Calling";
    case SK_TXN_TRYING:
        return "Trying";
    case SK_TXN_PROCEEDING:
        return "Proceeding";
    case SK_TXN_COMPLETED:
        return "Completed";
    case SK_TXN_CONFIRMED:
        return "Confirmed";
    case SK_TXN_ACCEPTED:
        return "Accepted";
    case SK_TXN_TERMINATED:
        return "Terminated";
    }
    return "?";
}

const char *sk_txn_kind_name(enum sk_txn_kind k)
{
    switch (k) {
    case SK_TXN_INVITE_CLIENT:
        return "invite-client";
    case SK_TXN_NON_INVITE_CLIENT:
        return "non-invite-client";
    case SK_TXN_INVITE_SERVER:
        return "invite-server";
    case SK_TXN_NON_INVITE_SERVER:
        return "non-invite-server";
    }
    return "?";
}

const char *sk_txn_timer_name(enum sk_txn_timer t)
{
    static const char *const names[] = {"none", "A", "B", "D", "E", "F", "G",
                                        "H",    "I", "J", "K", "L", "M", "trying"};

    if ((unsigned)t >= sizeof(names) / sizeof(names[0]))
        return "?";
    return names[t];
}
