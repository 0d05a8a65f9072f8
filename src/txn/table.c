/*
 * The transaction table: shards with their locks, hash chains and timer
 * heaps; matching of requests to server transactions (RFC 3261 §17.2.3,
 * with the RFC 2543 fallback, and CANCEL to INVITE per §9.2) and of
 * responses to client transactions (§17.1.3); creation, termination and
 * timer ticks. TU callbacks are queued and delivered by event.c.
 *
 * Memory: a transaction is allocated here, reference counted, and freed by
 * the last sk_txn_unref(): its arena (request copy), its parsed request,
 * its output buffer and any copied events go with it.
 */
#include "txn_int.h"

#include <string.h>

#define MOD             "txn"
#define INITIAL_BUCKETS 256u

/* ---- settings, table life cycle ------------------------------------------ */

static uint64_t default_clock(void *arg)
{
    (void)arg;
    return sk_now_ms();
}

static void fill_defaults(struct sk_txn_settings *s)
{
    if (s->t1_ms == 0)
        s->t1_ms = SK_TXN_DEFAULT_T1_MS;
    if (s->t2_ms == 0)
        s->t2_ms = SK_TXN_DEFAULT_T2_MS;
    if (s->t4_ms == 0)
        s->t4_ms = SK_TXN_DEFAULT_T4_MS;
    if (s->timer_d_ms == 0)
        s->timer_d_ms = SK_TXN_DEFAULT_TIMER_D_MS;
    if (s->trying_ms == 0)
        s->trying_ms = (int32_t)SK_TXN_DEFAULT_TRYING_MS;
    if (s->shards == 0)
        s->shards = SK_TXN_DEFAULT_SHARDS;
}

int sk_txn_table_new(struct sk_txn_table **out, const struct sk_txn_settings *settings,
                     const struct sk_txn_hooks *hooks)
{
    struct sk_txn_table *t;
    unsigned i;

    if (hooks == NULL || hooks->send == NULL)
        return SK_EINVAL;
    t = sk_calloc(1, sizeof(*t));
    if (t == NULL)
        return SK_ENOMEM;
    if (settings != NULL)
        t->set = *settings;
    fill_defaults(&t->set);
    if (t->set.shards > SK_TXN_MAX_SHARDS || (t->set.shards & (t->set.shards - 1)) != 0 ||
        t->set.t1_ms > UINT32_MAX / 64) {
        sk_free(t);
        return SK_EINVAL;
    }
    t->hooks = *hooks;
    if (t->hooks.clock == NULL)
        t->hooks.clock = default_clock;
    t->nshards = t->set.shards;
    atomic_init(&t->live, 0);
    t->shards = sk_calloc(t->nshards, sizeof(*t->shards));
    if (t->shards == NULL)
        goto fail;
    for (i = 0; i < t->nshards; i++) {
        struct sk__shard *sh = &t->shards[i];
        sk_htab_init(&sh->txns);
        sk_htab_init(&sh->done);
        if (sk_htab_reserve(&sh->txns, INITIAL_BUCKETS) != 0 ||
            sk_htab_reserve(&sh->done, INITIAL_BUCKETS) != 0) {
            sk_htab_free(&sh->txns);
            sk_htab_free(&sh->done);
            goto fail;
        }
        pthread_mutex_init(&sh->lock, NULL);
    }
    *out = t;
    return 0;
fail:
    for (unsigned j = 0; t->shards != NULL && j < t->nshards && t->shards[j].txns.nb != 0; j++) {
        sk_htab_free(&t->shards[j].txns);
        sk_htab_free(&t->shards[j].done);
        pthread_mutex_destroy(&t->shards[j].lock);
    }
    sk_free(t->shards);
    sk_free(t);
    return SK_ENOMEM;
}

static void txn_free(struct sk_txn *txn)
{
    for (unsigned i = 0; i < txn->evcount; i++)
        sk_free(txn->evq[(txn->evhead + i) % SK__EVQ].copy);
    sk_msg_free(&txn->req);
    sk_arena_free(&txn->arena);
    sk_buf_free(&txn->out);
    sk_free(txn);
}

void sk_txn_ref(struct sk_txn *txn)
{
    atomic_fetch_add(&txn->refs, 1);
}

/* The TU drops what may be the last reference besides the table's, on an
 * answered non-INVITE server transaction: retire it now (retire.c) rather
 * than keep the whole request until Timer J. The reference is dropped
 * under the shard lock so that the state read is the state the count
 * belongs to. Returns the count before the drop. */
static unsigned unref_retiring(struct sk_txn *txn)
{
    struct sk__ctx ctx;
    unsigned before;

    sk__ctx_begin(&ctx, txn->table);
    pthread_mutex_lock(&txn->shard->lock);
    before = atomic_fetch_sub(&txn->refs, 1);
    if (before == 2 && !txn->delivering && sk__txn_retirable(txn, 1))
        (void)sk__txn_retire(&ctx, txn);
    pthread_mutex_unlock(&txn->shard->lock);
    sk__ctx_end(&ctx); /* on_terminated, then the last reference goes */
    return before;
}

void sk_txn_unref(struct sk_txn *txn)
{
    unsigned before;

    if (txn == NULL)
        return;
    if (txn->kind == SK_TXN_NON_INVITE_SERVER && txn->shard != NULL && atomic_load(&txn->refs) == 2)
        before = unref_retiring(txn);
    else
        before = atomic_fetch_sub(&txn->refs, 1);
    if (before == 1)
        txn_free(txn);
}

static void unlink_txn(struct sk_txn *txn)
{
    if (!txn->in_table)
        return;
    sk_htab_remove(&txn->shard->txns, &txn->hnode);
    txn->in_table = false;
    atomic_fetch_sub(&txn->table->live, 1);
}

void sk_txn_table_free(struct sk_txn_table *t)
{
    if (t == NULL)
        return;
    for (unsigned i = 0; i < t->nshards; i++) {
        struct sk__shard *sh = &t->shards[i];
        struct sk_htab_iter it;
        struct sk_hnode *n;
        sk_htab_iter_init(&it, &sh->txns);
        while ((n = sk_htab_iter_next(&it)) != NULL) {
            struct sk_txn *txn = SK_CONTAINER_OF(n, struct sk_txn, hnode);
            sk__heap_remove(&sh->heap, &txn->tm_retx);
            sk__heap_remove(&sh->heap, &txn->tm_life);
            unlink_txn(txn);
            txn->state = SK_TXN_TERMINATED;
            sk_txn_unref(txn);
        }
        sk__done_free_all(t, sh);
        sk_htab_free(&sh->txns);
        pthread_mutex_destroy(&sh->lock);
    }
    sk_free(t->shards);
    sk_free(t);
}

const struct sk_txn_settings *sk_txn_table_settings(const struct sk_txn_table *t)
{
    return &t->set;
}

size_t sk_txn_table_count(struct sk_txn_table *t)
{
    return atomic_load(&t->live);
}

void sk_txn_table_census(struct sk_txn_table *t, size_t counts[SK_TXN_KINDS][SK_TXN_STATES])
{
    memset(counts, 0, sizeof(size_t) * SK_TXN_KINDS * SK_TXN_STATES);
    for (unsigned i = 0; i < t->nshards; i++) {
        struct sk__shard *sh = &t->shards[i];
        struct sk_htab_iter it;
        struct sk_hnode *n;
        pthread_mutex_lock(&sh->lock);
        sk_htab_iter_init(&it, &sh->txns);
        while ((n = sk_htab_iter_next(&it)) != NULL) {
            const struct sk_txn *x = SK_CONTAINER_OF(n, struct sk_txn, hnode);
            if ((unsigned)x->kind < SK_TXN_KINDS && (unsigned)x->state < SK_TXN_STATES)
                counts[x->kind][x->state]++;
        }
        pthread_mutex_unlock(&sh->lock);
    }
}

/* ---- hashing and matching ------------------------------------------------ */

/* The keyed hash: peers choose branches and Call-IDs, and must not be able
 * to pick ones that all land in one chain. */
static uint64_t hash_bytes(const struct sk_txn_table *t, struct sk_slice s)
{
    (void)t;
    return sk_hash_slice(s);
}

/* RFC 3261 requests are keyed by their branch; RFC 2543 ones by Call-ID
 * (the only field their matching rule shares with every message of the
 * transaction, ACK and CANCEL included). */
static uint64_t request_hash(const struct sk_txn_table *t, const struct sk_msg *m)
{
    if (sk__branch_is_3261(m->via.branch))
        return hash_bytes(t, m->via.branch);
    return hash_bytes(t, m->call_id);
}

static struct sk__shard *shard_of(const struct sk_txn_table *t, uint64_t h)
{
    return &t->shards[(h >> 48) & (t->nshards - 1)];
}

/* The transactions of sh whose key hashes to h. */
#define FIRST(sh, h) SK_CONTAINER_OR_NULL(sk_htab_first(&(sh)->txns, (h)), struct sk_txn, hnode)
#define NEXT(x)      SK_CONTAINER_OR_NULL(sk_htab_next(&(x)->hnode), struct sk_txn, hnode)

static bool sent_by_equal(const struct sk_via *a, const struct sk_via *b)
{
    return sk_slice_caseeq(a->host, b->host) && a->has_port == b->has_port && a->port == b->port;
}

/* RFC 3261 §20.42: Via equality; the transport token and the parameters
 * are compared as written, which a retransmission reproduces. */
static bool via_equal(const struct sk_via *a, const struct sk_via *b)
{
    return sent_by_equal(a, b) && sk_slice_caseeq(a->transport, b->transport) &&
           sk_slice_eq(a->params, b->params);
}

/* The RFC 2543 fields of §17.2.3 except the To tag and the method. */
static bool match_2543_common(const struct sk_msg *x, const struct sk_msg *m)
{
    return sk_slice_eq(x->call_id, m->call_id) && x->cseq.num == m->cseq.num &&
           sk_slice_eq(x->from.tag, m->from.tag) && via_equal(&x->via, &m->via) &&
           sk_uri_equal(&x->ruri, &m->ruri);
}

/* Does request m belong to server transaction txn (§17.2.3)? */
static bool match_server(const struct sk_txn *txn, const struct sk_msg *m)
{
    const struct sk_msg *x = &txn->req;
    bool ack = m->method_id == SK_METHOD_ACK;

    if (txn->kind != SK_TXN_INVITE_SERVER && txn->kind != SK_TXN_NON_INVITE_SERVER)
        return false;
    if (ack ? txn->kind != SK_TXN_INVITE_SERVER : !sk_slice_eq(x->method, m->method))
        return false;
    if (sk__branch_is_3261(m->via.branch))
        return !txn->rfc2543 && sk_slice_eq(x->via.branch, m->via.branch) &&
               sent_by_equal(&x->via, &m->via);
    if (!txn->rfc2543 || !match_2543_common(x, m))
        return false;
    /* The ACK carries the tag of the response we sent; a retransmitted
     * request carries the To of the original. */
    if (ack)
        return sk_slice_eq(txn->resp_to_tag, m->to.tag);
    return sk_slice_eq(x->to.tag, m->to.tag);
}

static struct sk_txn *find_server(struct sk__shard *sh, uint64_t h, const struct sk_msg *m)
{
    for (struct sk_txn *x = FIRST(sh, h); x != NULL; x = NEXT(x)) {
        if (match_server(x, m))
            return x;
    }
    return NULL;
}

/* §17.1.3: the top Via branch and the CSeq method (a CANCEL shares the
 * INVITE's branch) identify the client transaction. */
static bool match_client(const struct sk_txn *txn, struct sk_slice branch, struct sk_slice method)
{
    return (txn->kind == SK_TXN_INVITE_CLIENT || txn->kind == SK_TXN_NON_INVITE_CLIENT) &&
           sk_slice_eq(txn->req.via.branch, branch) && sk_slice_eq(txn->req.cseq.method, method);
}

static struct sk_txn *find_client(struct sk__shard *sh, uint64_t h, struct sk_slice branch,
                                  struct sk_slice method)
{
    for (struct sk_txn *x = FIRST(sh, h); x != NULL; x = NEXT(x)) {
        if (match_client(x, branch, method))
            return x;
    }
    return NULL;
}

static void link_txn(struct sk__shard *sh, struct sk_txn *txn)
{
    /* Cannot fail: the table reserved its buckets at creation. */
    (void)sk_htab_insert(&sh->txns, &txn->hnode, txn->hash);
    txn->in_table = true;
    atomic_fetch_add(&txn->table->live, 1);
}

/* ---- transaction creation ------------------------------------------------ */

/* Allocate a transaction holding its own parsed copy of data[0..len). For
 * a server transaction, src is the received message: its source address
 * is kept too, so responses built from the copy still get Via received /
 * rport (RFC 3261 §18.2.1, RFC 3581 §4). */
static int txn_new(struct sk_txn_table *t, const char *data, size_t len, enum sk_txn_kind kind,
                   const struct sk_addr *peer, const struct sk_msg *src, struct sk_txn **out)
{
    struct sk_txn *txn = sk_calloc(1, sizeof(*txn));
    size_t iplen = src != NULL ? src->src_ip.len : 0;
    char *copy;
    int rc;

    if (txn == NULL)
        return SK_ENOMEM;
    atomic_init(&txn->refs, 1); /* the table's reference */
    txn->table = t;
    txn->kind = kind;
    txn->peer = *peer;
    txn->reliable = sk_transport_reliable(peer->tp);
    txn->tm_retx.owner = txn;
    txn->tm_life.owner = txn;
    sk_arena_init(&txn->arena, len + iplen + 128);
    sk_msg_init(&txn->req);
    sk_buf_init(&txn->out);
    copy = sk_arena_alloc(&txn->arena, len + iplen + 1);
    if (copy == NULL) {
        txn_free(txn);
        return SK_ENOMEM;
    }
    memcpy(copy, data, len);
    copy[len] = '\0';
    rc = sk_msg_parse(&txn->req, copy, len, SK_MSG_DATAGRAM, &t->set.limits);
    if (rc != 0) {
        txn_free(txn);
        return rc == SK_ENOMEM ? SK_ENOMEM : SK_EPARSE;
    }
    /* The request is never edited: its header array need not keep room
     * to grow (it starts at 32 entries of 56 bytes). */
    if (txn->req.hdrs_cap > txn->req.nhdrs && txn->req.nhdrs > 0) {
        struct sk_hdr *h = sk_realloc(txn->req.hdrs, txn->req.nhdrs * sizeof(*h));
        if (h != NULL) {
            txn->req.hdrs = h;
            txn->req.hdrs_cap = txn->req.nhdrs;
        }
    }
    if (iplen > 0) {
        memcpy(copy + len + 1, src->src_ip.p, iplen);
        sk_msg_set_source(&txn->req, sk_slice_make(copy + len + 1, iplen), src->src_port);
    }
    *out = txn;
    return 0;
}

static enum sk_txn_kind server_kind(const struct sk_msg *m)
{
    return m->method_id == SK_METHOD_INVITE ? SK_TXN_INVITE_SERVER : SK_TXN_NON_INVITE_SERVER;
}

/* ---- termination ------------------------------------------------------- */

void sk__txn_terminate(struct sk__ctx *ctx, struct sk_txn *txn)
{
    if (txn->state == SK_TXN_TERMINATED)
        return;
    txn->state = SK_TXN_TERMINATED;
    sk__txn_disarm(txn, &txn->tm_retx);
    sk__txn_disarm(txn, &txn->tm_life);
    unlink_txn(txn);
    sk__txn_post(ctx, txn, SK__EV_TERMINATED, 0, NULL);
    /* The deliverer now holds a reference, so the table's can go (not
     * through sk_txn_unref(), which may take the shard lock we hold). */
    if (atomic_fetch_sub(&txn->refs, 1) == 1)
        txn_free(txn);
}

/* ---- entry points -------------------------------------------------------- */

static void pass_up(sk_txn_stray_cb cb, void *arg, const struct sk_msg *m,
                    const struct sk_addr *from)
{
    if (cb != NULL)
        cb(arg, m, from);
}

static int receive_response(struct sk_txn_table *t, const struct sk_msg *m,
                            const struct sk_addr *from)
{
    struct sk__ctx ctx;
    struct sk__shard *sh;
    struct sk_txn *txn;
    uint64_t h;

    /* We only create branches with the magic cookie: anything else is not
     * ours (§17.1.3). */
    if (!sk__branch_is_3261(m->via.branch)) {
        pass_up(t->hooks.on_stray_response, t->hooks.tu_arg, m, from);
        return 0;
    }
    sk__ctx_begin(&ctx, t);
    h = hash_bytes(t, m->via.branch);
    sh = shard_of(t, h);
    pthread_mutex_lock(&sh->lock);
    txn = find_client(sh, h, m->via.branch, m->cseq.method);
    if (txn != NULL)
        sk__client_response(&ctx, txn, m);
    pthread_mutex_unlock(&sh->lock);
    if (txn == NULL)
        pass_up(t->hooks.on_stray_response, t->hooks.tu_arg, m, from);
    sk__ctx_end(&ctx);
    return 0;
}

/* A request that matched nothing: create its server transaction. The copy
 * and parse happen outside the lock; if another thread created the same
 * transaction meanwhile, ours is dropped and the request treated as the
 * retransmission it is. */
static int create_server(struct sk_txn_table *t, const struct sk_msg *m, const struct sk_addr *from,
                         uint64_t h)
{
    struct sk__shard *sh = shard_of(t, h);
    struct sk__ctx ctx;
    struct sk_txn *txn, *other;
    bool up = false;
    int rc;

    rc = txn_new(t, m->raw.p, m->raw.len, server_kind(m), from, m, &txn);
    if (rc != 0)
        return rc;
    txn->hash = h;
    txn->shard = sh;
    txn->rfc2543 = !sk__branch_is_3261(m->via.branch);
    sk__ctx_begin(&ctx, t);
    pthread_mutex_lock(&sh->lock);
    other = find_server(sh, h, m);
    if (other != NULL) {
        up = sk__server_request(&ctx, other, m);
    } else if (sk__done_request(t, sh, h, m)) {
        other = txn; /* retired meanwhile: answered, ours is not needed */
    } else {
        link_txn(sh, txn);
        sk__server_start(&ctx, txn);
    }
    pthread_mutex_unlock(&sh->lock);
    if (other != NULL)
        txn_free(txn);
    if (up)
        pass_up(t->hooks.on_ack, t->hooks.tu_arg, m, from);
    sk__ctx_end(&ctx);
    return 0;
}

int sk_txn_table_receive(struct sk_txn_table *t, const struct sk_msg *m, const struct sk_addr *from)
{
    struct sk__ctx ctx;
    struct sk__shard *sh;
    struct sk_txn *txn;
    bool up = false, done = false;
    uint64_t h;

    if (m->via.raw.len == 0 || m->cseq.method.len == 0)
        return SK_EINVAL;
    if (!m->is_request)
        return receive_response(t, m, from);
    h = request_hash(t, m);
    sh = shard_of(t, h);
    sk__ctx_begin(&ctx, t);
    pthread_mutex_lock(&sh->lock);
    txn = find_server(sh, h, m);
    if (txn != NULL)
        up = sk__server_request(&ctx, txn, m);
    else
        done = sk__done_request(t, sh, h, m);
    pthread_mutex_unlock(&sh->lock);
    if (txn != NULL || done) {
        if (up)
            pass_up(t->hooks.on_ack, t->hooks.tu_arg, m, from);
        sk__ctx_end(&ctx);
        return 0;
    }
    /* §17.2.3 / §13.3.1.4: an ACK matching no transaction acknowledges a
     * 2xx; it is the TU's (dialog's) business. */
    if (m->method_id == SK_METHOD_ACK) {
        pass_up(t->hooks.on_ack, t->hooks.tu_arg, m, from);
        return 0;
    }
    return create_server(t, m, from, h);
}

static void fire(struct sk__ctx *ctx, struct sk_txn *txn, enum sk_txn_timer which)
{
    SK_LOG(SK_LOG_DEBUG, MOD, "event=timer timer=%s kind=%s state=%s", sk_txn_timer_name(which),
           sk_txn_kind_name(txn->kind), sk_txn_state_name(txn->state));
    if (txn->kind == SK_TXN_INVITE_CLIENT || txn->kind == SK_TXN_NON_INVITE_CLIENT)
        sk__client_timer(ctx, txn, which);
    else
        sk__server_timer(ctx, txn, which);
}

unsigned sk_txn_table_tick(struct sk_txn_table *t, uint64_t now)
{
    unsigned fired = 0;

    for (unsigned i = 0; i < t->nshards; i++) {
        struct sk__shard *sh = &t->shards[i];
        struct sk__ctx ctx = {.now = now, .deliver = NULL};

        pthread_mutex_lock(&sh->lock);
        fired += sk__done_expire(t, sh, now);
        while (sh->heap.root != NULL && sh->heap.root->due <= now) {
            struct sk__timer *tm = sh->heap.root;
            enum sk_txn_timer which = tm->which;
            sk__heap_remove(&sh->heap, tm);
            tm->which = SK_TXN_TIMER_NONE;
            fire(&ctx, tm->owner, which);
            fired++;
        }
        pthread_mutex_unlock(&sh->lock);
        sk__ctx_end(&ctx);
    }
    return fired;
}

uint64_t sk_txn_table_next_due(struct sk_txn_table *t)
{
    uint64_t due = UINT64_MAX;

    for (unsigned i = 0; i < t->nshards; i++) {
        struct sk__shard *sh = &t->shards[i];
        pthread_mutex_lock(&sh->lock);
        if (sh->heap.root != NULL && sh->heap.root->due < due)
            due = sh->heap.root->due;
        if (sk__done_next_due(sh) < due)
            due = sk__done_next_due(sh);
        pthread_mutex_unlock(&sh->lock);
    }
    return due;
}

/* ---- client transactions and CANCEL matching ------------------------------ */

int sk_txn_client_new(struct sk_txn_table *t, const char *req, size_t len,
                      const struct sk_addr *dst, void *user, struct sk_txn **out)
{
    struct sk__ctx ctx;
    struct sk__shard *sh;
    struct sk_txn *txn;
    enum sk_txn_kind kind;
    int rc;

    if (t == NULL || req == NULL || dst == NULL)
        return SK_EINVAL;
    rc = txn_new(t, req, len, SK_TXN_NON_INVITE_CLIENT, dst, NULL, &txn);
    if (rc != 0)
        return rc;
    kind = txn->req.method_id == SK_METHOD_INVITE ? SK_TXN_INVITE_CLIENT : SK_TXN_NON_INVITE_CLIENT;
    if (!txn->req.is_request || txn->req.method_id == SK_METHOD_ACK ||
        !sk__branch_is_3261(txn->req.via.branch)) {
        txn_free(txn);
        return SK_EINVAL;
    }
    txn->kind = kind;
    txn->user = user;
    txn->hash = hash_bytes(t, txn->req.via.branch);
    sh = txn->shard = shard_of(t, txn->hash);
    sk__ctx_begin(&ctx, t);
    pthread_mutex_lock(&sh->lock);
    if (find_client(sh, txn->hash, txn->req.via.branch, txn->req.cseq.method) != NULL) {
        pthread_mutex_unlock(&sh->lock);
        txn_free(txn);
        return SK_EEXIST;
    }
    link_txn(sh, txn);
    if (out != NULL) {
        sk_txn_ref(txn);
        *out = txn;
    }
    sk__client_start(&ctx, txn);
    pthread_mutex_unlock(&sh->lock);
    sk__ctx_end(&ctx);
    return 0;
}

struct sk_txn *sk_txn_cancel_target(struct sk_txn *cancel)
{
    struct sk__shard *sh = cancel->shard;
    struct sk_txn *found = NULL;

    if (cancel->req.method_id != SK_METHOD_CANCEL || sh == NULL)
        return NULL;
    /* §9.2: matched like a request of the INVITE's transaction, except for
     * the method; a CANCEL hashes like its INVITE (same branch or same
     * Call-ID), so the INVITE is in the same chain. */
    pthread_mutex_lock(&sh->lock);
    for (struct sk_txn *x = FIRST(sh, cancel->hash); x != NULL; x = NEXT(x)) {
        const struct sk_msg *r = &x->req;
        bool same;
        if (x->kind != SK_TXN_INVITE_SERVER || x->rfc2543 != cancel->rfc2543)
            continue;
        if (!cancel->rfc2543)
            same = sk_slice_eq(r->via.branch, cancel->req.via.branch) &&
                   sent_by_equal(&r->via, &cancel->req.via);
        else
            same = match_2543_common(r, &cancel->req) && sk_slice_eq(r->to.tag, cancel->req.to.tag);
        if (same) {
            found = x;
            sk_txn_ref(found);
            break;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    return found;
}
