/*
 * Durable subscriptions and publications: tables `subscriptions` and
 * `publications` in the store's database (RFC 6665 §4.2.1 notifier
 * dialogs, RFC 3903 §6 entity-tags). The events layer keeps the live state
 * in memory; this file only writes it through, so a 200 OK to SUBSCRIBE or
 * PUBLISH is a promise kept across kill -9 (WAL, synchronous=NORMAL: a
 * committed transaction survives a process crash).
 *
 * The public functions validate and queue a struct sk__subop to the
 * store's writer; the backend writes it (here: SQLite, sk__sq_sub_write).
 *
 * Memory: prepared statements owned by the store (struct sk__subs_db),
 * finalised by sk__subs_free(). Records handed to callbacks are stack
 * values whose body slice points into SQLite's row, valid for the call.
 */
#include "store/store_int.h"

#include <string.h>

/* The statements: the writes first, in enum sk__subop_kind order. */
enum {
    ST_SUB_PUT = SK__SUB_PUT,
    ST_SUB_SEQ = SK__SUB_SEQ,
    ST_SUB_DEL = SK__SUB_DEL,
    ST_PUB_PUT = SK__PUB_PUT,
    ST_PUB_DEL = SK__PUB_DEL,
    ST_SUB_ALL,
    ST_PUB_ALL,
    ST__COUNT
};

struct sk__subs_db {
    sqlite3_stmt *st[ST__COUNT];
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS subscriptions ("
    " key TEXT PRIMARY KEY, package TEXT NOT NULL, event_id TEXT NOT NULL,"
    " call_id TEXT NOT NULL, remote_tag TEXT NOT NULL, local_uri TEXT NOT NULL,"
    " remote_uri TEXT NOT NULL, remote_target TEXT NOT NULL, route_set TEXT NOT NULL,"
    " watcher TEXT NOT NULL, resource TEXT NOT NULL, remote_cseq INTEGER NOT NULL,"
    " local_cseq INTEGER NOT NULL, version INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " state INTEGER NOT NULL, transport INTEGER NOT NULL, src_ip TEXT NOT NULL,"
    " src_port INTEGER NOT NULL, conn_id INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS publications ("
    " etag TEXT PRIMARY KEY, resource TEXT NOT NULL, package TEXT NOT NULL,"
    " ctype TEXT NOT NULL, expires_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, body BLOB NOT NULL);";

#define SUB_COLS                                                                                   \
    "key, package, event_id, call_id, remote_tag, local_uri, remote_uri, remote_target,"           \
    " route_set, watcher, resource, remote_cseq, local_cseq, version, expires_at, state,"          \
    " transport, src_ip, src_port, conn_id"
#define PUB_COLS "etag, resource, package, ctype, expires_at, updated_at, seq, body"

static const char *const sql[ST__COUNT] = {
    [ST_SUB_PUT] = "INSERT OR REPLACE INTO subscriptions (" SUB_COLS ") VALUES"
                   " (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)",
    [ST_SUB_SEQ] = "UPDATE subscriptions SET local_cseq = ?2, version = ?3 WHERE key = ?1",
    [ST_SUB_DEL] = "DELETE FROM subscriptions WHERE key = ?1",
    [ST_SUB_ALL] = "SELECT " SUB_COLS " FROM subscriptions ORDER BY key",
    [ST_PUB_PUT] = "INSERT OR REPLACE INTO publications (" PUB_COLS ") VALUES"
                   " (?1,?2,?3,?4,?5,?6,?7,?8)",
    [ST_PUB_DEL] = "DELETE FROM publications WHERE etag = ?1",
    [ST_PUB_ALL] = "SELECT " PUB_COLS " FROM publications ORDER BY seq",
};

int sk__subs_init(struct sk_store *s)
{
    struct sk__subs_db *d;
    int rc = sk__store_exec(s, schema);

    if (rc != 0)
        return rc;
    d = sk_calloc(1, sizeof(*d));
    if (d == NULL)
        return SK_ENOMEM;
    s->subs = d;
    for (int i = 0; i < ST__COUNT; i++) {
        if (i != ST_SUB_ALL && i != ST_PUB_ALL)
            continue; /* writes: prepared by the writer on its connection */
        if (sqlite3_prepare_v2(s->db, sql[i], -1, &d->st[i], NULL) != SQLITE_OK) {
            SK_LOG(SK_LOG_ERROR, "store", "op=prepare err=\"%s\"", sqlite3_errmsg(s->db));
            return SK_EIO;
        }
    }
    return 0;
}

void sk__subs_free(struct sk_store *s)
{
    if (s->subs == NULL)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->subs->st[i]);
    sk_free(s->subs);
    s->subs = NULL;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void bind_sub(sqlite3_stmt *st, const struct sk_subscription *sub)
{
    bind_text(st, 1, sub->key);
    bind_text(st, 2, sub->package);
    bind_text(st, 3, sub->event_id);
    bind_text(st, 4, sub->call_id);
    bind_text(st, 5, sub->remote_tag);
    bind_text(st, 6, sub->local_uri);
    bind_text(st, 7, sub->remote_uri);
    bind_text(st, 8, sub->remote_target);
    bind_text(st, 9, sub->route_set);
    bind_text(st, 10, sub->watcher);
    bind_text(st, 11, sub->resource);
    sqlite3_bind_int64(st, 12, sub->remote_cseq);
    sqlite3_bind_int64(st, 13, sub->local_cseq);
    sqlite3_bind_int64(st, 14, sub->version);
    sqlite3_bind_int64(st, 15, sub->expires_at);
    sqlite3_bind_int(st, 16, (int)sub->state);
    sqlite3_bind_int(st, 17, (int)sub->transport);
    bind_text(st, 18, sub->src_ip);
    sqlite3_bind_int(st, 19, sub->src_port);
    sqlite3_bind_int64(st, 20, (sqlite3_int64)sub->conn_id);
}

static void bind_pub(sqlite3_stmt *st, const struct sk_publication *p)
{
    bind_text(st, 1, p->etag);
    bind_text(st, 2, p->resource);
    bind_text(st, 3, p->package);
    bind_text(st, 4, p->ctype);
    sqlite3_bind_int64(st, 5, p->expires_at);
    sqlite3_bind_int64(st, 6, p->updated_at);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)p->seq);
    sqlite3_bind_blob(st, 8, p->body.len > 0 ? p->body.p : "", (int)p->body.len, SQLITE_STATIC);
}

/* On the writer thread, inside its transaction. */
int sk__sq_sub_write(struct sk__writer *w, struct sk__wop *wop)
{
    struct sk__subop *op = (struct sk__subop *)wop;
    sqlite3_stmt *st = sk__writer_stmt(w, sql[op->which]);
    int rc;

    if (st == NULL)
        return SK_EIO;
    switch (op->which) {
    case ST_SUB_PUT:
        bind_sub(st, op->sub);
        break;
    case ST_SUB_SEQ:
        bind_text(st, 1, op->key);
        sqlite3_bind_int64(st, 2, op->local_cseq);
        sqlite3_bind_int64(st, 3, op->version);
        break;
    case ST_PUB_PUT:
        if (op->key != NULL && op->key[0] != '\0') {
            sqlite3_stmt *del = sk__writer_stmt(w, sql[ST_PUB_DEL]);
            if (del == NULL)
                return SK_EIO;
            bind_text(del, 1, op->key);
            if ((rc = sk__writer_step(w, del)) != 0)
                return rc;
        }
        bind_pub(st, op->pub);
        break;
    default: /* the deletes */
        bind_text(st, 1, op->key);
        break;
    }
    if ((rc = sk__writer_step(w, st)) != 0)
        return rc;
    if (op->which != ST_SUB_PUT && op->which != ST_PUB_PUT &&
        sqlite3_changes(sk__writer_db(w)) == 0)
        op->w.result = SK_ENOTFOUND;
    return 0;
}

static int run_subop(struct sk_store *s, struct sk__subop *op)
{
    op->w.write = s->ops->sub_write;
    return sk__writer_run(s->writer, &op->w);
}

int sk_store_sub_put(struct sk_store *s, const struct sk_subscription *sub)
{
    struct sk__subop op = {.which = ST_SUB_PUT, .sub = sub};

    if (sub == NULL || sub->key[0] == '\0')
        return SK_EINVAL;
    return run_subop(s, &op);
}

int sk_store_sub_seq(struct sk_store *s, const char *key, uint32_t local_cseq, uint32_t version)
{
    struct sk__subop op = {
        .which = ST_SUB_SEQ, .key = key, .local_cseq = local_cseq, .version = version};

    return run_subop(s, &op);
}

int sk_store_sub_del(struct sk_store *s, const char *key)
{
    struct sk__subop op = {.which = ST_SUB_DEL, .key = key};

    return run_subop(s, &op);
}

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t dstsz)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t n = t == NULL ? 0 : (size_t)sqlite3_column_bytes(st, i);

    if (n >= dstsz)
        n = dstsz - 1;
    if (n > 0)
        memcpy(dst, t, n);
    dst[n] = '\0';
}

#define COL(st, i, field) col_text((st), (i), (field), sizeof(field))

static void row_to_sub(sqlite3_stmt *st, struct sk_subscription *sub)
{
    memset(sub, 0, sizeof(*sub));
    COL(st, 0, sub->key);
    COL(st, 1, sub->package);
    COL(st, 2, sub->event_id);
    COL(st, 3, sub->call_id);
    COL(st, 4, sub->remote_tag);
    COL(st, 5, sub->local_uri);
    COL(st, 6, sub->remote_uri);
    COL(st, 7, sub->remote_target);
    COL(st, 8, sub->route_set);
    COL(st, 9, sub->watcher);
    COL(st, 10, sub->resource);
    sub->remote_cseq = (uint32_t)sqlite3_column_int64(st, 11);
    sub->local_cseq = (uint32_t)sqlite3_column_int64(st, 12);
    sub->version = (uint32_t)sqlite3_column_int64(st, 13);
    sub->expires_at = sqlite3_column_int64(st, 14);
    sub->state = (enum sk_sub_state)sqlite3_column_int(st, 15);
    sub->transport = (enum sk_transport)sqlite3_column_int(st, 16);
    COL(st, 17, sub->src_ip);
    sub->src_port = (uint16_t)sqlite3_column_int(st, 18);
    sub->conn_id = (uint64_t)sqlite3_column_int64(st, 19);
}

/* Walk a SELECT holding the store lock, one row converted at a time. The
 * records are copied out so the callback runs without the lock (it may
 * call back into the store). */
int sk__sq_sub_foreach(struct sk_store *s, sk_store_sub_cb cb, void *arg)
{
    struct sk_subscription *all = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, step;
    sqlite3_stmt *st;

    pthread_mutex_lock(&s->lock);
    st = s->subs->st[ST_SUB_ALL];
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            struct sk_subscription *p = sk_realloc(all, ncap * sizeof(*p));
            if (p == NULL) {
                rc = SK_ENOMEM;
                break;
            }
            all = p;
            cap = ncap;
        }
        row_to_sub(st, &all[n++]);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = SK_EIO;
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cb(arg, &all[i]);
    sk_free(all);
    return rc;
}

int sk_store_pub_put(struct sk_store *s, const struct sk_publication *p, const char *old_etag)
{
    struct sk__subop op = {.which = ST_PUB_PUT, .pub = p, .key = old_etag};

    if (p == NULL || p->etag[0] == '\0' || p->body.len > SK_PUB_BODY_MAX)
        return SK_EINVAL;
    return run_subop(s, &op);
}

int sk_store_pub_del(struct sk_store *s, const char *etag)
{
    struct sk__subop op = {.which = ST_PUB_DEL, .key = etag};

    return run_subop(s, &op);
}

/* Publications are few and small: the callback runs under the lock with
 * the row's own memory (it must not call into the store). */
int sk__sq_pub_foreach(struct sk_store *s, sk_store_pub_cb cb, void *arg)
{
    struct sk_publication p;
    sqlite3_stmt *st;
    int rc = 0, step;

    pthread_mutex_lock(&s->lock);
    st = s->subs->st[ST_PUB_ALL];
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&p, 0, sizeof(p));
        COL(st, 0, p.etag);
        COL(st, 1, p.resource);
        COL(st, 2, p.package);
        COL(st, 3, p.ctype);
        p.expires_at = sqlite3_column_int64(st, 4);
        p.updated_at = sqlite3_column_int64(st, 5);
        p.seq = (uint64_t)sqlite3_column_int64(st, 6);
        p.body.p = sqlite3_column_blob(st, 7);
        p.body.len = (size_t)sqlite3_column_bytes(st, 7);
        rc = cb(arg, &p);
        if (rc != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = SK_EIO;
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sk_store_sub_foreach(struct sk_store *s, sk_store_sub_cb cb, void *arg)
{
    return s->ops->sub_foreach(s, cb, arg);
}

int sk_store_pub_foreach(struct sk_store *s, sk_store_pub_cb cb, void *arg)
{
    return s->ops->pub_foreach(s, cb, arg);
}

int sk_store_pub_feed(struct sk_store *s, sk_store_pub_feed_cb cb, void *arg)
{
    if (s == NULL || s->ops->pub_feed_set == NULL)
        return 0;
    return s->ops->pub_feed_set(s, cb, arg);
}
