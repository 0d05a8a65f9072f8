/*
 * sipkit publish URI --event PKG (--body FILE | --status open|closed)
 *
 * RFC 3903: PUBLISH carries event state (§4): the first one has a body and
 * no SIP-If-Match and the 2xx gives the entity-tag (SIP-ETag, §11.3) and
 * the lifetime (Expires); a refresh has SIP-If-Match and no body (§4.2); a
 * modification has both; a removal has SIP-If-Match and Expires: 0 (§4.4).
 * 412 Conditional Request Failed means the entity-tag is unknown (§6).
 * --status builds a PIDF document (RFC 3863) for presence.
 */
#include "cli/cli.h"
#include "cli/ua_cli.h"

#include <stdlib.h>
#include <string.h>

struct pub {
    struct sk_cli_ua c;
    const char *event;
    const char *ctype;
    char *body;
    size_t body_len;
    char etag[128];
    long expires;
    long granted;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit publish URI --event PKG (--body FILE | --status open|closed)\n\n"
                 "Publish event state for URI (RFC 3903) and print the entity-tag.\n\n"
                 "  --event PKG           event package (default presence)\n"
                 "  --body FILE           the state document ('-' for stdin)\n"
                 "  --type MIME           its Content-Type (default application/pidf+xml)\n"
                 "  --status open|closed  build a PIDF presence document instead\n"
                 "  --expires N           lifetime asked for (default 3600)\n"
                 "  --etag TAG            modify (or with --remove, remove) published state\n"
                 "  --remove              remove the state named by --etag\n"
                 "  --keep                refresh before expiry until Ctrl-C, then remove\n\n");
    sk_cli_ua_usage(out);
}

/* One PUBLISH; with_body false for refreshes and removals. */
static int publish(struct pub *p, const char *uri, long expires, bool with_body, bool quiet)
{
    struct sk_ua_req_opts o;
    struct sk_ua_req *r = NULL;
    char hdr[300];
    uint64_t e;
    int rc;

    snprintf(hdr, sizeof(hdr), "Event: %s\r\nExpires: %ld\r\n%s%s%s", p->event, expires,
             p->etag[0] ? "SIP-If-Match: " : "", p->etag, p->etag[0] ? "\r\n" : "");
    memset(&o, 0, sizeof(o));
    o.method = "PUBLISH";
    o.ruri = uri;
    o.headers = hdr;
    if (with_body) {
        o.ctype = p->ctype;
        o.body = sk_slice_make(p->body, p->body_len);
    }
    rc = sk_ua_request(p->c.ua, &o, &r);
    if (rc != 0) {
        sk_cli_error(p->c.cmd, "cannot send PUBLISH: %s", sk_strerror(rc));
        return rc == SK_ENOTFOUND ? SK_EXIT_NETWORK : SK_EXIT_SYSTEM;
    }
    int w = sk_cli_ua_wait(&p->c, r, sk_cli_ua_deadline(&p->c, 32));
    if (w == 2) {
        sk_cli_error(p->c.cmd, "interrupted");
        rc = SK_EXIT_FAIL;
    } else {
        rc = w == 1 ? sk_cli_ua_report_timeout(&p->c, r, false) : sk_cli_ua_report(&p->c, r);
    }
    const struct sk_msg *m = sk_ua_req_final(r);
    if (rc == SK_EXIT_OK && m != NULL) {
        const struct sk_hdr *et = sk_msg_find(m, SK_HDR_SIP_ETAG);
        if (et != NULL && et->value.len < sizeof(p->etag))
            sk_slice_to_cstr(et->value, p->etag, sizeof(p->etag));
        p->granted = sk_msg_get_uint(m, SK_HDR_EXPIRES, 0x7fffffff, &e) == 0 ? (long)e : expires;
        if (p->c.json)
            printf("{\"command\":\"publish\",\"status\":%u,\"etag\":\"%s\",\"expires\":%ld}\n",
                   m->status, p->etag, expires ? p->granted : 0);
        else if (expires == 0)
            printf("removed: %u %.*s\n", m->status, (int)m->reason.len, m->reason.p);
        else if (!quiet)
            printf("published: %u %.*s, SIP-ETag %s, expires in %ld s\n", m->status,
                   (int)m->reason.len, m->reason.p, p->etag[0] ? p->etag : "(none)", p->granted);
        fflush(stdout);
    }
    sk_ua_req_free(r);
    return rc;
}

static int build_pidf(struct pub *p, const char *status, const char *entity)
{
    size_t cap = strlen(entity) + 400;

    if (strcmp(status, "open") != 0 && strcmp(status, "closed") != 0) {
        sk_cli_error(p->c.cmd, "--status must be open or closed, not '%s'", status);
        return -1;
    }
    p->body = malloc(cap);
    if (p->body == NULL)
        return -1;
    /* RFC 3863 §4.1: presence with one tuple whose basic status is given. */
    snprintf(p->body, cap,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
             "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"%s\">\r\n"
             "  <tuple id=\"sipkit\"><status><basic>%s</basic></status></tuple>\r\n"
             "</presence>\r\n",
             entity, status);
    p->body_len = strlen(p->body);
    return 0;
}

int sk_cmd_publish(int argc, char **argv)
{
    struct pub p;
    const char *target = NULL, *file = NULL, *status = NULL, *etag = NULL, *v;
    bool keep = false, remove_it = false;
    char *uri = NULL;
    int rc;

    memset(&p, 0, sizeof(p));
    sk_cli_ua_init(&p.c, "publish");
    p.event = "presence";
    p.ctype = "application/pidf+xml";
    p.expires = 3600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return SK_EXIT_OK;
        }
        if ((rc = sk_cli_ua_option(&p.c, argc, argv, &i)) != 0 ||
            (rc = sk_cli_opt(p.c.cmd, argc, argv, &i, "--event", &p.event)) != 0 ||
            (rc = sk_cli_opt(p.c.cmd, argc, argv, &i, "--body", &file)) != 0 ||
            (rc = sk_cli_opt(p.c.cmd, argc, argv, &i, "--type", &p.ctype)) != 0 ||
            (rc = sk_cli_opt(p.c.cmd, argc, argv, &i, "--status", &status)) != 0 ||
            (rc = sk_cli_opt(p.c.cmd, argc, argv, &i, "--etag", &etag)) != 0) {
            if (rc < 0)
                return SK_EXIT_USAGE;
        } else if ((rc = sk_cli_opt(p.c.cmd, argc, argv, &i, "--expires", &v)) != 0) {
            if (rc < 0 || sk_cli_number(p.c.cmd, "--expires", v, 1, 0x7fffffff, &p.expires) != 0)
                return SK_EXIT_USAGE;
        } else if (strcmp(a, "--keep") == 0) {
            keep = true;
        } else if (strcmp(a, "--remove") == 0) {
            remove_it = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            sk_cli_error(p.c.cmd, "unknown option '%s' (see --help)", a);
            return SK_EXIT_USAGE;
        } else if (target == NULL) {
            target = a;
        } else {
            sk_cli_error(p.c.cmd, "unexpected argument '%s'", a);
            return SK_EXIT_USAGE;
        }
    }
    if (target == NULL || (!remove_it && (file == NULL) == (status == NULL)) ||
        (remove_it && etag == NULL)) {
        sk_cli_error(p.c.cmd, remove_it ? "--remove needs --etag"
                                        : "give the URI and exactly one of --body or --status");
        return SK_EXIT_USAGE;
    }
    if (etag != NULL)
        snprintf(p.etag, sizeof(p.etag), "%s", etag);
    uri = sk_cli_uri(target);
    if (uri == NULL)
        return SK_EXIT_SYSTEM;
    rc = SK_EXIT_OK;
    if (file != NULL) {
        int err = sk_cli_read_file(file, &p.body, &p.body_len);
        if (err != 0) {
            sk_cli_error(p.c.cmd, "cannot read %s: %s", file, sk_strerror(err));
            rc = SK_EXIT_SYSTEM;
        }
    } else if (status != NULL && build_pidf(&p, status, uri) != 0) {
        rc = SK_EXIT_USAGE;
    }
    if (rc == SK_EXIT_OK)
        rc = sk_cli_ua_start(&p.c, uri); /* the presentity publishes as itself */
    if (rc == SK_EXIT_OK)
        rc = publish(&p, uri, remove_it ? 0 : p.expires, !remove_it, false);
    while (rc == SK_EXIT_OK && keep && !sk_cli_interrupted) {
        long wait = p.granted > 60 ? p.granted - 30 : p.granted / 2 + 1;
        sk_cli_ua_sleep(&p.c, (uint64_t)wait * 1000, NULL);
        if (!sk_cli_interrupted)
            rc = publish(&p, uri, p.expires, false, true);
    }
    if (rc == SK_EXIT_OK && keep) {
        sk_cli_interrupted = 0;
        rc = publish(&p, uri, 0, false, false);
    }
    if (p.c.ua != NULL)
        sk_cli_ua_stop(&p.c);
    free(p.body);
    free(uri);
    return rc;
}
