/*
 * Publication state (RFC 3903 §6): the event state compositor's table of
 * publications, keyed by resource and package, each with its entity-tag,
 * expiry and body. Initial publication, refresh, modify and removal follow
 * §6 steps 1-8; a new entity-tag is made for every successful refresh and
 * modify (§6 step 7: "the ESC MUST ... generate a new entity-tag"), so a
 * publisher that lost a response cannot refresh a stale one.
 *
 * Composition policy (§4, package-specific): watchers see the most
 * recently published body of the resource's unexpired publications.
 *
 * Every change is written to the store (when one is set) before it is
 * made in memory, so a 200 OK is a promise across kill -9.
 *
 * Memory: each publication is one heap block holding its record and a copy
 * of its body; the table owns them. Threads: one mutex around the table;
 * the purge callback runs without it.
 */
#include <sipkit/containers.h>
#include <sipkit/events.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

struct pub {
    struct sk_hnode hnode;     /* by resource and package */
    struct pub *next_gone;     /* purge's list of what it removed */
    struct sk_publication rec; /* rec.body points at body[] */
    char body[];
};

struct sk_pubstate {
    pthread_mutex_t lock;
    struct sk_pubstate_options opt;
    struct sk_htab pubs;
    uint64_t seq;
};

/* Keyed: publishers choose resources. */
static uint64_t key_hash(struct sk_slice resource, struct sk_slice package)
{
    struct sk_hasher h;

    sk_hasher_init(&h);
    sk_hasher_field(&h, resource);
    sk_hasher_field(&h, package);
    return sk_hasher_end(&h);
}

/* The publications of one resource and package hash to one value. */
#define FIRST(ps, h) SK_CONTAINER_OR_NULL(sk_htab_first(&(ps)->pubs, (h)), struct pub, hnode)
#define NEXT(p)      SK_CONTAINER_OR_NULL(sk_htab_next(&(p)->hnode), struct pub, hnode)

static bool same_key(const struct pub *p, struct sk_slice resource, struct sk_slice package)
{
    return sk_slice_eq(sk_slice_cstr(p->rec.resource), resource) &&
           sk_slice_eq(sk_slice_cstr(p->rec.package), package);
}

int sk_pubstate_new(struct sk_pubstate **out, const struct sk_pubstate_options *opt)
{
    struct sk_pubstate *ps = sk_calloc(1, sizeof(*ps));

    if (ps == NULL)
        return SK_ENOMEM;
    if (opt != NULL)
        ps->opt = *opt;
    if (ps->opt.min_expires == 0)
        ps->opt.min_expires = 60;
    if (ps->opt.max_expires == 0)
        ps->opt.max_expires = 3600;
    if (ps->opt.default_expires == 0)
        ps->opt.default_expires = 3600;
    if (ps->opt.max_expires < ps->opt.min_expires)
        ps->opt.max_expires = ps->opt.min_expires;
    /* Inserts cannot fail once the table has buckets. */
    if (sk_htab_reserve(&ps->pubs, 64) != 0) {
        sk_free(ps);
        return SK_ENOMEM;
    }
    pthread_mutex_init(&ps->lock, NULL);
    *out = ps;
    return 0;
}

void sk_pubstate_free(struct sk_pubstate *ps)
{
    struct sk_htab_iter it;
    struct sk_hnode *n;

    if (ps == NULL)
        return;
    sk_htab_iter_init(&it, &ps->pubs);
    while ((n = sk_htab_iter_next(&it)) != NULL)
        sk_free(SK_CONTAINER_OF(n, struct pub, hnode));
    sk_htab_free(&ps->pubs);
    pthread_mutex_destroy(&ps->lock);
    sk_free(ps);
}

/* A heap copy of rec with its own body. */
static struct pub *pub_new(const struct sk_publication *rec)
{
    struct pub *p = sk_malloc(sizeof(*p) + rec->body.len + 1);

    if (p == NULL)
        return NULL;
    p->next_gone = NULL;
    p->rec = *rec;
    if (rec->body.len > 0)
        memcpy(p->body, rec->body.p, rec->body.len);
    p->body[rec->body.len] = '\0';
    p->rec.body = sk_slice_make(p->body, rec->body.len);
    return p;
}

static void link_pub(struct sk_pubstate *ps, struct pub *p)
{
    uint64_t h = key_hash(sk_slice_cstr(p->rec.resource), sk_slice_cstr(p->rec.package));

    (void)sk_htab_insert(&ps->pubs, &p->hnode, h); /* has buckets: cannot fail */
}

/* Unlink p and return it. */
static struct pub *unlink_pub(struct sk_pubstate *ps, struct pub *p)
{
    sk_htab_remove(&ps->pubs, &p->hnode);
    return p;
}

struct load_ctx {
    struct sk_pubstate *ps;
    int64_t now;
};

static int load_one(void *arg, const struct sk_publication *rec)
{
    struct load_ctx *ctx = arg;
    struct pub *p;

    if (rec->expires_at <= ctx->now)
        return 0; /* expired while we were down; purge drops the row */
    p = pub_new(rec);
    if (p == NULL)
        return SK_ENOMEM;
    link_pub(ctx->ps, p);
    return 0;
}

int sk_pubstate_load(struct sk_pubstate *ps, int64_t now)
{
    struct load_ctx ctx = {ps, now};
    uint64_t max_seq = 0;
    struct sk_htab_iter it;
    struct sk_hnode *n;
    int rc;

    if (ps->opt.store == NULL)
        return 0;
    pthread_mutex_lock(&ps->lock);
    rc = sk_store_pub_foreach(ps->opt.store, load_one, &ctx);
    sk_htab_iter_init(&it, &ps->pubs);
    while ((n = sk_htab_iter_next(&it)) != NULL) {
        const struct pub *p = SK_CONTAINER_OF(n, struct pub, hnode);
        if (p->rec.seq > max_seq)
            max_seq = p->rec.seq;
    }
    ps->seq = max_seq;
    pthread_mutex_unlock(&ps->lock);
    return rc;
}

static void make_etag(char out[SK_PUB_ETAG_MAX + 1])
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuv";
    unsigned char raw[16];

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        uint64_t t = sk_now_ms();
        for (size_t i = 0; i < sizeof(raw); i++, t = t * 6364136223846793005ull + 1)
            raw[i] ^= (unsigned char)(t >> 33);
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        out[i] = alphabet[raw[i] & 31];
    out[sizeof(raw)] = '\0';
}

static struct pub *find_etag(struct sk_pubstate *ps, const struct sk_pub_request *rq)
{
    for (struct pub *p = FIRST(ps, key_hash(rq->resource, rq->package)); p != NULL; p = NEXT(p)) {
        if (same_key(p, rq->resource, rq->package) &&
            sk_slice_eq(sk_slice_cstr(p->rec.etag), rq->if_match) && p->rec.expires_at > rq->now)
            return p;
    }
    return NULL;
}

static void answer(struct sk_pub_result *res, unsigned status, const char *reason)
{
    res->status = status;
    res->reason = reason;
}

/* Initial publication (§6 step 5: no SIP-If-Match) or modify/refresh of
 * old: write the new record to the store, then replace in memory. */
static int store_new(struct sk_pubstate *ps, const struct sk_pub_request *rq, struct pub *old,
                     uint32_t expires, struct sk_pub_result *res)
{
    struct sk_publication rec;
    struct pub *p;
    bool modify = old == NULL || rq->body.len > 0;
    int rc;

    memset(&rec, 0, sizeof(rec));
    if (old != NULL)
        rec = old->rec;
    if (rq->resource.len >= sizeof(rec.resource) || rq->package.len >= sizeof(rec.package) ||
        rq->ctype.len >= sizeof(rec.ctype) || rq->body.len > SK_PUB_BODY_MAX) {
        answer(res, 400, "Publication Too Large");
        return 0;
    }
    sk_slice_to_cstr(rq->resource, rec.resource, sizeof(rec.resource));
    sk_slice_to_cstr(rq->package, rec.package, sizeof(rec.package));
    if (modify) {
        sk_slice_to_cstr(rq->ctype, rec.ctype, sizeof(rec.ctype));
        rec.body = rq->body;
        rec.updated_at = rq->now;
        rec.seq = ps->seq + 1;
    }
    make_etag(rec.etag);
    rec.expires_at = rq->now + expires;
    p = pub_new(&rec);
    if (p == NULL)
        return SK_ENOMEM;
    if (ps->opt.store != NULL) {
        rc = sk_store_pub_put(ps->opt.store, &p->rec, old != NULL ? old->rec.etag : NULL);
        if (rc != 0) {
            sk_free(p);
            return rc;
        }
    }
    if (modify)
        ps->seq = rec.seq;
    if (old != NULL)
        sk_free(unlink_pub(ps, old));
    link_pub(ps, p);
    answer(res, 200, "OK");
    memcpy(res->etag, p->rec.etag, sizeof(res->etag));
    res->expires = expires;
    res->changed = modify;
    return 0;
}

static int apply_locked(struct sk_pubstate *ps, const struct sk_pub_request *rq,
                        struct sk_pub_result *res)
{
    uint32_t expires = ps->opt.default_expires;
    struct pub *old;
    int rc;

    if (rq->expires >= 0)
        expires = rq->expires > ps->opt.max_expires ? ps->opt.max_expires : (uint32_t)rq->expires;
    /* §6 step 3: a non-zero Expires below our minimum gets 423. */
    if (expires != 0 && expires < ps->opt.min_expires) {
        answer(res, 423, "Interval Too Brief");
        res->min_expires = ps->opt.min_expires;
        return 0;
    }
    if (rq->if_match.len == 0) {
        /* §6 step 5 and 6: an initial publication needs a body; without
         * an entity-tag there is nothing to remove. */
        if (expires == 0) {
            answer(res, 400, "Removal Without SIP-If-Match");
            return 0;
        }
        if (rq->body.len == 0) {
            answer(res, 400, "Missing Body In Initial PUBLISH");
            return 0;
        }
        return store_new(ps, rq, NULL, expires, res);
    }
    /* §6 step 4: an entity-tag we do not hold for this resource. */
    old = find_etag(ps, rq);
    if (old == NULL) {
        answer(res, 412, "Conditional Request Failed");
        return 0;
    }
    if (expires == 0) {
        if (ps->opt.store != NULL) {
            rc = sk_store_pub_del(ps->opt.store, old->rec.etag);
            if (rc != 0 && rc != SK_ENOTFOUND)
                return rc;
        }
        sk_free(unlink_pub(ps, old));
        answer(res, 200, "OK");
        res->expires = 0;
        res->changed = true;
        return 0;
    }
    return store_new(ps, rq, old, expires, res);
}

int sk_pubstate_apply(struct sk_pubstate *ps, const struct sk_pub_request *rq,
                      struct sk_pub_result *res)
{
    int rc;

    memset(res, 0, sizeof(*res));
    pthread_mutex_lock(&ps->lock);
    rc = apply_locked(ps, rq, res);
    pthread_mutex_unlock(&ps->lock);
    return rc;
}

int sk_pubstate_current(struct sk_pubstate *ps, struct sk_slice resource, struct sk_slice package,
                        int64_t now, struct sk_buf *body, char *ctype, size_t ctypesz)
{
    const struct pub *best = NULL;
    int rc = 0;

    pthread_mutex_lock(&ps->lock);
    for (const struct pub *p = FIRST(ps, key_hash(resource, package)); p != NULL; p = NEXT(p)) {
        if (same_key(p, resource, package) && p->rec.expires_at > now &&
            (best == NULL || p->rec.seq > best->rec.seq))
            best = p;
    }
    if (best != NULL) {
        sk_buf_reset(body);
        sk_buf_append_slice(body, best->rec.body);
        snprintf(ctype, ctypesz, "%s", best->rec.ctype);
        rc = sk_buf_ok(body) ? 1 : SK_ENOMEM;
    }
    pthread_mutex_unlock(&ps->lock);
    return rc;
}

int sk_pubstate_purge(struct sk_pubstate *ps, int64_t now, sk_pubstate_change_cb cb, void *arg)
{
    struct pub *gone = NULL;
    struct sk_htab_iter it;
    struct sk_hnode *hn;
    int n = 0;

    pthread_mutex_lock(&ps->lock);
    sk_htab_iter_init(&it, &ps->pubs);
    while ((hn = sk_htab_iter_next(&it)) != NULL) {
        struct pub *p = SK_CONTAINER_OF(hn, struct pub, hnode);
        if (p->rec.expires_at > now)
            continue;
        unlink_pub(ps, p);
        if (ps->opt.store != NULL)
            (void)sk_store_pub_del(ps->opt.store, p->rec.etag);
        p->next_gone = gone;
        gone = p;
        n++;
    }
    pthread_mutex_unlock(&ps->lock);
    while (gone != NULL) {
        struct pub *p = gone;
        gone = p->next_gone;
        if (cb != NULL)
            cb(arg, p->rec.resource, p->rec.package);
        sk_free(p);
    }
    return n;
}

size_t sk_pubstate_count(struct sk_pubstate *ps)
{
    size_t n;

    pthread_mutex_lock(&ps->lock);
    n = sk_htab_count(&ps->pubs);
    pthread_mutex_unlock(&ps->lock);
    return n;
}

struct reload_ctx {
    struct load_ctx load;
    struct sk_slice resource, package;
};

static int reload_one(void *arg, const struct sk_publication *rec)
{
    struct reload_ctx *ctx = arg;

    if (!sk_slice_eq(sk_slice_cstr(rec->resource), ctx->resource) ||
        !sk_slice_eq(sk_slice_cstr(rec->package), ctx->package))
        return 0;
    return load_one(&ctx->load, rec);
}

int sk_pubstate_reload(struct sk_pubstate *ps, const char *resource, const char *package,
                       int64_t now)
{
    struct reload_ctx ctx = {{ps, now}, sk_slice_cstr(resource), sk_slice_cstr(package)};
    struct pub *p, *next;
    int rc;

    if (ps->opt.store == NULL)
        return 0;
    pthread_mutex_lock(&ps->lock);
    for (p = FIRST(ps, key_hash(ctx.resource, ctx.package)); p != NULL; p = next) {
        next = NEXT(p);
        if (same_key(p, ctx.resource, ctx.package))
            sk_free(unlink_pub(ps, p));
    }
    /* Every row is read: publications are few (docs/cluster.md). */
    rc = sk_store_pub_foreach(ps->opt.store, reload_one, &ctx);
    pthread_mutex_unlock(&ps->lock);
    return rc;
}
