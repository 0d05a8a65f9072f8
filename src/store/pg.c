/*
 * The PostgreSQL backend: connections through libpq, their reconnection,
 * and sipkit's schema in the database.
 *
 * A store on PostgreSQL holds two connections, like the SQLite one: the
 * "main" connection (lookups, `sipkit users`, bans; used under the
 * store's lock) and the "writer" connection, owned by the writer thread
 * (writer.c), which runs each group of server writes as one transaction
 * (BEGIN..COMMIT) and completes them after the COMMIT returned, so a
 * 200 OK still follows the COMMIT. synchronous_commit is set to on for
 * the session: PostgreSQL returns from COMMIT once its WAL is flushed.
 *
 * Connection states. A connection is up or down. A statement failing
 * because the connection broke marks it down; while down, statements
 * fail at once with SK_EUNAVAIL (the server answers 503 with
 * Retry-After), and a new connection is tried when the retry time comes:
 * 100 ms after the failure, doubling up to 5 s. The writer thread also
 * tries while idle (sk__writer_open_conn's idle callback), so the server
 * reconnects without waiting for a request; the main connection tries on
 * its next use, before its retry time when another connection of the
 * store got through meanwhile (ups). Every change of state is logged as event=db_state with
 * the connection's role: down (warn), reconnecting (info, at the first
 * attempt after going down; the later ones are event=db_retry at debug)
 * and up (info).
 *
 * A statement that finds its idle connection dead (PostgreSQL restarted
 * since the last use) is retried once on a new connection before giving
 * up: BEGIN always (nothing ran yet), others when the caller says the
 * statement may run twice.
 *
 * Prepared statements: every SELECT, INSERT, UPDATE, DELETE or WITH
 * statement is prepared on its connection the first time it runs
 * (PQprepare, named sN) and executed by name after (PQexecPrepared), so
 * PostgreSQL parses it once per connection rather than once per request.
 * They belong to the server's session: a connection found dead forgets
 * them, and the new one prepares again on first use (the retry above
 * included). A pooler in transaction mode that moves a session between
 * server connections would lose them: sipkit wants a session of its own.
 *
 * Schema: migrate() runs, under an advisory lock (several nodes may start
 * at once), every step above the version recorded in schema_version, in
 * one transaction. A database with a newer version than this sipkit
 * knows is refused.
 *
 * Password: never in the URL (refused); from the password file of the
 * options (first line, kept in memory for reconnections and wiped at
 * close), else libpq's own sources (PGPASSWORD, ~/.pgpass).
 *
 * Memory: struct sk__pg owns the URL copy, the password and the main
 * connection; the writer's connection is owned by the writer and closed
 * by it (pg_wclose).
 */
#include "store/pg_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define BACKOFF_MIN_MS  100
#define BACKOFF_MAX_MS  5000
#define PG_SCHEMA_LOCK  "7261716" /* pg_advisory_xact_lock key: "sipkit" schema */
#define CONNECT_TIMEOUT "3"
#define PREP_MAX        48 /* statements prepared per connection (more run unprepared) */

/* A statement prepared on the current connection, as "sN" (N its index):
 * its text, copied (callers may build theirs in a buffer). */
struct prep {
    char *sql;
};

struct sk__pgconn {
    PGconn *c;
    const char *role; /* "main" or "writer" */
    struct sk__pg *pg;
    bool up;
    bool logged;       /* a state was logged once (the first "down" is news too) */
    bool reconnecting; /* down, and the first attempt to come back was logged */
    unsigned backoff_ms;
    uint64_t next_try_ms;
    uint64_t down_since_ms;
    unsigned ups_seen; /* the store's count of successful connections when this one went down */
    struct prep prep[PREP_MAX]; /* on k->c; emptied with every new connection */
    int nprep;
};

struct sk__pg {
    char *url;
    char *password;   /* NULL: libpq's sources */
    char target[256]; /* user@host:port/db, for logs */
    char node[17];    /* this process, in the change feed's messages */
    struct sk__pgconn main;
    struct sk__pgfeed *feed; /* pg_feed.c; NULL until a location subscribes */
    /* Successful connections of any role: a down connection tries again
     * at once when another one got through, rather than at the end of
     * its backoff (the main connection, tried only when a request needs
     * it, would otherwise refuse lookups for up to 5 s after PostgreSQL
     * returned). Atomic: each connection runs on its own thread. */
    _Atomic unsigned ups;
};

static unsigned ups_now(const struct sk__pgconn *k)
{
    return atomic_load_explicit(&k->pg->ups, memory_order_relaxed);
}

/* Down, and its retry time has come or another connection is back. */
static bool retry_due(const struct sk__pgconn *k, uint64_t now)
{
    return now >= k->next_try_ms || ups_now(k) != k->ups_seen;
}

/* ---- parameters and results -------------------------------------------- */

void sk__pgp_text(struct sk__pgp *p, const char *s)
{
    p->v[p->n] = s;
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

void sk__pgp_i64(struct sk__pgp *p, int64_t v)
{
    snprintf(p->num[p->n], sizeof(p->num[p->n]), "%lld", (long long)v);
    sk__pgp_text(p, p->num[p->n]);
}

void sk__pgp_bin(struct sk__pgp *p, const void *b, size_t n)
{
    p->v[p->n] = n > 0 ? b : "";
    p->len[p->n] = (int)n;
    p->fmt[p->n] = 1;
    p->n++;
}

int64_t sk__pg_i64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

void sk__pg_str(const PGresult *r, int row, int col, char *dst, size_t dstsz)
{
    snprintf(dst, dstsz, "%s", PQgetvalue(r, row, col));
}

int sk__pg_changes(const PGresult *r)
{
    return (int)strtol(PQcmdTuples((PGresult *)r), NULL, 10);
}

/* ---- connection state ---------------------------------------------------- */

/* libpq's messages span lines and may quote: one clean line for the log. */
static void clean_error(const char *in, char *out, size_t outsz)
{
    size_t n = 0;

    for (; in != NULL && *in != '\0' && n + 1 < outsz; in++) {
        char c = *in;
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        else if (c == '"')
            c = '\'';
        if (c == ' ' && (n == 0 || out[n - 1] == ' '))
            continue;
        out[n++] = c;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

/* Prepared statements live in the server's session: a new connection
 * (or none) has none of them. */
static void prep_clear(struct sk__pgconn *k)
{
    for (int i = 0; i < k->nprep; i++)
        sk_free(k->prep[i].sql);
    k->nprep = 0;
}

static void set_down(struct sk__pgconn *k, const char *why)
{
    char err[256];
    bool was_up = k->up;

    clean_error(why, err, sizeof(err));
    PQfinish(k->c);
    prep_clear(k);
    k->c = NULL;
    k->up = false;
    if (was_up || !k->logged)
        k->down_since_ms = sk_now_ms();
    /* The first retry comes soon (a restart is over in a moment), then
     * the delay doubles: a dead server costs little. */
    k->backoff_ms = was_up || k->backoff_ms == 0         ? BACKOFF_MIN_MS
                    : k->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                         : k->backoff_ms * 2;
    k->next_try_ms = sk_now_ms() + k->backoff_ms;
    k->ups_seen = ups_now(k);
    if (was_up || !k->logged)
        SK_LOG(SK_LOG_WARN, "store",
               "event=db_state backend=postgresql conn=%s state=down target=\"%s\" error=\"%s\" "
               "retry_ms=%u",
               k->role, k->pg->target, err, k->backoff_ms);
    else
        SK_LOG(SK_LOG_DEBUG, "store",
               "event=db_retry backend=postgresql conn=%s target=\"%s\" error=\"%s\" retry_ms=%u",
               k->role, k->pg->target, err, k->backoff_ms);
    k->logged = true;
}

static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "relation already exists, skipping" and the like */
}

static int connect_now(struct sk__pgconn *k)
{
    const char *keys[6], *vals[6];
    int n = 0;
    PGresult *r;

    keys[n] = "dbname"; /* expanded: the URL */
    vals[n++] = k->pg->url;
    keys[n] = "connect_timeout";
    vals[n++] = CONNECT_TIMEOUT;
    keys[n] = "application_name";
    vals[n++] = "sipkit";
    if (k->pg->password != NULL) {
        keys[n] = "password";
        vals[n++] = k->pg->password;
    }
    keys[n] = NULL;
    vals[n] = NULL;
    if (!k->up && k->logged && !k->reconnecting) {
        k->reconnecting = true;
        SK_LOG(SK_LOG_INFO, "store",
               "event=db_state backend=postgresql conn=%s state=reconnecting target=\"%s\" "
               "down_ms=%llu",
               k->role, k->pg->target, (unsigned long long)(sk_now_ms() - k->down_since_ms));
    }
    PQfinish(k->c);
    prep_clear(k);
    k->c = PQconnectdbParams(keys, vals, 1);
    if (k->c == NULL) {
        set_down(k, "out of memory");
        return SK_EUNAVAIL;
    }
    if (PQstatus(k->c) != CONNECTION_OK) {
        set_down(k, PQerrorMessage(k->c));
        return SK_EUNAVAIL;
    }
    PQsetNoticeProcessor(k->c, drop_notice, NULL);
    r = PQexec(k->c, "SET synchronous_commit = on; SET client_min_messages = warning");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        set_down(k, PQerrorMessage(k->c));
        PQclear(r);
        return SK_EUNAVAIL;
    }
    PQclear(r);
    if (!k->up)
        SK_LOG(SK_LOG_INFO, "store",
               "event=db_state backend=postgresql conn=%s state=up target=\"%s\" server=%d",
               k->role, k->pg->target, PQserverVersion(k->c));
    atomic_fetch_add_explicit(&k->pg->ups, 1, memory_order_relaxed);
    k->up = true;
    k->logged = true;
    k->reconnecting = false;
    k->backoff_ms = 0;
    return 0;
}

/* Connected, or SK_EUNAVAIL (down and not yet time to retry, or the
 * retry failed). */
static int ready(struct sk__pgconn *k)
{
    if (k->up && k->c != NULL && PQstatus(k->c) == CONNECTION_OK)
        return 0;
    if (k->up)
        set_down(k, PQerrorMessage(k->c));
    if (!retry_due(k, sk_now_ms()))
        return SK_EUNAVAIL;
    return connect_now(k);
}

static int map_error(struct sk__pgconn *k, const PGresult *r, const char *sql)
{
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char err[256];

    if (k->c == NULL || PQstatus(k->c) != CONNECTION_OK || state == NULL ||
        strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) {
        set_down(k, k->c != NULL ? PQerrorMessage(k->c) : "no connection");
        return SK_EUNAVAIL;
    }
    if (strcmp(state, "23505") == 0)
        return SK_EEXIST;
    clean_error(PQerrorMessage(k->c), err, sizeof(err));
    SK_LOG(SK_LOG_ERROR, "store", "op=pg_exec sql=\"%.24s\" sqlstate=%s err=\"%s\"", sql, state,
           err);
    if (strncmp(state, "53", 2) == 0)
        return -ENOSPC; /* insufficient resources: disk full, out of memory */
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return -EBUSY;
    return SK_EIO;
}

/* One DML or SELECT statement (no ';'): worth preparing. BEGIN, COMMIT,
 * LISTEN and the schema's scripts go through the simple protocol. */
static bool preparable(const char *sql)
{
    static const char *const verbs[] = {"SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH "};

    if (strchr(sql, ';') != NULL)
        return false;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strncmp(sql, verbs[i], strlen(verbs[i])) == 0)
            return true;
    return false;
}

/* The index of sql's prepared statement on k's connection, preparing it
 * the first time (PostgreSQL then parses it once per connection, and
 * plans it once when its generic plan does as well as a custom one);
 * -1 when it is not worth preparing or the cache is full; SK_E* when
 * PQprepare failed (*r then holds its result). */
static int prepared(struct sk__pgconn *k, const char *sql, const struct sk__pgp *p, PGresult **r)
{
    char name[16];

    for (int i = 0; i < k->nprep; i++)
        if (strcmp(k->prep[i].sql, sql) == 0)
            return i;
    if (k->nprep == PREP_MAX || !preparable(sql))
        return -1;
    struct prep *e = &k->prep[k->nprep];
    if ((e->sql = sk_strndup(sql, strlen(sql))) == NULL)
        return -1;
    snprintf(name, sizeof(name), "s%d", k->nprep);
    *r = PQprepare(k->c, name, sql, p != NULL ? p->n : 0, NULL);
    if (PQresultStatus(*r) != PGRES_COMMAND_OK) {
        sk_free(e->sql);
        return SK_EIO;
    }
    PQclear(*r);
    *r = NULL;
    return k->nprep++;
}

/* The statement's result, or PQprepare's failure. */
static PGresult *run(struct sk__pgconn *k, const char *sql, const struct sk__pgp *p)
{
    PGresult *r = NULL;
    int n = p != NULL ? p->n : 0;
    int i = prepared(k, sql, p, &r);
    char name[16];

    if (i < -1)
        return r;
    if (i >= 0) {
        snprintf(name, sizeof(name), "s%d", i);
        return PQexecPrepared(k->c, name, n, n > 0 ? p->v : NULL, n > 0 ? p->len : NULL,
                              n > 0 ? p->fmt : NULL, 0);
    }
    if (n == 0)
        return PQexec(k->c, sql);
    return PQexecParams(k->c, sql, n, NULL, p->v, p->len, p->fmt, 0);
}

static int exec_once(struct sk__pgconn *k, const char *sql, const struct sk__pgp *p, PGresult **out)
{
    PGresult *r;
    ExecStatusType st;
    int rc = ready(k);

    if (rc != 0)
        return rc;
    r = run(k, sql, p);
    st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out != NULL)
            *out = r;
        else
            PQclear(r);
        return 0;
    }
    rc = map_error(k, r, sql);
    PQclear(r);
    return rc;
}

int sk__pgc_exec(struct sk__pgconn *k, const char *sql, const struct sk__pgp *p, bool retry,
                 PGresult **out)
{
    bool was_up = k->up;
    int rc = exec_once(k, sql, p, out);

    /* An idle connection found dead: PostgreSQL restarted or dropped us.
     * One attempt on a new connection, at once. */
    if (rc == SK_EUNAVAIL && was_up && retry) {
        k->next_try_ms = 0;
        rc = exec_once(k, sql, p, out);
    }
    return rc;
}

struct sk__pgconn *sk__pg_main(struct sk_store *s)
{
    return &s->pg->main;
}

struct sk__pgconn *sk__pgc_new(struct sk_store *s, const char *role)
{
    struct sk__pgconn *k = sk_calloc(1, sizeof(*k));

    if (k != NULL) {
        k->role = role;
        k->pg = s->pg;
    }
    return k;
}

void sk__pgc_free(struct sk__pgconn *k)
{
    if (k == NULL)
        return;
    PQfinish(k->c);
    prep_clear(k);
    sk_free(k);
}

PGconn *sk__pgc_conn(struct sk__pgconn *k)
{
    return k->up ? k->c : NULL;
}

void sk__pgc_lost(struct sk__pgconn *k)
{
    if (k->up)
        set_down(k, PQerrorMessage(k->c));
}

int sk__pgc_retry_ms(struct sk__pgconn *k)
{
    uint64_t now = sk_now_ms();

    if (k->up || retry_due(k, now))
        return 0;
    return (int)(k->next_try_ms - now);
}

const char *sk__pgc_node(const struct sk__pgconn *k)
{
    return k->pg->node;
}

struct sk__pgfeed **sk__pg_feedp(struct sk_store *s)
{
    return &s->pg->feed;
}

/* ---- the writer's connection --------------------------------------------- */

static int pg_wbegin(void *conn)
{
    return sk__pgc_exec(conn, "BEGIN", NULL, true, NULL);
}

static int pg_wcommit(void *conn)
{
    return sk__pgc_exec(conn, "COMMIT", NULL, false, NULL);
}

static void pg_wrollback(void *conn)
{
    struct sk__pgconn *k = conn;

    if (k->up && k->c != NULL && PQtransactionStatus(k->c) != PQTRANS_IDLE)
        PQclear(PQexec(k->c, "ROLLBACK"));
}

/* Between batches: reconnect when down and the time has come. */
static int pg_widle(void *conn)
{
    struct sk__pgconn *k = conn;
    uint64_t now;

    if (k->up)
        return -1;
    now = sk_now_ms();
    if (retry_due(k, now) && connect_now(k) == 0)
        return -1;
    now = sk_now_ms();
    return k->next_try_ms > now ? (int)(k->next_try_ms - now) : 1;
}

static void pg_wclose(void *conn)
{
    sk__pgc_free(conn);
}

static const struct sk__wconn_ops writer_ops = {
    .begin = pg_wbegin,
    .commit = pg_wcommit,
    .rollback = pg_wrollback,
    .idle = pg_widle,
    .close = pg_wclose,
};

/* ---- schema -------------------------------------------------------------- */

/* Step n brings the schema from version n to n + 1. */
static const char *const steps[] = {
    "CREATE TABLE store_version (id INTEGER PRIMARY KEY CHECK (id = 1), v BIGINT NOT NULL);"
    "INSERT INTO store_version VALUES (1, 0);"
    "CREATE TABLE users (domain TEXT NOT NULL, username TEXT NOT NULL,"
    " ha1_md5 TEXT NOT NULL, ha1_sha256 TEXT NOT NULL, ha1_sha512_256 TEXT NOT NULL,"
    " uh_md5 TEXT NOT NULL, uh_sha256 TEXT NOT NULL, uh_sha512_256 TEXT NOT NULL,"
    " created BIGINT NOT NULL, updated BIGINT NOT NULL, algorithms TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (domain, username));"
    "CREATE INDEX users_uh_md5 ON users (uh_md5);"
    "CREATE INDEX users_uh_sha256 ON users (uh_sha256);"
    "CREATE INDEX users_uh_sha512_256 ON users (uh_sha512_256);"
    /* Every change of users moves store_version, which empties the
     * caches of every process (as the SQLite triggers do). */
    "CREATE FUNCTION sipkit_users_changed() RETURNS trigger LANGUAGE plpgsql AS"
    " 'BEGIN UPDATE store_version SET v = v + 1 WHERE id = 1; RETURN NULL; END';"
    "CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON users"
    " FOR EACH STATEMENT EXECUTE FUNCTION sipkit_users_changed();"
    "CREATE TABLE location (aor TEXT NOT NULL, contact TEXT NOT NULL,"
    " expires_at BIGINT NOT NULL, q INTEGER NOT NULL, call_id TEXT NOT NULL,"
    " cseq BIGINT NOT NULL, path TEXT NOT NULL, transport INTEGER NOT NULL,"
    " src_ip TEXT NOT NULL, src_port INTEGER NOT NULL, conn_id BIGINT NOT NULL,"
    " instance TEXT NOT NULL, reg_id BIGINT NOT NULL, user_agent TEXT NOT NULL,"
    " updated_at BIGINT NOT NULL, PRIMARY KEY (aor, contact, instance, reg_id));"
    "CREATE TABLE subscriptions (key TEXT PRIMARY KEY, package TEXT NOT NULL,"
    " event_id TEXT NOT NULL, call_id TEXT NOT NULL, remote_tag TEXT NOT NULL,"
    " local_uri TEXT NOT NULL, remote_uri TEXT NOT NULL, remote_target TEXT NOT NULL,"
    " route_set TEXT NOT NULL, watcher TEXT NOT NULL, resource TEXT NOT NULL,"
    " remote_cseq BIGINT NOT NULL, local_cseq BIGINT NOT NULL, version BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL, state INTEGER NOT NULL, transport INTEGER NOT NULL,"
    " src_ip TEXT NOT NULL, src_port INTEGER NOT NULL, conn_id BIGINT NOT NULL);"
    "CREATE TABLE publications (etag TEXT PRIMARY KEY, resource TEXT NOT NULL,"
    " package TEXT NOT NULL, ctype TEXT NOT NULL, expires_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL, seq BIGINT NOT NULL, body BYTEA NOT NULL);"
    "CREATE TABLE bans (addr TEXT PRIMARY KEY, until BIGINT NOT NULL, level BIGINT NOT NULL,"
    " reason TEXT NOT NULL, created BIGINT NOT NULL);"
    "CREATE TABLE secrets (name TEXT PRIMARY KEY, value BYTEA NOT NULL);",
    /* 2: nonce-counts used, so a replay is refused by every node. */
    "CREATE TABLE nonce_uses (nonce TEXT NOT NULL, nc BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL, PRIMARY KEY (nonce, nc));"
    "CREATE INDEX nonce_uses_expires ON nonce_uses (expires_at);",
};
#define PG_SCHEMA_VERSION ((int)(sizeof(steps) / sizeof(steps[0])))

static int migrate_locked(struct sk__pgconn *k)
{
    PGresult *r = NULL;
    int64_t v = 0;
    int rc = sk__pgc_exec(k,
                          "CREATE TABLE IF NOT EXISTS schema_version ("
                          " id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)",
                          NULL, false, NULL);

    if (rc == 0)
        rc = sk__pgc_exec(k, "SELECT version FROM schema_version WHERE id = 1", NULL, false, &r);
    if (rc != 0)
        return rc;
    if (PQntuples(r) > 0)
        v = sk__pg_i64(r, 0, 0);
    PQclear(r);
    if (v > PG_SCHEMA_VERSION) {
        SK_LOG(SK_LOG_ERROR, "store",
               "event=schema_too_new backend=postgresql version=%lld supported=%d", (long long)v,
               PG_SCHEMA_VERSION);
        return SK_EVERSION;
    }
    for (int64_t i = v; i < PG_SCHEMA_VERSION && rc == 0; i++) {
        struct sk__pgp p = {.n = 0};
        rc = sk__pgc_exec(k, steps[i], NULL, false, NULL);
        sk__pgp_i64(&p, i + 1);
        if (rc == 0)
            rc = sk__pgc_exec(k,
                              "INSERT INTO schema_version VALUES (1, $1)"
                              " ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version",
                              &p, false, NULL);
        if (rc == 0)
            SK_LOG(SK_LOG_INFO, "store", "event=schema_migrated backend=postgresql version=%lld",
                   (long long)(i + 1));
    }
    return rc;
}

static int migrate(struct sk__pgconn *k)
{
    int rc = sk__pgc_exec(k, "BEGIN", NULL, false, NULL);

    if (rc == 0)
        rc = sk__pgc_exec(k, "SELECT pg_advisory_xact_lock(" PG_SCHEMA_LOCK ")", NULL, false, NULL);
    if (rc == 0)
        rc = migrate_locked(k);
    if (rc == 0)
        rc = sk__pgc_exec(k, "COMMIT", NULL, false, NULL);
    else if (k->c != NULL)
        PQclear(PQexec(k->c, "ROLLBACK"));
    return rc;
}

/* ---- open and close ------------------------------------------------------ */

/* The URL must not carry a password (it would show in ps and shell
 * history); note who and where for the logs. */
static int check_url(struct sk__pg *pg)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(pg->url, &err);
    const char *user = "", *host = "", *port = "", *db = "";
    int rc = 0;

    if (opts == NULL) {
        char clean[256];
        clean_error(err, clean, sizeof(clean));
        SK_LOG(SK_LOG_ERROR, "store", "event=bad_url backend=postgresql error=\"%s\"", clean);
        PQfreemem(err);
        return SK_EINVAL;
    }
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (o->val == NULL)
            continue;
        if (strcmp(o->keyword, "password") == 0 && o->val[0] != '\0')
            rc = SK_EINVAL;
        else if (strcmp(o->keyword, "user") == 0)
            user = o->val;
        else if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
    }
    snprintf(pg->target, sizeof(pg->target), "%s%s%s%s%s/%s", user, user[0] ? "@" : "", host,
             port[0] ? ":" : "", port, db);
    if (rc != 0)
        SK_LOG(SK_LOG_ERROR, "store",
               "event=bad_url backend=postgresql target=\"%s\" error=\"the URL holds a password: "
               "use PGPASSWORD or a password file\"",
               pg->target);
    PQconninfoFree(opts);
    return rc;
}

/* First line of the file, without its line end. */
static int read_password(struct sk__pg *pg, const char *path)
{
    char buf[1024];
    FILE *f = fopen(path, "re");
    size_t n;

    if (f == NULL) {
        int rc = -errno;
        SK_LOG(SK_LOG_ERROR, "store", "event=password_file_failed path=\"%s\" error=\"%s\"", path,
               sk_strerror(rc));
        return SK_EINVAL;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    pg->password = sk_strndup(buf, strlen(buf));
    OPENSSL_cleanse(buf, sizeof(buf));
    return pg->password != NULL ? 0 : SK_ENOMEM;
}

void sk__pg_close(struct sk_store *s)
{
    struct sk__pg *pg = s->pg;

    if (pg == NULL)
        return;
    sk__pgfeed_free(pg->feed);
    PQfinish(pg->main.c);
    prep_clear(&pg->main);
    if (pg->password != NULL) {
        OPENSSL_cleanse(pg->password, strlen(pg->password));
        sk_free(pg->password);
    }
    sk_free(pg->url);
    sk_free(pg);
    s->pg = NULL;
}

static int open_writer(struct sk_store *s)
{
    struct sk__pgconn *w = sk__pgc_new(s, "writer");
    int rc;

    if (w == NULL)
        return SK_ENOMEM;
    rc = connect_now(w);
    if (rc == 0)
        rc = sk__writer_open_conn(&s->writer, &writer_ops, w);
    if (rc != 0)
        pg_wclose(w);
    return rc;
}

int sk__pg_open(struct sk_store *s, const char *url, const char *password_file)
{
    unsigned char nodeid[8];
    struct sk__pg *pg = sk_calloc(1, sizeof(*pg));
    int rc;

    if (pg == NULL)
        return SK_ENOMEM;
    s->pg = pg;
    s->ops = &sk__pg_ops;
    pg->main.role = "main";
    pg->main.pg = pg;
    if (RAND_bytes(nodeid, sizeof(nodeid)) != 1)
        return SK_EIO;
    for (size_t i = 0; i < sizeof(nodeid); i++)
        snprintf(pg->node + 2 * i, 3, "%02x", nodeid[i]);
    pg->url = sk_strndup(url, strlen(url));
    if (pg->url == NULL)
        return SK_ENOMEM;
    if ((rc = check_url(pg)) != 0)
        return rc;
    if (password_file != NULL && password_file[0] != '\0' &&
        (rc = read_password(pg, password_file)) != 0)
        return rc;
    if ((rc = connect_now(&pg->main)) != 0)
        return rc;
    if ((rc = migrate(&pg->main)) != 0)
        return rc;
    return open_writer(s);
}
