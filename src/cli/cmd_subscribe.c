/*
 * sipkit subscribe URI --event PKG [--expires N] [--count N]
 *
 * RFC 6665: SUBSCRIBE with Event and Expires (§4.1.2.1); the 2xx or the
 * first NOTIFY, whichever comes first, creates the dialog (§4.1.2.4: a
 * NOTIFY may overtake the 2xx); every NOTIFY is answered 200 and its body
 * printed (§4.1.3); the subscription is refreshed before it expires
 * (§4.1.2.2) and removed with Expires: 0 on Ctrl-C or after --count
 * notifications (§4.1.2.3). A NOTIFY with Subscription-State terminated
 * ends the command.
 */
#include "cli/cli.h"
#include "cli/ua_cli.h"

#include <stdlib.h>
#include <string.h>

struct sub {
    struct sk_cli_ua c;
    const char *event;
    struct sk_ua_req *first;
    struct sk_ua_dialog *dialog;
    long expires;
    long granted;
    long count;
    long notifies;
    bool terminated;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit subscribe URI --event PKG [options]\n\n"
                 "Subscribe to PKG (presence, dialog, reg, message-summary, ...) at URI and\n"
                 "print each NOTIFY body; Ctrl-C unsubscribes.\n\n"
                 "  --event PKG           event package (required)\n"
                 "  --expires N           subscription lifetime asked for (default 600)\n"
                 "  --accept TYPE         Accept header (default: the package's usual type)\n"
                 "  --count N             unsubscribe after N notifications\n\n");
    sk_cli_ua_usage(out);
}

static const char *default_accept(const char *event)
{
    static const struct {
        const char *event, *type;
    } types[] = {
        {"presence", "application/pidf+xml"},
        {"dialog", "application/dialog-info+xml"},
        {"reg", "application/reginfo+xml"},
        {"message-summary", "application/simple-message-summary"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(types[i].event, event) == 0)
            return types[i].type;
    }
    return NULL;
}

static void print_notify(struct sub *s, const struct sk_msg *req)
{
    const struct sk_hdr *st = sk_msg_find(req, SK_HDR_SUBSCRIPTION_STATE);
    const struct sk_hdr *ct = sk_msg_find(req, SK_HDR_CONTENT_TYPE);
    struct sk_buf b;

    if (s->c.json) {
        sk_buf_init(&b);
        sk_buf_printf(&b, "{\"notify\":%ld,\"subscription_state\":", s->notifies);
        if (st != NULL)
            sk_buf_append_json(&b, st->value);
        else
            sk_buf_append_cstr(&b, "null");
        sk_buf_append_cstr(&b, ",\"content_type\":");
        if (ct != NULL)
            sk_buf_append_json(&b, ct->value);
        else
            sk_buf_append_cstr(&b, "null");
        sk_buf_append_cstr(&b, ",\"body\":");
        sk_buf_append_json(&b, req->body);
        sk_buf_append_cstr(&b, "}\n");
        if (sk_buf_ok(&b))
            fputs(b.p, stdout);
        sk_buf_free(&b);
    } else {
        printf("NOTIFY %ld (%.*s)%s%.*s\n", s->notifies, st ? (int)st->value.len : 4,
               st ? st->value.p : "none", req->body.len ? ":\n" : "", (int)req->body.len,
               req->body.p);
    }
    fflush(stdout);
}

static void on_notify(struct sub *s, struct sk_txn *txn, const struct sk_msg *req)
{
    const struct sk_msg *sent = sk_ua_req_sent(s->first);
    struct sk_substate ss;

    if (s->dialog == NULL && sk_slice_eq(req->call_id, sent->call_id) &&
        sk_slice_eq(req->to.tag, sent->from.tag)) {
        /* §4.1.2.4: the NOTIFY came before the 2xx; it makes the dialog. */
        if (sk_ua_dialog_from_request(s->c.ua, req, &s->dialog) == 0)
            sk_ua_dialog_set_local_cseq(s->dialog, sent->cseq.num);
    }
    if (s->dialog == NULL || !sk_ua_dialog_match(s->dialog, req)) {
        sk_ua_respond(s->c.ua, txn, 481, NULL, NULL, NULL, SK_SLICE_NULL);
        return;
    }
    if (!sk_ua_dialog_accept_cseq(s->dialog, req)) {
        sk_ua_respond(s->c.ua, txn, 500, s->dialog, NULL, NULL, SK_SLICE_NULL);
        return;
    }
    sk_ua_dialog_refresh_target(s->dialog, req);
    sk_ua_respond(s->c.ua, txn, 200, s->dialog, NULL, NULL, SK_SLICE_NULL);
    s->notifies++;
    print_notify(s, req);
    if (sk_msg_substate(req, &ss) == 1 && sk_slice_caseeq_cstr(ss.state, "terminated"))
        s->terminated = true;
}

static void on_request(void *arg, struct sk_txn *txn, const struct sk_msg *req)
{
    struct sub *s = arg;

    if (req->method_id == SK_METHOD_NOTIFY && s->first != NULL)
        on_notify(s, txn, req);
    else
        sk_cli_default_request(&s->c, txn, req);
}

/* SUBSCRIBE (first one out of dialog, then in it) and wait; on a 2xx
 * records the granted lifetime. Returns the exit status. */
static int subscribe(struct sub *s, const char *uri, long expires)
{
    struct sk_ua_req_opts o;
    struct sk_ua_req *r = NULL;
    char hdr[256];
    const char *accept = default_accept(s->event);
    uint64_t e;
    int rc;

    snprintf(hdr, sizeof(hdr), "Event: %s\r\nExpires: %ld\r\n%s%s%s", s->event, expires,
             accept ? "Accept: " : "", accept ? accept : "", accept ? "\r\n" : "");
    memset(&o, 0, sizeof(o));
    o.method = "SUBSCRIBE";
    o.ruri = uri;
    o.dialog = s->dialog;
    o.contact = true;
    o.headers = hdr;
    rc = sk_ua_request(s->c.ua, &o, &r);
    if (rc != 0) {
        sk_cli_error(s->c.cmd, "cannot send SUBSCRIBE: %s", sk_strerror(rc));
        return rc == SK_ENOTFOUND ? SK_EXIT_NETWORK : SK_EXIT_SYSTEM;
    }
    if (s->first == NULL)
        s->first = r;
    int w = sk_cli_ua_wait(&s->c, r, sk_cli_ua_deadline(&s->c, 32));
    if (w == 2) {
        sk_cli_error(s->c.cmd, "interrupted");
        rc = SK_EXIT_FAIL;
    } else {
        rc = w == 1 ? sk_cli_ua_report_timeout(&s->c, r, false) : sk_cli_ua_report(&s->c, r);
    }
    const struct sk_msg *m = sk_ua_req_final(r);
    if (rc == SK_EXIT_OK && m != NULL) {
        if (s->dialog == NULL && sk_ua_dialog_from_response(r, m, &s->dialog) != 0) {
            sk_cli_error(s->c.cmd, "the 2xx has no usable Contact or To tag");
            rc = SK_EXIT_FAIL;
        }
        s->granted = sk_msg_get_uint(m, SK_HDR_EXPIRES, 0x7fffffff, &e) == 0 ? (long)e : expires;
        if (!s->c.json && expires > 0)
            printf("subscribed: %u %.*s, expires in %ld s\n", m->status, (int)m->reason.len,
                   m->reason.p, s->granted);
        else if (!s->c.json)
            printf("unsubscribed: %u %.*s\n", m->status, (int)m->reason.len, m->reason.p);
        fflush(stdout);
    }
    if (r != s->first)
        sk_ua_req_free(r);
    return rc;
}

static int run(struct sub *s, const char *uri)
{
    int rc = subscribe(s, uri, s->expires);

    while (rc == SK_EXIT_OK && !sk_cli_interrupted && !s->terminated &&
           (s->count == 0 || s->notifies < s->count)) {
        uint64_t refresh =
            sk_cli_ua_now(&s->c) +
            (uint64_t)(s->granted > 60 ? s->granted - 30 : s->granted / 2 + 1) * 1000;
        while (!sk_cli_interrupted && !s->terminated && (s->count == 0 || s->notifies < s->count) &&
               sk_cli_ua_now(&s->c) < refresh)
            sk_ua_poll(s->c.ua, 200);
        if (sk_cli_ua_now(&s->c) >= refresh)
            rc = subscribe(s, uri, s->expires);
    }
    if (rc != SK_EXIT_OK || s->terminated)
        return rc;
    /* §4.1.2.3: unsubscribe; the notifier sends a last NOTIFY. */
    sk_cli_interrupted = 0;
    rc = subscribe(s, uri, 0);
    uint64_t until = sk_cli_ua_now(&s->c) + 2000;
    while (rc == SK_EXIT_OK && !s->terminated && !sk_cli_interrupted &&
           sk_cli_ua_now(&s->c) < until)
        sk_ua_poll(s->c.ua, 100);
    return rc;
}

int sk_cmd_subscribe(int argc, char **argv)
{
    struct sub s;
    const char *target = NULL, *v;
    char *uri;
    int rc;

    memset(&s, 0, sizeof(s));
    sk_cli_ua_init(&s.c, "subscribe");
    s.expires = 600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return SK_EXIT_OK;
        }
        if ((rc = sk_cli_ua_option(&s.c, argc, argv, &i)) != 0) {
            if (rc < 0)
                return SK_EXIT_USAGE;
        } else if ((rc = sk_cli_opt(s.c.cmd, argc, argv, &i, "--event", &s.event)) != 0) {
            if (rc < 0)
                return SK_EXIT_USAGE;
        } else if ((rc = sk_cli_opt(s.c.cmd, argc, argv, &i, "--expires", &v)) != 0) {
            if (rc < 0 || sk_cli_number(s.c.cmd, "--expires", v, 1, 0x7fffffff, &s.expires) != 0)
                return SK_EXIT_USAGE;
        } else if ((rc = sk_cli_opt(s.c.cmd, argc, argv, &i, "--count", &v)) != 0) {
            if (rc < 0 || sk_cli_number(s.c.cmd, "--count", v, 1, 1000000, &s.count) != 0)
                return SK_EXIT_USAGE;
        } else if (a[0] == '-' && a[1] != '\0') {
            sk_cli_error(s.c.cmd, "unknown option '%s' (see --help)", a);
            return SK_EXIT_USAGE;
        } else if (target == NULL) {
            target = a;
        } else {
            sk_cli_error(s.c.cmd, "unexpected argument '%s'", a);
            return SK_EXIT_USAGE;
        }
    }
    if (target == NULL || s.event == NULL) {
        if (target != NULL)
            sk_cli_error(s.c.cmd, "--event PKG is required");
        usage(stderr);
        return SK_EXIT_USAGE;
    }
    uri = sk_cli_uri(target);
    if (uri == NULL)
        return SK_EXIT_SYSTEM;
    struct sk_uri u;
    char aor[300];
    if (sk_uri_parse(sk_slice_cstr(uri), &u) != 0 || u.host.len == 0 || u.host.len > 200) {
        sk_cli_error(s.c.cmd, "'%s' is not a SIP URI", target);
        free(uri);
        return SK_EXIT_USAGE;
    }
    snprintf(aor, sizeof(aor), "sip:sipkit@%.*s", (int)u.host.len, u.host.p);
    s.c.on_request = on_request;
    s.c.request_arg = &s;
    rc = sk_cli_ua_start(&s.c, aor);
    if (rc == SK_EXIT_OK)
        rc = run(&s, uri);
    sk_ua_req_free(s.first);
    sk_ua_dialog_free(s.dialog);
    sk_cli_ua_stop(&s.c);
    free(uri);
    return rc;
}
