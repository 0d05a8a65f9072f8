/*
 * Users in SQLite: the `users` table, its userhash indexes and the
 * triggers that move store_version (db.c) on every change, from any
 * process. users.c keeps the cache and calls these through
 * struct sk__store_ops.
 *
 * Memory: the prepared lookup statements (struct sk__sq_users) belong to
 * the store and are finalised by sk__sq_users_free(); rows are copied out.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

struct sk__sq_users {
    sqlite3_stmt *count_custom;
    sqlite3_stmt *by_name;
    sqlite3_stmt *by_uh[SK_HASH__COUNT];
};

static const char *const uh_cols[SK_HASH__COUNT] = {"uh_md5", "uh_sha256", "uh_sha512_256"};

static const char schema[] = "CREATE TABLE IF NOT EXISTS users ("
                             " domain TEXT NOT NULL,"
                             " username TEXT NOT NULL,"
                             " ha1_md5 TEXT NOT NULL,"
                             " ha1_sha256 TEXT NOT NULL,"
                             " ha1_sha512_256 TEXT NOT NULL,"
                             " uh_md5 TEXT NOT NULL,"
                             " uh_sha256 TEXT NOT NULL,"
                             " uh_sha512_256 TEXT NOT NULL,"
                             " created INTEGER NOT NULL,"
                             " updated INTEGER NOT NULL,"
                             " algorithms TEXT NOT NULL DEFAULT '',"
                             " PRIMARY KEY (domain, username));"
                             "CREATE INDEX IF NOT EXISTS users_uh_md5 ON users (uh_md5);"
                             "CREATE INDEX IF NOT EXISTS users_uh_sha256 ON users (uh_sha256);"
                             "CREATE INDEX IF NOT EXISTS users_uh_sha512_256 ON users "
                             "(uh_sha512_256);"
                             /* db.c: every change, from any process, moves
                              * store_version, which empties the caches. */
                             "CREATE TRIGGER IF NOT EXISTS users_ins AFTER INSERT ON users"
                             " BEGIN UPDATE store_version SET v = v + 1; END;"
                             "CREATE TRIGGER IF NOT EXISTS users_upd AFTER UPDATE ON users"
                             " BEGIN UPDATE store_version SET v = v + 1; END;"
                             "CREATE TRIGGER IF NOT EXISTS users_del AFTER DELETE ON users"
                             " BEGIN UPDATE store_version SET v = v + 1; END;";

/* Databases made before per-user algorithms lack the column. */
static int add_algorithms_column(struct sk_store *s)
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT 1 FROM pragma_table_info('users')"
                                " WHERE name = 'algorithms'",
                                -1, &st, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        found = rc == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sk__store_err(rc);
    if (found)
        return 0;
    return sk__store_exec(s, "ALTER TABLE users ADD COLUMN algorithms TEXT NOT NULL DEFAULT ''");
}

int sk__sq_users_init(struct sk_store *s)
{
    struct sk__sq_users *c;
    char sql[256];
    int rc = sk__store_exec(s, schema);

    if (rc == 0)
        rc = add_algorithms_column(s);
    if (rc != 0)
        return rc;
    c = sk_calloc(1, sizeof(*c));
    if (c == NULL)
        return SK_ENOMEM;
    s->sq_users = c;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT ha1_md5, ha1_sha256, ha1_sha512_256, username, algorithms"
                           " FROM users WHERE domain = ?1 AND username = ?2",
                           -1, &c->by_name, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "SELECT count(*) FROM users WHERE algorithms != ''", -1,
                           &c->count_custom, NULL) != SQLITE_OK)
        return SK_EIO;
    for (int h = 0; h < SK_HASH__COUNT; h++) {
        snprintf(sql, sizeof(sql),
                 "SELECT ha1_md5, ha1_sha256, ha1_sha512_256, username, algorithms"
                 " FROM users WHERE domain = ?1 AND %s = ?2",
                 uh_cols[h]);
        if (sqlite3_prepare_v2(s->db, sql, -1, &c->by_uh[h], NULL) != SQLITE_OK)
            return SK_EIO;
    }
    return 0;
}

void sk__sq_users_free(struct sk_store *s)
{
    struct sk__sq_users *c = s->sq_users;

    if (c == NULL)
        return;
    sqlite3_finalize(c->by_name);
    sqlite3_finalize(c->count_custom);
    for (int h = 0; h < SK_HASH__COUNT; h++)
        sqlite3_finalize(c->by_uh[h]);
    sk_free(c);
    s->sq_users = NULL;
}

int sk__sq_user_count_custom(struct sk_store *s, int64_t *n)
{
    sqlite3_stmt *st = s->sq_users->count_custom;
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : SK_EIO;
}

static void copy_col(sqlite3_stmt *st, int col, char *dst, size_t dstsz)
{
    const char *v = (const char *)sqlite3_column_text(st, col);

    snprintf(dst, dstsz, "%s", v != NULL ? v : "");
}

int sk__sq_user_get(struct sk_store *s, int uh, struct sk_slice domain, struct sk_slice name,
                    struct sk__user_row *out)
{
    struct sk__sq_users *c = s->sq_users;
    sqlite3_stmt *st = uh < 0 ? c->by_name : c->by_uh[uh];
    int rc;

    sqlite3_bind_text(st, 1, domain.p, (int)domain.len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name.p, (int)name.len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        for (int h = 0; h < SK_HASH__COUNT; h++)
            copy_col(st, h, out->ha1[h], sizeof(out->ha1[h]));
        copy_col(st, 3, out->user, sizeof(out->user));
        copy_col(st, 4, out->algos, sizeof(out->algos));
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SK_ENOTFOUND : sk__store_err(rc);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static const char *const write_sql[] = {
    [SK__USER_ADD] = "INSERT INTO users (domain, username, ha1_md5, ha1_sha256,"
                     " ha1_sha512_256, uh_md5, uh_sha256, uh_sha512_256, created, updated)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    [SK__USER_PASSWD] = "UPDATE users SET ha1_md5 = ?3, ha1_sha256 = ?4, ha1_sha512_256 = ?5,"
                        " uh_md5 = ?6, uh_sha256 = ?7, uh_sha512_256 = ?8, updated = ?9"
                        " WHERE domain = ?1 AND username = ?2",
    [SK__USER_DEL] = "DELETE FROM users WHERE domain = ?1 AND username = ?2",
};

/* Run one write statement with the domain, the user and (optionally) the
 * secrets bound; returns 0 with *changes set, or an error. */
int sk__sq_user_write(struct sk_store *s, enum sk__user_write op, const char *domain,
                      const char *user, const struct sk__secrets *sec, int *changes)
{
    sqlite3_stmt *st = NULL;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = sqlite3_prepare_v2(s->db, write_sql[op], -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
        for (int h = 0; sec != NULL && h < SK_HASH__COUNT; h++) {
            sqlite3_bind_text(st, 3 + h, sec->ha1[h], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 6 + h, sec->uh[h], -1, SQLITE_STATIC);
        }
        sqlite3_bind_int64(st, 9, sk_wall_s());
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_DONE) {
        *changes = sqlite3_changes(s->db);
        rc = 0;
    } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        rc = SK_EEXIST;
    } else {
        SK_LOG(SK_LOG_ERROR, "store", "op=write_user err=\"%s\"", sqlite3_errmsg(s->db));
        rc = sk__store_err(rc);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sk__sq_user_set_algos(struct sk_store *s, const char *domain, const char *user,
                          const char *algos, int *changes)
{
    sqlite3_stmt *st = NULL;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = sqlite3_prepare_v2(s->db,
                            "UPDATE users SET algorithms = ?3, updated = ?4"
                            " WHERE domain = ?1 AND username = ?2",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, algos, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, sk_wall_s());
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_DONE) {
        *changes = sqlite3_changes(s->db);
        rc = 0;
    } else {
        SK_LOG(SK_LOG_ERROR, "store", "op=set_algorithms err=\"%s\"", sqlite3_errmsg(s->db));
        rc = sk__store_err(rc);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sk__sq_user_list(struct sk_store *s, const char *domain, sk_store_user_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    int rc, stop = 0;

    pthread_mutex_lock(&s->lock);
    rc = sqlite3_prepare_v2(s->db,
                            "SELECT domain, username FROM users WHERE ?1 IS NULL OR domain = ?1"
                            " ORDER BY domain, username",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        if (domain != NULL)
            sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
        while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
            stop = cb(arg, (const char *)sqlite3_column_text(st, 0),
                      (const char *)sqlite3_column_text(st, 1));
    }
    rc = stop != 0 ? stop : sk__store_err(rc);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}
