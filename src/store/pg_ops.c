/*
 * The PostgreSQL backend's statements: users, bindings, subscriptions,
 * publications, bans and the shared nonce secret, behind
 * struct sk__store_ops (store_int.h), with the same meaning as the SQLite
 * ones (sqlite_users.c, location_db.c, subscriptions.c, bans.c).
 *
 * The main connection is used under the store's lock; the write callbacks
 * (loc_write, sub_write) run on the writer thread inside its batch's
 * transaction, on the writer's connection. Every server write is a
 * snapshot or an upsert, so a statement may safely run twice.
 *
 * Memory: results are cleared before returning; rows handed to callbacks
 * are stack copies, valid for the call.
 */
#include "store/pg_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

/* Run on the main connection under the store's lock. */
static int main_exec(struct sk_store *s, const char *sql, const struct sk__pgp *p, bool retry,
                     PGresult **out)
{
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = sk__pgc_exec(sk__pg_main(s), sql, p, retry, out);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- users ----------------------------------------------------------------- */

static int pg_version(struct sk_store *s, int64_t *v)
{
    PGresult *r = NULL;
    int rc =
        sk__pgc_exec(sk__pg_main(s), "SELECT v FROM store_version WHERE id = 1", NULL, true, &r);

    if (rc != 0)
        return rc;
    rc = PQntuples(r) == 1 ? 0 : SK_EIO;
    if (rc == 0)
        *v = sk__pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

static const char *const user_sql[] = {
    "SELECT ha1_md5, ha1_sha256, ha1_sha512_256, username, algorithms FROM users"
    " WHERE domain = $1 AND username = $2",
    "SELECT ha1_md5, ha1_sha256, ha1_sha512_256, username, algorithms FROM users"
    " WHERE domain = $1 AND uh_md5 = $2",
    "SELECT ha1_md5, ha1_sha256, ha1_sha512_256, username, algorithms FROM users"
    " WHERE domain = $1 AND uh_sha256 = $2",
    "SELECT ha1_md5, ha1_sha256, ha1_sha512_256, username, algorithms FROM users"
    " WHERE domain = $1 AND uh_sha512_256 = $2",
};

static int pg_user_get(struct sk_store *s, int uh, struct sk_slice domain, struct sk_slice name,
                       struct sk__user_row *out)
{
    char d[SK_STORE_DOMAIN_MAX + 1], n[SK_AUTH_HEX_MAX + SK_STORE_USER_MAX + 1];
    struct sk__pgp p = {.n = 0};
    PGresult *r = NULL;
    int rc;

    if (domain.len >= sizeof(d) || name.len >= sizeof(n) || uh >= SK_HASH__COUNT)
        return SK_ENOTFOUND;
    memcpy(d, domain.p, domain.len);
    d[domain.len] = '\0';
    memcpy(n, name.p, name.len);
    n[name.len] = '\0';
    sk__pgp_text(&p, d);
    sk__pgp_text(&p, n);
    rc = sk__pgc_exec(sk__pg_main(s), user_sql[uh + 1], &p, true, &r);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0) {
        rc = SK_ENOTFOUND;
    } else {
        for (int h = 0; h < SK_HASH__COUNT; h++)
            sk__pg_str(r, 0, h, out->ha1[h], sizeof(out->ha1[h]));
        sk__pg_str(r, 0, 3, out->user, sizeof(out->user));
        sk__pg_str(r, 0, 4, out->algos, sizeof(out->algos));
    }
    PQclear(r);
    return rc;
}

static int pg_user_count_custom(struct sk_store *s, int64_t *n)
{
    PGresult *r = NULL;
    int rc = sk__pgc_exec(sk__pg_main(s), "SELECT count(*) FROM users WHERE algorithms != ''", NULL,
                          true, &r);

    if (rc == 0) {
        *n = sk__pg_i64(r, 0, 0);
        PQclear(r);
    }
    return rc;
}

static const char *const write_sql[] = {
    [SK__USER_ADD] = "INSERT INTO users (domain, username, ha1_md5, ha1_sha256,"
                     " ha1_sha512_256, uh_md5, uh_sha256, uh_sha512_256, created, updated)"
                     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    [SK__USER_PASSWD] = "UPDATE users SET ha1_md5 = $3, ha1_sha256 = $4, ha1_sha512_256 = $5,"
                        " uh_md5 = $6, uh_sha256 = $7, uh_sha512_256 = $8, updated = $9"
                        " WHERE domain = $1 AND username = $2",
    [SK__USER_DEL] = "DELETE FROM users WHERE domain = $1 AND username = $2",
};

static int pg_user_write(struct sk_store *s, enum sk__user_write op, const char *domain,
                         const char *user, const struct sk__secrets *sec, int *changes)
{
    struct sk__pgp p = {.n = 0};
    PGresult *r = NULL;
    int rc;

    sk__pgp_text(&p, domain);
    sk__pgp_text(&p, user);
    for (int h = 0; sec != NULL && h < SK_HASH__COUNT; h++)
        sk__pgp_text(&p, sec->ha1[h]);
    for (int h = 0; sec != NULL && h < SK_HASH__COUNT; h++)
        sk__pgp_text(&p, sec->uh[h]);
    if (sec != NULL)
        sk__pgp_i64(&p, sk_wall_s());
    /* No retry: an INSERT whose answer was lost would come back EEXIST. */
    rc = main_exec(s, write_sql[op], &p, false, &r);
    if (rc == 0) {
        *changes = sk__pg_changes(r);
        PQclear(r);
    }
    return rc;
}

static int pg_user_set_algos(struct sk_store *s, const char *domain, const char *user,
                             const char *algos, int *changes)
{
    struct sk__pgp p = {.n = 0};
    PGresult *r = NULL;
    int rc;

    sk__pgp_text(&p, domain);
    sk__pgp_text(&p, user);
    sk__pgp_text(&p, algos);
    sk__pgp_i64(&p, sk_wall_s());
    rc = main_exec(s,
                   "UPDATE users SET algorithms = $3, updated = $4"
                   " WHERE domain = $1 AND username = $2",
                   &p, true, &r);
    if (rc == 0) {
        *changes = sk__pg_changes(r);
        PQclear(r);
    }
    return rc;
}

static int pg_user_list(struct sk_store *s, const char *domain, sk_store_user_cb cb, void *arg)
{
    struct sk__pgp p = {.n = 0};
    PGresult *r = NULL;
    int rc;

    if (domain != NULL)
        sk__pgp_text(&p, domain);
    rc = main_exec(s,
                   domain != NULL ? "SELECT domain, username FROM users WHERE domain = $1"
                                    " ORDER BY domain, username"
                                  : "SELECT domain, username FROM users ORDER BY domain, username",
                   &p, true, &r);
    for (int i = 0; rc == 0 && i < PQntuples(r); i++)
        rc = cb(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    return rc;
}

/* ---- bans ---------------------------------------------------------------- */

static int pg_ban_put(struct sk_store *s, const struct sk_store_ban *b)
{
    struct sk__pgp p = {.n = 0};

    sk__pgp_text(&p, b->addr);
    sk__pgp_i64(&p, b->until);
    sk__pgp_i64(&p, b->level);
    sk__pgp_text(&p, b->reason);
    sk__pgp_i64(&p, b->created);
    return main_exec(s,
                     "INSERT INTO bans (addr, until, level, reason, created)"
                     " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (addr) DO UPDATE SET"
                     " until = EXCLUDED.until, level = EXCLUDED.level,"
                     " reason = EXCLUDED.reason, created = EXCLUDED.created",
                     &p, true, NULL);
}

static int pg_ban_del(struct sk_store *s, const char *addr, int *changes)
{
    struct sk__pgp p = {.n = 0};
    bool all = strcmp(addr, "all") == 0;
    PGresult *r = NULL;
    int rc;

    if (!all)
        sk__pgp_text(&p, addr);
    rc = main_exec(s, all ? "DELETE FROM bans" : "DELETE FROM bans WHERE addr = $1", &p, true, &r);
    if (rc == 0) {
        *changes = sk__pg_changes(r);
        PQclear(r);
    }
    return rc;
}

static int pg_ban_purge(struct sk_store *s, int64_t now)
{
    struct sk__pgp p = {.n = 0};

    sk__pgp_i64(&p, now);
    return main_exec(s, "DELETE FROM bans WHERE until <= $1", &p, true, NULL);
}

static int pg_ban_list(struct sk_store *s, int64_t now, sk_store_ban_cb cb, void *arg)
{
    struct sk__pgp p = {.n = 0};
    struct sk_store_ban b;
    PGresult *r = NULL;
    int rc;

    sk__pgp_i64(&p, now);
    rc = main_exec(s,
                   "SELECT addr, until, level, reason, created FROM bans WHERE until > $1"
                   " ORDER BY addr",
                   &p, true, &r);
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        memset(&b, 0, sizeof(b));
        sk__pg_str(r, i, 0, b.addr, sizeof(b.addr));
        b.until = sk__pg_i64(r, i, 1);
        b.level = (unsigned)sk__pg_i64(r, i, 2);
        sk__pg_str(r, i, 3, b.reason, sizeof(b.reason));
        b.created = sk__pg_i64(r, i, 4);
        rc = cb(arg, &b);
    }
    PQclear(r);
    return rc;
}

/* ---- the nonce secret ------------------------------------------------------ */

/* INSERT .. ON CONFLICT DO NOTHING then SELECT: nodes starting together
 * all end up with the first one's secret. */
static int pg_secret(struct sk_store *s, unsigned char *out, size_t len)
{
    unsigned char mine[64];
    struct sk__pgp p = {.n = 0};
    PGresult *r = NULL;
    unsigned char *v;
    size_t n = 0;
    int rc;

    if (len > sizeof(mine) || RAND_bytes(mine, (int)len) != 1)
        return SK_EINVAL;
    sk__pgp_bin(&p, mine, len);
    rc = main_exec(s,
                   "INSERT INTO secrets (name, value) VALUES ('nonce', $1)"
                   " ON CONFLICT (name) DO NOTHING",
                   &p, true, NULL);
    memset(mine, 0, sizeof(mine));
    if (rc == 0)
        rc = main_exec(s, "SELECT value FROM secrets WHERE name = 'nonce'", NULL, true, &r);
    if (rc != 0)
        return rc;
    v = PQntuples(r) == 1 ? PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n) : NULL;
    rc = v != NULL && n == len ? 0 : SK_EIO;
    if (rc == 0)
        memcpy(out, v, len);
    if (v != NULL) {
        memset(v, 0, n);
        PQfreemem(v);
    }
    PQclear(r);
    return rc;
}

/* ---- nonce-counts shared by the nodes -------------------------------------- */

#define NONCE_PURGE_EVERY 1024 /* uses between two deletions of expired rows */

/* One INSERT per authenticated request: the primary key refuses a second
 * use of (nonce, nc) whichever node saw the first. Not retried on a new
 * connection: an INSERT whose answer was lost would look like a replay.
 *
 * Committed synchronously (its own WAL flush), on purpose. With
 * synchronous_commit off for it, a PostgreSQL crash could lose the rows of
 * the last few hundred milliseconds (up to three wal_writer_delay). For a
 * REGISTER that gets its 200 OK that is harmless: the writer's COMMIT of
 * the binding is flushed before the answer, and flushing it flushes all
 * the WAL written before it, this row included. But an INVITE, a
 * SUBSCRIBE, a REGISTER without Contact or one refused after the check
 * writes nothing afterwards: its row could be lost, and that
 * Authorization, captured on the wire, would then pass once more on
 * another node after the restart (the node that saw it still refuses it
 * from memory) while its nonce is fresh. With qop=auth the digest does
 * not cover the body or the Contact, so such a replay can place a call,
 * or bind the attacker's Contact, in the user's name. The nonce-count is
 * there for the server to detect such replays (RFC 7616 section 3.4, nc),
 * so the row must be durable before the request goes on. */
static int pg_nonce_use(struct sk_store *s, struct sk_slice nonce, uint32_t nc, int64_t expires_s)
{
    static _Atomic unsigned uses;
    char text[SK_AUTH_NONCE_MAX + 1];
    struct sk__pgp p = {.n = 0};
    PGresult *r = NULL;
    int rc;

    if (nonce.len >= sizeof(text))
        return SK_EINVAL;
    memcpy(text, nonce.p, nonce.len);
    text[nonce.len] = '\0';
    sk__pgp_text(&p, text);
    sk__pgp_i64(&p, nc);
    sk__pgp_i64(&p, expires_s);
    pthread_mutex_lock(&s->lock);
    rc = sk__pgc_exec(sk__pg_main(s),
                      "INSERT INTO nonce_uses (nonce, nc, expires_at) VALUES ($1, $2, $3)"
                      " ON CONFLICT DO NOTHING",
                      &p, false, &r);
    if (rc == 0) {
        rc = sk__pg_changes(r) == 1 ? 0 : SK_EEXIST;
        PQclear(r);
    }
    if (rc == 0 && ++uses % NONCE_PURGE_EVERY == 0) {
        struct sk__pgp q = {.n = 0};
        sk__pgp_i64(&q, sk_wall_s());
        sk__pgc_exec(sk__pg_main(s), "DELETE FROM nonce_uses WHERE expires_at < $1", &q, false,
                     NULL);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- location ---------------------------------------------------------------- */

static int pg_loc_init(struct sk_store *s, bool read_only)
{
    (void)s;
    (void)read_only; /* the table is part of the schema (pg.c) */
    return 0;
}

static enum sk_transport transport_of(int64_t tp)
{
    return tp == SK_TP_TCP   ? SK_TP_TCP
           : tp == SK_TP_TLS ? SK_TP_TLS
           : tp == SK_TP_WS  ? SK_TP_WS
                             : SK_TP_UDP;
}

/* Row i of an SK__PG_LOC_SELECT result; the strings point into r. */
static void fill_row(const PGresult *r, int i, struct sk__lrow *row)
{
    memset(row, 0, sizeof(*row));
    row->contact = PQgetvalue(r, i, 1);
    row->expires_at = sk__pg_i64(r, i, 2);
    row->q = (int)sk__pg_i64(r, i, 3);
    row->call_id = PQgetvalue(r, i, 4);
    row->cseq = (uint32_t)sk__pg_i64(r, i, 5);
    row->path = PQgetvalue(r, i, 6);
    row->tp = transport_of(sk__pg_i64(r, i, 7));
    row->src_ip = PQgetvalue(r, i, 8);
    row->src_port = (uint16_t)sk__pg_i64(r, i, 9);
    row->conn_id = (uint64_t)sk__pg_i64(r, i, 10);
    row->instance = PQgetvalue(r, i, 11);
    row->reg_id = (uint32_t)sk__pg_i64(r, i, 12);
    row->ua = PQgetvalue(r, i, 13);
    row->updated_at = sk__pg_i64(r, i, 14);
}

struct sk__lbind *sk__pg_rows(const PGresult *r, int from, int to, int *err)
{
    struct sk__lbind *head = NULL;

    *err = 0;
    for (int i = from; i < to; i++) {
        struct sk__lrow row;
        struct sk__lbind *b;
        fill_row(r, i, &row);
        if ((b = sk__lbind_new(&row)) == NULL) {
            sk__lbind_free_list(head);
            *err = SK_ENOMEM;
            return NULL;
        }
        b->next = head;
        head = b;
    }
    return head;
}

static int pg_loc_load(struct sk_store *s, sk__locdb_row_cb cb, void *arg)
{
    PGresult *r = NULL;
    int rc = main_exec(s, SK__PG_LOC_SELECT " ORDER BY aor", NULL, true, &r);

    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        struct sk__lrow row;
        fill_row(r, i, &row);
        rc = cb(arg, PQgetvalue(r, i, 0), &row);
    }
    PQclear(r);
    return rc;
}

/* The columns of a binding set, one PostgreSQL array each (text form,
 * elements in the list's order). */
enum {
    LC_CONTACT,
    LC_EXPIRES,
    LC_Q,
    LC_CALL_ID,
    LC_CSEQ,
    LC_PATH,
    LC_TP,
    LC_SRC_IP,
    LC_SRC_PORT,
    LC_CONN_ID,
    LC_INSTANCE,
    LC_REG_ID,
    LC_UA,
    LC_UPDATED,
    LC__COUNT
};

/* An element of a text array: always quoted (so "", NULL and spaces stay
 * text), with '"' and '\' escaped as the array syntax wants. */
static void arr_text(struct sk_buf *b, const char *s)
{
    sk_buf_append_cstr(b, b->len > 1 ? ",\"" : "\"");
    for (const char *c = s; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\')
            sk_buf_append(b, "\\", 1);
        sk_buf_append(b, c, 1);
    }
    sk_buf_append(b, "\"", 1);
}

static void arr_i64(struct sk_buf *b, int64_t v)
{
    sk_buf_printf(b, "%s%lld", b->len > 1 ? "," : "", (long long)v);
}

static void loc_arrays(const struct sk__lbind *rows, struct sk_buf *col)
{
    for (int c = 0; c < LC__COUNT; c++)
        sk_buf_append(&col[c], "{", 1);
    for (const struct sk__lbind *b = rows; b != NULL; b = b->next) {
        struct sk__lrow r;
        sk__lbind_row(b, &r);
        arr_text(&col[LC_CONTACT], r.contact);
        arr_i64(&col[LC_EXPIRES], r.expires_at);
        arr_i64(&col[LC_Q], r.q);
        arr_text(&col[LC_CALL_ID], r.call_id);
        arr_i64(&col[LC_CSEQ], r.cseq);
        arr_text(&col[LC_PATH], r.path);
        arr_i64(&col[LC_TP], (int64_t)r.tp);
        arr_text(&col[LC_SRC_IP], r.src_ip);
        arr_i64(&col[LC_SRC_PORT], r.src_port);
        arr_i64(&col[LC_CONN_ID], (int64_t)r.conn_id);
        arr_text(&col[LC_INSTANCE], r.instance);
        arr_i64(&col[LC_REG_ID], r.reg_id);
        arr_text(&col[LC_UA], r.ua);
        arr_i64(&col[LC_UPDATED], r.updated_at);
    }
    for (int c = 0; c < LC__COUNT; c++)
        sk_buf_append(&col[c], "}", 1);
}

/* An AOR's whole binding set in one statement: the rows of the AOR that
 * are not in the new set go, the others are inserted or updated, and the
 * other servers' feeds hear of it at the COMMIT (pg_feed.c). The DELETE
 * and the INSERT touch different rows (a data-modifying WITH sees one
 * snapshot, so a row must not be deleted and upserted by the same
 * statement); when the list holds a key twice the later entry wins, as
 * with one upsert per binding in the list's order. */
static const char loc_set_sql[] =
    "WITH n AS (SELECT DISTINCT ON (contact, instance, reg_id) * FROM unnest($3::text[],"
    " $4::bigint[], $5::int[], $6::text[], $7::bigint[], $8::text[], $9::int[], $10::text[],"
    " $11::int[], $12::bigint[], $13::text[], $14::bigint[], $15::text[], $16::bigint[])"
    " WITH ORDINALITY AS n(contact, expires_at, q, call_id, cseq, path, transport, src_ip,"
    " src_port, conn_id, instance, reg_id, user_agent, updated_at, ord)"
    " ORDER BY contact, instance, reg_id, ord DESC),"
    " d AS (DELETE FROM location l WHERE l.aor = $1 AND NOT EXISTS (SELECT 1 FROM n"
    " WHERE n.contact = l.contact AND n.instance = l.instance AND n.reg_id = l.reg_id)),"
    " u AS (INSERT INTO location (aor, contact, expires_at, q, call_id, cseq, path, transport,"
    " src_ip, src_port, conn_id, instance, reg_id, user_agent, updated_at)"
    " SELECT $1, contact, expires_at, q, call_id, cseq, path, transport, src_ip, src_port,"
    " conn_id, instance, reg_id, user_agent, updated_at FROM n"
    " ON CONFLICT (aor, contact, instance, reg_id) DO UPDATE SET"
    " expires_at = EXCLUDED.expires_at, q = EXCLUDED.q, call_id = EXCLUDED.call_id,"
    " cseq = EXCLUDED.cseq, path = EXCLUDED.path, transport = EXCLUDED.transport,"
    " src_ip = EXCLUDED.src_ip, src_port = EXCLUDED.src_port, conn_id = EXCLUDED.conn_id,"
    " user_agent = EXCLUDED.user_agent, updated_at = EXCLUDED.updated_at)"
    " SELECT pg_notify('" SK__PG_FEED_CHANNEL "', $2)";

static int loc_set(struct sk__pgconn *k, const struct sk__locop *op)
{
    char payload[16 + 1 + SK_LOC_AOR_MAX + 1];
    struct sk_buf col[LC__COUNT];
    struct sk__pgp p = {.n = 0};
    int rc = 0;

    for (int c = 0; c < LC__COUNT; c++)
        sk_buf_init(&col[c]);
    loc_arrays(op->rows, col);
    snprintf(payload, sizeof(payload), "%s %s", sk__pgc_node(k), op->aor);
    sk__pgp_text(&p, op->aor);
    sk__pgp_text(&p, payload);
    for (int c = 0; c < LC__COUNT; c++) {
        if (!sk_buf_ok(&col[c]))
            rc = SK_ENOMEM;
        sk__pgp_text(&p, col[c].p);
    }
    if (rc == 0)
        rc = sk__pgc_exec(k, loc_set_sql, &p, false, NULL);
    for (int c = 0; c < LC__COUNT; c++)
        sk_buf_free(&col[c]);
    return rc;
}

/* Inside the writer's transaction: no statement is retried on its own
 * (a new connection would be outside the transaction). */
static int pg_loc_write(struct sk__writer *w, struct sk__wop *wop)
{
    const struct sk__locop *op = (const struct sk__locop *)wop;
    struct sk__pgconn *k = sk__writer_conn(w);
    int rc;

    if (!op->purge)
        return loc_set(k, op);
    /* Purges are not announced: each server purges what expired. */
    for (const struct sk__lkey *key = op->purged; key != NULL; key = key->next) {
        struct sk__pgp p = {.n = 0};
        sk__pgp_text(&p, key->key);
        sk__pgp_i64(&p, op->before);
        rc = sk__pgc_exec(k, "DELETE FROM location WHERE aor = $1 AND expires_at <= $2", &p, false,
                          NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- subscriptions and publications -------------------------------------- */

#define SUB_COLS                                                                                   \
    "key, package, event_id, call_id, remote_tag, local_uri, remote_uri, remote_target,"           \
    " route_set, watcher, resource, remote_cseq, local_cseq, version, expires_at, state,"          \
    " transport, src_ip, src_port, conn_id"
#define PUB_COLS "etag, resource, package, ctype, expires_at, updated_at, seq, body"

static void sub_params(struct sk__pgp *p, const struct sk_subscription *sub)
{
    sk__pgp_text(p, sub->key);
    sk__pgp_text(p, sub->package);
    sk__pgp_text(p, sub->event_id);
    sk__pgp_text(p, sub->call_id);
    sk__pgp_text(p, sub->remote_tag);
    sk__pgp_text(p, sub->local_uri);
    sk__pgp_text(p, sub->remote_uri);
    sk__pgp_text(p, sub->remote_target);
    sk__pgp_text(p, sub->route_set);
    sk__pgp_text(p, sub->watcher);
    sk__pgp_text(p, sub->resource);
    sk__pgp_i64(p, sub->remote_cseq);
    sk__pgp_i64(p, sub->local_cseq);
    sk__pgp_i64(p, sub->version);
    sk__pgp_i64(p, sub->expires_at);
    sk__pgp_i64(p, (int64_t)sub->state);
    sk__pgp_i64(p, (int64_t)sub->transport);
    sk__pgp_text(p, sub->src_ip);
    sk__pgp_i64(p, sub->src_port);
    sk__pgp_i64(p, (int64_t)sub->conn_id);
}

static const char sub_put_sql[] =
    "INSERT INTO subscriptions (" SUB_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
    " $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) ON CONFLICT (key) DO UPDATE SET"
    " package = EXCLUDED.package, event_id = EXCLUDED.event_id, call_id = EXCLUDED.call_id,"
    " remote_tag = EXCLUDED.remote_tag, local_uri = EXCLUDED.local_uri,"
    " remote_uri = EXCLUDED.remote_uri, remote_target = EXCLUDED.remote_target,"
    " route_set = EXCLUDED.route_set, watcher = EXCLUDED.watcher,"
    " resource = EXCLUDED.resource, remote_cseq = EXCLUDED.remote_cseq,"
    " local_cseq = EXCLUDED.local_cseq, version = EXCLUDED.version,"
    " expires_at = EXCLUDED.expires_at, state = EXCLUDED.state,"
    " transport = EXCLUDED.transport, src_ip = EXCLUDED.src_ip,"
    " src_port = EXCLUDED.src_port, conn_id = EXCLUDED.conn_id";

/* Tell the other servers' feeds (pg_feed.c), at the COMMIT. */
static int pub_notify(struct sk__pgconn *k, const char *package, const char *resource)
{
    char payload[16 + 1 + SK_SUB_PKG_MAX + 1 + SK_LOC_AOR_MAX + 1];
    struct sk__pgp q = {.n = 0};

    snprintf(payload, sizeof(payload), "%s %s %s", sk__pgc_node(k), package, resource);
    sk__pgp_text(&q, payload);
    return sk__pgc_exec(k, "SELECT pg_notify('" SK__PG_PUB_CHANNEL "', $1)", &q, false, NULL);
}

static const char pub_put_sql[] =
    "INSERT INTO publications (" PUB_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (etag) DO UPDATE SET resource = EXCLUDED.resource,"
    " package = EXCLUDED.package, ctype = EXCLUDED.ctype, expires_at = EXCLUDED.expires_at,"
    " updated_at = EXCLUDED.updated_at, seq = EXCLUDED.seq, body = EXCLUDED.body";

static int pg_sub_write(struct sk__writer *w, struct sk__wop *wop)
{
    struct sk__subop *op = (struct sk__subop *)wop;
    struct sk__pgconn *k = sk__writer_conn(w);
    struct sk__pgp p = {.n = 0};
    const char *sql;
    PGresult *r = NULL;
    int rc;

    switch (op->which) {
    case SK__SUB_PUT:
        sub_params(&p, op->sub);
        return sk__pgc_exec(k, sub_put_sql, &p, false, NULL);
    case SK__PUB_PUT:
        if (op->key != NULL && op->key[0] != '\0') {
            sk__pgp_text(&p, op->key);
            rc = sk__pgc_exec(k, "DELETE FROM publications WHERE etag = $1", &p, false, NULL);
            if (rc != 0)
                return rc;
            p.n = 0;
        }
        sk__pgp_text(&p, op->pub->etag);
        sk__pgp_text(&p, op->pub->resource);
        sk__pgp_text(&p, op->pub->package);
        sk__pgp_text(&p, op->pub->ctype);
        sk__pgp_i64(&p, op->pub->expires_at);
        sk__pgp_i64(&p, op->pub->updated_at);
        sk__pgp_i64(&p, (int64_t)op->pub->seq);
        sk__pgp_bin(&p, op->pub->body.p, op->pub->body.len);
        if ((rc = sk__pgc_exec(k, pub_put_sql, &p, false, NULL)) != 0)
            return rc;
        return pub_notify(k, op->pub->package, op->pub->resource);
    case SK__SUB_SEQ:
        sk__pgp_text(&p, op->key);
        sk__pgp_i64(&p, op->local_cseq);
        sk__pgp_i64(&p, op->version);
        sql = "UPDATE subscriptions SET local_cseq = $2, version = $3 WHERE key = $1";
        break;
    case SK__SUB_DEL:
        sk__pgp_text(&p, op->key);
        sql = "DELETE FROM subscriptions WHERE key = $1";
        break;
    default:
        /* The other servers hear of it at the COMMIT (pg_feed.c). */
        sk__pgp_text(&p, op->key);
        sk__pgp_text(&p, sk__pgc_node(k));
        rc = sk__pgc_exec(k,
                          "SELECT pg_notify('" SK__PG_PUB_CHANNEL "', $2 || ' ' || package || ' '"
                          " || resource) FROM publications WHERE etag = $1",
                          &p, false, NULL);
        if (rc != 0)
            return rc;
        p.n = 0;
        sk__pgp_text(&p, op->key);
        sql = "DELETE FROM publications WHERE etag = $1";
        break;
    }
    if ((rc = sk__pgc_exec(k, sql, &p, false, &r)) != 0)
        return rc;
    if (sk__pg_changes(r) == 0)
        op->w.result = SK_ENOTFOUND;
    PQclear(r);
    return 0;
}

static int pg_sub_foreach(struct sk_store *s, sk_store_sub_cb cb, void *arg)
{
    struct sk_subscription sub;
    PGresult *r = NULL;
    int rc = main_exec(s, "SELECT " SUB_COLS " FROM subscriptions ORDER BY key", NULL, true, &r);

    /* The result is ours: the callback runs without the lock. */
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        memset(&sub, 0, sizeof(sub));
        sk__pg_str(r, i, 0, sub.key, sizeof(sub.key));
        sk__pg_str(r, i, 1, sub.package, sizeof(sub.package));
        sk__pg_str(r, i, 2, sub.event_id, sizeof(sub.event_id));
        sk__pg_str(r, i, 3, sub.call_id, sizeof(sub.call_id));
        sk__pg_str(r, i, 4, sub.remote_tag, sizeof(sub.remote_tag));
        sk__pg_str(r, i, 5, sub.local_uri, sizeof(sub.local_uri));
        sk__pg_str(r, i, 6, sub.remote_uri, sizeof(sub.remote_uri));
        sk__pg_str(r, i, 7, sub.remote_target, sizeof(sub.remote_target));
        sk__pg_str(r, i, 8, sub.route_set, sizeof(sub.route_set));
        sk__pg_str(r, i, 9, sub.watcher, sizeof(sub.watcher));
        sk__pg_str(r, i, 10, sub.resource, sizeof(sub.resource));
        sub.remote_cseq = (uint32_t)sk__pg_i64(r, i, 11);
        sub.local_cseq = (uint32_t)sk__pg_i64(r, i, 12);
        sub.version = (uint32_t)sk__pg_i64(r, i, 13);
        sub.expires_at = sk__pg_i64(r, i, 14);
        sub.state = (enum sk_sub_state)sk__pg_i64(r, i, 15);
        sub.transport = transport_of(sk__pg_i64(r, i, 16));
        sk__pg_str(r, i, 17, sub.src_ip, sizeof(sub.src_ip));
        sub.src_port = (uint16_t)sk__pg_i64(r, i, 18);
        sub.conn_id = (uint64_t)sk__pg_i64(r, i, 19);
        rc = cb(arg, &sub);
    }
    PQclear(r);
    return rc;
}

static int pg_pub_foreach(struct sk_store *s, sk_store_pub_cb cb, void *arg)
{
    struct sk_publication pub;
    PGresult *r = NULL;
    int rc = main_exec(s, "SELECT " PUB_COLS " FROM publications ORDER BY seq", NULL, true, &r);

    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        size_t n = 0;
        unsigned char *body = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 7), &n);
        if (body == NULL) {
            rc = SK_ENOMEM;
            break;
        }
        memset(&pub, 0, sizeof(pub));
        sk__pg_str(r, i, 0, pub.etag, sizeof(pub.etag));
        sk__pg_str(r, i, 1, pub.resource, sizeof(pub.resource));
        sk__pg_str(r, i, 2, pub.package, sizeof(pub.package));
        sk__pg_str(r, i, 3, pub.ctype, sizeof(pub.ctype));
        pub.expires_at = sk__pg_i64(r, i, 4);
        pub.updated_at = sk__pg_i64(r, i, 5);
        pub.seq = (uint64_t)sk__pg_i64(r, i, 6);
        pub.body = sk_slice_make((const char *)body, n);
        rc = cb(arg, &pub);
        PQfreemem(body);
    }
    PQclear(r);
    return rc;
}

const struct sk__store_ops sk__pg_ops = {
    .name = "postgresql",
    .close = sk__pg_close,
    .version = pg_version,
    .user_get = pg_user_get,
    .user_count_custom = pg_user_count_custom,
    .user_write = pg_user_write,
    .user_set_algos = pg_user_set_algos,
    .user_list = pg_user_list,
    .ban_put = pg_ban_put,
    .ban_del = pg_ban_del,
    .ban_purge = pg_ban_purge,
    .ban_list = pg_ban_list,
    .sub_foreach = pg_sub_foreach,
    .pub_foreach = pg_pub_foreach,
    .loc_init = pg_loc_init,
    .loc_load = pg_loc_load,
    .secret = pg_secret,
    .nonce_use = pg_nonce_use,
    .feed_set = sk__pgfeed_set,
    .pub_feed_set = sk__pgfeed_pub_set,
    .loc_write = pg_loc_write,
    .sub_write = pg_sub_write,
};
