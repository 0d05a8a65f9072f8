/*
 * Retired transactions: what a non-INVITE server transaction over UDP keeps
 * while it waits in Completed for Timer J (RFC 3261 §17.2.2: 64*T1, 32 s
 * by default, only to answer retransmissions of its request), and what an
 * INVITE server transaction keeps in Accepted (RFC 6026 §8.5-8.7: 64*T1 of
 * Timer L, only to absorb retransmissions of the INVITE; its ACKs go to
 * the TU as if no transaction matched, which is where Accepted sends them
 * too).
 *
 * Once the TU has answered and let go of it (no reference, no user
 * pointer), nothing reads the request any more: matching needs the top Via
 * branch, its sent-by and the method (§17.2.3, magic-cookie branches only),
 * and a retransmission needs the final response and the peer it went to.
 * The transaction is then replaced in its shard by a struct sk__done, one
 * allocation of about 60 bytes plus the key and the response bytes, and
 * the full transaction (about 2 KB with its request copy) terminates for
 * the TU at once: on_terminated is its last callback, as always.
 *
 * Timer J is the same 64*T1 for every transaction of a table, so retired
 * transactions expire in the order they completed: each shard keeps them
 * in a FIFO instead of the timer heap. Two that retire out of completion
 * order (a TU letting go later than another) make the later one wait for
 * the earlier one's due time: a few milliseconds of extra Timer J, which
 * only lengthens the time retransmissions are absorbed.
 *
 * Memory: a struct sk__done is owned by its shard (table, FIFO) and freed
 * when it expires, when sending a retransmission fails (§17.2.4) or with
 * the table. Everything here runs with the shard lock held.
 */
#include "txn_int.h"

#include <stddef.h>
#include <string.h>

#define MOD "txn"

enum {
    DONE_HAS_PORT = 1, /* the sent-by had a port (matching compares both) */
    DONE_DEAD = 2,     /* a send failed: terminated, waiting to be freed */
    DONE_ABSORB = 4,   /* INVITE, Accepted: retransmissions get no answer */
};

/* Bytes of the peer address kept: an IPv4 address needs no sin_zero. */
static size_t addr_bytes(const struct sk_addr *a)
{
    if (a->ss.ss_family == AF_INET)
        return offsetof(struct sockaddr_in, sin_zero);
    return a->sslen;
}

/* The key and response bytes of d, laid out after its header. */
static const char *d_branch(const struct sk__done *d)
{
    return d->data + d->addr_len;
}

static const char *d_host(const struct sk__done *d)
{
    return d_branch(d) + d->branch_len;
}

static const char *d_method(const struct sk__done *d)
{
    return d_host(d) + d->host_len;
}

static const char *d_resp(const struct sk__done *d)
{
    return d_method(d) + d->method_len;
}

static bool fits8(size_t n)
{
    return n <= UINT8_MAX;
}

/* The TU's part: it let go (no reference besides `refs`, no user
 * pointer), or said it answers nothing more (sk_txn_let_go_at_final()). */
static bool tu_done(const struct sk_txn *txn, unsigned refs)
{
    unsigned n = atomic_load(&txn->refs);

    if (txn->let_go_at_final)
        return n >= refs;
    return txn->user == NULL && n == refs;
}

/* §17.2.2 Completed over UDP, or RFC 6026 Accepted (any transport: Timer
 * L is 64*T1 whatever carries it). */
static bool retirable_state(const struct sk_txn *txn)
{
    if (txn->kind == SK_TXN_NON_INVITE_SERVER)
        return txn->state == SK_TXN_COMPLETED && !txn->reliable &&
               txn->tm_life.which == SK_TXN_TIMER_J && txn->peer.conn_id == 0 && txn->out.len > 0 &&
               txn->out.len <= UINT32_MAX;
    return txn->kind == SK_TXN_INVITE_SERVER && txn->let_go_at_final &&
           txn->state == SK_TXN_ACCEPTED && txn->tm_life.which == SK_TXN_TIMER_L;
}

bool sk__txn_retirable(const struct sk_txn *txn, unsigned refs)
{
    const struct sk_msg *r = &txn->req;

    /* INVITE server transactions in Completed still need their request
     * and timers for the ACK (Timer G and H); RFC 2543 requests match on
     * many more fields. */
    return retirable_state(txn) && txn->in_table && !txn->rfc2543 && txn->evcount == 0 &&
           fits8(r->via.branch.len) && fits8(r->via.host.len) && fits8(r->method.len) &&
           fits8(txn->peer.sslen) && tu_done(txn, refs);
}

static void queue_push(struct sk__shard *sh, struct sk__done *d)
{
    d->next = NULL;
    if (sh->done_tail != NULL)
        sh->done_tail->next = d;
    else
        sh->done_head = d;
    sh->done_tail = d;
}

bool sk__txn_retire(struct sk__ctx *ctx, struct sk_txn *txn)
{
    const struct sk_msg *r = &txn->req;
    size_t alen = addr_bytes(&txn->peer);
    size_t mlen = r->method_id == SK_METHOD_OTHER ? r->method.len : 0;
    bool absorb = txn->kind == SK_TXN_INVITE_SERVER;
    size_t rlen = absorb ? 0 : txn->out.len; /* Accepted resends nothing */
    size_t n = alen + r->via.branch.len + r->via.host.len + mlen + rlen;
    struct sk__done *d = sk_malloc(offsetof(struct sk__done, data) + n);
    char *p;

    if (d == NULL)
        return false; /* the full transaction simply stays until Timer J */
    d->due = txn->tm_life.due;
    d->resp_len = (uint32_t)rlen;
    d->port = r->via.port;
    d->flags = (r->via.has_port ? DONE_HAS_PORT : 0) | (absorb ? DONE_ABSORB : 0);
    d->tp = (uint8_t)txn->peer.tp;
    d->method_id = (uint8_t)r->method_id;
    d->sslen = (uint8_t)txn->peer.sslen;
    d->addr_len = (uint8_t)alen;
    d->branch_len = (uint8_t)r->via.branch.len;
    d->host_len = (uint8_t)r->via.host.len;
    d->method_len = (uint8_t)mlen;
    p = d->data;
    memcpy(p, &txn->peer.ss, alen);
    p += alen;
    memcpy(p, r->via.branch.p, r->via.branch.len);
    p += r->via.branch.len;
    memcpy(p, r->via.host.p, r->via.host.len);
    p += r->via.host.len;
    if (mlen > 0)
        memcpy(p, r->method.p, mlen);
    p += mlen;
    if (rlen > 0)
        memcpy(p, txn->out.p, rlen);
    /* Cannot fail: the table reserved the buckets at creation. The count
     * of live transactions moves from the transaction to d. */
    (void)sk_htab_insert(&txn->shard->done, &d->hnode, txn->hash);
    queue_push(txn->shard, d);
    atomic_fetch_add(&txn->table->live, 1);
    /* d answers for it now; a TU still holding txn reads only the request
     * (a proxy's fork: for as long as its branches live, up to Timer M). */
    sk_buf_free(&txn->out);
    sk_buf_init(&txn->out);
    sk__txn_terminate(ctx, txn);
    return true;
}

static bool match_done(const struct sk__done *d, const struct sk_msg *m)
{
    if ((d->flags & DONE_DEAD) != 0 || m->method_id != (enum sk_method)d->method_id)
        return false;
    if (d->method_id == SK_METHOD_OTHER &&
        !sk_slice_eq(sk_slice_make(d_method(d), d->method_len), m->method))
        return false;
    /* §17.2.3: same branch, same sent-by (host case-insensitive). */
    return sk_slice_eq(sk_slice_make(d_branch(d), d->branch_len), m->via.branch) &&
           sk_slice_caseeq(sk_slice_make(d_host(d), d->host_len), m->via.host) &&
           ((d->flags & DONE_HAS_PORT) != 0) == m->via.has_port && d->port == m->via.port;
}

/* Free the oldest retired transaction of sh. */
static void pop_done(struct sk_txn_table *t, struct sk__shard *sh)
{
    struct sk__done *d = sh->done_head;

    sk_htab_remove(&sh->done, &d->hnode);
    sh->done_head = d->next;
    if (sh->done_head == NULL)
        sh->done_tail = NULL;
    atomic_fetch_sub(&t->live, 1);
    sk_free(d);
}

bool sk__done_request(struct sk_txn_table *t, struct sk__shard *sh, uint64_t h,
                      const struct sk_msg *m)
{
    struct sk__done *d = NULL;
    struct sk_addr to;
    int rc;

    if (m->method_id == SK_METHOD_ACK || sh->done.count == 0)
        return false;
    for (struct sk_hnode *n = sk_htab_first(&sh->done, h); n != NULL; n = sk_htab_next(n)) {
        d = SK_CONTAINER_OF(n, struct sk__done, hnode);
        if (match_done(d, m))
            break;
        d = NULL;
    }
    if (d == NULL)
        return false;
    /* RFC 6026 §8.5: Accepted absorbs a retransmitted INVITE. */
    if ((d->flags & DONE_ABSORB) != 0)
        return true;
    /* §17.2.2: a retransmission in Completed gets the final response
     * again, to where the first one went. */
    memset(&to, 0, sizeof(to));
    memcpy(&to.ss, d->data, d->addr_len);
    to.sslen = d->sslen;
    to.tp = (enum sk_transport)d->tp;
    rc = t->hooks.send(t->hooks.send_arg, &to, d_resp(d), d->resp_len);
    if (rc != 0) {
        /* §17.2.4: a transport error ends the transaction (its TU is long
         * gone, nobody else to tell): it matches nothing from now on and
         * its memory goes when Timer J would have fired. */
        SK_LOG(SK_LOG_INFO, MOD, "event=transport_error kind=non-invite-server err=%d", rc);
        d->flags |= DONE_DEAD;
    }
    return true;
}

unsigned sk__done_expire(struct sk_txn_table *t, struct sk__shard *sh, uint64_t now)
{
    unsigned n = 0;

    /* §17.2.2: Timer J fired; the transaction is over. */
    while (sh->done_head != NULL && sh->done_head->due <= now) {
        pop_done(t, sh);
        n++;
    }
    if (n > 0)
        SK_LOG(SK_LOG_DEBUG, MOD, "event=timer timer=J kind=non-invite-server retired=%u", n);
    return n;
}

uint64_t sk__done_next_due(const struct sk__shard *sh)
{
    return sh->done_head != NULL ? sh->done_head->due : UINT64_MAX;
}

void sk__done_free_all(struct sk_txn_table *t, struct sk__shard *sh)
{
    while (sh->done_head != NULL)
        pop_done(t, sh);
    sk_htab_free(&sh->done);
}
