/*
 * libFuzzer target for the admin JSON API (src/admin/api.c): what an
 * authorized client sends after libmicrohttpd has parsed the HTTP (the
 * method, the decoded path, ?aor= and the body) goes to the API's router,
 * with a server (not started) on a data directory of its own, so user
 * bodies reach the store. Input: one byte choosing the method, the path
 * under /api/v1/ up to a newline, the aor up to a newline (none when
 * empty), then the body. Beyond "no crash, no leak", every answer must
 * have a status the API documents (docs/api.md) and, as JSON, parse.
 */
#include "admin/admin_int.h"

#include <sipkit/server.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sk_admin admin;
static bool ready;

static void setup(void)
{
    static char dir[] = "/tmp/sk-fuzz-admin.XXXXXX";
    struct sk_server_config cfg;
    struct sk_server *s = NULL;
    char err[256];

    if (mkdtemp(dir) == NULL)
        abort();
    sk_server_config_init(&cfg);
    snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s", dir);
    snprintf(cfg.domain, sizeof(cfg.domain), "example.test");
    if (sk_server_config_finish(&cfg, err, sizeof(err)) != 0 ||
        sk_server_new(&s, &cfg, NULL, NULL) != 0) {
        fprintf(stderr, "fuzz_admin: no server: %s\n", err);
        abort();
    }
    admin.server = s;
    snprintf(admin.version, sizeof(admin.version), "fuzz");
    pthread_mutex_init(&admin.token_lock, NULL);
    ready = true;
}

/* The next field up to '\n' (or the end), NUL-terminated in a copy. */
static char *field(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = (size_t)((nl != NULL ? nl : end) - *p);
    char *out = malloc(n + 1);

    if (out == NULL)
        abort();
    memcpy(out, *p, n);
    out[n] = '\0'; /* MHD hands over C strings: a NUL in it ends it */
    *p = nl != NULL ? nl + 1 : end;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"};
    const uint8_t *p = data, *end = data + size;
    struct sk__http_req q;
    struct sk__http_resp r = {500, "application/json", NULL, {0}};
    char *sub, *aor, *path, *body;
    size_t blen;

    if (!ready)
        setup();
    if (size == 0)
        return 0;
    q.method = methods[*p++ % 6];
    sub = field(&p, end);
    aor = field(&p, end);
    path = malloc(strlen(sub) + 9);
    if (path == NULL)
        abort();
    memcpy(path, "/api/v1/", 8);
    memcpy(path + 8, sub, strlen(sub) + 1);
    /* As admin.c passes it: the body with a NUL after it, not counted. */
    blen = (size_t)(end - p);
    body = malloc(blen + 1);
    if (body == NULL)
        abort();
    if (blen > 0)
        memcpy(body, p, blen);
    body[blen] = '\0';
    q.path = path;
    q.aor = aor[0] != '\0' ? aor : NULL;
    q.body = body;
    q.body_len = blen;
    sk_buf_init(&r.body);
    sk__api_handle(&admin, &q, &r);
    switch (r.status) {
    case 200:
    case 201:
    case 400:
    case 404:
    case 405:
    case 409:
    case 500:
        break;
    default:
        abort();
    }
    if (r.status == 405 && r.allow == NULL)
        abort();
    if (sk_buf_ok(&r.body) && strcmp(r.ctype, "application/json") == 0) {
        json_t *j = json_loadb(r.body.p, r.body.len, 0, NULL);
        if (j == NULL)
            abort();
        json_decref(j);
    }
    sk_buf_free(&r.body);
    free(body);
    free(path);
    free(aor);
    free(sub);
    return 0;
}
