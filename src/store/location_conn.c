/*
 * Which AORs were registered over which connection, so that the close of
 * a TCP or TLS connection finds its bindings without walking every AOR
 * (RFC 5626 §5.5: a flow that fails takes its bindings with it). An entry
 * per open connection that carried a REGISTER, holding the keys of the
 * AORs it wrote; the close takes the entry out and looks those AORs up.
 * While the connection is open, the same look-up tells whether it still
 * carries a registration (the server keeps such a connection when idle).
 *
 * The index is a hint, not a second truth: an AOR registered again over
 * another connection stays listed under the old one until that closes,
 * and the lookup then finds no binding of the old connection in it.
 * Entries of connections that never close go with the location service.
 *
 * Threads: any; the index is split in shards by connection id, each with
 * its own lock, which is never held while another lock is taken (the
 * update adds its AOR before it locks its location shard). A REGISTER
 * racing with the close of its own connection may leave an entry behind:
 * it holds a few bytes until the location service closes.
 * Memory: entries and AOR keys are heap blocks owned by the index.
 */
#include "store/store_int.h"

#include <sipkit/containers.h>

#include <string.h>

#define CONN_SHARDS 16

struct conn_aor {
    struct sk_hnode hnode; /* by AOR key, in its connection */
    uint16_t len;
    char key[];
};

struct conn_ent {
    struct sk_hnode hnode; /* by connection id, in its shard */
    uint64_t conn_id;
    struct sk_htab aors;
};

struct cshard {
    pthread_mutex_t lock;
    struct sk_htab conns;
};

struct sk__lconn {
    struct cshard sh[CONN_SHARDS];
};

int sk__lconn_new(struct sk__lconn **out)
{
    struct sk__lconn *c = sk_calloc(1, sizeof(*c));

    if (c == NULL)
        return SK_ENOMEM;
    for (int i = 0; i < CONN_SHARDS; i++) {
        pthread_mutex_init(&c->sh[i].lock, NULL);
        sk_htab_init(&c->sh[i].conns);
    }
    *out = c;
    return 0;
}

static void free_ent(struct conn_ent *e)
{
    struct sk_htab_iter it;
    struct sk_hnode *n;

    sk_htab_iter_init(&it, &e->aors);
    while ((n = sk_htab_iter_next(&it)) != NULL)
        sk_free(SK_CONTAINER_OF(n, struct conn_aor, hnode));
    sk_htab_free(&e->aors);
    sk_free(e);
}

void sk__lconn_free(struct sk__lconn *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < CONN_SHARDS; i++) {
        struct sk_htab_iter it;
        struct sk_hnode *n;
        sk_htab_iter_init(&it, &c->sh[i].conns);
        while ((n = sk_htab_iter_next(&it)) != NULL)
            free_ent(SK_CONTAINER_OF(n, struct conn_ent, hnode));
        sk_htab_free(&c->sh[i].conns);
        pthread_mutex_destroy(&c->sh[i].lock);
    }
    sk_free(c);
}

static uint64_t conn_hash(uint64_t conn_id)
{
    return sk_hash(&conn_id, sizeof(conn_id));
}

static struct conn_ent *find_ent(struct cshard *sh, uint64_t conn_id, uint64_t h)
{
    for (struct sk_hnode *n = sk_htab_first(&sh->conns, h); n != NULL; n = sk_htab_next(n)) {
        struct conn_ent *e = SK_CONTAINER_OF(n, struct conn_ent, hnode);
        if (e->conn_id == conn_id)
            return e;
    }
    return NULL;
}

static bool has_aor(const struct conn_ent *e, struct sk_slice aor, uint64_t h)
{
    for (struct sk_hnode *n = sk_htab_first(&e->aors, h); n != NULL; n = sk_htab_next(n)) {
        const struct conn_aor *a = SK_CONTAINER_OF(n, struct conn_aor, hnode);
        if (a->len == aor.len && memcmp(a->key, aor.p, aor.len) == 0)
            return true;
    }
    return false;
}

int sk__lconn_add(struct sk__lconn *c, uint64_t conn_id, struct sk_slice aor)
{
    uint64_t h = conn_hash(conn_id), ha = sk_hash_slice(aor);
    struct cshard *sh = &c->sh[h & (CONN_SHARDS - 1)];
    struct conn_ent *e;
    struct conn_aor *a = NULL;
    int err = 0;

    if (aor.len == 0 || aor.len > SK_LOC_AOR_MAX)
        return SK_EINVAL;
    pthread_mutex_lock(&sh->lock);
    e = find_ent(sh, conn_id, h);
    if (e == NULL && (e = sk_calloc(1, sizeof(*e))) != NULL) {
        e->conn_id = conn_id;
        sk_htab_init(&e->aors);
        if (sk_htab_insert(&sh->conns, &e->hnode, h) != 0) {
            sk_free(e);
            e = NULL;
        }
    }
    if (e == NULL) {
        err = SK_ENOMEM;
    } else if (!has_aor(e, aor, ha)) {
        a = sk_malloc(sizeof(*a) + aor.len + 1);
        if (a != NULL) {
            a->len = (uint16_t)aor.len;
            memcpy(a->key, aor.p, aor.len);
            a->key[aor.len] = '\0';
        }
        if (a == NULL || sk_htab_insert(&e->aors, &a->hnode, ha) != 0) {
            sk_free(a);
            err = SK_ENOMEM;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    return err;
}

struct conn_filter {
    uint64_t conn_id;
    sk_location_binding_cb cb;
    void *arg;
};

static int only_conn(void *arg, const struct sk_binding *b)
{
    struct conn_filter *f = arg;

    if (b->conn_id != f->conn_id || !sk_transport_reliable(b->transport))
        return 0;
    return f->cb(f->arg, b);
}

/* The AOR keys connection conn_id registered, copied out of its shard
 * (one heap block, NUL-separated, *n of them) so that the walk holds no
 * index lock; NULL with *n 0 when it registered none. */
static char *copy_keys(struct sk__lconn *c, uint64_t conn_id, size_t *n, int *err)
{
    uint64_t h = conn_hash(conn_id);
    struct cshard *sh = &c->sh[h & (CONN_SHARDS - 1)];
    struct sk_htab_iter it;
    struct sk_hnode *nd;
    struct conn_ent *e;
    size_t len = 0, off = 0;
    char *keys = NULL;

    *n = 0;
    *err = 0;
    pthread_mutex_lock(&sh->lock);
    e = find_ent(sh, conn_id, h);
    if (e != NULL) {
        sk_htab_iter_init(&it, &e->aors);
        while ((nd = sk_htab_iter_next(&it)) != NULL)
            len += SK_CONTAINER_OF(nd, struct conn_aor, hnode)->len + 1u;
    }
    if (len > 0 && (keys = sk_malloc(len)) == NULL)
        *err = SK_ENOMEM;
    if (keys != NULL) {
        sk_htab_iter_init(&it, &e->aors);
        while ((nd = sk_htab_iter_next(&it)) != NULL) {
            const struct conn_aor *a = SK_CONTAINER_OF(nd, struct conn_aor, hnode);
            memcpy(keys + off, a->key, a->len + 1u);
            off += a->len + 1u;
            (*n)++;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    return keys;
}

int sk_location_conn_foreach(struct sk_location *loc, uint64_t conn_id, int64_t now,
                             sk_location_binding_cb cb, void *arg)
{
    struct sk__lconn *c = sk__location_conns(loc);
    struct conn_filter f = {conn_id, cb, arg};
    size_t n, off = 0;
    int rc;
    char *keys;

    if (c == NULL || conn_id == 0)
        return 0;
    keys = copy_keys(c, conn_id, &n, &rc);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t len = strlen(keys + off);
        rc = sk_location_foreach(loc, sk_slice_make(keys + off, len), now, only_conn, &f);
        off += len + 1;
    }
    sk_free(keys);
    return rc;
}

int sk_location_conn_closed(struct sk_location *loc, uint64_t conn_id, int64_t now,
                            sk_location_binding_cb cb, void *arg)
{
    struct sk__lconn *c = sk__location_conns(loc);
    uint64_t h = conn_hash(conn_id);
    struct cshard *sh;
    struct conn_ent *e;
    struct conn_filter f = {conn_id, cb, arg};
    struct sk_htab_iter it;
    struct sk_hnode *n;
    int rc = 0;

    if (c == NULL || conn_id == 0)
        return 0;
    sh = &c->sh[h & (CONN_SHARDS - 1)];
    pthread_mutex_lock(&sh->lock);
    e = find_ent(sh, conn_id, h);
    if (e != NULL)
        sk_htab_remove(&sh->conns, &e->hnode);
    pthread_mutex_unlock(&sh->lock);
    if (e == NULL)
        return 0;
    sk_htab_iter_init(&it, &e->aors);
    while (rc == 0 && (n = sk_htab_iter_next(&it)) != NULL) {
        const struct conn_aor *a = SK_CONTAINER_OF(n, struct conn_aor, hnode);
        rc = sk_location_foreach(loc, sk_slice_make(a->key, a->len), now, only_conn, &f);
    }
    free_ent(e);
    return rc;
}
