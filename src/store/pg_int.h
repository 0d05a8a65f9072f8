/*
 * Internals of the PostgreSQL backend (pg.c: connections, reconnection,
 * schema; pg_ops.c: the statements behind struct sk__store_ops).
 *
 * A connection (struct sk__pgconn) is used by one thread at a time: the
 * store's "main" one under the store's lock, the "writer" one by the
 * writer thread only.
 */
#ifndef SK_STORE_PG_INT_H
#define SK_STORE_PG_INT_H

#include "store/store_int.h"

#include <libpq-fe.h>

struct sk__pgconn;

/* Parameters of one statement, as text (format 0) or binary (format 1). */
#define SK__PG_MAXP 20
struct sk__pgp {
    const char *v[SK__PG_MAXP];
    int len[SK__PG_MAXP], fmt[SK__PG_MAXP];
    char num[SK__PG_MAXP][24];
    int n;
};

void sk__pgp_text(struct sk__pgp *p, const char *s);
void sk__pgp_i64(struct sk__pgp *p, int64_t v);
void sk__pgp_bin(struct sk__pgp *p, const void *b, size_t n);

/* Run sql with p's parameters (p may be NULL), connecting first if the
 * connection is down and its retry time has come. On success returns 0
 * and, when out is not NULL, the result (PQclear it). Errors: SK_EUNAVAIL
 * (no connection; logged as a state change), SK_EEXIST (unique
 * violation), -ENOSPC, -EBUSY, SK_EIO. A statement that fails because an
 * idle connection died (the server restarted) is retried once on a new
 * connection when retry is true (reads, and writes that may run twice).
 * A SELECT, INSERT, UPDATE, DELETE or WITH without ';' is prepared on the
 * connection at its first run and executed by name after (pg.c). */
int sk__pgc_exec(struct sk__pgconn *k, const char *sql, const struct sk__pgp *p, bool retry,
                 PGresult **out);
/* The store's main connection (use under the store's lock). */
struct sk__pgconn *sk__pg_main(struct sk_store *s);
/* Another connection (down until its first statement), and its end. */
struct sk__pgconn *sk__pgc_new(struct sk_store *s, const char *role);
void sk__pgc_free(struct sk__pgconn *k);
/* The libpq connection while up, else NULL. */
PGconn *sk__pgc_conn(struct sk__pgconn *k);
/* The connection failed outside sk__pgc_exec (PQconsumeInput): down. */
void sk__pgc_lost(struct sk__pgconn *k);
/* Milliseconds until a down connection may be tried again (0: now, or up). */
int sk__pgc_retry_ms(struct sk__pgconn *k);
/* This process's id in the change feed (16 hex digits). */
const char *sk__pgc_node(const struct sk__pgconn *k);

/* The change feed (pg_feed.c): LISTEN on a connection of its own. */
struct sk__pgfeed;
struct sk__pgfeed **sk__pg_feedp(struct sk_store *s);
int sk__pgfeed_set(struct sk_store *s, sk__feed_cb feed, void *arg);
void sk__pgfeed_free(struct sk__pgfeed *f);
#define SK__PG_FEED_CHANNEL "sipkit_location"
/* Publications: "NODE PACKAGE RESOURCE" on this channel. */
#define SK__PG_PUB_CHANNEL "sipkit_presence"
int sk__pgfeed_pub_set(struct sk_store *s, sk_store_pub_feed_cb cb, void *arg);
/* Location rows (columns as pg_ops.c selects them) [from, to) of one AOR
 * as a binding list; NULL with *err set on failure (or when empty). */
struct sk__lbind *sk__pg_rows(const PGresult *r, int from, int to, int *err);
/* SELECT of location columns, aor first; "WHERE aor = $1" may follow. */
#define SK__PG_LOC_SELECT                                                                          \
    "SELECT aor, contact, expires_at, q, call_id, cseq, path, transport, src_ip, src_port,"        \
    " conn_id, instance, reg_id, user_agent, updated_at FROM location"

/* Column helpers (text results). */
int64_t sk__pg_i64(const PGresult *r, int row, int col);
void sk__pg_str(const PGresult *r, int row, int col, char *dst, size_t dstsz);
/* Rows changed by an INSERT, UPDATE or DELETE. */
int sk__pg_changes(const PGresult *r);

extern const struct sk__store_ops sk__pg_ops;
/* The ops table's close: the main connection, the URL, the password. */
void sk__pg_close(struct sk_store *s);

#endif
