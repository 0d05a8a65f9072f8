/*
 * Internals shared by the store's files: the handle, the SQLite helpers
 * and the cache generation every module's cache follows.
 */
#ifndef SK_STORE_INT_H
#define SK_STORE_INT_H

#include <sipkit/store.h>

#include <pthread.h>
#include <sqlite3.h>

struct sk__user_cache;
struct sk__subs_db;

struct sk_store {
    char *dir;
    sqlite3 *db;
    pthread_mutex_t lock; /* the connection and every cache */
    struct sk_store_options opt;
    sqlite3_stmt *data_version;
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
/* Under the lock: look at PRAGMA data_version when refresh_ms allows (or
 * always when force) and bump the generation if another connection
 * committed. */
void sk__store_check_changes(struct sk_store *s, bool force);

/* users.c */
int sk__users_init(struct sk_store *s);
void sk__users_free(struct sk_store *s);

/* subscriptions.c */
int sk__subs_init(struct sk_store *s);
void sk__subs_free(struct sk_store *s);

#endif
