/*
 * Location bindings on disk: the `location` table of the store's SQLite
 * database, written through a connection of its own with group commit.
 *
 * Durability: WAL with synchronous=NORMAL. A COMMIT appends the
 * transaction to the WAL file with write(); the kernel holds it from then
 * on, so it survives kill -9 of the process (not a power cut: that needs
 * synchronous=FULL, which fsyncs every commit). RFC 3261 §10.3 step 8 asks
 * that the bindings be committed before the 200 OK; sk_location_update()
 * waits here for that.
 *
 * Group commit, leader/follower: a writer queues its change and waits.
 * When no leader is active it becomes the leader: it takes the whole queue,
 * runs one BEGIN..COMMIT for all of it without holding the queue lock,
 * then marks every change done and wakes the followers. Changes queued
 * meanwhile go in the next COMMIT. Under load many REGISTERs share one
 * COMMIT; alone a write costs one transaction.
 *
 * A change is "the AOR's bindings are now these rows" (DELETE the AOR's
 * rows, INSERT the current ones) or a purge (for each AOR the memory purge
 * changed, DELETE its rows expired at `before`). Changes are snapshots
 * queued in the order memory changed, so the table converges to what
 * memory holds.
 *
 * Cost per COMMIT is mostly pages written to the WAL, so the table is
 * clustered by AOR (WITHOUT ROWID, primary key starting with the AOR) and
 * has no other index: rewriting an AOR's rows dirties the one leaf page
 * that holds them. Databases created before keep their rowid table and
 * indexes; the statements work on both. The WAL is checkpointed every
 * 10000 pages rather than SQLite's 1000: a checkpoint copies each page
 * once however often it was rewritten, so a REGISTER load that rewrites
 * the same pages pays far fewer checkpoint writes and fsyncs.
 *
 * Memory: the connection and statements belong to struct sk__locdb; queued
 * changes belong to their waiters.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

struct sk__locdb {
    sqlite3 *db;
    sqlite3_stmt *del_aor, *ins, *purge;
    pthread_mutex_t lock;
    pthread_cond_t done;
    struct sk__locop *head, *tail;
    bool leader;
    struct sk_histo commit_us; /* each group COMMIT, BEGIN to COMMIT (admin metrics) */
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS location ("
                             " aor TEXT NOT NULL,"
                             " contact TEXT NOT NULL,"
                             " expires_at INTEGER NOT NULL,"
                             " q INTEGER NOT NULL,"
                             " call_id TEXT NOT NULL,"
                             " cseq INTEGER NOT NULL,"
                             " path TEXT NOT NULL,"
                             " transport INTEGER NOT NULL,"
                             " src_ip TEXT NOT NULL,"
                             " src_port INTEGER NOT NULL,"
                             " conn_id INTEGER NOT NULL,"
                             " instance TEXT NOT NULL,"
                             " reg_id INTEGER NOT NULL,"
                             " user_agent TEXT NOT NULL,"
                             " updated_at INTEGER NOT NULL,"
                             /* RFC 5626: one Contact may be bound once per (instance, reg-id). */
                             " PRIMARY KEY (aor, contact, instance, reg_id)) WITHOUT ROWID;";

static const char cols[] = "aor, contact, expires_at, q, call_id, cseq, path, transport, src_ip,"
                           " src_port, conn_id, instance, reg_id, user_agent, updated_at";

static int exec(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        SK_LOG(SK_LOG_ERROR, "store", "op=location_exec err=\"%s\"", sqlite3_errmsg(db));
        return sk__store_err(rc) != 0 ? sk__store_err(rc) : SK_EIO;
    }
    return 0;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        SK_LOG(SK_LOG_ERROR, "store", "op=location_prepare err=\"%s\"", sqlite3_errmsg(db));
        return SK_EIO;
    }
    return 0;
}

int sk__locdb_open(struct sk__locdb **out, const char *dir, unsigned busy_ms, bool read_only)
{
    struct sk__locdb *d;
    char path[4096], sql[512];
    int rc;

    if (snprintf(path, sizeof(path), "%s/sipkit.db", dir) >= (int)sizeof(path))
        return SK_EINVAL;
    d = sk_calloc(1, sizeof(*d));
    if (d == NULL)
        return SK_ENOMEM;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->done, NULL);
    rc = sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = sk__store_err(rc) != 0 ? sk__store_err(rc) : SK_EIO;
        goto fail;
    }
    sqlite3_busy_timeout(d->db, (int)busy_ms);
    /* synchronous is per connection: NORMAL in WAL mode (see above). */
    rc = exec(d->db, "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=10000;");
    if (rc == 0 && !read_only)
        rc = exec(d->db, schema);
    if (rc != 0)
        goto fail;
    if (!read_only) {
        snprintf(
            sql, sizeof(sql),
            "INSERT OR REPLACE INTO location (%s) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
            " ?11, ?12, ?13, ?14, ?15)",
            cols);
        if ((rc = prepare(d->db, sql, &d->ins)) != 0 ||
            (rc = prepare(d->db, "DELETE FROM location WHERE aor = ?1", &d->del_aor)) != 0 ||
            (rc = prepare(d->db, "DELETE FROM location WHERE aor = ?1 AND expires_at <= ?2",
                          &d->purge)) != 0)
            goto fail;
    }
    *out = d;
    return 0;
fail:
    sk__locdb_close(d);
    return rc;
}

void sk__locdb_close(struct sk__locdb *d)
{
    if (d == NULL)
        return;
    sqlite3_finalize(d->del_aor);
    sqlite3_finalize(d->ins);
    sqlite3_finalize(d->purge);
    sqlite3_close(d->db);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->done);
    sk_free(d);
}

static const char *text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t != NULL ? (const char *)t : "";
}

int sk__locdb_load(struct sk__locdb *d, sk__locdb_row_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    char sql[512];
    int rc;

    snprintf(sql, sizeof(sql), "SELECT %s FROM location ORDER BY aor", cols);
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK) {
        /* A database no server has written bindings to has no table yet. */
        return 0;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sk__lrow r;
        int64_t tp = sqlite3_column_int64(st, 7);
        memset(&r, 0, sizeof(r));
        r.contact = text(st, 1);
        r.expires_at = sqlite3_column_int64(st, 2);
        r.q = sqlite3_column_int(st, 3);
        r.call_id = text(st, 4);
        r.cseq = (uint32_t)sqlite3_column_int64(st, 5);
        r.path = text(st, 6);
        r.tp = tp == SK_TP_TCP   ? SK_TP_TCP
               : tp == SK_TP_TLS ? SK_TP_TLS
               : tp == SK_TP_WS  ? SK_TP_WS
                                 : SK_TP_UDP;
        r.src_ip = text(st, 8);
        r.src_port = (uint16_t)sqlite3_column_int(st, 9);
        r.conn_id = (uint64_t)sqlite3_column_int64(st, 10);
        r.instance = text(st, 11);
        r.reg_id = (uint32_t)sqlite3_column_int64(st, 12);
        r.ua = text(st, 13);
        r.updated_at = sqlite3_column_int64(st, 14);
        if ((rc = cb(arg, text(st, 0), &r)) != 0)
            break;
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = SK_EIO; /* SQLite's code; a callback's own code is negative */
    sqlite3_finalize(st);
    return rc;
}

static int step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : SK_EIO;
}

static int write_op(struct sk__locdb *d, const struct sk__locop *op)
{
    if (op->purge) {
        for (const struct sk__lkey *k = op->purged; k != NULL; k = k->next) {
            sqlite3_bind_text(d->purge, 1, k->key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(d->purge, 2, op->before);
            if (step_reset(d->purge) != 0)
                return SK_EIO;
        }
        return 0;
    }
    sqlite3_bind_text(d->del_aor, 1, op->aor, -1, SQLITE_STATIC);
    if (step_reset(d->del_aor) != 0)
        return SK_EIO;
    for (const struct sk__lbind *b = op->rows; b != NULL; b = b->next) {
        const struct sk__lrow *r = &b->r;
        sqlite3_stmt *st = d->ins;
        sqlite3_bind_text(st, 1, op->aor, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->contact, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, r->expires_at);
        sqlite3_bind_int(st, 4, r->q);
        sqlite3_bind_text(st, 5, r->call_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, r->cseq);
        sqlite3_bind_text(st, 7, r->path, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 8, (int)r->tp);
        sqlite3_bind_text(st, 9, r->src_ip, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 10, r->src_port);
        sqlite3_bind_int64(st, 11, (int64_t)r->conn_id);
        sqlite3_bind_text(st, 12, r->instance, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 13, r->reg_id);
        sqlite3_bind_text(st, 14, r->ua, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 15, r->updated_at);
        if (step_reset(st) != 0)
            return SK_EIO;
    }
    return 0;
}

/* The leader's work: one transaction for the whole batch. */
static int commit_batch(struct sk__locdb *d, struct sk__locop *batch)
{
    uint64_t t0 = sk_now_us();
    int rc = exec(d->db, "BEGIN IMMEDIATE");

    for (struct sk__locop *op = batch; rc == 0 && op != NULL; op = op->next)
        rc = write_op(d, op);
    if (rc == 0)
        rc = exec(d->db, "COMMIT");
    if (rc != 0) {
        SK_LOG(SK_LOG_ERROR, "store", "op=location_commit err=\"%s\"", sqlite3_errmsg(d->db));
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
        rc = SK_EIO;
    }
    sk_histo_observe(&d->commit_us, sk_now_us() - t0);
    return rc;
}

const struct sk_histo *sk__locdb_commit_times(const struct sk__locdb *d)
{
    return &d->commit_us;
}

void sk__locdb_enqueue(struct sk__locdb *d, struct sk__locop *op)
{
    op->next = NULL;
    op->done = false;
    op->result = 0;
    pthread_mutex_lock(&d->lock);
    if (d->tail != NULL)
        d->tail->next = op;
    else
        d->head = op;
    d->tail = op;
    pthread_mutex_unlock(&d->lock);
}

int sk__locdb_wait(struct sk__locdb *d, struct sk__locop *op)
{
    pthread_mutex_lock(&d->lock);
    while (!op->done) {
        if (d->leader) {
            pthread_cond_wait(&d->done, &d->lock);
            continue;
        }
        /* Lead: take everything queued so far (our op included). */
        struct sk__locop *batch = d->head;
        d->head = d->tail = NULL;
        d->leader = true;
        pthread_mutex_unlock(&d->lock);
        int rc = d->ins != NULL ? commit_batch(d, batch) : SK_EINVAL;
        pthread_mutex_lock(&d->lock);
        for (struct sk__locop *o = batch; o != NULL;) {
            struct sk__locop *next = o->next; /* o may be freed once done */
            o->result = rc;
            o->done = true;
            o = next;
        }
        d->leader = false;
        pthread_cond_broadcast(&d->done);
    }
    pthread_mutex_unlock(&d->lock);
    return op->result;
}
