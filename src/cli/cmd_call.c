/*
 * sipkit call URI [--duration S]
 *
 * RFC 3261 §13.2: INVITE with an SDP offer (RFC 3264), provisional
 * responses shown as they come, the 2xx creates the dialog (§12.1.2) and is
 * acknowledged by an ACK of its own (§13.2.2.4), sent again for every
 * retransmitted 2xx; the call is held for --duration seconds and ended with
 * BYE (§15.1.1). Ctrl-C while ringing sends CANCEL (§9.1) and the INVITE
 * ends with 487; no answer within --timeout does the same and exits 3. A
 * BYE from the other side ends the call early (answered 200, §15.1.2).
 * When a proxy forked the INVITE and more than one branch answered, each
 * further 2xx (another To tag) is a dialog of its own: it gets its ACK and
 * then a BYE at once, since we hold one call only (§13.2.2.4).
 */
#include "cli/cli.h"
#include "cli/ua_cli.h"

#include <stdlib.h>
#include <string.h>

#include <sipkit/codes.h>

#define MAX_EXTRA 8 /* further answers of a forked call we hang up */

/* A further 2xx from another branch of a forked INVITE, and its BYE. */
struct extra {
    struct sk_ua_dialog *dialog;
    struct sk_ua_req *bye;
};

struct call {
    struct sk_cli_ua c;
    struct sk_ua_req *invite;
    struct sk_ua_dialog *dialog;
    struct extra extra[MAX_EXTRA];
    size_t nextra;
    uint32_t invite_cseq;
    bool answered;
    bool remote_bye;
    bool failed_dialog;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sipkit call URI [options]\n\n"
                 "Call URI: INVITE with an audio offer, ACK the answer, hold the call,\n"
                 "hang up with BYE. Ctrl-C while ringing cancels the call.\n\n"
                 "  --duration S          how long to hold the call (default 5)\n"
                 "  --timeout S           how long to wait for an answer (default 60)\n\n");
    sk_cli_ua_usage(out);
}

static void on_extra_bye(void *arg, struct sk_ua_req *r, const struct sk_msg *resp)
{
    struct call *k = arg;

    if (resp != NULL && resp->status < 200)
        return;
    if (!k->c.json)
        printf("hung up the other answer: %u\n", sk_ua_req_status(r));
    fflush(stdout);
}

/* §13.2.2.4: a 2xx with a To tag we have no dialog for came from another
 * branch of a forked INVITE. ACK it (again for each retransmission) and,
 * the first time, end that dialog with BYE. */
static void other_answer(struct call *k, struct sk_ua_req *r, const struct sk_msg *resp)
{
    struct sk_ua_req_opts o;
    struct extra *e = NULL;

    for (size_t i = 0; i < k->nextra && e == NULL; i++) {
        if (sk_slice_eq(resp->to.tag, sk_slice_cstr(sk_ua_dialog_remote_tag(k->extra[i].dialog))))
            e = &k->extra[i];
    }
    if (e != NULL) {
        sk_ua_ack(e->dialog, k->invite_cseq);
        return;
    }
    if (k->nextra == MAX_EXTRA)
        return;
    e = &k->extra[k->nextra];
    if (sk_ua_dialog_from_response(r, resp, &e->dialog) != 0)
        return; /* no Contact: nowhere to send the ACK or the BYE */
    k->nextra++;
    sk_ua_ack(e->dialog, k->invite_cseq);
    if (!k->c.json)
        printf("another branch answered: %u %.*s from <%s>; hanging it up\n", resp->status,
               (int)resp->reason.len, resp->reason.p, sk_ua_dialog_remote_target(e->dialog));
    fflush(stdout);
    memset(&o, 0, sizeof(o));
    o.method = "BYE";
    o.dialog = e->dialog;
    o.on_response = on_extra_bye;
    o.arg = k;
    if (sk_ua_request(k->c.ua, &o, &e->bye) != 0)
        e->bye = NULL;
}

static void on_invite_response(void *arg, struct sk_ua_req *r, const struct sk_msg *resp)
{
    struct call *k = arg;

    if (resp == NULL)
        return;
    if (resp->status < 200) {
        if (!k->c.json)
            printf("progress: %u %.*s\n", resp->status, (int)resp->reason.len, resp->reason.p);
        fflush(stdout);
        return;
    }
    if (resp->status >= 300)
        return;
    /* A 2xx: the first creates the dialog; each one (retransmission)
     * gets the ACK (§13.2.2.4). */
    if (k->dialog == NULL) {
        k->invite_cseq = resp->cseq.num;
        if (sk_ua_dialog_from_response(r, resp, &k->dialog) != 0) {
            k->failed_dialog = true;
            return;
        }
        k->answered = true;
        if (!k->c.json)
            printf("answered: %u %.*s\n", resp->status, (int)resp->reason.len, resp->reason.p);
        fflush(stdout);
    } else if (!sk_slice_eq(resp->to.tag, sk_slice_cstr(sk_ua_dialog_remote_tag(k->dialog)))) {
        other_answer(k, r, resp);
        return;
    }
    sk_ua_ack(k->dialog, k->invite_cseq);
}

static void on_request(void *arg, struct sk_txn *txn, const struct sk_msg *req)
{
    struct call *k = arg;

    if (k->dialog != NULL && sk_ua_dialog_match(k->dialog, req) &&
        req->method_id == SK_METHOD_BYE) {
        sk_ua_respond(k->c.ua, txn, 200, k->dialog, NULL, NULL, SK_SLICE_NULL);
        k->remote_bye = true;
        if (!k->c.json)
            printf("the other side hung up\n");
        return;
    }
    sk_cli_default_request(&k->c, txn, req);
}

/* Wait for the INVITE's final response; cancel on Ctrl-C or no answer.
 * Returns -1 when the outcome came, else the exit status. */
static int ring(struct call *k)
{
    uint64_t deadline = sk_cli_ua_deadline(&k->c, 60);
    bool timed_out = false, cancelling = false;

    for (;;) {
        int w = sk_cli_ua_wait(&k->c, k->invite, cancelling ? 0 : deadline);
        if (w == 0)
            break;
        if (cancelling && w == 2) {
            sk_cli_error(k->c.cmd, "interrupted again: giving up on the CANCEL");
            return SK_EXIT_FAIL;
        }
        if (w == 1 && !sk_ua_req_provisional(k->invite))
            return sk_cli_ua_report_timeout(&k->c, k->invite, false);
        /* §9.1: CANCEL once a provisional response came (the request object
         * waits for one when none did yet). */
        timed_out = w == 1;
        sk_cli_interrupted = 0;
        sk_ua_req_cancel(k->invite);
        cancelling = true;
        if (!k->c.json)
            printf("cancelling\n");
        fflush(stdout);
        deadline = sk_cli_ua_now(&k->c) + 32000;
        if (sk_cli_ua_wait(&k->c, k->invite, deadline) != 0) {
            sk_cli_error(k->c.cmd, "no final response to the INVITE after CANCEL");
            return SK_EXIT_TIMEOUT;
        }
        break;
    }
    if (timed_out && sk_ua_req_status(k->invite) == 487)
        return sk_cli_ua_report_timeout(&k->c, k->invite, true);
    return -1;
}

static int hang_up(struct call *k)
{
    struct sk_ua_req_opts o;
    struct sk_ua_req *bye = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    o.method = "BYE";
    o.dialog = k->dialog;
    if (sk_ua_request(k->c.ua, &o, &bye) != 0) {
        sk_cli_error(k->c.cmd, "cannot send BYE");
        return SK_EXIT_NETWORK;
    }
    sk_cli_interrupted = 0;
    int w = sk_cli_ua_wait(&k->c, bye, sk_cli_ua_now(&k->c) + 32000);
    rc = w == 0 ? sk_cli_ua_report(&k->c, bye) : sk_cli_ua_report_timeout(&k->c, bye, false);
    if (rc == SK_EXIT_OK && !k->c.json)
        printf("hung up: %u\n", sk_ua_req_status(bye));
    sk_ua_req_free(bye);
    return rc;
}

/* Let the BYEs to other branches finish (bounded), then free them. */
static void finish_extra(struct call *k)
{
    uint64_t deadline = sk_cli_ua_now(&k->c) + 32000;

    sk_cli_interrupted = 0;
    for (size_t i = 0; i < k->nextra; i++) {
        if (k->extra[i].bye != NULL)
            sk_cli_ua_wait(&k->c, k->extra[i].bye, deadline);
        sk_ua_req_free(k->extra[i].bye);
        sk_ua_dialog_free(k->extra[i].dialog);
    }
    k->nextra = 0;
}

static int place(struct call *k, const char *uri)
{
    struct sk_ua_req_opts o;
    struct sk_addr dst;
    struct sk_buf sdp;
    int rc;

    if (sk_ua_target(k->c.ua, sk_slice_cstr(uri), &dst) != 0 || sk_ua_prepare(k->c.ua, &dst) != 0) {
        sk_cli_error(k->c.cmd, "cannot reach '%s': host not found", uri);
        return SK_EXIT_NETWORK;
    }
    char ip[SK_ADDR_STRLEN];
    struct sk_addr me;
    sk_addr_parse(sk_slice_cstr(sk_ua_local(k->c.ua)), 0, &me);
    sk_addr_format_host(&me, false, ip, sizeof(ip));
    sk_buf_init(&sdp);
    sk_ua_sdp(&sdp, ip, 4000, (uint64_t)sk_wall_s());
    memset(&o, 0, sizeof(o));
    o.method = "INVITE";
    o.ruri = uri;
    o.contact = true;
    o.ctype = "application/sdp";
    o.body = sk_buf_slice(&sdp);
    o.headers = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n";
    o.on_response = on_invite_response;
    o.arg = k;
    rc = sk_ua_request(k->c.ua, &o, &k->invite);
    sk_buf_free(&sdp);
    if (rc != 0) {
        sk_cli_error(k->c.cmd, "cannot send the INVITE: %s", sk_strerror(rc));
        return SK_EXIT_SYSTEM;
    }
    rc = ring(k);
    if (rc >= 0)
        return rc;
    rc = sk_cli_ua_report(&k->c, k->invite);
    if (rc != SK_EXIT_OK)
        return rc;
    if (k->failed_dialog || k->dialog == NULL) {
        sk_cli_error(k->c.cmd, "the 2xx has no usable Contact or To tag: cannot ACK it");
        return SK_EXIT_FAIL;
    }
    return SK_EXIT_OK;
}

int sk_cmd_call(int argc, char **argv)
{
    struct call k;
    const char *target = NULL, *v;
    long duration = 5;
    char *uri = NULL, aor[300];
    int rc;

    memset(&k, 0, sizeof(k));
    sk_cli_ua_init(&k.c, "call");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return SK_EXIT_OK;
        }
        if ((rc = sk_cli_ua_option(&k.c, argc, argv, &i)) != 0) {
            if (rc < 0)
                return SK_EXIT_USAGE;
        } else if ((rc = sk_cli_opt(k.c.cmd, argc, argv, &i, "--duration", &v)) != 0) {
            if (rc < 0 || sk_cli_number(k.c.cmd, "--duration", v, 0, 86400, &duration) != 0)
                return SK_EXIT_USAGE;
        } else if (a[0] == '-' && a[1] != '\0') {
            sk_cli_error(k.c.cmd, "unknown option '%s' (see --help)", a);
            return SK_EXIT_USAGE;
        } else if (target == NULL) {
            target = a;
        } else {
            sk_cli_error(k.c.cmd, "unexpected argument '%s'", a);
            return SK_EXIT_USAGE;
        }
    }
    if (target == NULL) {
        usage(stderr);
        return SK_EXIT_USAGE;
    }
    uri = sk_cli_uri(target);
    struct sk_uri u;
    if (uri == NULL || sk_uri_parse(sk_slice_cstr(uri), &u) != 0 || u.host.len == 0 ||
        u.host.len > 200) {
        sk_cli_error(k.c.cmd, "'%s' is not a SIP URI", target);
        free(uri);
        return SK_EXIT_USAGE;
    }
    snprintf(aor, sizeof(aor), "sip:sipkit@%.*s", (int)u.host.len, u.host.p);
    k.c.on_request = on_request;
    k.c.request_arg = &k;
    rc = sk_cli_ua_start(&k.c, aor);
    if (rc == SK_EXIT_OK)
        rc = place(&k, uri);
    if (rc == SK_EXIT_OK) {
        sk_cli_ua_sleep(&k.c, (uint64_t)duration * 1000, &k.remote_bye);
        if (!k.remote_bye)
            rc = hang_up(&k);
    }
    finish_extra(&k);
    if (k.c.json && k.invite != NULL)
        printf("{\"command\":\"call\",\"status\":%u,\"outcome\":\"%s\",\"answered\":%s,"
               "\"other_answers\":%zu,\"remote_hangup\":%s,\"exit\":%d}\n",
               sk_ua_req_status(k.invite), sk_ua_outcome_name(sk_ua_req_outcome(k.invite)),
               k.answered ? "true" : "false", k.nextra, k.remote_bye ? "true" : "false", rc);
    sk_ua_req_free(k.invite);
    sk_ua_dialog_free(k.dialog);
    sk_cli_ua_stop(&k.c);
    free(uri);
    return rc;
}
