/*
 * sipkit location list [AOR] [--data-dir DIR | --store URL] [--json]: the bindings the
 * registrar holds in a data directory (the location table of the store,
 * see include/sipkit/store.h), read-only, so it is safe while `sipkit
 * serve` runs. One line per unexpired binding:
 *
 *   alice@example.com  <sip:alice@192.0.2.7:5062>  expires=3412 q=0.500
 *     via=udp:192.0.2.7:5062 call-id=... cseq=2 path=... instance=... ua="..."
 *
 * AOR is "user@domain" (a "sip:" prefix is accepted). Exit 0 with at least
 * one binding listed, 1 when there is none, 6 when the store cannot be
 * read. With --server URL the bindings come from a running server's admin
 * API (docs/api.md) instead of the data directory, printed the same way.
 */
#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/store_cli.h"

#include <stdio.h>
#include <string.h>

#include <sipkit/store.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit location list [AOR] [--data-dir DIR | --store URL] [--json]\n"
                 "       sipkit location list [AOR] --server URL [--token-file FILE] [--json]\n"
                 "\n"
                 "  AOR               user@domain; all bindings when omitted\n");
    fputs(SK_CLI_STORE_USAGE, out);
    fprintf(out, "  --json            one JSON object per line\n"
                 "  --server URL      ask a running server's admin API instead\n"
                 "                    (e.g. http://127.0.0.1:9060)\n"
                 "  --token-file FILE the admin bearer token (default " SK_CLI_TOKEN_FILE ")\n");
}

struct list_ctx {
    int64_t now;
    bool json;
    unsigned count;
};

static void json_str(struct sk_buf *b, const char *key, const char *v, bool comma)
{
    sk_buf_printf(b, "\"%s\":", key);
    sk_buf_append_json(b, sk_slice_cstr(v));
    if (comma)
        sk_buf_append_cstr(b, ",");
}

static int print_json(const struct sk_binding *x, int64_t now)
{
    struct sk_buf b;

    sk_buf_init(&b);
    sk_buf_append_cstr(&b, "{");
    json_str(&b, "aor", x->aor, true);
    json_str(&b, "contact", x->contact, true);
    sk_buf_printf(&b, "\"expires\":%u,\"expires_at\":%lld,\"q\":%d,", sk_binding_remaining(x, now),
                  (long long)x->expires_at, x->q);
    json_str(&b, "call_id", x->call_id, true);
    sk_buf_printf(&b, "\"cseq\":%u,", x->cseq);
    json_str(&b, "path", x->path, true);
    json_str(&b, "transport", sk_transport_name(x->transport), true);
    json_str(&b, "source_ip", x->src_ip, true);
    sk_buf_printf(&b, "\"source_port\":%u,\"conn_id\":%llu,", x->src_port,
                  (unsigned long long)x->conn_id);
    json_str(&b, "instance", x->instance, true);
    sk_buf_printf(&b, "\"reg_id\":%u,", x->reg_id);
    json_str(&b, "user_agent", x->user_agent, false);
    sk_buf_append_cstr(&b, "}");
    if (!sk_buf_ok(&b)) {
        sk_buf_free(&b);
        return -1;
    }
    puts(b.p);
    sk_buf_free(&b);
    return 0;
}

static int print_one(void *arg, const struct sk_binding *x)
{
    struct list_ctx *c = arg;

    c->count++;
    if (c->json)
        return print_json(x, c->now);
    printf("%s  <%s>  expires=%u", x->aor, x->contact, sk_binding_remaining(x, c->now));
    if (x->q >= 0)
        printf(" q=%d.%03d", x->q / 1000, x->q % 1000);
    printf("\n    via=%s:%s:%u call-id=%s cseq=%u", sk_transport_name(x->transport), x->src_ip,
           x->src_port, x->call_id, x->cseq);
    if (x->path[0] != '\0')
        printf(" path=%s", x->path);
    if (x->instance[0] != '\0')
        printf(" instance=%s reg-id=%u", x->instance, x->reg_id);
    if (x->user_agent[0] != '\0')
        printf(" ua=\"%s\"", x->user_agent);
    putchar('\n');
    return 0;
}

static void copy_str(char *dst, size_t dstsz, json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    snprintf(dst, dstsz, "%s", v != NULL ? v : "");
}

/* A binding of the API's answer back into the struct the printers take. */
static void from_json(json_t *o, struct sk_binding *b)
{
    json_t *q = json_object_get(o, "q");
    const char *tp = json_string_value(json_object_get(o, "transport"));

    memset(b, 0, sizeof(*b));
    copy_str(b->aor, sizeof(b->aor), o, "aor");
    copy_str(b->contact, sizeof(b->contact), o, "contact");
    copy_str(b->call_id, sizeof(b->call_id), o, "call_id");
    copy_str(b->path, sizeof(b->path), o, "path");
    copy_str(b->src_ip, sizeof(b->src_ip), o, "source_ip");
    copy_str(b->instance, sizeof(b->instance), o, "instance");
    copy_str(b->user_agent, sizeof(b->user_agent), o, "user_agent");
    b->expires_at = json_integer_value(json_object_get(o, "expires_at"));
    b->q = json_is_number(q) ? (int)(json_number_value(q) * 1000.0 + 0.5) : -1;
    b->cseq = (uint32_t)json_integer_value(json_object_get(o, "cseq"));
    b->src_port = (uint16_t)json_integer_value(json_object_get(o, "source_port"));
    b->reg_id = (uint32_t)json_integer_value(json_object_get(o, "reg_id"));
    b->transport = tp != NULL && strcmp(tp, "tcp") == 0 ? SK_TP_TCP : SK_TP_UDP;
}

static int list_remote(const struct sk_cli_api *api, const char *aor, struct list_ctx *ctx)
{
    char esc[3 * SK_LOC_AOR_MAX + 1], path[sizeof(esc) + 32];
    json_t *answer = NULL, *v;
    long status;
    size_t i;
    int ex;

    snprintf(path, sizeof(path), "/api/v1/location");
    if (aor != NULL) {
        if (sk_cli_api_escape(aor, esc, sizeof(esc)) == NULL)
            return SK_EXIT_USAGE;
        snprintf(path, sizeof(path), "/api/v1/location?aor=%s", esc);
    }
    status = sk_cli_api_call("location", api, "GET", path, NULL, &answer);
    ex = sk_cli_api_exit("location", status, answer);
    json_array_foreach(ex == SK_EXIT_OK ? json_object_get(answer, "bindings") : NULL, i, v)
    {
        struct sk_binding b;
        from_json(v, &b);
        print_one(ctx, &b);
    }
    json_decref(answer);
    if (ex != SK_EXIT_OK)
        return ex;
    if (ctx->count == 0 && !ctx->json)
        fprintf(stderr, "no bindings%s%s\n", aor != NULL ? " for " : "", aor != NULL ? aor : "");
    return ctx->count > 0 ? SK_EXIT_OK : SK_EXIT_FAIL;
}

int sk_cmd_location(int argc, char **argv)
{
    struct sk_cli_api api = {0};
    struct sk_cli_store so = {.data_dir = "./data"};
    const char *aor = NULL;
    struct sk_location_options lo = {.read_only = true};
    struct list_ctx ctx = {0};
    struct sk_store *st = NULL;
    struct sk_location *loc = NULL;
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SK_EXIT_USAGE : SK_EXIT_OK;
    }
    if (strcmp(argv[1], "list") != 0) {
        sk_cli_error("location", "unknown subcommand '%s'", argv[1]);
        usage(stderr);
        return SK_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        int r = sk_cli_api_opt("location", argc, argv, &i, &api);
        if (r == 0)
            r = sk_cli_store_opt("location", argc, argv, &i, &so);
        if (r < 0)
            return SK_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--json") == 0) {
            ctx.json = true;
        } else if (argv[i][0] != '-' && aor == NULL) {
            aor = argv[i];
        } else {
            sk_cli_error("location", "unexpected argument '%s'", argv[i]);
            usage(stderr);
            return SK_EXIT_USAGE;
        }
    }
    if (aor != NULL && strncmp(aor, "sip:", 4) == 0)
        aor += 4;
    /* AOR keys hold the host in lower case (RFC 3261 §19.1.4). */
    char key[SK_LOC_AOR_MAX + 1];
    if (aor != NULL) {
        size_t n = strlen(aor);
        const char *at = strchr(aor, '@');
        if (n > SK_LOC_AOR_MAX || at == NULL) {
            sk_cli_error("location", "'%s' is not user@domain", aor);
            return SK_EXIT_USAGE;
        }
        for (size_t i = 0; i <= n; i++)
            key[i] = (char)(aor + i > at && aor[i] >= 'A' && aor[i] <= 'Z' ? aor[i] + 32 : aor[i]);
        aor = key;
    }
    ctx.now = sk_wall_s();
    if (api.server != NULL)
        return list_remote(&api, aor, &ctx);
    if (sk_cli_store_open("location", &so, &st) != 0)
        return SK_EXIT_SYSTEM;
    rc = sk_location_open(&loc, st, &lo);
    if (rc != 0) {
        sk_cli_error("location", "store '%s': %s", sk_cli_store_name(&so), sk_strerror(rc));
        sk_store_close(st);
        return SK_EXIT_SYSTEM;
    }
    ctx.now = sk_wall_s();
    rc = sk_location_foreach(loc, aor != NULL ? sk_slice_cstr(aor) : SK_SLICE_NULL, ctx.now,
                             print_one, &ctx);
    sk_location_close(loc);
    sk_store_close(st);
    if (rc != 0) {
        sk_cli_error("location", "listing failed: %s", sk_strerror(rc));
        return SK_EXIT_SYSTEM;
    }
    if (ctx.count == 0 && !ctx.json)
        fprintf(stderr, "no bindings%s%s\n", aor != NULL ? " for " : "", aor != NULL ? aor : "");
    return ctx.count > 0 ? SK_EXIT_OK : SK_EXIT_FAIL;
}
