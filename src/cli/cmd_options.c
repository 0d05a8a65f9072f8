/*
 * sipkit options URI   - OPTIONS (RFC 3261 §11): is it there, what does it
 *                        support (Allow, Supported, Accept, Server)
 * sipkit message URI TEXT - MESSAGE (RFC 3428 §4): a text/plain page
 *
 * Both send one out-of-dialog request (answering 401/407 on the way) and
 * exit 0 on a 2xx final response; see docs/cli.md for the other statuses.
 */
#include "cli/cli.h"
#include "cli/ua_cli.h"

#include <stdlib.h>
#include <string.h>

#include <sipkit/codes.h>

static void usage(FILE *out, const char *cmd)
{
    if (strcmp(cmd, "options") == 0)
        fprintf(out, "usage: sipkit options URI [options]\n\n"
                     "Send OPTIONS to URI and print the status and the headers that say\n"
                     "what the peer supports.\n\n");
    else
        fprintf(out, "usage: sipkit message URI TEXT [options]\n\n"
                     "Send TEXT as a MESSAGE (text/plain) to URI.\n\n"
                     "  --type MIME           Content-Type (default text/plain;charset=UTF-8)\n\n");
    sk_cli_ua_usage(out);
}

static const enum sk_hdr_id interesting[] = {
    SK_HDR_ALLOW,        SK_HDR_SUPPORTED, SK_HDR_ACCEPT,
    SK_HDR_ALLOW_EVENTS, SK_HDR_SERVER,    SK_HDR_USER_AGENT,
};

static void print_result(struct sk_cli_ua *c, struct sk_ua_req *r)
{
    const struct sk_msg *m = sk_ua_req_final(r);
    char addr[SK_ADDR_STRLEN];
    struct sk_buf b;

    sk_addr_format(sk_ua_req_peer(r), addr, sizeof(addr));
    sk_buf_init(&b);
    if (c->json) {
        sk_buf_printf(&b, "{\"command\":\"%s\",\"peer\":", c->cmd);
        sk_buf_append_json(&b, sk_slice_cstr(addr));
        sk_buf_printf(&b, ",\"outcome\":\"%s\",\"status\":%u,\"reason\":",
                      sk_ua_outcome_name(sk_ua_req_outcome(r)), sk_ua_req_status(r));
        if (m != NULL)
            sk_buf_append_json(&b, m->reason);
        else
            sk_buf_append_cstr(&b, "null");
        sk_buf_append_cstr(&b, ",\"explanation\":");
        sk_buf_append_json(&b, sk_slice_cstr(m != NULL ? sk_code_summary(m->status) : ""));
        for (size_t i = 0; i < sizeof(interesting) / sizeof(interesting[0]); i++) {
            char key[40];
            size_t k = 0;
            for (const char *p = sk_hdr_name(interesting[i]); *p != '\0' && k < 39; p++)
                key[k++] = *p == '-' ? '_' : (char)(*p | 0x20);
            key[k] = '\0';
            sk_buf_append_cstr(&b, ",");
            sk_cli_json_header(&b, key, m, interesting[i]);
        }
        sk_buf_printf(&b, ",\"auth_tries\":%u}\n", sk_ua_req_auth_tries(r));
        if (sk_buf_ok(&b))
            fputs(b.p, stdout);
        sk_buf_free(&b);
        return;
    }
    if (m == NULL)
        return;
    sk_code_format_line(&b, m->status);
    printf("%u %.*s from %s\n", m->status, (int)m->reason.len, m->reason.p, addr);
    if (sk_buf_ok(&b))
        printf("  (%s)\n", b.p);
    sk_buf_free(&b);
    if (strcmp(c->cmd, "options") == 0) {
        for (size_t i = 0; i < sizeof(interesting) / sizeof(interesting[0]); i++)
            sk_cli_print_headers(stdout, m, interesting[i]);
    }
}

static int run(int argc, char **argv, const char *method)
{
    struct sk_cli_ua c;
    struct sk_ua_req_opts o;
    struct sk_ua_req *r = NULL;
    const char *target = NULL, *text = NULL, *ctype = "text/plain;charset=UTF-8";
    bool message = strcmp(method, "MESSAGE") == 0;
    char *uri = NULL, *aor = NULL;
    int rc, w;

    sk_cli_ua_init(&c, argv[0]);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, argv[0]);
            return SK_EXIT_OK;
        }
        if ((rc = sk_cli_ua_option(&c, argc, argv, &i)) != 0) {
            if (rc < 0)
                return SK_EXIT_USAGE;
        } else if (message && (rc = sk_cli_opt(c.cmd, argc, argv, &i, "--type", &ctype)) != 0) {
            if (rc < 0)
                return SK_EXIT_USAGE;
        } else if (a[0] == '-' && a[1] != '\0') {
            sk_cli_error(c.cmd, "unknown option '%s' (see --help)", a);
            return SK_EXIT_USAGE;
        } else if (target == NULL) {
            target = a;
        } else if (message && text == NULL) {
            text = a;
        } else {
            sk_cli_error(c.cmd, "unexpected argument '%s'", a);
            return SK_EXIT_USAGE;
        }
    }
    if (target == NULL || (message && text == NULL)) {
        usage(stderr, argv[0]);
        return SK_EXIT_USAGE;
    }
    uri = sk_cli_uri(target);
    if (uri == NULL)
        return SK_EXIT_SYSTEM;
    /* Without --user we are sipkit@ the target's host. */
    struct sk_uri u;
    if (sk_uri_parse(sk_slice_cstr(uri), &u) != 0 ||
        (u.scheme != SK_URI_SIP && u.scheme != SK_URI_SIPS) || u.host.len == 0) {
        sk_cli_error(c.cmd, "'%s' is not a SIP URI", target);
        free(uri);
        return SK_EXIT_USAGE;
    }
    aor = malloc(u.host.len + 16);
    if (aor == NULL) {
        free(uri);
        return SK_EXIT_SYSTEM;
    }
    snprintf(aor, u.host.len + 16, "sip:sipkit@%.*s", (int)u.host.len, u.host.p);
    rc = sk_cli_ua_start(&c, aor);
    if (rc != SK_EXIT_OK)
        goto out;
    memset(&o, 0, sizeof(o));
    o.method = method;
    o.ruri = uri;
    if (message) {
        o.ctype = ctype;
        o.body = sk_slice_cstr(text);
    } else {
        o.headers = "Accept: application/sdp\r\n";
    }
    rc = sk_ua_request(c.ua, &o, &r);
    if (rc != 0) {
        sk_cli_error(c.cmd, "cannot send to '%s': %s", uri,
                     rc == SK_ENOTFOUND ? "host not found" : sk_strerror(rc));
        rc = rc == SK_ENOTFOUND ? SK_EXIT_NETWORK : SK_EXIT_SYSTEM;
        goto out;
    }
    w = sk_cli_ua_wait(&c, r, sk_cli_ua_deadline(&c, 32));
    if (w == 2) {
        sk_cli_error(c.cmd, "interrupted");
        rc = SK_EXIT_FAIL;
    } else if (w == 1) {
        rc = sk_cli_ua_report_timeout(&c, r, false);
    } else {
        print_result(&c, r);
        rc = sk_cli_ua_report(&c, r);
    }
    if (c.json && w != 0)
        print_result(&c, r);
out:
    sk_ua_req_free(r);
    sk_cli_ua_stop(&c);
    free(uri);
    free(aor);
    return rc;
}

int sk_cmd_options(int argc, char **argv)
{
    return run(argc, argv, "OPTIONS");
}

int sk_cmd_message(int argc, char **argv)
{
    return run(argc, argv, "MESSAGE");
}
