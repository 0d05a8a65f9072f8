/*
 * sipkit status [--server URL [--token-file FILE]] [--data-dir DIR] [--json]
 *
 * With --server: what a running server says about itself through its
 * admin API (GET /api/v1/status, docs/api.md): version, domain, uptime,
 * workers, listeners, bindings. Without: what the data directory holds
 * (users, bindings, subscriptions), read-only, so it is safe while
 * `sipkit serve` runs. Exit 0, 4 (no answer), 5 (token refused), 6 (data
 * directory unreadable).
 */
#include "cli/api_client.h"
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include <sipkit/store.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit status --server URL [--token-file FILE] [--json]\n"
                 "       sipkit status [--data-dir DIR] [--json]\n"
                 "\n"
                 "  --server URL      a running server's admin listener (e.g.\n"
                 "                    http://127.0.0.1:9060, see `sipkit serve --admin`)\n"
                 "  --token-file FILE the admin bearer token (default " SK_CLI_TOKEN_FILE ")\n"
                 "  --data-dir DIR    without --server: the data directory (default ./data)\n"
                 "  --json            print JSON\n");
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

static int local(const char *data_dir, bool json)
{
    struct sk_location_options lo = {.read_only = true};
    struct sk_store *st = NULL;
    struct sk_location *loc = NULL;
    size_t users = 0, subs = 0, bindings = 0;
    int rc = sk_store_open(&st, data_dir, NULL);

    if (rc == 0)
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
        sk_cli_error("status", "data directory '%s': %s", data_dir, sk_strerror(rc));
        return SK_EXIT_SYSTEM;
    }
    if (json)
        printf(
            "{\"data_dir\": \"%s\", \"users\": %zu, \"bindings\": %zu, \"subscriptions\": %zu}\n",
            data_dir, users, bindings, subs);
    else
        printf("data directory %s (not asking a running server: see --server)\n"
               "users: %zu\nbindings: %zu\nsubscriptions: %zu\n",
               data_dir, users, bindings, subs);
    return SK_EXIT_OK;
}

int sk_cmd_status(int argc, char **argv)
{
    struct sk_cli_api api = {0};
    const char *data_dir = "./data";
    bool json = false;

    for (int i = 1; i < argc; i++) {
        int r = sk_cli_api_opt("status", argc, argv, &i, &api);
        if (r < 0)
            return SK_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return SK_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
            data_dir = argv[++i];
        } else if (strncmp(argv[i], "--data-dir=", 11) == 0) {
            data_dir = argv[i] + 11;
        } else {
            sk_cli_error("status", "unexpected argument '%s'", argv[i]);
            usage(stderr);
            return SK_EXIT_USAGE;
        }
    }
    return api.server != NULL ? remote(&api, json) : local(data_dir, json);
}
