/*
 * sipkit admin layer: the HTTP admin listener of `sipkit serve` (off unless
 * configured). It serves, to requests carrying `Authorization: Bearer
 * TOKEN`:
 *
 *   GET  /metrics                  Prometheus text format 0.0.4
 *   GET  /api/v1/status            version, uptime, workers, listeners, config
 *   GET  /api/v1/location[?aor=]   registrar bindings
 *   GET  /api/v1/users             the served domain's users
 *   POST /api/v1/users             {"username": ..., "password": ...} -> 201
 *   PUT  /api/v1/users/NAME        {"password": ...}
 *   DELETE /api/v1/users/NAME
 *   GET  /api/v1/subscriptions     subscriptions and publications
 *
 * docs/api.md documents each with examples. Errors are JSON {"error": "..."}
 * with 400 (bad JSON input, saying what is wrong), 401 (missing or wrong
 * token), 404, 405 (with Allow), 409 (user exists), 413 (body too large).
 *
 * HTTP is libmicrohttpd's (one internal polling thread), JSON is jansson's.
 * The layer knows the server only through include/sipkit/server.h and
 * store.h.
 *
 * Memory: sk_admin_new() returns a listener owned by the caller, released
 * by sk_admin_free() (NULL-safe), which must come before sk_server_free().
 * The token is kept only as its SHA-256 and compared in constant time.
 *
 * Threads: new/free/reload/add_collector from the controlling thread;
 * requests are served on libmicrohttpd's thread, and collectors are called
 * there.
 */
#ifndef SIPKIT_ADMIN_H
#define SIPKIT_ADMIN_H

#include <sipkit/base.h>
#include <sipkit/server.h>
#include <sipkit/transport.h>

struct sk_admin;

struct sk_admin_config {
    const char *listen;     /* "ADDR:PORT"; port 0 picks a free one (sk_admin_addr) */
    const char *token_file; /* first line: the bearer token (surrounding blanks ignored) */
    const char *version;    /* reported by /api/v1/status and sipkit_build_info */
    struct sk_server *server;
};

/* Bodies larger than this are refused with 413. */
#define SK_ADMIN_BODY_MAX 65536
/* Tokens shorter than this are refused at start (a guessable secret). */
#define SK_ADMIN_TOKEN_MIN 16

/* Read the token, bind and start serving. Returns 0, SK_EINVAL (bad
 * address, empty or short token: logged with the reason), -errno (token
 * file unreadable) or SK_EIO (cannot listen). */
int sk_admin_new(struct sk_admin **out, const struct sk_admin_config *cfg);
void sk_admin_free(struct sk_admin *a);
/* The bound address (port 0 resolved). */
int sk_admin_addr(const struct sk_admin *a, struct sk_addr *out);
/* Read the token file again (SIGHUP); on failure the old token stays.
 * Returns 0 or as sk_admin_new(). */
int sk_admin_reload_token(struct sk_admin *a);

/* A source of extra metrics appended to /metrics: it writes complete
 * Prometheus text (# HELP, # TYPE and samples) to out. This is the hook
 * for layers the admin does not know (the server's own counters, the
 * guard's included, are in sk_admin_metrics()): the code that owns them
 * registers a collector after sk_admin_new(). Called on the admin
 * thread, once per scrape, with no admin lock held. */
typedef void (*sk_admin_collect_cb)(void *arg, struct sk_buf *out);
/* At most SK_ADMIN_COLLECTORS. Returns 0 or SK_ENOMEM (table full). */
#define SK_ADMIN_COLLECTORS 8
int sk_admin_add_collector(struct sk_admin *a, sk_admin_collect_cb cb, void *arg);

/* The Prometheus text for a server (what GET /metrics serves), without
 * the collectors: for tests and tools. */
void sk_admin_metrics(struct sk_server *s, const char *version, struct sk_buf *out);

#endif
