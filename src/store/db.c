/*
 * The store handle: the data directory, its SQLite database and the
 * change detection that keeps in-memory caches honest across processes.
 *
 * SQLite in WAL mode lets `sipkit serve` read while `sipkit users` writes;
 * synchronous=NORMAL in WAL mode keeps every committed transaction across
 * a process crash (kill -9), which is the promise a 200 OK makes; the busy
 * timeout makes a concurrent writer wait rather than fail. The server's
 * own writes (bindings, subscriptions, publications) go through a second
 * connection owned by one writer thread (writer.c), which groups them into
 * shared COMMITs off the event loops; durability = power makes that
 * connection fsync every COMMIT (synchronous=FULL).
 *
 * Cache invalidation: tables whose rows are cached (users) have triggers
 * that bump the one row of store_version on every change, from any
 * process. A running server reads that counter (at most every refresh_ms)
 * to learn that `sipkit users` changed something. PRAGMA data_version
 * would also move for every location commit of our own location
 * connection, emptying the user cache many times a second under a
 * REGISTER load.
 *
 * Each module creates its own tables from its init function
 * (sqlite_users.c: sk__sq_users_init, subscriptions.c: sk__subs_init);
 * add new modules' init calls in sk_store_open(). Those tables are schema
 * version 1, recorded in schema_version; a later change of layout adds a
 * step to migrate() and bumps SQ_SCHEMA_VERSION.
 *
 * The store speaks to its database through struct sk__store_ops: this
 * file holds SQLite's table (sk__sqlite_ops) and sk_store_open_url(),
 * which picks the backend from a URL (pg.c for postgresql://).
 *
 * Memory: struct sk_store owns the path copy, the connection, the
 * prepared statements and the caches; sk_store_close() frees all.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_BUSY_MS    5000
#define DEFAULT_CACHE_MAX  100000
#define DEFAULT_REFRESH_MS 100

void sk_store_options_init(struct sk_store_options *o)
{
    memset(o, 0, sizeof(*o));
    o->busy_timeout_ms = DEFAULT_BUSY_MS;
    o->cache_max = DEFAULT_CACHE_MAX;
    o->refresh_ms = DEFAULT_REFRESH_MS;
}

int sk__store_err(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_NOMEM:
        return SK_ENOMEM;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
        return -EACCES;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_FULL:
        return -ENOSPC;
    default:
        return SK_EIO;
    }
}

int sk__store_exec(struct sk_store *s, const char *sql)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        SK_LOG(SK_LOG_ERROR, "store", "op=exec err=\"%s\"", sqlite3_errmsg(s->db));
        return sk__store_err(rc);
    }
    return 0;
}

int sk__sq_version(struct sk_store *s, int64_t *v)
{
    int rc = sqlite3_step(s->version);

    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(s->version, 0);
    sqlite3_reset(s->version);
    return rc == SQLITE_ROW ? 0 : SK_EIO;
}

void sk__store_check_changes(struct sk_store *s, bool force)
{
    uint64_t now = sk_now_ms();
    int64_t v = 0;
    int rc;

    if (!force && s->opt.refresh_ms > 0 && now - s->last_check_ms < s->opt.refresh_ms)
        return;
    s->last_check_ms = now;
    rc = s->ops->version(s, &v);
    if (rc == 0) {
        if (v != s->last_version) {
            s->last_version = v;
            s->generation++;
        }
    } else if (rc != SK_EUNAVAIL) {
        s->generation++; /* cannot tell: assume it changed */
    }
    /* SK_EUNAVAIL: the database is unreachable; the caches are what we
     * have, so they stay until it answers again. */
}

int sk_store_refresh(struct sk_store *s)
{
    pthread_mutex_lock(&s->lock);
    sk__store_check_changes(s, true);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void sk_store_flush(struct sk_store *s)
{
    if (s != NULL)
        sk__writer_flush(s->writer);
}

/* Make the directory (one level) and check that we may write in it. */
static int prepare_dir(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -errno;
    if (stat(dir, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (access(dir, W_OK | X_OK) != 0)
        return -errno;
    return 0;
}

/* Create the database file ourselves so that it (and the -wal and -shm
 * files SQLite derives from it) is readable by the owner only: it holds
 * HA1 values. */
static int create_db_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

#define SQ_SCHEMA_VERSION 1

/* The version table: version 1 is the layout the modules' init functions
 * create (they run after this, idempotently); a database of a newer
 * sipkit is refused rather than misread. */
static int migrate(struct sk_store *s)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    int rc = sk__store_exec(s, "CREATE TABLE IF NOT EXISTS schema_version ("
                               " id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);"
                               "INSERT OR IGNORE INTO schema_version VALUES (1, 1);");

    if (rc != 0)
        return rc;
    if (sqlite3_prepare_v2(s->db, "SELECT version FROM schema_version WHERE id = 1", -1, &st,
                           NULL) != SQLITE_OK)
        return SK_EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (v > SQ_SCHEMA_VERSION) {
        SK_LOG(SK_LOG_ERROR, "store",
               "event=schema_too_new backend=sqlite version=%lld supported=%d", (long long)v,
               SQ_SCHEMA_VERSION);
        return SK_EVERSION;
    }
    return 0;
}

static int open_db(struct sk_store *s)
{
    char path[4096];
    int rc;

    if (snprintf(path, sizeof(path), "%s/sipkit.db", s->dir) >= (int)sizeof(path))
        return SK_EINVAL;
    rc = create_db_file(path);
    if (rc != 0)
        return rc;
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return sk__store_err(rc);
    sqlite3_busy_timeout(s->db, (int)s->opt.busy_timeout_ms);
    rc = sk__store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                           " PRAGMA foreign_keys=ON;");
    if (rc == 0)
        rc = sk__store_exec(s, "CREATE TABLE IF NOT EXISTS store_version ("
                               " id INTEGER PRIMARY KEY CHECK (id = 1), v INTEGER NOT NULL);"
                               "INSERT OR IGNORE INTO store_version VALUES (1, 0);");
    if (rc != 0)
        return rc;
    if (sqlite3_prepare_v2(s->db, "SELECT v FROM store_version WHERE id = 1", -1, &s->version,
                           NULL) != SQLITE_OK)
        return SK_EIO;
    if ((rc = migrate(s)) != 0)
        return rc;
    return sk__writer_open(&s->writer, path, s->opt.busy_timeout_ms,
                           s->opt.durability == SK_STORE_POWER);
}

const struct sk__store_ops sk__sqlite_ops = {
    .name = "sqlite",
    .version = sk__sq_version,
    .user_get = sk__sq_user_get,
    .user_count_custom = sk__sq_user_count_custom,
    .user_write = sk__sq_user_write,
    .user_set_algos = sk__sq_user_set_algos,
    .user_list = sk__sq_user_list,
    .ban_put = sk__sq_ban_put,
    .ban_del = sk__sq_ban_del,
    .ban_purge = sk__sq_ban_purge,
    .ban_list = sk__sq_ban_list,
    .sub_foreach = sk__sq_sub_foreach,
    .pub_foreach = sk__sq_pub_foreach,
    .loc_init = sk__locdb_init,
    .loc_load = sk__locdb_load,
    .loc_write = sk__locdb_write,
    .sub_write = sk__sq_sub_write,
};

static struct sk_store *store_new(const struct sk_store_options *opt)
{
    struct sk_store *s = sk_calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    if (opt != NULL)
        s->opt = *opt;
    else
        sk_store_options_init(&s->opt);
    if (s->opt.busy_timeout_ms == 0)
        s->opt.busy_timeout_ms = DEFAULT_BUSY_MS;
    if (s->opt.cache_max == 0)
        s->opt.cache_max = DEFAULT_CACHE_MAX;
    s->opt.password_file = NULL; /* not kept: pg.c reads it at open */
    return s;
}

int sk_store_open(struct sk_store **out, const char *dir, const struct sk_store_options *opt)
{
    struct sk_store *s;
    int rc;

    if (dir == NULL || dir[0] == '\0')
        return SK_EINVAL;
    rc = prepare_dir(dir);
    if (rc != 0)
        return rc;
    s = store_new(opt);
    if (s == NULL)
        return SK_ENOMEM;
    s->ops = &sk__sqlite_ops;
    s->dir = sk_strndup(dir, strlen(dir));
    rc = s->dir == NULL ? SK_ENOMEM : open_db(s);
    if (rc == 0)
        rc = sk__sq_users_init(s);
    if (rc == 0)
        rc = sk__users_init(s);
    if (rc == 0)
        rc = sk__subs_init(s);
    if (rc == 0)
        rc = sk__bans_init(s);
    if (rc != 0) {
        sk_store_close(s);
        return rc;
    }
    sk__store_check_changes(s, true);
    *out = s;
    return 0;
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

int sk_store_open_url(struct sk_store **out, const char *url, const struct sk_store_options *opt)
{
    struct sk_store *s;
    int rc;

    if (url == NULL || url[0] == '\0')
        return SK_EINVAL;
    if (has_prefix(url, "sqlite:"))
        return sk_store_open(out, url + 7, opt);
    if (!has_prefix(url, "postgresql://") && !has_prefix(url, "postgres://")) {
        /* Another scheme is a mistake, not a directory named "redis:". */
        const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
        if (colon != NULL && colon > url && (slash == NULL || colon < slash) &&
            strncmp(colon, "://", 3) == 0)
            return SK_ESCHEME;
        return sk_store_open(out, url, opt);
    }
    s = store_new(opt);
    if (s == NULL)
        return SK_ENOMEM;
    rc = sk__pg_open(s, url, opt != NULL ? opt->password_file : NULL);
    if (rc == 0)
        rc = sk__users_init(s);
    if (rc != 0) {
        sk_store_close(s);
        return rc;
    }
    sk__store_check_changes(s, true);
    *out = s;
    return 0;
}

const char *sk_store_backend(const struct sk_store *s)
{
    return s->ops != NULL ? s->ops->name : "none";
}

int sk_store_secret(struct sk_store *s, unsigned char *out, size_t len)
{
    if (s->ops->secret == NULL)
        return SK_ENOTFOUND;
    return s->ops->secret(s, out, len);
}

int sk_store_auth_nc(void *store, struct sk_slice nonce, uint32_t nc, int64_t expires_s)
{
    struct sk_store *s = store;

    if (s->ops->nonce_use == NULL)
        return 0;
    return s->ops->nonce_use(s, nonce, nc, expires_s);
}

void sk_store_feed_stop(struct sk_store *s)
{
    if (s != NULL && s->ops->feed_set != NULL)
        s->ops->feed_set(s, NULL, NULL);
}

void sk_store_close(struct sk_store *s)
{
    if (s == NULL)
        return;
    sk__writer_close(s->writer); /* completes what is queued first */
    sk__users_free(s);
    sk__sq_users_free(s);
    sk__subs_free(s);
    if (s->ops != NULL && s->ops->close != NULL)
        s->ops->close(s);
    sqlite3_finalize(s->version);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    sk_free(s->dir);
    sk_free(s);
}

const char *sk_store_dir(const struct sk_store *s)
{
    return s->dir;
}
