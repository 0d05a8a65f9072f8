/*
 * sipkit answer [--user AOR] [--local ADDR:PORT] [--register]
 *
 * The called side of one call (RFC 3261 §13.3): wait for an INVITE, answer
 * 180 Ringing and, --ring seconds later, 200 OK with an SDP answer (or the
 * --reject status); the 1xx and 2xx carry our tag and Contact and copy
 * Record-Route (§12.1.1). Then wait for the ACK (§13.3.1.4) and for the
 * caller's BYE, answered 200 (§15.1.2); exit 0. The UA layer resends the
 * 200 until the ACK comes; with no ACK after 64*T1 the call is ended with
 * BYE (§13.3.1.4) and the exit status is 3. A CANCEL before the answer
 * is answered 200 and the INVITE 487 (§9.2). A MESSAGE (RFC 3428) that
 * comes meanwhile is printed and answered 200 (§7 of RFC 3428: a UAS
 * accepts it outside any dialog). With --register the AOR is registered
 * first (and unregistered at the end), so a call can come through a
 * registrar / proxy such as `sipkit serve`.
 */
#include "cli/cli.h"
#include "cli/ua_cli.h"

#include <stdlib.h>
#include <string.h>

struct answer {
    struct sk_cli_ua c;
    struct sk_txn *invite; /* a reference while we have not answered finally */
    struct sk_ua_dialog *dialog;
    uint64_t answer_at;
    long reject;
    bool acked;
    bool no_ack;
    bool done;
    int result;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit answer [options]\n\n"
                 "Wait for one incoming call, answer it (180, then 200 with SDP), wait for\n"
                 "the ACK and the caller's BYE, then exit 0. Prints the address it listens\n"
                 "on first, and every MESSAGE that arrives meanwhile.\n\n"
                 "  --register            register --user first (through --proxy or the AOR's\n"
                 "                        domain), unregister at the end\n"
                 "  --expires N           registration lifetime (default 300)\n"
                 "  --ring S              seconds between 180 and 200 (default 1)\n"
                 "  --reject CODE         answer CODE (300-699, e.g. 486) instead of 200\n"
                 "  --timeout S           how long to wait for the call (default: forever)\n\n");
    sk_cli_ua_usage(out);
}

static void final_answer(struct answer *a)
{
    struct sk_buf sdp;
    char ip[SK_ADDR_STRLEN];
    struct sk_addr me;

    if (a->reject != 0) {
        sk_ua_respond(a->c.ua, a->invite, (unsigned)a->reject, a->dialog, NULL, NULL,
                      SK_SLICE_NULL);
        if (!a->c.json)
            printf("rejected with %ld\n", a->reject);
        a->done = true;
        a->result = SK_EXIT_OK;
    } else {
        sk_addr_parse(sk_slice_cstr(sk_ua_local(a->c.ua)), 0, &me);
        sk_addr_format_host(&me, false, ip, sizeof(ip));
        sk_buf_init(&sdp);
        sk_ua_sdp(&sdp, ip, 4002, (uint64_t)sk_wall_s());
        sk_ua_respond(a->c.ua, a->invite, 200, a->dialog, NULL, "application/sdp",
                      sk_buf_slice(&sdp));
        sk_buf_free(&sdp);
        if (!a->c.json)
            printf("answered: 200 OK\n");
    }
    fflush(stdout);
    sk_txn_unref(a->invite);
    a->invite = NULL;
    a->answer_at = 0;
}

static void on_invite(struct answer *a, struct sk_txn *txn, const struct sk_msg *req)
{
    if (a->dialog != NULL) {
        sk_ua_respond(a->c.ua, txn, 486, NULL, NULL, NULL, SK_SLICE_NULL); /* one call only */
        return;
    }
    sk_ua_prepare(a->c.ua, sk_txn_peer(txn));
    if (sk_ua_dialog_from_request(a->c.ua, req, &a->dialog) != 0) {
        /* §8.2: no Contact or From tag: we cannot build the dialog. */
        sk_ua_respond(a->c.ua, txn, 400, NULL, NULL, NULL, SK_SLICE_NULL);
        return;
    }
    sk_txn_ref(txn);
    a->invite = txn;
    if (!a->c.json)
        printf("incoming call from %.*s\n", (int)req->from.uri.raw.len, req->from.uri.raw.p);
    sk_ua_respond(a->c.ua, txn, 180, a->dialog, NULL, NULL, SK_SLICE_NULL);
    if (!a->c.json)
        printf("ringing\n");
    fflush(stdout);
    a->answer_at = sk_cli_ua_now(&a->c);
}

/* RFC 3428 §7: a MESSAGE outside a dialog is answered 200 (no Contact, no
 * dialog); its body is printed as it came. */
static void on_message(struct answer *a, struct sk_txn *txn, const struct sk_msg *req)
{
    sk_ua_respond(a->c.ua, txn, 200, NULL, NULL, NULL, SK_SLICE_NULL);
    if (a->c.json) {
        struct sk_buf b;
        sk_buf_init(&b);
        sk_buf_append_cstr(&b, "{\"message\":{\"from\":");
        sk_buf_append_json(&b, req->from.uri.raw);
        sk_buf_append_cstr(&b, ",");
        sk_cli_json_header(&b, "content_type", req, SK_HDR_CONTENT_TYPE);
        sk_buf_append_cstr(&b, ",\"body\":");
        sk_buf_append_json(&b, req->body);
        sk_buf_append_cstr(&b, "}}");
        if (sk_buf_ok(&b))
            printf("%s\n", b.p);
        sk_buf_free(&b);
    } else {
        printf("message from %.*s: %.*s\n", (int)req->from.uri.raw.len, req->from.uri.raw.p,
               (int)req->body.len, req->body.p);
    }
    fflush(stdout);
}

static void on_request(void *arg, struct sk_txn *txn, const struct sk_msg *req)
{
    struct answer *a = arg;

    if (req->method_id == SK_METHOD_INVITE && req->to.tag.len == 0) {
        on_invite(a, txn, req);
    } else if (req->method_id == SK_METHOD_MESSAGE && req->to.tag.len == 0) {
        on_message(a, txn, req);
    } else if (req->method_id == SK_METHOD_CANCEL) {
        struct sk_txn *target = sk_txn_cancel_target(txn);
        bool ours = target != NULL && target == a->invite;
        sk_ua_respond(a->c.ua, txn, ours ? 200 : 481, NULL, NULL, NULL, SK_SLICE_NULL);
        if (ours) {
            sk_ua_respond(a->c.ua, a->invite, 487, a->dialog, NULL, NULL, SK_SLICE_NULL);
            sk_txn_unref(a->invite);
            a->invite = NULL;
            a->done = true;
            a->result = SK_EXIT_FAIL;
            sk_cli_error(a->c.cmd, "the caller cancelled the call");
        }
        sk_txn_unref(target);
    } else if (a->dialog != NULL && sk_ua_dialog_match(a->dialog, req) &&
               req->method_id == SK_METHOD_BYE) {
        sk_ua_respond(a->c.ua, txn, 200, a->dialog, NULL, NULL, SK_SLICE_NULL);
        if (!a->c.json) {
            printf("the caller hung up\n");
            fflush(stdout); /* before the unregister, which may take long */
        }
        a->done = true;
        a->result = SK_EXIT_OK;
    } else {
        sk_cli_default_request(&a->c, txn, req);
    }
}

static void on_ack(void *arg, const struct sk_msg *ack)
{
    struct answer *a = arg;

    if (a->dialog != NULL && sk_ua_dialog_match(a->dialog, ack) && !a->acked) {
        a->acked = true;
        if (!a->c.json)
            printf("call established (ACK received)\n");
        fflush(stdout);
    }
}

static void on_no_ack(void *arg, struct sk_slice call_id, uint32_t cseq)
{
    struct answer *a = arg;

    (void)cseq;
    if (a->dialog != NULL && sk_slice_eq(call_id, sk_slice_cstr(sk_ua_dialog_call_id(a->dialog))))
        a->no_ack = true;
}

/* §13.3.1.4: the 200 went out for 64*T1 and no ACK came: the dialog is
 * confirmed all the same, and the session is ended with BYE. */
static void end_unacked(struct answer *a)
{
    struct sk_ua_req_opts o;
    struct sk_ua_req *bye = NULL;

    sk_cli_error(a->c.cmd, "no ACK for our 200 OK within 32 s: ending the call with BYE");
    memset(&o, 0, sizeof(o));
    o.method = "BYE";
    o.dialog = a->dialog;
    if (sk_ua_request(a->c.ua, &o, &bye) == 0) {
        if (sk_cli_ua_wait(&a->c, bye, sk_cli_ua_now(&a->c) + 32000) == 0 &&
            sk_ua_req_outcome(bye) == SK_UA_FINAL && !a->c.json)
            printf("hung up: %u\n", sk_ua_req_status(bye));
        sk_ua_req_free(bye);
    }
    a->done = true;
    a->result = SK_EXIT_TIMEOUT;
}

/* REGISTER (expires > 0) or unregister the AOR; returns the exit status. */
static int reg(struct answer *a, long expires)
{
    struct sk_ua_req_opts o;
    struct sk_ua_req *r = NULL;
    struct sk_uri u;
    char ruri[300], hdr[48];
    int rc;

    sk_uri_parse(sk_slice_cstr(a->c.aor), &u);
    snprintf(ruri, sizeof(ruri), "sip:%.*s", (int)u.host.len, u.host.p);
    snprintf(hdr, sizeof(hdr), "Expires: %ld\r\n", expires);
    memset(&o, 0, sizeof(o));
    o.method = "REGISTER";
    o.ruri = ruri;
    o.to = a->c.aor;
    o.contact = true;
    o.headers = hdr;
    if (expires == 0)
        o.contact_params = ";expires=0";
    rc = sk_ua_request(a->c.ua, &o, &r);
    if (rc != 0) {
        sk_cli_error(a->c.cmd, "cannot register: %s", sk_strerror(rc));
        return SK_EXIT_NETWORK;
    }
    int w = sk_cli_ua_wait(&a->c, r, sk_cli_ua_now(&a->c) + 32000);
    rc = w == 0 ? sk_cli_ua_report(&a->c, r) : sk_cli_ua_report_timeout(&a->c, r, false);
    if (rc == SK_EXIT_OK && !a->c.json)
        printf("%s %s as <%s>\n", expires ? "registered" : "unregistered", a->c.aor,
               sk_ua_contact(a->c.ua));
    fflush(stdout);
    sk_ua_req_free(r);
    return rc;
}

static int wait_call(struct answer *a, long ring_s)
{
    uint64_t deadline = sk_cli_ua_deadline(&a->c, 0);

    while (!a->done && !sk_cli_interrupted) {
        uint64_t now = sk_cli_ua_now(&a->c);
        if (a->dialog == NULL && deadline != 0 && now >= deadline) {
            sk_cli_error(a->c.cmd, "no call within %d s", a->c.wait_s);
            return SK_EXIT_TIMEOUT;
        }
        if (a->invite != NULL && a->answer_at != 0 && now >= a->answer_at + (uint64_t)ring_s * 1000)
            final_answer(a);
        if (a->no_ack && !a->acked && !a->done) {
            end_unacked(a);
            break;
        }
        sk_ua_poll(a->c.ua, 100);
    }
    if (!a->done) {
        sk_cli_error(a->c.cmd, "interrupted");
        return SK_EXIT_FAIL;
    }
    /* Let the last response go out and its retransmissions be absorbed. */
    sk_ua_poll(a->c.ua, 50);
    return a->result;
}

int sk_cmd_answer(int argc, char **argv)
{
    struct answer a;
    const char *v;
    bool do_register = false;
    long ring_s = 1, expires = 300;
    char bound[SK_ADDR_STRLEN + 8];
    int rc;

    memset(&a, 0, sizeof(a));
    sk_cli_ua_init(&a.c, "answer");
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            usage(stdout);
            return SK_EXIT_OK;
        }
        if ((rc = sk_cli_ua_option(&a.c, argc, argv, &i)) != 0) {
            if (rc < 0)
                return SK_EXIT_USAGE;
        } else if ((rc = sk_cli_opt(a.c.cmd, argc, argv, &i, "--ring", &v)) != 0) {
            if (rc < 0 || sk_cli_number(a.c.cmd, "--ring", v, 0, 3600, &ring_s) != 0)
                return SK_EXIT_USAGE;
        } else if ((rc = sk_cli_opt(a.c.cmd, argc, argv, &i, "--reject", &v)) != 0) {
            if (rc < 0 || sk_cli_number(a.c.cmd, "--reject", v, 300, 699, &a.reject) != 0)
                return SK_EXIT_USAGE;
        } else if ((rc = sk_cli_opt(a.c.cmd, argc, argv, &i, "--expires", &v)) != 0) {
            if (rc < 0 || sk_cli_number(a.c.cmd, "--expires", v, 1, 0x7fffffff, &expires) != 0)
                return SK_EXIT_USAGE;
        } else if (strcmp(s, "--register") == 0) {
            do_register = true;
        } else {
            sk_cli_error(a.c.cmd, "unexpected argument '%s' (see --help)", s);
            return SK_EXIT_USAGE;
        }
    }
    if (do_register && a.c.user == NULL) {
        sk_cli_error(a.c.cmd, "--register needs --user AOR");
        return SK_EXIT_USAGE;
    }
    a.c.on_request = on_request;
    a.c.request_arg = &a;
    a.c.on_ack = on_ack;
    a.c.ack_arg = &a;
    a.c.on_no_ack = on_no_ack;
    a.c.no_ack_arg = &a;
    rc = sk_cli_ua_start(&a.c, "sip:sipkit@localhost");
    if (rc != SK_EXIT_OK)
        return rc;
    snprintf(bound, sizeof(bound), "%s", sk_ua_local(a.c.ua));
    printf("listening on %s %s\n", sk_transport_name(a.c.transport), bound);
    fflush(stdout);
    if (do_register)
        rc = reg(&a, expires);
    if (rc == SK_EXIT_OK)
        rc = wait_call(&a, ring_s);
    if (do_register) {
        sk_cli_interrupted = 0;
        int urc = reg(&a, 0);
        if (rc == SK_EXIT_OK)
            rc = urc;
    }
    if (a.c.json)
        printf("{\"command\":\"answer\",\"answered\":%s,\"acked\":%s,\"exit\":%d}\n",
               a.reject == 0 && a.dialog != NULL ? "true" : "false", a.acked ? "true" : "false",
               rc);
    sk_txn_unref(a.invite);
    sk_ua_dialog_free(a.dialog);
    sk_cli_ua_stop(&a.c);
    return rc;
}
