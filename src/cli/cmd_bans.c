/*
 * sipkit bans list|del: the addresses the server's guard banned (repeated
 * failed authentications, floods; docs/security.md), read from and lifted
 * in the server's store: the data directory's SQLite database, or the
 * PostgreSQL database of --store URL that every node of a cluster shares.
 * A running server notices a deleted ban within a few seconds (it reads
 * the table back every 2 s).
 *
 *   sipkit bans list [--data-dir DIR | --store URL [--store-password-file FILE]]
 *   sipkit bans del ADDR|all [--data-dir DIR | --store URL [--store-password-file FILE]]
 */
#include "cli/cli.h"
#include "cli/store_cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sipkit/store.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit bans list [--data-dir DIR | --store URL]\n"
                 "       sipkit bans del ADDR|all [--data-dir DIR | --store URL]\n"
                 "\n");
    fputs(SK_CLI_STORE_USAGE, out);
}

static int print_ban(void *arg, const struct sk_store_ban *b)
{
    int64_t now = *(const int64_t *)arg;
    char when[32];
    time_t t = (time_t)b->until;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-40s until=%s left_s=%lld level=%u reason=%s\n", b->addr, when,
           (long long)(b->until - now), b->level, b->reason);
    return 0;
}

int sk_cmd_bans(int argc, char **argv)
{
    const char *sub = NULL, *addr = NULL;
    struct sk_cli_store so = {.data_dir = "./data"};
    struct sk_store *st = NULL;
    int64_t now;
    int rc;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = sk_cli_store_opt("bans", argc, argv, &i, &so);
        if (r < 0)
            return SK_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return SK_EXIT_OK;
        } else if (a[0] == '-') {
            sk_cli_error("bans", "unknown option '%s'", a);
            usage(stderr);
            return SK_EXIT_USAGE;
        } else if (sub == NULL) {
            sub = a;
        } else if (addr == NULL) {
            addr = a;
        } else {
            sk_cli_error("bans", "unexpected argument '%s'", a);
            return SK_EXIT_USAGE;
        }
    }
    if (sub == NULL || (strcmp(sub, "list") != 0 && strcmp(sub, "del") != 0) ||
        (strcmp(sub, "del") == 0) != (addr != NULL)) {
        sk_cli_error("bans", sub == NULL ? "missing subcommand"
                                         : "list takes no address; del "
                                           "needs one (or 'all')");
        usage(stderr);
        return SK_EXIT_USAGE;
    }
    if (sk_cli_store_open("bans", &so, &st) != 0)
        return SK_EXIT_SYSTEM;
    now = sk_wall_s();
    if (strcmp(sub, "list") == 0)
        rc = sk_store_ban_list(st, now, print_ban, &now);
    else
        rc = sk_store_ban_del(st, addr);
    sk_store_close(st);
    if (rc == SK_ENOTFOUND) {
        sk_cli_error("bans", "'%s' is not banned", addr);
        return SK_EXIT_FAIL;
    }
    if (rc != 0) {
        sk_cli_error("bans", "store '%s': %s", sk_cli_store_name(&so), sk_strerror(rc));
        return SK_EXIT_SYSTEM;
    }
    if (addr != NULL)
        fprintf(stderr, "sipkit bans: del %s: done (a running server lifts it within 2 s)\n", addr);
    return SK_EXIT_OK;
}
