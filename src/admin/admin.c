/*
 * The admin HTTP listener (include/sipkit/admin.h): libmicrohttpd with one
 * internal polling thread, bounded connections and bodies, and a bearer
 * token on every request (RFC 6750 §2.1: `Authorization: Bearer TOKEN`;
 * §3: 401 with `WWW-Authenticate: Bearer` when it is missing or wrong).
 *
 * The token is read from a file (so it never appears in a process list or
 * a config file that is world-readable) and kept only as its SHA-256:
 * comparing two digests of fixed length with CRYPTO_memcmp() takes the
 * same time whatever the presented token, its length included.
 *
 * Memory: one struct reqctx per request collects the body (at most
 * SK_ADMIN_BODY_MAX) and is freed by the request-completed callback.
 */
#include "admin/admin_int.h"

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct reqctx {
    struct sk_buf body;
    bool too_big;
};

/* The message quotes what the client sent (a path decoded from %FF...):
 * sk_buf_append_json() keeps the answer valid JSON whatever the bytes. */
void sk__http_error(struct sk__http_resp *r, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->status = status;
    r->ctype = "application/json";
    sk_buf_reset(&r->body);
    sk_buf_append_cstr(&r->body, "{\"error\": ");
    sk_buf_append_json(&r->body, sk_slice_cstr(msg));
    sk_buf_append_cstr(&r->body, "}\n");
}

/* ---- the token ------------------------------------------------------------ */

static int sha256(const void *p, size_t n, unsigned char out[32])
{
    unsigned len = 0;

    return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32 ? 0 : SK_EIO;
}

static int read_token(const char *path, unsigned char sha[32])
{
    char line[1024];
    size_t b, e;
    FILE *f = fopen(path, "r");
    int rc;

    if (f == NULL) {
        rc = -errno;
        SK_LOG(SK_LOG_ERROR, "admin", "event=token_failed file=\"%s\" error=\"%s\"", path,
               sk_strerror(rc));
        return rc;
    }
    if (fgets(line, sizeof(line), f) == NULL)
        line[0] = '\0';
    fclose(f);
    b = strspn(line, " \t");
    e = strlen(line);
    while (e > b && (line[e - 1] == '\n' || line[e - 1] == '\r' || line[e - 1] == ' ' ||
                     line[e - 1] == '\t'))
        e--;
    if (e - b < SK_ADMIN_TOKEN_MIN) {
        SK_LOG(SK_LOG_ERROR, "admin",
               "event=token_failed file=\"%s\" error=\"the token must be at least %d characters\"",
               path, SK_ADMIN_TOKEN_MIN);
        return SK_EINVAL;
    }
    rc = sha256(line + b, e - b, sha);
    OPENSSL_cleanse(line, sizeof(line));
    return rc;
}

int sk_admin_reload_token(struct sk_admin *a)
{
    unsigned char sha[32];
    int rc = read_token(a->token_file, sha);

    if (rc != 0)
        return rc;
    pthread_mutex_lock(&a->token_lock);
    memcpy(a->token_sha, sha, sizeof(sha));
    pthread_mutex_unlock(&a->token_lock);
    return 0;
}

static bool authorized(struct sk_admin *a, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    unsigned char got[32], want[32];

    /* RFC 6750 §2.1: the scheme is case-insensitive, the token is not. */
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    h += strspn(h, " ");
    if (sha256(h, strlen(h), got) != 0)
        return false;
    pthread_mutex_lock(&a->token_lock);
    memcpy(want, a->token_sha, sizeof(want));
    pthread_mutex_unlock(&a->token_lock);
    return CRYPTO_memcmp(got, want, sizeof(got)) == 0;
}

/* ---- requests -------------------------------------------------------------- */

static void serve_metrics(struct sk_admin *a, const struct sk__http_req *q, struct sk__http_resp *r)
{
    size_t n;

    if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0) {
        sk__http_error(r, 405, "%s /metrics: only GET is allowed", q->method);
        r->allow = "GET";
        return;
    }
    r->status = 200;
    r->ctype = "text/plain; version=0.0.4; charset=utf-8";
    sk_admin_metrics(a->server, a->version, &r->body);
    n = atomic_load_explicit(&a->ncoll, memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        a->coll[i].cb(a->coll[i].arg, &r->body);
}

static void route(struct sk_admin *a, struct MHD_Connection *c, const struct reqctx *rc,
                  const char *url, const char *method, struct sk__http_resp *r)
{
    struct sk__http_req q = {method, url, NULL, rc->body.p, rc->body.len};

    if (!authorized(a, c)) {
        const char *h =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        sk__http_error(r, 401, "%s",
                       h == NULL ? "missing Authorization: Bearer TOKEN (see --admin-token-file)"
                                 : "wrong token");
        SK_LOG(SK_LOG_INFO, "admin", "event=unauthorized method=%s path=\"%.64s\" reason=%s",
               method, url, h == NULL ? "missing" : "wrong");
        return;
    }
    if (rc->too_big) {
        sk__http_error(r, 413, "request body larger than %d bytes", SK_ADMIN_BODY_MAX);
        return;
    }
    if (strcmp(url, "/metrics") == 0) {
        serve_metrics(a, &q, r);
        return;
    }
    if (strncmp(url, "/api/v1/", 8) == 0) {
        q.aor = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "aor");
        sk__api_handle(a, &q, r);
        return;
    }
    sk__http_error(r, 404, "no such resource: %s (see docs/api.md)", url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct sk_admin *a = cls;
    struct reqctx *rc = *con_cls;
    struct sk__http_resp r = {500, "application/json", NULL, {0}};
    struct MHD_Response *resp;
    enum MHD_Result ret;

    (void)version;
    if (rc == NULL) {
        rc = sk_calloc(1, sizeof(*rc));
        if (rc == NULL)
            return MHD_NO;
        sk_buf_init(&rc->body);
        *con_cls = rc;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (rc->body.len + *upload_size > SK_ADMIN_BODY_MAX)
            rc->too_big = true;
        else
            sk_buf_append(&rc->body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    sk_buf_append(&rc->body, "", 1); /* NUL for the JSON parser; not counted */
    rc->body.len--;
    sk_buf_init(&r.body);
    if (!sk_buf_ok(&rc->body))
        sk__http_error(&r, 500, "out of memory");
    else
        route(a, c, rc, url, method, &r);
    if (!sk_buf_ok(&r.body)) {
        sk_buf_free(&r.body);
        return MHD_NO;
    }
    resp = MHD_create_response_from_buffer(r.body.len, r.body.p, MHD_RESPMEM_MUST_COPY);
    sk_buf_free(&r.body);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r.status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sipkit\"");
    if (r.allow != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r.allow);
    ret = MHD_queue_response(c, r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct reqctx *rc = *con_cls;

    (void)cls;
    (void)c;
    (void)code;
    if (rc == NULL)
        return;
    sk_buf_free(&rc->body);
    sk_free(rc);
    *con_cls = NULL;
}

/* libmicrohttpd's own messages: its format and arguments (clang checks
 * the va_list use only with the attribute). */
#if defined(__GNUC__)
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
#endif

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[256];

    (void)cls;
    vsnprintf(text, sizeof(text), fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    SK_LOG(SK_LOG_WARN, "admin", "event=http_error error=\"%s\"", text);
}

/* ---- lifecycle ------------------------------------------------------------- */

int sk_admin_new(struct sk_admin **out, const struct sk_admin_config *cfg)
{
    struct sk_admin *a;
    char addr[SK_ADDR_STRLEN];
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    int rc;

    if (cfg->server == NULL || cfg->listen == NULL || cfg->token_file == NULL)
        return SK_EINVAL;
    a = sk_calloc(1, sizeof(*a));
    if (a == NULL)
        return SK_ENOMEM;
    pthread_mutex_init(&a->token_lock, NULL);
    a->server = cfg->server;
    snprintf(a->version, sizeof(a->version), "%s", cfg->version != NULL ? cfg->version : "0");
    snprintf(a->token_file, sizeof(a->token_file), "%s", cfg->token_file);
    if (sk_addr_parse(sk_slice_cstr(cfg->listen), 0, &a->addr) != 0) {
        SK_LOG(SK_LOG_ERROR, "admin", "event=listen_failed addr=\"%s\" error=\"not ADDR:PORT\"",
               cfg->listen);
        rc = SK_EINVAL;
        goto fail;
    }
    if ((rc = sk_admin_reload_token(a)) != 0)
        goto fail;
    if (a->addr.sa.sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* Bounded: an admin port serves a few scrapers and operators, and
     * must not become a way to exhaust the server's descriptors. */
    a->daemon = MHD_start_daemon(
        flags, sk_addr_port(&a->addr), NULL, NULL, on_request, a, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)&a->addr.sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)32, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)16,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(2 * SK_ADMIN_BODY_MAX), MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (a->daemon == NULL) {
        SK_LOG(SK_LOG_ERROR, "admin", "event=listen_failed addr=%s error=\"cannot listen\"",
               sk_addr_format(&a->addr, addr, sizeof(addr)));
        rc = SK_EIO;
        goto fail;
    }
    info = MHD_get_daemon_info(a->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info != NULL && info->port != 0)
        sk_addr_set_port(&a->addr, info->port);
    SK_LOG(SK_LOG_INFO, "admin", "event=listening transport=http addr=%s",
           sk_addr_format(&a->addr, addr, sizeof(addr)));
    *out = a;
    return 0;
fail:
    sk_admin_free(a);
    return rc;
}

void sk_admin_free(struct sk_admin *a)
{
    if (a == NULL)
        return;
    if (a->daemon != NULL)
        MHD_stop_daemon(a->daemon);
    OPENSSL_cleanse(a->token_sha, sizeof(a->token_sha));
    pthread_mutex_destroy(&a->token_lock);
    sk_free(a);
}

int sk_admin_addr(const struct sk_admin *a, struct sk_addr *out)
{
    *out = a->addr;
    return 0;
}

int sk_admin_add_collector(struct sk_admin *a, sk_admin_collect_cb cb, void *arg)
{
    size_t n = atomic_load_explicit(&a->ncoll, memory_order_relaxed);

    if (n == SK_ADMIN_COLLECTORS)
        return SK_ENOMEM;
    a->coll[n].cb = cb;
    a->coll[n].arg = arg;
    atomic_store_explicit(&a->ncoll, n + 1, memory_order_release);
    return 0;
}
