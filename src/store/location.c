/*
 * The location service in memory (RFC 3261 §10.3, §16.5): bindings per
 * address-of-record in a hash table split into shards, each with its own
 * lock, so lookups by the proxy and updates by the registrar on different
 * AORs never wait for each other. Durability is location_db.c's and the
 * store writer's job: an update changes memory under its shard lock and
 * queues a snapshot of the AOR's bindings to the writer thread while still
 * holding the lock (so the disk sees changes in the order memory did);
 * the caller is told the outcome from the store's writer thread once the
 * COMMIT ended (sk_location_update_async), so no event loop waits on the
 * disk; on_change runs later, from the completion thread.
 * If the COMMIT fails, the AOR's previous bindings are put back unless
 * another update changed the AOR meanwhile. Until then the AOR entry is
 * pinned (`pending`): the purge neither changes nor frees it.
 *
 * §10.3 steps 6-8 live in update(): the Call-ID/CSeq ordering check for
 * every binding the request touches happens before anything changes, so
 * a request applies all its contacts or none.
 *
 * Memory: each binding is one heap block (struct sk__lbind, lbind.c; its
 * User-Agent is shared) owned by its AOR entry; AOR entries are owned by their shard and freed by
 * the purge once empty. Results are copied into caller-owned struct sk_binding.
 */
#include "store/store_int.h"

#include <sipkit/containers.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SHARDS 64
#define MAX_BINDS      256 /* per AOR, hard cap of max_per_aor */

struct aor {
    struct sk_hnode hnode; /* by key, in its shard */
    uint64_t version;      /* set from loc->version on every change */
    struct sk__lbind *binds;
    unsigned pending; /* updates waiting for their COMMIT: not freed meanwhile */
    uint16_t keylen;  /* at most SK_LOC_AOR_MAX */
    char key[];
};

struct shard {
    pthread_mutex_t lock;
    struct sk_htab aors;
    size_t nbinds;
};

struct sk_location {
    struct sk_store *store;
    struct shard *shards;
    unsigned nshards;
    struct sk_location_options opt;
    _Atomic uint64_t version;
    struct sk__lconn *conns; /* AORs by the connection they registered over */
};

struct sk__lconn *sk__location_conns(struct sk_location *loc)
{
    return loc->conns;
}

/* ---- binding blocks --------------------------------------------------------- */

static void copy_str(char *dst, size_t dstsz, const char *src)
{
    size_t n = strlen(src);

    if (n >= dstsz)
        n = dstsz - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void to_binding(const char *aor, const struct sk__lbind *b, struct sk_binding *o)
{
    struct sk__lrow rv;
    const struct sk__lrow *r = &rv;

    sk__lbind_row(b, &rv);
    copy_str(o->aor, sizeof(o->aor), aor);
    copy_str(o->contact, sizeof(o->contact), r->contact);
    o->expires_at = r->expires_at;
    o->q = r->q;
    copy_str(o->call_id, sizeof(o->call_id), r->call_id);
    o->cseq = r->cseq;
    copy_str(o->path, sizeof(o->path), r->path);
    o->transport = r->tp;
    copy_str(o->src_ip, sizeof(o->src_ip), r->src_ip);
    o->src_port = r->src_port;
    o->conn_id = r->conn_id;
    copy_str(o->instance, sizeof(o->instance), r->instance);
    o->reg_id = r->reg_id;
    copy_str(o->user_agent, sizeof(o->user_agent), r->ua);
    o->updated_at = r->updated_at;
}

/* Lookup order: highest q first (none = 1.0), then the newest. */
static bool before(const struct sk__lbind *a, const struct sk__lbind *b)
{
    int qa = a->q < 0 ? 1000 : a->q, qb = b->q < 0 ? 1000 : b->q;

    if (qa != qb)
        return qa > qb;
    return a->updated_at > b->updated_at;
}

/* Insertion sort: an AOR holds a handful of bindings. */
static void sort_rows(const struct sk__lbind **v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        const struct sk__lbind *x = v[i];
        size_t j = i;
        while (j > 0 && before(x, v[j - 1])) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* ---- the hash table ---------------------------------------------------------- */

/* Keyed: AORs come from REGISTER requests. */
static uint64_t hash_key(struct sk_slice k)
{
    return sk_hash_slice(k);
}

static struct shard *shard_of(struct sk_location *loc, uint64_t h)
{
    return &loc->shards[(h >> 32) & (loc->nshards - 1)];
}

static struct aor *find_aor(struct shard *sh, struct sk_slice k, uint64_t h)
{
    for (struct sk_hnode *n = sk_htab_first(&sh->aors, h); n != NULL; n = sk_htab_next(n)) {
        struct aor *a = SK_CONTAINER_OF(n, struct aor, hnode);
        if (a->keylen == k.len && memcmp(a->key, k.p, k.len) == 0)
            return a;
    }
    return NULL;
}

static struct aor *get_aor(struct shard *sh, struct sk_slice k, uint64_t h)
{
    struct aor *a = find_aor(sh, k, h);

    if (a != NULL || k.len > UINT16_MAX)
        return a;
    a = sk_calloc(1, sizeof(*a) + k.len + 1);
    if (a == NULL)
        return NULL;
    a->keylen = (uint16_t)k.len;
    memcpy(a->key, k.p, k.len);
    if (sk_htab_insert(&sh->aors, &a->hnode, h) != 0) {
        sk_free(a);
        return NULL;
    }
    return a;
}

static size_t count_list(const struct sk__lbind *b)
{
    size_t n = 0;

    for (; b != NULL; b = b->next)
        n++;
    return n;
}

/* ---- open, load, close ------------------------------------------------------- */

static int load_row(void *arg, const char *aor, const struct sk__lrow *r)
{
    struct sk_location *loc = arg;
    struct sk_slice k = sk_slice_cstr(aor);
    uint64_t h = hash_key(k);
    struct shard *sh = shard_of(loc, h);
    struct aor *a;
    struct sk__lbind *b;

    /* Locked: a shared store's feed may already replace AORs. */
    pthread_mutex_lock(&sh->lock);
    a = get_aor(sh, k, h);
    if (a == NULL || (b = sk__lbind_new(r)) == NULL) {
        pthread_mutex_unlock(&sh->lock);
        return SK_ENOMEM;
    }
    b->next = a->binds;
    a->binds = b;
    sh->nbinds++;
    pthread_mutex_unlock(&sh->lock);
    return 0;
}

int sk_location_open(struct sk_location **out, struct sk_store *store,
                     const struct sk_location_options *opt)
{
    struct sk_location *loc;
    int rc;

    if (store == NULL)
        return SK_EINVAL;
    loc = sk_calloc(1, sizeof(*loc));
    if (loc == NULL)
        return SK_ENOMEM;
    if (opt != NULL)
        loc->opt = *opt;
    if (loc->opt.shards == 0)
        loc->opt.shards = DEFAULT_SHARDS;
    if (loc->opt.max_per_aor == 0)
        loc->opt.max_per_aor = SK_LOC_DEFAULT_MAX_PER_AOR;
    if (loc->opt.max_per_aor > MAX_BINDS || (loc->opt.shards & (loc->opt.shards - 1)) != 0 ||
        loc->opt.shards > 4096) {
        sk_free(loc);
        return SK_EINVAL;
    }
    loc->nshards = loc->opt.shards;
    loc->shards = sk_calloc(loc->nshards, sizeof(*loc->shards));
    if (loc->shards == NULL) {
        sk_free(loc);
        return SK_ENOMEM;
    }
    for (unsigned i = 0; i < loc->nshards; i++) {
        pthread_mutex_init(&loc->shards[i].lock, NULL);
        sk_htab_init(&loc->shards[i].aors);
    }
    loc->store = store;
    rc = sk__lconn_new(&loc->conns);
    if (rc == 0)
        rc = store->ops->loc_init(store, loc->opt.read_only);
    /* Other servers' changes (a shared store): subscribe before loading,
     * so none falls between the two. */
    if (rc == 0 && !loc->opt.read_only && store->ops->feed_set != NULL)
        rc = store->ops->feed_set(store, sk__location_replace, loc);
    if (rc == 0)
        rc = store->ops->loc_load(store, load_row, loc);
    if (rc != 0) {
        sk_location_close(loc);
        return rc;
    }
    *out = loc;
    return 0;
}

void sk_location_close(struct sk_location *loc)
{
    if (loc == NULL)
        return;
    if (loc->store != NULL && !loc->opt.read_only && loc->store->ops->feed_set != NULL)
        loc->store->ops->feed_set(loc->store, NULL, NULL);
    /* Pending updates and purges complete (and touch loc) first. */
    if (loc->store != NULL)
        sk__writer_flush(loc->store->writer);
    for (unsigned i = 0; loc->shards != NULL && i < loc->nshards; i++) {
        struct shard *sh = &loc->shards[i];
        struct sk_htab_iter it;
        struct sk_hnode *n;
        sk_htab_iter_init(&it, &sh->aors);
        while ((n = sk_htab_iter_next(&it)) != NULL) {
            struct aor *a = SK_CONTAINER_OF(n, struct aor, hnode);
            sk__lbind_free_list(a->binds);
            sk_free(a);
        }
        sk_htab_free(&sh->aors);
        pthread_mutex_destroy(&sh->lock);
    }
    sk_free(loc->shards);
    sk__lconn_free(loc->conns);
    sk_free(loc);
}

size_t sk_location_count(struct sk_location *loc)
{
    size_t n = 0;

    for (unsigned i = 0; i < loc->nshards; i++) {
        pthread_mutex_lock(&loc->shards[i].lock);
        n += loc->shards[i].nbinds;
        pthread_mutex_unlock(&loc->shards[i].lock);
    }
    return n;
}

const struct sk_histo *sk_location_commit_times(const struct sk_location *loc)
{
    return sk__writer_commit_times(loc->store->writer);
}

/* Copy the unexpired bindings of a, in lookup order, into out. Shard
 * lock held. */
static size_t copy_out(const struct aor *a, int64_t now, struct sk_binding *out, size_t max)
{
    const struct sk__lbind *v[MAX_BINDS];
    size_t n = 0;

    for (const struct sk__lbind *b = a->binds; b != NULL && n < MAX_BINDS; b = b->next) {
        if (b->expires_at > now)
            v[n++] = b;
    }
    sort_rows(v, n);
    if (n > max)
        n = max;
    for (size_t i = 0; i < n; i++)
        to_binding(a->key, v[i], &out[i]);
    return n;
}

int sk_location_lookup(struct sk_location *loc, struct sk_slice aor, int64_t now,
                       struct sk_binding *out, size_t max, size_t *n)
{
    uint64_t h = hash_key(aor);
    struct shard *sh;
    struct aor *a;

    *n = 0;
    if (aor.len == 0 || aor.len > SK_LOC_AOR_MAX || (max > 0 && out == NULL))
        return SK_EINVAL;
    sh = shard_of(loc, h);
    pthread_mutex_lock(&sh->lock);
    a = find_aor(sh, aor, h);
    if (a != NULL)
        *n = copy_out(a, now, out, max);
    pthread_mutex_unlock(&sh->lock);
    return 0;
}

/* ---- update (RFC 3261 §10.3 steps 6-8) ----------------------------------------- */

static struct sk_slice str_of(const struct sk__lbind *b, enum sk__lstr i)
{
    const char *p = sk__lbind_str(b, i);

    return sk_slice_make(p, i < SK__LS_UA ? b->len[i] : strlen(p));
}

static bool same_binding(const struct sk_location_update *u, const struct sk__lbind *b,
                         const struct sk_location_contact *c)
{
    /* RFC 5626 §6: with an instance, the binding is (instance, reg-id). */
    if (c->instance.len > 0 || b->len[SK__LS_INSTANCE] > 0)
        return sk_slice_eq(c->instance, str_of(b, SK__LS_INSTANCE)) && c->reg_id == b->reg_id;
    if (u->same_uri != NULL)
        return u->same_uri(u->same_arg, c->uri, str_of(b, SK__LS_CONTACT));
    return sk_slice_eq(c->uri, str_of(b, SK__LS_CONTACT));
}

static bool has_nul(struct sk_slice s)
{
    return memchr(s.p, '\0', s.len) != NULL;
}

static int check_update(const struct sk_location_update *u)
{
    struct sk_slice all[4] = {u->aor, u->call_id, u->path, u->src_ip};
    size_t max[4] = {SK_LOC_AOR_MAX, SK_LOC_CALLID_MAX, SK_LOC_PATH_MAX, SK_LOC_IP_MAX};

    if (u->aor.len == 0 || (u->ncontacts > 0 && u->contacts == NULL))
        return SK_EINVAL;
    for (int i = 0; i < 4; i++) {
        if (all[i].len > max[i])
            return SK_ETOOBIG;
        if (all[i].len > 0 && has_nul(all[i]))
            return SK_EINVAL;
    }
    for (size_t i = 0; i < u->ncontacts; i++) {
        const struct sk_location_contact *c = &u->contacts[i];
        if (c->uri.len == 0 || has_nul(c->uri) || (c->instance.len > 0 && has_nul(c->instance)))
            return SK_EINVAL;
        if (c->uri.len > SK_LOC_URI_MAX || c->instance.len > SK_LOC_INSTANCE_MAX)
            return SK_ETOOBIG;
    }
    return 0;
}

/* One update in flight: what it did to its AOR, kept until the COMMIT's
 * outcome, and the write queued for it. One heap block per update. */
struct change {
    struct sk__locop op; /* first: the writer hands back &op.w */
    struct sk_location *loc;
    struct shard *sh;
    struct aor *a; /* pinned until done */
    struct sk__lbind *kept[MAX_BINDS];
    size_t nkept;
    struct sk__lbind *removed; /* unlinked: freed after success, restored on failure */
    struct sk__lbind *added;   /* linked into the AOR */
    uint64_t version, prev_version;
    size_t n; /* bindings copied out */
    sk_location_done_cb cb;
    void *arg;
    char key[SK_LOC_AOR_MAX + 1];
    char tmp[]; /* new_bind()'s scratch */
};

/* Step 7 for every binding the request touches. Shard lock held. */
static bool out_of_order(const struct sk_location_update *u, const struct aor *a)
{
    for (const struct sk__lbind *b = a->binds; b != NULL; b = b->next) {
        bool touched = u->remove_all;
        if (b->expires_at <= u->now || !sk_slice_eq(u->call_id, str_of(b, SK__LS_CALL_ID)))
            continue;
        for (size_t i = 0; !touched && i < u->ncontacts; i++)
            touched = same_binding(u, b, &u->contacts[i]);
        if (touched && b->cseq >= u->cseq)
            return true;
    }
    return false;
}

static struct sk__lbind *new_bind(const struct sk_location_update *u,
                                  const struct sk_location_contact *c, char *tmp, size_t tmpsz)
{
    struct sk__lrow r;
    /* Copy the slices into NUL-terminated strings inside tmp. */
    struct sk_slice in[6] = {c->uri, u->call_id, u->path, u->src_ip, c->instance, u->user_agent};
    const char **out[6] = {&r.contact, &r.call_id, &r.path, &r.src_ip, &r.instance, &r.ua};
    size_t off = 0;

    memset(&r, 0, sizeof(r));
    for (int i = 0; i < 6; i++) {
        size_t n = in[i].len;
        if (i == 5 && n > SK_LOC_UA_MAX)
            n = SK_LOC_UA_MAX; /* User-Agent is informational: cut */
        if (off + n + 1 > tmpsz)
            return NULL;
        if (n > 0)
            memcpy(tmp + off, in[i].p, n);
        tmp[off + n] = '\0';
        *out[i] = tmp + off;
        off += n + 1;
    }
    r.expires_at = u->now + (int64_t)c->expires;
    r.updated_at = u->now;
    r.q = c->q < 0 ? -1 : c->q > 1000 ? 1000 : c->q;
    r.cseq = u->cseq;
    r.reg_id = c->reg_id;
    r.src_port = u->src_port;
    r.tp = u->transport;
    r.conn_id = u->conn_id;
    return sk__lbind_new(&r);
}

/* Steps 6 and 8: compute and link the AOR's new bindings. Shard lock
 * held. Returns 0, SK_ENOMEM or SK_ETOOBIG (nothing changed then). */
static int apply(struct sk_location *loc, const struct sk_location_update *u, struct aor *a,
                 struct change *ch, char *tmp, size_t tmpsz)
{
    struct sk__lbind *cur[MAX_BINDS + 1];
    bool gone[MAX_BINDS + 1];
    size_t n = 0, live = 0;

    memset(ch->kept, 0, sizeof(ch->kept));
    ch->nkept = 0;
    ch->removed = ch->added = NULL;
    for (struct sk__lbind *b = a->binds; b != NULL && n < MAX_BINDS; b = b->next) {
        gone[n] = u->remove_all || b->expires_at <= u->now;
        cur[n++] = b;
    }
    for (size_t i = 0; i < u->ncontacts; i++) {
        const struct sk_location_contact *c = &u->contacts[i];
        for (size_t j = 0; j < n; j++) {
            if (!gone[j] && same_binding(u, cur[j], c))
                gone[j] = true;
        }
        /* A later Contact for the same binding in one request wins. */
        for (struct sk__lbind **pp = &ch->added; *pp != NULL;) {
            if (same_binding(u, *pp, c)) {
                struct sk__lbind *x = *pp;
                *pp = x->next;
                sk__lbind_free(x);
            } else {
                pp = &(*pp)->next;
            }
        }
        if (c->expires == 0)
            continue;
        struct sk__lbind *nb = new_bind(u, c, tmp, tmpsz);
        if (nb == NULL) {
            sk__lbind_free_list(ch->added);
            ch->added = NULL;
            return SK_ENOMEM;
        }
        nb->next = ch->added;
        ch->added = nb;
    }
    for (size_t j = 0; j < n; j++)
        live += gone[j] ? 0 : 1;
    if (live + count_list(ch->added) > loc->opt.max_per_aor) {
        sk__lbind_free_list(ch->added);
        ch->added = NULL;
        return SK_ETOOBIG;
    }
    /* Relink: kept bindings, then the new ones; the rest is set aside. */
    struct sk__lbind *list = ch->added;
    for (size_t j = n; j-- > 0;) {
        if (gone[j]) {
            cur[j]->next = ch->removed;
            ch->removed = cur[j];
        } else {
            ch->kept[ch->nkept++] = cur[j];
            cur[j]->next = list;
            list = cur[j];
        }
    }
    a->binds = list;
    ch->prev_version = a->version;
    ch->version = atomic_fetch_add(&loc->version, 1) + 1;
    a->version = ch->version;
    return 0;
}

/* The snapshot the disk gets: copies of the AOR's bindings. */
static int snapshot(const struct aor *a, struct sk__locop *op)
{
    struct sk__lbind **tail = &op->rows;

    op->rows = NULL;
    for (const struct sk__lbind *b = a->binds; b != NULL; b = b->next) {
        struct sk__lbind *c = sk__lbind_clone(b);
        if (c == NULL) {
            sk__lbind_free_list(op->rows);
            op->rows = NULL;
            return SK_ENOMEM;
        }
        *tail = c;
        tail = &c->next;
    }
    return 0;
}

/* The COMMIT failed: put the previous bindings back if nobody changed the
 * AOR since; otherwise memory keeps the newer state. A failed batch is
 * completed last op first, each undo restoring the version it replaced,
 * so the earlier ops of the batch find their own state again. Shard lock
 * held. */
static void undo(struct aor *a, struct change *ch)
{
    struct sk__lbind *list = ch->removed;
    size_t nbefore = count_list(a->binds), nafter;

    if (a->version != ch->version)
        return;
    /* The AOR holds exactly our result (as a set); everything in it that
     * we did not keep is ours to free. */
    for (struct sk__lbind *b = a->binds, *next; b != NULL; b = next) {
        bool kept = false;
        next = b->next;
        for (size_t i = 0; !kept && i < ch->nkept; i++)
            kept = ch->kept[i] == b;
        if (!kept)
            sk__lbind_free(b);
    }
    for (size_t i = 0; i < ch->nkept; i++) {
        ch->kept[i]->next = list;
        list = ch->kept[i];
    }
    nafter = count_list(list);
    ch->sh->nbinds = ch->sh->nbinds - nbefore + nafter;
    a->binds = list;
    a->version = ch->prev_version;
    ch->removed = NULL;
}

/* The writer's completion of an update, on the writer thread: the
 * caller's answer at once; on_change, which may take the application's
 * locks and wait for writes, later from the completion thread
 * (update_done), and only when someone watches. */
static bool update_quick(struct sk__wop *w, int result)
{
    struct change *ch = (struct change *)w;
    struct sk_location *loc = ch->loc;
    size_t n = ch->n;

    pthread_mutex_lock(&ch->sh->lock);
    if (result != 0) {
        undo(ch->a, ch);
        n = 0;
    }
    ch->a->pending--;
    pthread_mutex_unlock(&ch->sh->lock);
    sk__lbind_free_list(ch->removed);
    sk__lbind_free_list(ch->op.rows);
    ch->cb(ch->arg, result, n);
    if (result == 0 && loc->opt.on_change != NULL &&
        (loc->opt.watched == NULL || loc->opt.watched(loc->opt.change_arg)))
        return true;
    sk_free(ch);
    return false;
}

static void update_done(struct sk__wop *w, int result)
{
    struct change *ch = (struct change *)w;

    (void)result; /* 0: update_quick() finished the failures */
    ch->loc->opt.on_change(ch->loc->opt.change_arg, ch->key);
    sk_free(ch);
}

int sk_location_update_async(struct sk_location *loc, const struct sk_location_update *u,
                             struct sk_binding *out, size_t max, sk_location_done_cb cb, void *arg)
{
    uint64_t h = hash_key(u->aor);
    struct shard *sh = shard_of(loc, h);
    struct change *ch;
    size_t tmpsz = SK_LOC_URI_MAX + SK_LOC_CALLID_MAX + SK_LOC_PATH_MAX + SK_LOC_IP_MAX +
                   SK_LOC_INSTANCE_MAX + SK_LOC_UA_MAX + 8;
    struct aor *a;
    int rc;

    if (loc->opt.read_only || cb == NULL || (max > 0 && out == NULL))
        return SK_EINVAL;
    if ((rc = check_update(u)) != 0)
        return rc;
    /* RFC 5626 §5.5: the close of this connection must find the AOR.
     * Before anything is queued: done may free u's memory at once.
     * Should the update fail, the entry only costs a look at the AOR;
     * without memory for it, the bindings wait for their expiry. */
    if (u->conn_id != 0 && sk_transport_reliable(u->transport) && u->ncontacts > 0)
        (void)sk__lconn_add(loc->conns, u->conn_id, u->aor);
    ch = sk_malloc(sizeof(*ch) + tmpsz);
    if (ch == NULL)
        return SK_ENOMEM;
    memset(&ch->op, 0, sizeof(ch->op));
    ch->op.w.write = loc->store->ops->loc_write;
    ch->op.w.quick = update_quick;
    ch->op.w.done = update_done;
    ch->op.aor = ch->key;
    ch->loc = loc;
    ch->sh = sh;
    ch->cb = cb;
    ch->arg = arg;
    ch->n = 0;
    memcpy(ch->key, u->aor.p, u->aor.len);
    ch->key[u->aor.len] = '\0';
    pthread_mutex_lock(&sh->lock);
    a = get_aor(sh, u->aor, h);
    if (a == NULL)
        rc = SK_ENOMEM;
    else if (out_of_order(u, a))
        rc = SK_ESTATE;
    else if ((rc = apply(loc, u, a, ch, ch->tmp, tmpsz)) == 0) {
        sh->nbinds -= count_list(ch->removed);
        sh->nbinds += count_list(a->binds) - ch->nkept;
        ch->a = a;
        /* Before queueing: the writer may complete it at once (it then
         * waits for the shard lock, not for these fields). */
        if (out != NULL)
            ch->n = copy_out(a, u->now, out, max);
        a->pending++;
        if (snapshot(a, &ch->op) != 0 || sk__writer_enqueue(loc->store->writer, &ch->op.w) != 0) {
            /* Cannot make it durable: undo at once. */
            a->pending--;
            sk__lbind_free_list(ch->op.rows);
            undo(a, ch);
            sk__lbind_free_list(ch->removed);
            rc = SK_ENOMEM;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    if (rc != 0)
        sk_free(ch);
    return rc;
}

/* ---- purge and listing ---------------------------------------------------------- */

/* Remove expired bindings (and empty AOR entries) of one shard. */
static size_t purge_shard(struct sk_location *loc, struct shard *sh, int64_t now,
                          struct sk__lkey **changed)
{
    size_t removed = 0;
    struct sk_htab_iter it;
    struct sk_hnode *n;

    pthread_mutex_lock(&sh->lock);
    sk_htab_iter_init(&it, &sh->aors);
    while ((n = sk_htab_iter_next(&it)) != NULL) {
        struct aor *a = SK_CONTAINER_OF(n, struct aor, hnode);
        size_t before_n = removed;
        /* An update waits for its COMMIT: changing the AOR now would make
         * its undo give up (version moved) if that COMMIT fails, and the
         * bindings it replaced, acknowledged earlier, would be lost from
         * memory. The next pass gets it; updates drop expired bindings
         * themselves (apply), and lookups skip them. */
        if (a->pending > 0)
            continue;
        for (struct sk__lbind **pb = &a->binds; *pb != NULL;) {
            struct sk__lbind *b = *pb;
            if (b->expires_at > now) {
                pb = &b->next;
                continue;
            }
            *pb = b->next;
            sk__lbind_free(b);
            removed++;
        }
        if (removed > before_n) {
            a->version = atomic_fetch_add(&loc->version, 1) + 1;
            /* For the disk (one DELETE per AOR, by its key) and
             * on_change. Without memory the disk keeps the expired
             * rows until a restart loads them and purges again. */
            struct sk__lkey *p = sk_malloc(sizeof(*p) + a->keylen + 1);
            if (p != NULL) {
                memcpy(p->key, a->key, a->keylen + 1);
                p->next = *changed;
                *changed = p;
            }
        }
        if (a->binds == NULL && a->pending == 0) {
            sk_htab_remove(&sh->aors, &a->hnode);
            sk_free(a);
        }
    }
    sh->nbinds -= removed;
    pthread_mutex_unlock(&sh->lock);
    return removed;
}

/* A purge's write: freed by its completion. */
struct purge {
    struct sk__locop op; /* first */
    struct sk_location *loc;
    struct sk__lkey *changed;
};

static void purge_done(struct sk__wop *w, int result)
{
    struct purge *p = (struct purge *)w;

    (void)result; /* on failure the disk keeps expired rows: purged after a restart */
    while (p->changed != NULL) {
        struct sk__lkey *k = p->changed;
        p->changed = k->next;
        if (p->loc->opt.on_change != NULL)
            p->loc->opt.on_change(p->loc->opt.change_arg, k->key);
        sk_free(k);
    }
    sk_free(p);
}

int sk_location_purge(struct sk_location *loc, int64_t now)
{
    struct sk__lkey *changed = NULL;
    size_t removed = 0;
    struct purge *p;

    if (loc->opt.read_only)
        return 0;
    for (unsigned i = 0; i < loc->nshards; i++)
        removed += purge_shard(loc, &loc->shards[i], now, &changed);
    if (changed == NULL)
        return 0;
    p = sk_calloc(1, sizeof(*p));
    if (p != NULL) {
        p->op.w.write = loc->store->ops->loc_write;
        p->op.w.done = purge_done;
        p->op.purge = true;
        p->op.before = now;
        p->op.purged = changed;
        p->loc = loc;
        p->changed = changed;
        if (sk__writer_enqueue(loc->store->writer, &p->op.w) == 0)
            return (int)(removed > INT32_MAX ? INT32_MAX : removed);
        sk_free(p);
    }
    /* The disk keeps the expired rows until a restart purges them. */
    while (changed != NULL) {
        struct sk__lkey *k = changed;
        changed = k->next;
        if (loc->opt.on_change != NULL)
            loc->opt.on_change(loc->opt.change_arg, k->key);
        sk_free(k);
    }
    return (int)(removed > INT32_MAX ? INT32_MAX : removed);
}

/* A copied binding with its AOR, for listing outside the locks. */
struct item {
    struct sk__lbind *b;
    const char *aor;
};

static int cmp_item(const void *x, const void *y)
{
    const struct item *a = x, *b = y;
    int c = strcmp(a->aor, b->aor);

    if (c != 0)
        return c;
    if (before(a->b, b->b))
        return -1;
    return before(b->b, a->b) ? 1 : 0;
}

/* Copy the unexpired bindings of a into items (grown as needed). */
static int collect(const struct aor *a, int64_t now, struct item **items, size_t *n, size_t *cap,
                   struct sk__lbind **owned)
{
    for (const struct sk__lbind *b = a->binds; b != NULL; b = b->next) {
        if (b->expires_at <= now)
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            struct item *ni = sk_realloc(*items, nc * sizeof(*ni));
            if (ni == NULL)
                return SK_ENOMEM;
            *items = ni;
            *cap = nc;
        }
        /* Copies (binding and AOR key) outlive the shard lock. */
        struct sk__lbind *c = sk__lbind_clone(b);
        char *k = c != NULL ? sk_malloc(a->keylen + 1) : NULL;
        if (k == NULL) {
            sk_free(c);
            return SK_ENOMEM;
        }
        memcpy(k, a->key, a->keylen + 1);
        c->next = *owned;
        *owned = c;
        (*items)[*n].b = c;
        (*items)[*n].aor = k;
        (*n)++;
    }
    return 0;
}

int sk_location_foreach(struct sk_location *loc, struct sk_slice aor, int64_t now,
                        sk_location_binding_cb cb, void *arg)
{
    struct item *items = NULL;
    struct sk__lbind *owned = NULL;
    struct sk_binding *out = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (aor.len > 0) {
        /* One AOR: its own shard and chain, not a walk of them all. */
        uint64_t h = hash_key(aor);
        struct shard *sh = shard_of(loc, h);
        const struct aor *a;
        pthread_mutex_lock(&sh->lock);
        if ((a = find_aor(sh, aor, h)) != NULL)
            rc = collect(a, now, &items, &n, &cap, &owned);
        pthread_mutex_unlock(&sh->lock);
    }
    for (unsigned i = 0; aor.len == 0 && rc == 0 && i < loc->nshards; i++) {
        struct shard *sh = &loc->shards[i];
        pthread_mutex_lock(&sh->lock);
        struct sk_htab_iter it;
        struct sk_hnode *hn;
        sk_htab_iter_init(&it, &sh->aors);
        while (rc == 0 && (hn = sk_htab_iter_next(&it)) != NULL)
            rc = collect(SK_CONTAINER_OF(hn, struct aor, hnode), now, &items, &n, &cap, &owned);
        pthread_mutex_unlock(&sh->lock);
    }
    if (rc == 0 && n > 0) {
        qsort(items, n, sizeof(*items), cmp_item);
        out = sk_malloc(sizeof(*out));
        rc = out == NULL ? SK_ENOMEM : 0;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        to_binding(items[i].aor, items[i].b, out);
        rc = cb(arg, out);
    }
    for (size_t i = 0; i < n; i++)
        sk_free((void *)items[i].aor);
    sk_free(items);
    sk_free(out);
    sk__lbind_free_list(owned);
    return rc;
}

/* ---- changes made by other servers (a shared store's feed) -------------------- */

void sk__location_replace(void *arg, const char *aor, struct sk__lbind *rows)
{
    struct sk_location *loc = arg;
    struct sk_slice k = sk_slice_cstr(aor);
    uint64_t h = hash_key(k);
    struct shard *sh = shard_of(loc, h);
    struct aor *a;

    if (k.len == 0 || k.len > SK_LOC_AOR_MAX) {
        sk__lbind_free_list(rows);
        return;
    }
    pthread_mutex_lock(&sh->lock);
    a = get_aor(sh, k, h);
    if (a == NULL) {
        pthread_mutex_unlock(&sh->lock);
        sk__lbind_free_list(rows);
        return;
    }
    sh->nbinds -= count_list(a->binds);
    sk__lbind_free_list(a->binds);
    a->binds = rows;
    sh->nbinds += count_list(rows);
    /* A local update still waiting for its COMMIT will not undo over
     * this (its version moved). */
    a->version = atomic_fetch_add(&loc->version, 1) + 1;
    pthread_mutex_unlock(&sh->lock);
    if (loc->opt.on_change != NULL)
        loc->opt.on_change(loc->opt.change_arg, aor);
}
