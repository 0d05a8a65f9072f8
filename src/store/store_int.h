/*
 * Internals shared by the store's files: the handle, the SQLite helpers
 * and the cache generation every module's cache follows.
 */
#ifndef SK_STORE_INT_H
#define SK_STORE_INT_H

#include <sipkit/store.h>
#include <sipkit/transport.h>

#include <pthread.h>
#include <sqlite3.h>

struct sk__user_cache;
struct sk__subs_db;

struct sk_store {
    char *dir;
    sqlite3 *db;
    pthread_mutex_t lock; /* the connection and every cache */
    struct sk_store_options opt;
    sqlite3_stmt *version; /* SELECT v FROM store_version (db.c) */
    int64_t last_version;
    uint64_t last_check_ms;
    /* Bumped when the database changed under us (another process) or by
     * us; caches built at an older generation are dropped. */
    uint64_t generation;
    struct sk__user_cache *users;
    struct sk__subs_db *subs; /* subscriptions.c */
};

/* Run SQL without results (schema, pragmas). Caller holds the lock or is
 * the only user. Returns 0 or SK_EIO. */
int sk__store_exec(struct sk_store *s, const char *sql);
/* Map a SQLite result code to a sipkit error. */
int sk__store_err(int sqlite_rc);
/* Under the lock: read store_version when refresh_ms allows (or always
 * when force) and bump the generation if a cached table changed. */
void sk__store_check_changes(struct sk_store *s, bool force);

/* users.c */
int sk__users_init(struct sk_store *s);
void sk__users_free(struct sk_store *s);

/* bans.c */
int sk__bans_init(struct sk_store *s);

/* bans.c */
int sk__bans_init(struct sk_store *s);

/* subscriptions.c */
int sk__subs_init(struct sk_store *s);
void sk__subs_free(struct sk_store *s);

/* ---- location (location.c: memory; location_db.c: SQLite, group commit) -- */

/* A binding's fields; the strings point into the node's own data. */
struct sk__lrow {
    const char *contact, *call_id, *path, *src_ip, *instance, *ua;
    int64_t expires_at, updated_at;
    int q;
    uint32_t cseq, reg_id;
    uint16_t src_port;
    enum sk_transport tp;
    uint64_t conn_id;
};

/* One binding in memory (or a copy owned by a pending write): one heap
 * block holding the strings. */
struct sk__lbind {
    struct sk__lbind *next;
    struct sk__lrow r;
    char data[];
};

struct sk__lbind *sk__lbind_new(const struct sk__lrow *r);
struct sk__lbind *sk__lbind_clone(const struct sk__lbind *b);
void sk__lbind_free_list(struct sk__lbind *b);

/* An AOR key in a list (the AORs a purge changed). */
struct sk__lkey {
    struct sk__lkey *next;
    char key[];
};

/* A durable change waiting for its COMMIT: either "the AOR's bindings are
 * now rows" or "purge the bindings of these AORs expired at `before`".
 * Owned by the caller, which waits for it (sk__locdb_wait) before freeing
 * it. */
struct sk__locop {
    struct sk__locop *next;
    bool purge;
    int64_t before;
    const struct sk__lkey *purged;
    const char *aor;
    struct sk__lbind *rows;
    int result;
    bool done;
};

struct sk__locdb;

int sk__locdb_open(struct sk__locdb **out, const char *dir, unsigned busy_ms, bool read_only);
void sk__locdb_close(struct sk__locdb *db);
/* Every stored row, ordered by AOR; cb returns 0 to go on. */
typedef int (*sk__locdb_row_cb)(void *arg, const char *aor, const struct sk__lrow *r);
int sk__locdb_load(struct sk__locdb *db, sk__locdb_row_cb cb, void *arg);
/* Queue op (callers queue under their shard lock, so the queue order is
 * the order the memory changed in), then wait outside any lock until a
 * COMMIT containing it ended. Returns op->result: 0 or SK_EIO. */
void sk__locdb_enqueue(struct sk__locdb *db, struct sk__locop *op);
int sk__locdb_wait(struct sk__locdb *db, struct sk__locop *op);
/* How long each group COMMIT took (for sk_location_commit_times). */
const struct sk_histo *sk__locdb_commit_times(const struct sk__locdb *db);

#endif
