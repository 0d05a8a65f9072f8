/*
 * Private state of the admin layer, shared by admin.c (the HTTP listener:
 * libmicrohttpd, bearer tokens, bodies, errors), api.c (the JSON API) and
 * metrics.c (Prometheus text).
 *
 * Threads: libmicrohttpd's one polling thread runs every request; the
 * controlling thread only swaps the token (under token_lock) and appends
 * collectors (published through the atomic ncoll).
 */
#ifndef SK_ADMIN_INT_H
#define SK_ADMIN_INT_H

#include <sipkit/admin.h>
#include <sipkit/store.h>

#include <pthread.h>
#include <stdatomic.h>

struct MHD_Daemon;

struct sk_admin {
    struct MHD_Daemon *daemon;
    struct sk_server *server;
    struct sk_addr addr;
    char version[64];
    char token_file[SK_SERVER_PATH_MAX];
    pthread_mutex_t token_lock;
    unsigned char token_sha[32]; /* SHA-256 of the token: compared, never the token */
    struct {
        sk_admin_collect_cb cb;
        void *arg;
    } coll[SK_ADMIN_COLLECTORS];
    _Atomic size_t ncoll;
};

/* One request as the API sees it, and the answer it builds. */
struct sk__http_req {
    const char *method;
    const char *path; /* decoded, without the query */
    const char *aor;  /* ?aor= on /api/v1/location, or NULL */
    const char *body;
    size_t body_len;
};

struct sk__http_resp {
    unsigned status;
    const char *ctype;
    const char *allow; /* for 405 */
    struct sk_buf body;
};

/* A JSON {"error": "..."} answer. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void sk__http_error(struct sk__http_resp *r, unsigned status, const char *fmt, ...);

/* api.c: everything under /api/v1/. */
void sk__api_handle(struct sk_admin *a, const struct sk__http_req *q, struct sk__http_resp *r);

#endif
