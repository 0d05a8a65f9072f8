/*
 * sipkit status [--server URL [--token-file FILE]] [--data-dir DIR | --store URL] [--json]
 *
 * With --server: what a running server says about itself through its
 * admin API (GET /api/v1/status, docs/api.md): version, domain, uptime,
 * workers, listeners, bindings. Without: what the server's store holds
 * (users, bindings, subscriptions), read-only, so it is safe while
 * `sipkit serve` runs: the data directory's SQLite database, or with
 * --store URL the PostgreSQL database a cluster's nodes share (the same
 * options as `sipkit users`, store_cli.h). Exit 0, 4 (no answer), 5
 * (token refused), 6 (store unreadable or unreachable).
 */
#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/store_cli.h"

#include <stdio.h>
#include <string.h>

#include <sipkit/store.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit status --server URL [--token-file FILE] [--json]\n"
                 "       sipkit status [--data-dir DIR | --store URL] [--json]\n"
                 "\n"
                 "  --server URL      a running server's admin listener (e.g.\n"
                 "                    http://127.0.0.1:9060, see `sipkit serve --admin`)\n"
                 "  --token-file FILE the admin bearer token (default " SK_CLI_TOKEN_FILE ")\n"
                 "without --server, what the server's store holds:\n");
    fputs(SK_CLI_STORE_USAGE, out);
    fprintf(out, "  --json            print JSON\n");
}

static int remote(const struct sk_cli_api *api, bool json)
{
    json_t *a = NULL, *v;
    long status = sk_cli_api_call("status", api, "GET", "/api/v1/status", NULL, &a);
    int ex = sk_cli_api_exit("status", status, a);
    size_t i;

    if (ex != SK_EXIT_OK || a == NULL) {
        json_decref(a);
        return ex != SK_EXIT_OK ? ex : SK_EXIT_SYSTEM;
    }
    if (json) {
        json_dumpf(a, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(a);
        return SK_EXIT_OK;
    }
    printf("sipkit %s serving %s, up %llds, %lld worker(s)\n",
           json_string_value(json_object_get(a, "version")),
           json_string_value(json_object_get(a, "domain")),
           (long long)json_integer_value(json_object_get(a, "uptime_s")),
           (long long)json_integer_value(json_object_get(a, "workers")));
    json_array_foreach(json_object_get(a, "listeners"), i, v)
    {
        printf("listening: %s (udp, tcp)\n", json_string_value(json_object_get(v, "address")));
    }
    printf("admin: %s\nbindings: %lld\n", json_string_value(json_object_get(a, "admin")),
           (long long)json_integer_value(json_object_get(a, "bindings")));
    json_decref(a);
    return SK_EXIT_OK;
}

static int count_user(void *arg, const char *domain, const char *user)
{
    (void)domain;
    (void)user;
    ++*(size_t *)arg;
    return 0;
}

static int count_sub(void *arg, const struct sk_subscription *s)
{
    (void)s;
    ++*(size_t *)arg;
    return 0;
}

static void print_local(const struct sk_cli_store *so, const char *backend, bool json,
                        const size_t counts[3])
{
    const char *name = sk_cli_store_name(so);
    bool dir = strcmp(backend, "sqlite") == 0;
    struct sk_buf b;

    if (!json) {
        printf("%s %s (not asking a running server: see --server)\n"
               "users: %zu\nbindings: %zu\nsubscriptions: %zu\n",
               dir ? "data directory" : "store", name, counts[0], counts[1], counts[2]);
        return;
    }
    sk_buf_init(&b);
    sk_buf_printf(&b, "{\"%s\": ", dir ? "data_dir" : "store");
    sk_buf_append_json(&b, sk_slice_cstr(name));
    sk_buf_printf(&b,
                  ", \"backend\": \"%s\", \"users\": %zu, \"bindings\": %zu, "
                  "\"subscriptions\": %zu}",
                  backend, counts[0], counts[1], counts[2]);
    if (sk_buf_ok(&b))
        puts(b.p);
    sk_buf_free(&b);
}

static int local(const struct sk_cli_store *so, bool json)
{
    struct sk_location_options lo = {.read_only = true};
    struct sk_store *st = NULL;
    struct sk_location *loc = NULL;
    size_t users = 0, subs = 0, bindings = 0;
    char backend[16];
    int rc;

    if (sk_cli_store_open("status", so, &st) != 0)
        return SK_EXIT_SYSTEM;
    snprintf(backend, sizeof(backend), "%s", sk_store_backend(st));
    rc = sk_location_open(&loc, st, &lo);
    if (rc == 0)
        rc = sk_store_user_list(st, NULL, count_user, &users);
    if (rc == 0)
        rc = sk_store_sub_foreach(st, count_sub, &subs);
    if (rc == 0)
        bindings = sk_location_count(loc);
    sk_location_close(loc);
    sk_store_close(st);
    if (rc != 0) {
        sk_cli_error("status", "store '%s': %s", sk_cli_store_name(so), sk_strerror(rc));
        return SK_EXIT_SYSTEM;
    }
    print_local(so, backend, json, (const size_t[3]){users, bindings, subs});
    return SK_EXIT_OK;
}

int sk_cmd_status(int argc, char **argv)
{
    struct sk_cli_api api = {0};
    struct sk_cli_store so = {.data_dir = "./data"};
    bool json = false;

    for (int i = 1; i < argc; i++) {
        int r = sk_cli_api_opt("status", argc, argv, &i, &api);
        if (r == 0)
            r = sk_cli_store_opt("status", argc, argv, &i, &so);
        if (r < 0)
            return SK_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return SK_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else {
            sk_cli_error("status", "unexpected argument '%s'", argv[i]);
            usage(stderr);
            return SK_EXIT_USAGE;
        }
    }
    if (api.server != NULL && so.url != NULL) {
        sk_cli_error("status", "--server and --store name different sources: give one");
        return SK_EXIT_USAGE;
    }
    return api.server != NULL ? remote(&api, json) : local(&so, json);
}
