/*
 * Location bindings on disk: the `location` table of the store's SQLite
 * database. Writes go through the store's one writer thread (writer.c),
 * which batches them with every other server write into one COMMIT
 * (group commit) and completes each change after its COMMIT: RFC 3261
 * §10.3 step 8 asks that the bindings be committed before the 200 OK, and
 * the registrar sends it from the completion.
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
 * indexes; the statements work on both. The writer checkpoints the WAL
 * every 10000 pages rather than SQLite's 1000: a checkpoint copies each
 * page once however often it was rewritten, so a REGISTER load that
 * rewrites the same pages pays far fewer checkpoint writes and fsyncs.
 *
 * Loading reads through the store's own connection under its lock.
 * sk_location_update(), the waiting form of sk_location_update_async()
 * (for tools and tests), is here too.
 *
 * Memory: queued changes belong to their owners (location.c); statements
 * to the writer.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

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

static const char ins_sql[] =
    "INSERT OR REPLACE INTO location (aor, contact, expires_at, q, call_id, cseq, path, transport,"
    " src_ip, src_port, conn_id, instance, reg_id, user_agent, updated_at) VALUES (?1, ?2, ?3, ?4,"
    " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
static const char del_sql[] = "DELETE FROM location WHERE aor = ?1";
static const char purge_sql[] = "DELETE FROM location WHERE aor = ?1 AND expires_at <= ?2";

int sk__locdb_init(struct sk_store *s, bool read_only)
{
    int rc = 0;

    if (read_only)
        return 0;
    pthread_mutex_lock(&s->lock);
    rc = sk__store_exec(s, schema);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static const char *text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t != NULL ? (const char *)t : "";
}

int sk__locdb_load(struct sk_store *s, sk__locdb_row_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    char sql[512];
    int rc;

    snprintf(sql, sizeof(sql), "SELECT %s FROM location ORDER BY aor", cols);
    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        /* A database no server has written bindings to has no table yet. */
        pthread_mutex_unlock(&s->lock);
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
               : tp == SK_TP_WSS ? SK_TP_WSS
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
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sk__locdb_write(struct sk__writer *w, struct sk__wop *wop)
{
    const struct sk__locop *op = (const struct sk__locop *)wop;
    sqlite3_stmt *del = sk__writer_stmt(w, op->purge ? purge_sql : del_sql);
    sqlite3_stmt *st = op->purge ? NULL : sk__writer_stmt(w, ins_sql);
    int rc;

    if (del == NULL || (!op->purge && st == NULL))
        return SK_EIO;
    if (op->purge) {
        for (const struct sk__lkey *k = op->purged; k != NULL; k = k->next) {
            sqlite3_bind_text(del, 1, k->key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(del, 2, op->before);
            if ((rc = sk__writer_step(w, del)) != 0)
                return rc;
        }
        return 0;
    }
    sqlite3_bind_text(del, 1, op->aor, -1, SQLITE_STATIC);
    if ((rc = sk__writer_step(w, del)) != 0)
        return rc;
    for (const struct sk__lbind *b = op->rows; b != NULL; b = b->next) {
        struct sk__lrow rv;
        const struct sk__lrow *r = &rv;
        sk__lbind_row(b, &rv);
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
        if ((rc = sk__writer_step(w, st)) != 0)
            return rc;
    }
    return 0;
}

/* sk_location_update(): the asynchronous update, waited for. */
struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int result;
    size_t n;
};

static void wake(void *arg, int result, size_t n)
{
    struct waiter *wt = arg;

    pthread_mutex_lock(&wt->lock);
    wt->result = result;
    wt->n = n;
    wt->done = true;
    pthread_cond_signal(&wt->cond);
    pthread_mutex_unlock(&wt->lock);
}

int sk_location_update(struct sk_location *loc, const struct sk_location_update *u,
                       struct sk_binding *out, size_t max, size_t *n)
{
    struct waiter wt = {.done = false};
    int rc;

    if (n != NULL)
        *n = 0;
    pthread_mutex_init(&wt.lock, NULL);
    pthread_cond_init(&wt.cond, NULL);
    rc = sk_location_update_async(loc, u, n != NULL ? out : NULL, n != NULL ? max : 0, wake, &wt);
    if (rc == 0) {
        pthread_mutex_lock(&wt.lock);
        while (!wt.done)
            pthread_cond_wait(&wt.cond, &wt.lock);
        pthread_mutex_unlock(&wt.lock);
        rc = wt.result;
        if (rc == 0 && n != NULL)
            *n = wt.n;
    }
    pthread_mutex_destroy(&wt.lock);
    pthread_cond_destroy(&wt.cond);
    return rc;
}
