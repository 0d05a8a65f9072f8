/*
 * sipkit register AOR [--expires N] [--unregister] [--keep]
 *
 * RFC 3261 §10.2: REGISTER to the AOR's domain (Request-URI without user
 * part), To and From the AOR, our Contact, Expires. §10.2.4: refreshes
 * reuse the Call-ID with a higher CSeq; the 200 OK lists every current
 * binding of the AOR, which we print. §10.2.2: unregistering is a Contact
 * with expires=0; --all removes every binding of the AOR ("Contact: *"
 * with "Expires: 0", which §10.2.2 requires together), so a binding made
 * by another process or port can be removed. §10.3 step 7 / §21.4.17: 423 Interval Too Brief names
 * Min-Expires; we retry once with it. --keep refreshes before expiry until
 * Ctrl-C, then unregisters.
 */
#include "cli/cli.h"
#include "cli/ua_cli.h"

#include <stdlib.h>
#include <string.h>

struct reg {
    struct sk_cli_ua c;
    char *aor;
    char ruri[300];
    char call_id[64];
    char from_tag[24];
    uint32_t cseq;
    long expires;
    long granted;
    bool all; /* Contact: * */
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit register AOR [options]\n\n"
                 "Register our contact for AOR (sip:user@domain) and print the bindings.\n\n"
                 "  --expires N           binding lifetime asked for, seconds (default 3600)\n"
                 "  --unregister          remove our binding (expires=0)\n"
                 "  --all                 with --unregister: remove every binding of AOR\n"
                 "                        (Contact: *)\n"
                 "  --keep                refresh before expiry until Ctrl-C, then unregister\n\n");
    sk_cli_ua_usage(out);
}

/* The registrar's URI: the AOR without its user part (§10.2). */
static int registrar_uri(struct reg *g)
{
    struct sk_uri u;

    if (sk_uri_parse(sk_slice_cstr(g->aor), &u) != 0 ||
        (u.scheme != SK_URI_SIP && u.scheme != SK_URI_SIPS) || u.host.len == 0)
        return -1;
    if (u.has_port)
        snprintf(g->ruri, sizeof(g->ruri), "%s:%.*s:%u", u.scheme == SK_URI_SIPS ? "sips" : "sip",
                 (int)u.host.len, u.host.p, (unsigned)u.port);
    else
        snprintf(g->ruri, sizeof(g->ruri), "%s:%.*s", u.scheme == SK_URI_SIPS ? "sips" : "sip",
                 (int)u.host.len, u.host.p);
    return 0;
}

/* Send one REGISTER and wait for its outcome. Returns the exit status. */
static int send_register(struct reg *g, long expires, struct sk_ua_req **out)
{
    struct sk_ua_req_opts o;
    char hdr[64], cparams[32];
    int rc, w;

    memset(&o, 0, sizeof(o));
    o.method = "REGISTER";
    o.ruri = g->ruri;
    o.to = g->c.aor;
    o.call_id = g->call_id[0] ? g->call_id : NULL;
    o.from_tag = g->from_tag[0] ? g->from_tag : NULL;
    o.cseq = g->cseq + 1;
    o.contact = !g->all;
    snprintf(hdr, sizeof(hdr), "%sExpires: %ld\r\n", g->all ? "Contact: *\r\n" : "", expires);
    if (expires == 0 && !g->all) {
        snprintf(cparams, sizeof(cparams), ";expires=0");
        o.contact_params = cparams;
    }
    o.headers = hdr;
    rc = sk_ua_request(g->c.ua, &o, out);
    if (rc != 0) {
        sk_cli_error(g->c.cmd, "cannot send to '%s': %s", g->ruri,
                     rc == SK_ENOTFOUND ? "host not found" : sk_strerror(rc));
        return rc == SK_ENOTFOUND ? SK_EXIT_NETWORK : SK_EXIT_SYSTEM;
    }
    const struct sk_msg *sent = sk_ua_req_sent(*out);
    sk_slice_to_cstr(sent->call_id, g->call_id, sizeof(g->call_id));
    sk_slice_to_cstr(sent->from.tag, g->from_tag, sizeof(g->from_tag));
    w = sk_cli_ua_wait(&g->c, *out, sk_cli_ua_deadline(&g->c, 32));
    g->cseq = sk_ua_req_sent(*out)->cseq.num;
    if (w == 1)
        return sk_cli_ua_report_timeout(&g->c, *out, false);
    if (w == 2) {
        sk_cli_error(g->c.cmd, "interrupted");
        return SK_EXIT_FAIL;
    }
    return sk_cli_ua_report(&g->c, *out);
}

/* Print the bindings of a 200 OK and find our granted lifetime. */
static void show_bindings(struct reg *g, const struct sk_msg *m, bool quiet)
{
    struct sk_hdr_iter it;
    struct sk_contact ct;
    struct sk_uri mine;
    uint64_t hdr_exp;
    long dflt =
        sk_msg_get_uint(m, SK_HDR_EXPIRES, 0xffffffffu, &hdr_exp) == 0 ? (long)hdr_exp : g->expires;
    struct sk_buf b;
    size_t n = 0;

    sk_buf_init(&b);
    sk_uri_parse(sk_slice_cstr(sk_ua_contact(g->c.ua)), &mine);
    g->granted = g->expires;
    sk_hdr_iter_init(&it, m, SK_HDR_CONTACT);
    while (sk_msg_contact_next(&it, &ct) == 1) {
        if (ct.star)
            continue;
        long e = ct.expires >= 0 ? (long)ct.expires : dflt;
        bool ours = sk_uri_equal(&ct.addr.uri, &mine);
        if (ours)
            g->granted = e;
        if (g->c.json) {
            sk_buf_append_cstr(&b, n ? "," : "");
            sk_buf_append_cstr(&b, "{\"contact\":");
            sk_buf_append_json(&b, ct.addr.uri.raw);
            sk_buf_printf(&b, ",\"expires\":%ld,\"ours\":%s}", e, ours ? "true" : "false");
        } else if (!quiet) {
            printf("  <%.*s> expires in %ld s%s\n", (int)ct.addr.uri.raw.len, ct.addr.uri.raw.p, e,
                   ours ? " (this one)" : "");
        }
        n++;
    }
    if (g->c.json && !quiet) {
        printf("{\"command\":\"register\",\"aor\":\"%s\",\"status\":%u,\"expires\":%ld,"
               "\"bindings\":[%s]}\n",
               g->c.aor, m->status, g->granted, sk_buf_ok(&b) ? b.p : "");
    } else if (!quiet && n == 0) {
        printf("  (no bindings)\n");
    }
    sk_buf_free(&b);
}

/* One registration (with a 423 retry), printing the result. */
static int do_register(struct reg *g, long expires, bool quiet)
{
    struct sk_ua_req *r = NULL;
    int rc = send_register(g, expires, &r);
    const struct sk_msg *m = sk_ua_req_final(r);
    uint64_t min;

    if (m != NULL && m->status == 423 &&
        sk_msg_get_uint(m, SK_HDR_MIN_EXPIRES, 0xffffffffu, &min) == 0 && (long)min > expires) {
        fprintf(stderr, "sipkit register: the registrar wants at least %lu s; asking again\n",
                (unsigned long)min);
        sk_ua_req_free(r);
        r = NULL;
        g->expires = expires = (long)min;
        rc = send_register(g, expires, &r);
        m = sk_ua_req_final(r);
    }
    if (rc == SK_EXIT_OK && m != NULL) {
        if (!quiet && !g->c.json) {
            if (expires == 0)
                printf("unregistered %s (%u %.*s)\n", g->c.aor, m->status, (int)m->reason.len,
                       m->reason.p);
            else
                printf("registered %s (%u %.*s)\nbindings:\n", g->c.aor, m->status,
                       (int)m->reason.len, m->reason.p);
        }
        show_bindings(g, m, quiet && !g->c.json);
    }
    sk_ua_req_free(r);
    return rc;
}

static int keep(struct reg *g)
{
    int rc = SK_EXIT_OK;

    while (!sk_cli_interrupted) {
        long wait = g->granted > 60 ? g->granted - 30 : g->granted / 2;
        sk_cli_ua_sleep(&g->c, (uint64_t)(wait > 0 ? wait : 1) * 1000, NULL);
        if (sk_cli_interrupted)
            break;
        rc = do_register(g, g->expires, true);
        if (rc != SK_EXIT_OK)
            return rc;
        if (!g->c.json)
            printf("refreshed: expires in %ld s\n", g->granted);
        fflush(stdout);
    }
    sk_cli_interrupted = 0;
    return do_register(g, 0, false);
}

int sk_cmd_register(int argc, char **argv)
{
    struct reg g;
    const char *target = NULL, *v;
    bool unregister = false, keep_on = false;
    int rc;

    memset(&g, 0, sizeof(g));
    sk_cli_ua_init(&g.c, "register");
    g.expires = 3600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return SK_EXIT_OK;
        }
        if ((rc = sk_cli_ua_option(&g.c, argc, argv, &i)) != 0) {
            if (rc < 0)
                return SK_EXIT_USAGE;
        } else if ((rc = sk_cli_opt(g.c.cmd, argc, argv, &i, "--expires", &v)) != 0) {
            if (rc < 0 || sk_cli_number(g.c.cmd, "--expires", v, 0, 0x7fffffff, &g.expires) != 0)
                return SK_EXIT_USAGE;
        } else if (strcmp(a, "--unregister") == 0) {
            unregister = true;
        } else if (strcmp(a, "--keep") == 0) {
            keep_on = true;
        } else if (strcmp(a, "--all") == 0) {
            g.all = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            sk_cli_error(g.c.cmd, "unknown option '%s' (see --help)", a);
            return SK_EXIT_USAGE;
        } else if (target == NULL) {
            target = a;
        } else {
            sk_cli_error(g.c.cmd, "unexpected argument '%s'", a);
            return SK_EXIT_USAGE;
        }
    }
    if (target == NULL && g.c.user == NULL) {
        usage(stderr);
        return SK_EXIT_USAGE;
    }
    if (unregister && keep_on) {
        sk_cli_error(g.c.cmd, "--unregister and --keep do not go together");
        return SK_EXIT_USAGE;
    }
    if (g.all && !unregister) {
        sk_cli_error(g.c.cmd, "--all goes with --unregister (it removes every binding)");
        return SK_EXIT_USAGE;
    }
    g.aor = sk_cli_uri(target != NULL ? target : g.c.user);
    if (g.aor == NULL)
        return SK_EXIT_SYSTEM;
    if (registrar_uri(&g) != 0) {
        sk_cli_error(g.c.cmd, "'%s' is not a SIP address of record (sip:user@domain)", g.aor);
        free(g.aor);
        return SK_EXIT_USAGE;
    }
    if (target != NULL)
        g.c.user = NULL; /* the positional AOR is who registers */
    rc = sk_cli_ua_start(&g.c, g.aor);
    if (rc == SK_EXIT_OK) {
        rc = do_register(&g, unregister ? 0 : g.expires, false);
        if (rc == SK_EXIT_OK && keep_on) {
            fflush(stdout);
            rc = keep(&g);
        }
    }
    sk_cli_ua_stop(&g.c);
    free(g.aor);
    return rc;
}
