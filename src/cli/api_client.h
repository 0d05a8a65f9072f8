/*
 * The admin API seen from the command line (docs/api.md): `sipkit users`,
 * `location` and `status` given --server URL talk to a running server's
 * admin listener (libcurl, bearer token from --token-file) instead of
 * opening the data directory.
 */
#ifndef SK_CLI_API_CLIENT_H
#define SK_CLI_API_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

struct sk_cli_api {
    const char *server;     /* "http://127.0.0.1:9060"; NULL: use the data directory */
    const char *token_file; /* default SK_CLI_TOKEN_FILE */
};

#define SK_CLI_TOKEN_FILE "/etc/sipkit/admin.token"

/* argv[*i] is --server URL or --token-file FILE (or the =VALUE forms):
 * 1 when consumed (i advanced past a separate value), 0 when it is
 * neither, -1 when the value is missing (said on stderr). */
int sk_cli_api_opt(const char *cmd, int argc, char **argv, int *i, struct sk_cli_api *a);

/* METHOD path (already escaped) with an optional JSON body (borrowed).
 * Returns the HTTP status with *out the parsed JSON answer (the caller
 * json_decref()s it; NULL when the body was not JSON), or -1 after
 * printing why no answer came (token file, connection). */
long sk_cli_api_call(const char *cmd, const struct sk_cli_api *a, const char *method,
                     const char *path, json_t *body, json_t **out);

/* For a status >= 400: print the answer's "error" and return the exit
 * status it maps to (401 -> SK_EXIT_AUTH, 400 -> SK_EXIT_USAGE, other 4xx
 * -> SK_EXIT_FAIL, 5xx -> SK_EXIT_SYSTEM). -1 (no answer) maps to
 * SK_EXIT_NETWORK. 2xx returns SK_EXIT_OK. */
int sk_cli_api_exit(const char *cmd, long status, json_t *answer);

/* A path segment escaped for a URL (curl_easy_escape), into buf. Returns
 * buf, or NULL when it does not fit. */
char *sk_cli_api_escape(const char *s, char *buf, size_t bufsz);

#endif
