/*
 * HTTP client side of the admin API for `sipkit users|location|status
 * --server URL`: one libcurl easy handle per call, the bearer token read
 * from a file (never from the command line, where `ps` would show it),
 * JSON bodies from jansson. Bounded: 10 s to connect and answer.
 */
#include "cli/api_client.h"
#include "cli/cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/base.h>

int sk_cli_api_opt(const char *cmd, int argc, char **argv, int *i, struct sk_cli_api *a)
{
    static const char *const names[] = {"--server", "--token-file"};

    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(names[k]);
        const char **dst = k == 0 ? &a->server : &a->token_file;
        if (strncmp(argv[*i], names[k], n) != 0)
            continue;
        if (argv[*i][n] == '=') {
            *dst = argv[*i] + n + 1;
            return 1;
        }
        if (argv[*i][n] != '\0')
            continue;
        if (*i + 1 >= argc) {
            sk_cli_error(cmd, "%s needs a value", names[k]);
            return -1;
        }
        *dst = argv[++*i];
        return 1;
    }
    return 0;
}

/* The first line of the token file, without blanks around it. */
static int read_token(const char *cmd, const char *path, char *out, size_t outsz)
{
    FILE *f = fopen(path, "r");
    size_t b, e;

    if (f == NULL) {
        sk_cli_error(cmd, "token file '%s': %m (give --token-file FILE)", path);
        return -1;
    }
    if (fgets(out, (int)outsz, f) == NULL)
        out[0] = '\0';
    fclose(f);
    b = strspn(out, " \t");
    e = strlen(out);
    while (e > b && strchr(" \t\r\n", out[e - 1]) != NULL)
        e--;
    memmove(out, out + b, e - b);
    out[e - b] = '\0';
    if (out[0] == '\0') {
        sk_cli_error(cmd, "token file '%s' is empty", path);
        return -1;
    }
    return 0;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    sk_buf_append(arg, p, size * n);
    return size * n;
}

long sk_cli_api_call(const char *cmd, const struct sk_cli_api *a, const char *method,
                     const char *path, json_t *body, json_t **out)
{
    char token[1024], auth[1100];
    struct sk_buf url, resp;
    struct curl_slist *hdrs = NULL;
    char *text = NULL;
    long status = -1;
    CURL *c;
    CURLcode rc;

    *out = NULL;
    if (read_token(cmd, a->token_file != NULL ? a->token_file : SK_CLI_TOKEN_FILE, token,
                   sizeof(token)) != 0)
        return -1;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    explicit_bzero(token, sizeof(token));
    sk_buf_init(&url);
    sk_buf_init(&resp);
    /* "http://host:port/" + "/api/..." would double the slash. */
    size_t n = strlen(a->server);
    while (n > 0 && a->server[n - 1] == '/')
        n--;
    sk_buf_printf(&url, "%.*s%s", (int)n, a->server, path);
    c = curl_easy_init();
    hdrs = curl_slist_append(hdrs, auth);
    explicit_bzero(auth, sizeof(auth));
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    }
    if (c == NULL || hdrs == NULL || !sk_buf_ok(&url) || (body != NULL && text == NULL)) {
        sk_cli_error(cmd, "out of memory");
        goto done;
    }
    curl_easy_setopt(c, CURLOPT_URL, url.p);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    if (text != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        sk_cli_error(cmd, "%s: %s", url.p, curl_easy_strerror(rc));
        goto done;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (sk_buf_ok(&resp) && resp.len > 0)
        *out = json_loadb(resp.p, resp.len, 0, NULL);
done:
    free(text);
    curl_slist_free_all(hdrs);
    if (c != NULL)
        curl_easy_cleanup(c);
    sk_buf_free(&url);
    sk_buf_free(&resp);
    return status;
}

int sk_cli_api_exit(const char *cmd, long status, json_t *answer)
{
    const char *msg = json_string_value(json_object_get(answer, "error"));

    if (status < 0)
        return SK_EXIT_NETWORK;
    if (status < 400)
        return SK_EXIT_OK;
    sk_cli_error(cmd, "server answered %ld: %s", status, msg != NULL ? msg : "(no message)");
    if (status == 401)
        return SK_EXIT_AUTH;
    if (status == 400)
        return SK_EXIT_USAGE;
    return status < 500 ? SK_EXIT_FAIL : SK_EXIT_SYSTEM;
}

char *sk_cli_api_escape(const char *s, char *buf, size_t bufsz)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *ret = NULL;

    if (e != NULL && strlen(e) < bufsz) {
        memcpy(buf, e, strlen(e) + 1);
        ret = buf;
    }
    curl_free(e);
    return ret;
}
