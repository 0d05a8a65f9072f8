/*
 * Address bans of the server's guard (src/server/guard.h), kept in the
 * store so that `sipkit bans list|del` (another process) sees and lifts
 * them and a restart keeps them. The server writes a row when it bans and
 * reads the table back every few seconds: a row deleted here is a ban
 * lifted there. Rows are few (one per banned address) and touched rarely,
 * so each call prepares its statement. The public functions at the end
 * dispatch to the backend (struct sk__store_ops); the SQLite ones are
 * above them.
 *
 * Memory: rows handed to the list callback live on the stack for the
 * call; nothing is kept.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

static const char schema[] = "CREATE TABLE IF NOT EXISTS bans ("
                             " addr TEXT PRIMARY KEY,"
                             " until INTEGER NOT NULL,"
                             " level INTEGER NOT NULL,"
                             " reason TEXT NOT NULL,"
                             " created INTEGER NOT NULL);";

int sk__bans_init(struct sk_store *s)
{
    return sk__store_exec(s, schema);
}

/* Prepare, bind (text addr at 1 when given), step to done. */
static int run(struct sk_store *s, const char *sql, const struct sk_store_ban *b, const char *addr,
               int64_t now, int *changes)
{
    sqlite3_stmt *st = NULL;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        if (b != NULL) {
            sqlite3_bind_text(st, 1, b->addr, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, b->until);
            sqlite3_bind_int64(st, 3, b->level);
            sqlite3_bind_text(st, 4, b->reason, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 5, b->created);
        } else if (addr != NULL) {
            sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_int64(st, 1, now);
        }
        rc = sqlite3_step(st);
    }
    if (changes != NULL)
        *changes = sqlite3_changes(s->db);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    if (rc == SQLITE_DONE)
        return 0;
    rc = sk__store_err(rc);
    return rc != 0 ? rc : SK_EIO;
}

int sk__sq_ban_put(struct sk_store *s, const struct sk_store_ban *b)
{
    return run(s,
               "INSERT OR REPLACE INTO bans (addr, until, level, reason, created)"
               " VALUES (?1, ?2, ?3, ?4, ?5)",
               b, NULL, 0, NULL);
}

int sk__sq_ban_del(struct sk_store *s, const char *addr, int *changes)
{
    if (strcmp(addr, "all") == 0)
        return run(s, "DELETE FROM bans WHERE ?1 = ?1", NULL, addr, 0, changes);
    return run(s, "DELETE FROM bans WHERE addr = ?1", NULL, addr, 0, changes);
}

int sk__sq_ban_purge(struct sk_store *s, int64_t now)
{
    return run(s, "DELETE FROM bans WHERE until <= ?1", NULL, NULL, now, NULL);
}

int sk__sq_ban_list(struct sk_store *s, int64_t now, sk_store_ban_cb cb, void *arg)
{
    struct sk_store_ban b;
    sqlite3_stmt *st = NULL;
    int rc = 0, step = SQLITE_DONE;

    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT addr, until, level, reason, created FROM bans"
                           " WHERE until > ?1 ORDER BY addr",
                           -1, &st, NULL) != SQLITE_OK) {
        pthread_mutex_unlock(&s->lock);
        return SK_EIO;
    }
    sqlite3_bind_int64(st, 1, now);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *r = (const char *)sqlite3_column_text(st, 3);
        memset(&b, 0, sizeof(b));
        snprintf(b.addr, sizeof(b.addr), "%s", a != NULL ? a : "");
        b.until = sqlite3_column_int64(st, 1);
        b.level = (unsigned)sqlite3_column_int64(st, 2);
        snprintf(b.reason, sizeof(b.reason), "%s", r != NULL ? r : "");
        b.created = sqlite3_column_int64(st, 4);
        rc = cb(arg, &b);
        if (rc != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = sk__store_err(step) != 0 ? sk__store_err(step) : SK_EIO;
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- the public functions ------------------------------------------------ */

int sk_store_ban_put(struct sk_store *s, const struct sk_store_ban *b)
{
    return s->ops->ban_put(s, b);
}

int sk_store_ban_del(struct sk_store *s, const char *addr)
{
    int changes = 0, rc;

    if (addr == NULL)
        return SK_EINVAL;
    rc = s->ops->ban_del(s, addr, &changes);
    if (rc == 0 && changes == 0)
        rc = SK_ENOTFOUND;
    return rc;
}

int sk_store_ban_purge(struct sk_store *s, int64_t now)
{
    return s->ops->ban_purge(s, now);
}

int sk_store_ban_list(struct sk_store *s, int64_t now, sk_store_ban_cb cb, void *arg)
{
    return s->ops->ban_list(s, now, cb, arg);
}
