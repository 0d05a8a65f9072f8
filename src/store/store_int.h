/*
 * Internals shared by the store's files: the handle, the backend
 * operations table (SQLite: db.c and the files it names; PostgreSQL:
 * pg.c, pg_ops.c), the SQLite helpers and the cache generation every
 * module's cache follows.
 */
#ifndef SK_STORE_INT_H
#define SK_STORE_INT_H

#include <sipkit/store.h>
#include <sipkit/transport.h>

#include <pthread.h>
#include <sqlite3.h>

struct sk__user_cache;
struct sk__subs_db;
struct sk__sq_users;
struct sk__pg;
struct sk__store_ops;

struct sk_store {
    const struct sk__store_ops *ops; /* the backend */
    char *dir;                       /* SQLite: the data directory; NULL otherwise */
    sqlite3 *db;                     /* SQLite: the store's own connection */
    struct sk__pg *pg;               /* PostgreSQL: connection, settings (pg.c) */
    struct sk__sq_users *sq_users;   /* SQLite: statements of sqlite_users.c */
    pthread_mutex_t lock;            /* the connection and every cache */
    struct sk_store_options opt;
    sqlite3_stmt *version; /* SELECT v FROM store_version (db.c) */
    int64_t last_version;
    uint64_t last_check_ms;
    /* Bumped when the database changed under us (another process) or by
     * us; caches built at an older generation are dropped. */
    uint64_t generation;
    struct sk__user_cache *users;
    struct sk__subs_db *subs;  /* subscriptions.c */
    struct sk__writer *writer; /* writer.c: every server write */
};

/* Run SQL without results (schema, pragmas). Caller holds the lock or is
 * the only user. Returns 0 or SK_EIO. */
int sk__store_exec(struct sk_store *s, const char *sql);
/* Map a SQLite result code to a sipkit error. */
int sk__store_err(int sqlite_rc);
/* Under the lock: read store_version when refresh_ms allows (or always
 * when force) and bump the generation if a cached table changed. */
void sk__store_check_changes(struct sk_store *s, bool force);

/* users.c: the cache (any backend) */
int sk__users_init(struct sk_store *s);
void sk__users_free(struct sk_store *s);

/* sqlite_users.c */
int sk__sq_users_init(struct sk_store *s);
void sk__sq_users_free(struct sk_store *s);

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

/* The strings of a binding, in the order they are packed. */
enum sk__lstr {
    SK__LS_CONTACT,
    SK__LS_CALL_ID,
    SK__LS_PATH,
    SK__LS_SRC_IP,
    SK__LS_INSTANCE,
    SK__LS_UA,
    SK__LS_COUNT
};

/* One binding in memory (or a copy owned by a pending write): one heap
 * block, the numbers then five strings packed NUL-terminated, with
 * lengths instead of pointers (a server may hold a binding per phone:
 * about 55 bytes plus the strings, see test_location.c). The User-Agent,
 * the same for thousands of phones of one model, is interned (lbind.c):
 * one shared, reference-counted copy. Times are seconds since the epoch,
 * unsigned 32-bit (until 2106). */
struct sk__lbind {
    struct sk__lbind *next;
    uint32_t expires_at, updated_at;
    uint64_t conn_id;
    struct sk__ua *ua; /* NULL when the REGISTER had no User-Agent */
    uint32_t cseq, reg_id;
    int16_t q;
    uint16_t src_port;
    uint8_t tp; /* enum sk_transport */
    uint16_t len[SK__LS_UA];
    char data[];
};

struct sk__ua;
struct sk__lbind *sk__lbind_new(const struct sk__lrow *r);
struct sk__lbind *sk__lbind_clone(const struct sk__lbind *b);
void sk__lbind_free(struct sk__lbind *b);
void sk__lbind_free_list(struct sk__lbind *b);
/* String i of b (NUL-terminated, inside b; the User-Agent is shared). */
const char *sk__lbind_str(const struct sk__lbind *b, enum sk__lstr i);
/* A row view of b; its strings point into b. */
void sk__lbind_row(const struct sk__lbind *b, struct sk__lrow *r);

/* An AOR key in a list (the AORs a purge changed). */
struct sk__lkey {
    struct sk__lkey *next;
    char key[];
};

/* ---- connections' AORs (location_conn.c) ------------------------------- */

struct sk__lconn;
int sk__lconn_new(struct sk__lconn **out);
void sk__lconn_free(struct sk__lconn *c); /* NULL-safe */
/* aor was registered over stream connection conn_id. 0, SK_EINVAL, SK_ENOMEM. */
int sk__lconn_add(struct sk__lconn *c, uint64_t conn_id, struct sk_slice aor);
/* The index of loc (location.c). */
struct sk__lconn *sk__location_conns(struct sk_location *loc);

/* ---- the writer (writer.c): one thread owns every server write ---------- */

struct sk__writer;
struct sk__wop;

/* Runs on the writer thread inside the batch's transaction: write op's
 * rows with statements from sk__writer_stmt(). Returns 0 or an error that
 * fails the whole batch; a result that is no failure (SK_ENOTFOUND) goes
 * into op->result instead. */
typedef int (*sk__wop_write_cb)(struct sk__writer *w, struct sk__wop *op);
/* Runs on the writer's completer thread once the batch's COMMIT ended
 * (result 0) or failed, in queue order (after the op's quick callback, if
 * any); may free op, take locks, queue more work and wait for it. */
typedef void (*sk__wop_done_cb)(struct sk__wop *op, int result);
/* Optional, runs before done: on the writer thread itself, right after the
 * batch's COMMIT ended or failed, in completion order. It must not wait for
 * a write nor take a lock that anyone holds while waiting for one (sending
 * a response is fine). Returns true when done must still run (on the
 * completer), false when op is finished (it may have been freed). Saves
 * the completer's wake-up for the common case. */
typedef bool (*sk__wop_quick_cb)(struct sk__wop *op, int result);

/* One queued write; embed it in the caller's own struct. */
struct sk__wop {
    struct sk__wop *next;
    sk__wop_write_cb write;
    sk__wop_quick_cb quick; /* optional */
    sk__wop_done_cb done;   /* set by the caller for sk__writer_enqueue() */
    int result;
    bool finished;
};

/* path: the database file; power: synchronous=FULL instead of NORMAL. */
int sk__writer_open(struct sk__writer **out, const char *path, unsigned busy_ms, bool power);
/* Completes everything queued, then stops the thread and closes. */
void sk__writer_close(struct sk__writer *w);
/* Queue op (op->write and op->done set): quick (optional) is called later
 * from the writer thread, done from the completer thread. Returns 0 or
 * SK_ENOMEM (no thread: neither is called). */
int sk__writer_enqueue(struct sk__writer *w, struct sk__wop *op);
/* Queue op and wait for its COMMIT (never from an event loop). Returns
 * op->result or the batch's error. */
int sk__writer_run(struct sk__writer *w, struct sk__wop *op);
/* Wait until every op queued before this call completed and its done
 * callback returned (returns at once when called from a callback). */
void sk__writer_flush(struct sk__writer *w);
/* How long each group COMMIT took, BEGIN to COMMIT (admin metrics). */
const struct sk_histo *sk__writer_commit_times(const struct sk__writer *w);
/* Writer thread only: the statement for sql (a string with static
 * storage: it is the cache key), prepared once. NULL on failure. */
sqlite3_stmt *sk__writer_stmt(struct sk__writer *w, const char *sql);
/* Writer thread only: step a statement returning no rows, then reset it. */
int sk__writer_step(struct sk__writer *w, sqlite3_stmt *st);
sqlite3 *sk__writer_db(struct sk__writer *w);
/* Test hook: the next n COMMITs fail as if SQLite returned sqlite_rc
 * (SQLITE_FULL, SQLITE_IOERR...). */
void sk__writer_fail_commits(struct sk__writer *w, int sqlite_rc, unsigned n);

/* ---- location on disk (location_db.c) ------------------------------------- */

/* A durable change: either "the AOR's bindings are now rows" or "purge
 * the bindings of these AORs expired at `before`". */
struct sk__locop {
    struct sk__wop w; /* queued to the store's writer */
    bool purge;
    int64_t before;
    const struct sk__lkey *purged;
    const char *aor;
    struct sk__lbind *rows;
};

/* Create the table (unless read_only) through the store's connection. */
int sk__locdb_init(struct sk_store *s, bool read_only);
/* Every stored row, ordered by AOR; cb returns 0 to go on. */
typedef int (*sk__locdb_row_cb)(void *arg, const char *aor, const struct sk__lrow *r);
int sk__locdb_load(struct sk_store *s, sk__locdb_row_cb cb, void *arg);
/* The write callback of a struct sk__locop. */
int sk__locdb_write(struct sk__writer *w, struct sk__wop *op);

/* ---- subscriptions and publications (subscriptions.c) ------------------- */

enum sk__subop_kind { SK__SUB_PUT, SK__SUB_SEQ, SK__SUB_DEL, SK__PUB_PUT, SK__PUB_DEL };

/* One write handed to the writer thread; the caller waits for it. */
struct sk__subop {
    struct sk__wop w;
    int which; /* enum sk__subop_kind */
    const struct sk_subscription *sub;
    const struct sk_publication *pub;
    const char *key; /* SEQ, DEL: the key; PUB_PUT: the etag replaced, may be NULL */
    uint32_t local_cseq, version;
};

/* ---- backends ------------------------------------------------------------
 *
 * Everything that touches a database goes through struct sk__store_ops:
 * the files above keep the cache, the memory and the group commit; the
 * backend runs the statements. Functions marked "under the lock" are
 * called with s->lock held; the others take it themselves. Results that
 * are no failure (no such row) are SK_ENOTFOUND; an unreachable database
 * is SK_EUNAVAIL (the server answers 503 and keeps serving reads from
 * memory). */

/* The six hex values stored for a user (users.c derives them). */
struct sk__secrets {
    char ha1[SK_HASH__COUNT][SK_AUTH_HEX_MAX + 1];
    char uh[SK_HASH__COUNT][SK_AUTH_HEX_MAX + 1];
};

/* A user as stored. */
struct sk__user_row {
    char ha1[SK_HASH__COUNT][SK_AUTH_HEX_MAX + 1];
    char user[SK_STORE_USER_MAX + 1];
    char algos[128]; /* empty: the server's list */
};

enum sk__user_write { SK__USER_ADD, SK__USER_PASSWD, SK__USER_DEL };

typedef void (*sk__feed_cb)(void *arg, const char *aor, struct sk__lbind *rows);

struct sk__store_ops {
    const char *name; /* "sqlite", "postgresql" */
    void (*close)(struct sk_store *s);
    /* Under the lock: the change counter (moves when users change). */
    int (*version)(struct sk_store *s, int64_t *v);
    /* Under the lock: one user by name (uh < 0) or by its userhash of
     * hash uh. Returns 0, SK_ENOTFOUND or an error. */
    int (*user_get)(struct sk_store *s, int uh, struct sk_slice domain, struct sk_slice name,
                    struct sk__user_row *out);
    /* Under the lock: how many users have an algorithm list of their own. */
    int (*user_count_custom)(struct sk_store *s, int64_t *n);
    /* sec is NULL for DEL; *changes gets the rows changed. ADD of an
     * existing user is SK_EEXIST. */
    int (*user_write)(struct sk_store *s, enum sk__user_write op, const char *domain,
                      const char *user, const struct sk__secrets *sec, int *changes);
    int (*user_set_algos)(struct sk_store *s, const char *domain, const char *user,
                          const char *algos, int *changes);
    int (*user_list)(struct sk_store *s, const char *domain, sk_store_user_cb cb, void *arg);
    int (*ban_put)(struct sk_store *s, const struct sk_store_ban *b);
    /* addr "all": every ban. */
    int (*ban_del)(struct sk_store *s, const char *addr, int *changes);
    int (*ban_purge)(struct sk_store *s, int64_t now);
    int (*ban_list)(struct sk_store *s, int64_t now, sk_store_ban_cb cb, void *arg);
    int (*sub_foreach)(struct sk_store *s, sk_store_sub_cb cb, void *arg);
    int (*pub_foreach)(struct sk_store *s, sk_store_pub_cb cb, void *arg);
    int (*loc_init)(struct sk_store *s, bool read_only);
    int (*loc_load)(struct sk_store *s, sk__locdb_row_cb cb, void *arg);
    /* The nonce secret shared by every process on this store (len bytes,
     * made on first use). SK_ENOTFOUND: the backend keeps none (SQLite:
     * the auth layer's file in the data directory). */
    int (*secret)(struct sk_store *s, unsigned char *out, size_t len);
    /* The change feed: after this call, feed(arg, aor, rows) runs on a
     * thread of the backend whenever another process committed a change
     * to aor's bindings (rows: the AOR's bindings now, a list the callee
     * takes over). feed NULL: stop (waits for a running call). NULL: the
     * backend has no feed (SQLite: one server per database). */
    int (*feed_set)(struct sk_store *s, sk__feed_cb feed, void *arg);
    /* The same for publications (sk_store_pub_feed); NULL: none. */
    int (*pub_feed_set)(struct sk_store *s, sk_store_pub_feed_cb cb, void *arg);
    /* Record a (nonce, nc) use; SK_EEXIST when it was recorded before.
     * NULL: the backend is not shared (SQLite). */
    int (*nonce_use)(struct sk_store *s, struct sk_slice nonce, uint32_t nc, int64_t expires_s);
    /* Writer thread, inside the batch's transaction. */
    sk__wop_write_cb loc_write; /* a struct sk__locop */
    sk__wop_write_cb sub_write; /* a struct sk__subop */
};

extern const struct sk__store_ops sk__sqlite_ops;

/* SQLite implementations (sqlite_users.c, bans.c, subscriptions.c). */
int sk__sq_version(struct sk_store *s, int64_t *v);
int sk__sq_user_get(struct sk_store *s, int uh, struct sk_slice domain, struct sk_slice name,
                    struct sk__user_row *out);
int sk__sq_user_count_custom(struct sk_store *s, int64_t *n);
int sk__sq_user_write(struct sk_store *s, enum sk__user_write op, const char *domain,
                      const char *user, const struct sk__secrets *sec, int *changes);
int sk__sq_user_set_algos(struct sk_store *s, const char *domain, const char *user,
                          const char *algos, int *changes);
int sk__sq_user_list(struct sk_store *s, const char *domain, sk_store_user_cb cb, void *arg);
int sk__sq_ban_put(struct sk_store *s, const struct sk_store_ban *b);
int sk__sq_ban_del(struct sk_store *s, const char *addr, int *changes);
int sk__sq_ban_purge(struct sk_store *s, int64_t now);
int sk__sq_ban_list(struct sk_store *s, int64_t now, sk_store_ban_cb cb, void *arg);
int sk__sq_sub_foreach(struct sk_store *s, sk_store_sub_cb cb, void *arg);
int sk__sq_pub_foreach(struct sk_store *s, sk_store_pub_cb cb, void *arg);
int sk__sq_sub_write(struct sk__writer *w, struct sk__wop *op);

/* location.c: another process changed aor's bindings, which are now
 * rows (taken over; NULL: none). Memory only: it is in the database. */
void sk__location_replace(void *loc, const char *aor, struct sk__lbind *rows);

/* PostgreSQL (pg.c): open s->pg from a postgresql:// URL, migrate the
 * schema and start the writer on a second connection. password_file may
 * be NULL. */
int sk__pg_open(struct sk_store *s, const char *url, const char *password_file);

/* A writer on a connection of another backend than SQLite: the batch's
 * transaction goes through these (conn is the backend's, closed by
 * close when the writer closes). */
struct sk__wconn_ops {
    /* BEGIN; SK_EUNAVAIL when the database cannot be reached. */
    int (*begin)(void *conn);
    int (*commit)(void *conn);
    void (*rollback)(void *conn);
    /* Between batches: milliseconds until the backend wants to be called
     * again (it reconnects in the background), or -1 for never. */
    int (*idle)(void *conn);
    void (*close)(void *conn);
};
int sk__writer_open_conn(struct sk__writer **out, const struct sk__wconn_ops *ops, void *conn);
/* Writer thread only: the backend's connection. */
void *sk__writer_conn(struct sk__writer *w);

#endif
