/*
 * Unit tests for the user-agent layer, with the send hook and a fake
 * clock instead of sockets: every message the UA sends is captured and
 * parsed, responses are built here and fed back. Digest credentials are
 * checked by the server side of the auth layer (sk_auth_verify), which
 * SIPp cannot do in the interop tests.
 */
#include "support.h"

#include <stdio.h>
#include <string.h>

#include <sipkit/auth.h>
#include <sipkit/ua.h>

#define MAX_SENT 32

struct fx {
    struct sk_ua *ua;
    struct sk_auth *srv;
    uint64_t now;
    struct sk_addr peer; /* where the tests' "server" is */
    struct sk_addr dst[MAX_SENT];
    struct sk_buf sent[MAX_SENT];
    struct sk_msg msg[MAX_SENT];
    size_t nsent;
    /* incoming requests */
    struct sk_txn *txn;
    struct sk_ua_dialog *uas_dialog;
    unsigned responses;
    unsigned finals;
    /* our 2xx that got no ACK */
    unsigned no_acks;
    uint32_t no_ack_cseq;
    char no_ack_call_id[64];
};

static const char *server_password = "secret";

static int lookup(void *arg, struct sk_auth_lookup *q)
{
    (void)arg;
    if (!sk_slice_eq(q->username, S("alice")))
        return SK_ENOTFOUND;
    snprintf(q->user, sizeof(q->user), "alice");
    return sk_auth_ha1(q->hash, q->username, q->realm, S(server_password), q->ha1);
}

static uint64_t fake_clock(void *arg)
{
    return ((struct fx *)arg)->now;
}

static int capture(void *arg, const struct sk_addr *dst, const char *data, size_t len)
{
    struct fx *f = arg;

    assert_true(f->nsent < MAX_SENT);
    size_t i = f->nsent++;
    sk_buf_init(&f->sent[i]);
    sk_buf_append(&f->sent[i], data, len);
    sk_msg_init(&f->msg[i]);
    assert_int_equal(sk_msg_parse(&f->msg[i], f->sent[i].p, f->sent[i].len, SK_MSG_DATAGRAM, NULL),
                     0);
    f->dst[i] = *dst;
    return 0;
}

static void on_request(void *arg, struct sk_txn *txn, const struct sk_msg *req)
{
    struct fx *f = arg;

    if (req->method_id == SK_METHOD_INVITE) {
        assert_int_equal(sk_ua_dialog_from_request(f->ua, req, &f->uas_dialog), 0);
        sk_txn_ref(txn);
        f->txn = txn;
    }
}

static void on_no_ack(void *arg, struct sk_slice call_id, uint32_t cseq)
{
    struct fx *f = arg;

    f->no_acks++;
    f->no_ack_cseq = cseq;
    sk_slice_to_cstr(call_id, f->no_ack_call_id, sizeof(f->no_ack_call_id));
}

static struct fx *fx_new(const char *password)
{
    struct fx *f = test_calloc(1, sizeof(*f));
    struct sk_ua_config cfg;
    struct sk_auth_config ac;

    f->now = 1000000;
    assert_int_equal(sk_addr_parse(S("127.0.0.1:5060"), 5060, &f->peer), 0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.aor = "sip:alice@127.0.0.1";
    cfg.password = password;
    cfg.transport = SK_TP_UDP;
    cfg.local = "127.0.0.1:40000";
    cfg.send = capture;
    cfg.send_arg = f;
    cfg.clock = fake_clock;
    cfg.clock_arg = f;
    cfg.on_request = on_request;
    cfg.request_arg = f;
    cfg.on_no_ack = on_no_ack;
    cfg.no_ack_arg = f;
    assert_int_equal(sk_ua_new(&f->ua, &cfg), 0);
    sk_auth_config_init(&ac);
    ac.realm = "example.test";
    ac.lookup = lookup;
    /* Both, as a server configured for stronger digests offers them. */
    assert_int_equal(sk_auth_algos_parse("MD5 SHA-256", false, &ac.algorithms), 0);
    assert_int_equal(sk_auth_new(&f->srv, &ac), 0);
    return f;
}

static void fx_free(struct fx *f)
{
    sk_txn_unref(f->txn);
    sk_ua_dialog_free(f->uas_dialog);
    sk_ua_free(f->ua);
    sk_auth_free(f->srv);
    for (size_t i = 0; i < f->nsent; i++) {
        sk_msg_free(&f->msg[i]);
        sk_buf_free(&f->sent[i]);
    }
    test_free(f);
}

/* Answer sent message i with status and extra header lines. */
static void respond(struct fx *f, size_t i, unsigned status, const char *reason, const char *to_tag,
                    const char *extra)
{
    struct sk_buf b;

    sk_buf_init(&b);
    sk_msg_start_response(&b, &f->msg[i], status, S(reason), S(to_tag));
    if (extra != NULL)
        sk_buf_append_cstr(&b, extra);
    sk_msg_finish(&b, SK_SLICE_NULL, SK_SLICE_NULL);
    assert_true(sk_buf_ok(&b));
    sk_ua_feed(f->ua, b.p, b.len, &f->peer);
    sk_buf_free(&b);
}

/* A 401 from the auth server (stale or not), for sent message i. */
static void challenge(struct fx *f, size_t i, bool stale)
{
    struct sk_buf ch;

    sk_buf_init(&ch);
    assert_int_equal(sk_auth_challenge(f->srv, SK_AUTH_WWW, SK_SLICE_NULL, stale, &ch), 0);
    respond(f, i, 401, "Unauthorized", "srv1", ch.p);
    sk_buf_free(&ch);
}

/* Verify the Authorization of sent message i with the auth server. */
static enum sk_auth_cause verify(struct fx *f, size_t i, enum sk_auth_algo *algo)
{
    const struct sk_hdr *h = sk_msg_find(&f->msg[i], SK_HDR_AUTHORIZATION);
    struct sk_digest_hdr d;
    struct sk_auth_result res;
    struct sk_auth_request rq = {.method = f->msg[i].method, .uri = f->msg[i].ruri_raw};

    assert_non_null(h);
    assert_int_equal(sk_digest_hdr_parse(h->value, &d), 0);
    sk_auth_verify(f->srv, &d, &rq, &res);
    *algo = res.algo;
    return res.cause;
}

static struct sk_ua_req *send_register(struct fx *f)
{
    struct sk_ua_req_opts o = {.method = "REGISTER",
                               .ruri = "sip:127.0.0.1",
                               .to = "sip:alice@127.0.0.1",
                               .contact = true,
                               .headers = "Expires: 60\r\n"};
    struct sk_ua_req *r = NULL;

    assert_int_equal(sk_ua_request(f->ua, &o, &r), 0);
    return r;
}

static void register_challenge_then_ok(void **state)
{
    struct fx *f = fx_new("secret");
    struct sk_ua_req *r = send_register(f);
    enum sk_auth_algo algo;

    (void)state;
    assert_int_equal(f->nsent, 1);
    assert_null(sk_msg_find(&f->msg[0], SK_HDR_AUTHORIZATION));
    assert_slice_equal(f->msg[0].via.host, "127.0.0.1");
    assert_true(f->msg[0].via.has_rport);
    challenge(f, 0, false);
    assert_int_equal(sk_ua_req_outcome(r), SK_UA_PENDING);
    assert_int_equal(f->nsent, 2);
    /* §22.2: same Call-ID and From tag, CSeq + 1, a new branch. */
    assert_true(sk_slice_eq(f->msg[1].call_id, f->msg[0].call_id));
    assert_true(sk_slice_eq(f->msg[1].from.tag, f->msg[0].from.tag));
    assert_int_equal(f->msg[1].cseq.num, 2);
    assert_false(sk_slice_eq(f->msg[1].via.branch, f->msg[0].via.branch));
    /* The server offers MD5, then SHA-256: sipkit's client takes the
     * strongest it knows. */
    assert_int_equal(verify(f, 1, &algo), SK_AUTH_OK);
    assert_int_equal(algo, SK_ALGO_SHA256);
    respond(f, 1, 200, "OK", "srv1", "Contact: <sip:alice@127.0.0.1:40000>;expires=60\r\n");
    assert_int_equal(sk_ua_req_outcome(r), SK_UA_FINAL);
    assert_int_equal(sk_ua_req_status(r), 200);
    assert_int_equal(sk_ua_req_auth_tries(r), 1);
    assert_int_equal(sk_msg_count(sk_ua_req_final(r), SK_HDR_CONTACT), 1);
    sk_ua_req_free(r);
    fx_free(f);
}

static void strongest_algorithm_whatever_the_order(void **state)
{
    struct fx *f = fx_new("secret");
    struct sk_ua_req *r = send_register(f);

    (void)state;
    respond(
        f, 0, 401, "Unauthorized", "t",
        "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"\r\n"
        "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", algorithm=SHA-256, qop=\"auth\"\r\n");
    assert_int_equal(f->nsent, 2);
    const struct sk_hdr *h = sk_msg_find(&f->msg[1], SK_HDR_AUTHORIZATION);
    struct sk_digest_hdr d;
    assert_int_equal(sk_digest_hdr_parse(h->value, &d), 0);
    assert_slice_equal(d.f[SK_DIG_ALGORITHM], "SHA-256");
    assert_slice_equal(d.f[SK_DIG_USERNAME], "alice");
    assert_slice_equal(d.f[SK_DIG_URI], "sip:127.0.0.1");
    sk_ua_req_free(r);
    fx_free(f);
}

static void wrong_password_is_refused_after_one_retry(void **state)
{
    struct fx *f = fx_new("not-the-password");
    struct sk_ua_req *r = send_register(f);
    enum sk_auth_algo algo;

    (void)state;
    challenge(f, 0, false);
    assert_int_equal(f->nsent, 2);
    assert_int_equal(verify(f, 1, &algo), SK_AUTH_WRONG_PASSWORD);
    challenge(f, 1, false);
    assert_int_equal(f->nsent, 2); /* no third attempt */
    assert_int_equal(sk_ua_req_outcome(r), SK_UA_AUTH_REFUSED);
    assert_string_equal(sk_ua_req_realm(r), "example.test");
    assert_int_equal(sk_ua_req_status(r), 0);
    sk_ua_req_free(r);
    fx_free(f);
}

static void stale_nonce_is_retried_once_more(void **state)
{
    struct fx *f = fx_new("secret");
    struct sk_ua_req *r = send_register(f);

    (void)state;
    challenge(f, 0, false);
    challenge(f, 1, true); /* RFC 7616 §3.3: right password, old nonce */
    assert_int_equal(f->nsent, 3);
    assert_int_equal(f->msg[2].cseq.num, 3);
    respond(f, 2, 200, "OK", "srv1", NULL);
    assert_int_equal(sk_ua_req_status(r), 200);
    assert_int_equal(sk_ua_req_auth_tries(r), 2);
    sk_ua_req_free(r);

    /* Stale twice in a row is not retried a third time. */
    r = send_register(f);
    challenge(f, 3, false);
    challenge(f, 4, true);
    challenge(f, 5, true);
    assert_int_equal(f->nsent, 6);
    assert_int_equal(sk_ua_req_outcome(r), SK_UA_AUTH_REFUSED);
    sk_ua_req_free(r);
    fx_free(f);
}

static void challenge_without_password(void **state)
{
    struct fx *f = fx_new(NULL);
    struct sk_ua_req *r = send_register(f);

    (void)state;
    challenge(f, 0, false);
    assert_int_equal(f->nsent, 1);
    assert_int_equal(sk_ua_req_outcome(r), SK_UA_AUTH_MISSING);
    sk_ua_req_free(r);

    /* A challenge with no usable scheme. */
    fx_free(f);
    f = fx_new("secret");
    r = send_register(f);
    respond(f, 0, 401, "Unauthorized", "t", "WWW-Authenticate: Basic realm=\"r\"\r\n");
    assert_int_equal(sk_ua_req_outcome(r), SK_UA_AUTH_UNUSABLE);
    sk_ua_req_free(r);
    fx_free(f);
}

static void timeout_after_timer_f(void **state)
{
    struct fx *f = fx_new(NULL);
    struct sk_ua_req_opts o = {.method = "OPTIONS", .ruri = "sip:127.0.0.1"};
    struct sk_ua_req *r = NULL;

    (void)state;
    assert_int_equal(sk_ua_request(f->ua, &o, &r), 0);
    /* RFC 3261 §17.1.2.2: E doubles 0.5, 1, 2, 4 then every 4 s until F at 32 s. */
    for (int ms = 0; ms <= 32000; ms += 250) {
        f->now = 1000000 + (uint64_t)ms;
        sk_ua_tick(f->ua);
    }
    assert_int_equal(sk_ua_req_outcome(r), SK_UA_TIMEOUT);
    assert_int_equal(f->nsent, 11);
    sk_ua_req_free(r);
    fx_free(f);
}

static void invite_dialog_route_set_and_ack(void **state)
{
    struct fx *f = fx_new(NULL);
    struct sk_ua_req_opts o = {.method = "INVITE", .ruri = "sip:bob@127.0.0.1", .contact = true};
    struct sk_ua_req *r = NULL;
    struct sk_ua_dialog *d = NULL;

    (void)state;
    assert_int_equal(sk_ua_request(f->ua, &o, &r), 0);
    respond(f, 0, 180, "Ringing", "bobtag", NULL);
    assert_true(sk_ua_req_provisional(r));
    respond(f, 0, 200, "OK", "bobtag",
            "Record-Route: <sip:127.0.0.2:5070;lr>, <sip:127.0.0.3:5080;lr>\r\n"
            "Contact: <sip:bob@127.0.0.9:6000>\r\n");
    assert_int_equal(sk_ua_req_status(r), 200);
    assert_int_equal(sk_ua_dialog_from_response(r, sk_ua_req_final(r), &d), 0);
    assert_int_equal(sk_ua_dialog_route_count(d), 2);
    assert_string_equal(sk_ua_dialog_remote_target(d), "sip:bob@127.0.0.9:6000");
    assert_int_equal(sk_ua_ack(d, 1), 0);
    assert_int_equal(f->nsent, 2);
    const struct sk_msg *ack = &f->msg[1];
    /* §13.2.2.4 / §12.2.1.1: to the remote target, routes reversed, sent to
     * the first route, CSeq of the INVITE, the remote tag. */
    assert_int_equal(ack->method_id, SK_METHOD_ACK);
    assert_slice_equal(ack->ruri_raw, "sip:bob@127.0.0.9:6000");
    assert_int_equal(ack->cseq.num, 1);
    assert_slice_equal(ack->to.tag, "bobtag");
    assert_slice_equal(sk_msg_find(ack, SK_HDR_ROUTE)->value, "<sip:127.0.0.3:5080;lr>");
    assert_int_equal(sk_addr_port(&f->dst[1]), 5080);
    assert_false(sk_slice_eq(ack->via.branch, f->msg[0].via.branch));
    /* A BYE in the dialog: CSeq 2, same route set. */
    struct sk_ua_req_opts bo = {.method = "BYE", .dialog = d};
    struct sk_ua_req *bye = NULL;
    assert_int_equal(sk_ua_request(f->ua, &bo, &bye), 0);
    assert_int_equal(f->msg[2].cseq.num, 2);
    assert_int_equal(sk_msg_count(&f->msg[2], SK_HDR_ROUTE), 2);
    sk_ua_req_free(bye);
    sk_ua_dialog_free(d);
    sk_ua_req_free(r);
    fx_free(f);
}

static void cancel_waits_for_a_provisional(void **state)
{
    struct fx *f = fx_new(NULL);
    struct sk_ua_req_opts o = {.method = "INVITE", .ruri = "sip:bob@127.0.0.1"};
    struct sk_ua_req *r = NULL;

    (void)state;
    assert_int_equal(sk_ua_request(f->ua, &o, &r), 0);
    assert_int_equal(sk_ua_req_cancel(r), 0);
    assert_int_equal(f->nsent, 1); /* §9.1: not before a provisional */
    respond(f, 0, 180, "Ringing", "b", NULL);
    assert_int_equal(f->nsent, 2);
    assert_int_equal(f->msg[1].method_id, SK_METHOD_CANCEL);
    assert_true(sk_slice_eq(f->msg[1].via.branch, f->msg[0].via.branch));
    respond(f, 0, 487, "Request Terminated", "b", NULL);
    assert_int_equal(sk_ua_req_status(r), 487);
    assert_int_equal(f->msg[2].method_id, SK_METHOD_ACK); /* by the transaction */
    assert_int_equal(sk_ua_req_cancel(r), SK_ESTATE);
    sk_ua_req_free(r);
    fx_free(f);
}

static void uas_answers_with_tag_contact_and_record_route(void **state)
{
    struct fx *f = fx_new(NULL);
    const char *inv = "INVITE sip:alice@127.0.0.1:40000 SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKuas1\r\n"
                      "Record-Route: <sip:127.0.0.2;lr>\r\n"
                      "From: <sip:bob@example.test>;tag=bt\r\n"
                      "To: <sip:alice@example.test>\r\n"
                      "Call-ID: c1@test\r\nCSeq: 7 INVITE\r\n"
                      "Contact: <sip:bob@127.0.0.1:5060>\r\nContent-Length: 0\r\n\r\n";

    (void)state;
    sk_ua_feed(f->ua, inv, strlen(inv), &f->peer);
    assert_non_null(f->txn);
    assert_non_null(f->uas_dialog);
    assert_int_equal(sk_ua_respond(f->ua, f->txn, 180, f->uas_dialog, NULL, NULL, SK_SLICE_NULL),
                     0);
    const struct sk_msg *m = &f->msg[f->nsent - 1];
    assert_int_equal(m->status, 180);
    assert_slice_equal(m->reason, "Ringing");
    assert_slice_equal(m->to.tag, sk_ua_dialog_local_tag(f->uas_dialog));
    assert_slice_equal(sk_msg_find(m, SK_HDR_RECORD_ROUTE)->value, "<sip:127.0.0.2;lr>");
    assert_slice_equal(sk_msg_find(m, SK_HDR_CONTACT)->value, "<sip:alice@127.0.0.1:40000>");
    /* The caller's BYE matches the dialog; one from elsewhere does not. */
    struct sk_msg bye;
#define BYE_FMT                                                                                    \
    "BYE sip:alice@127.0.0.1:40000 SIP/2.0\r\n"                                                    \
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKuas2\r\n"                                       \
    "From: <sip:bob@example.test>;tag=bt\r\n"                                                      \
    "To: <sip:alice@example.test>;tag=%s\r\n"                                                      \
    "Call-ID: c1@test\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n"
    char buf[512];
    snprintf(buf, sizeof(buf), BYE_FMT, sk_ua_dialog_local_tag(f->uas_dialog));
    sk_msg_init(&bye);
    assert_int_equal(sk_msg_parse(&bye, buf, strlen(buf), SK_MSG_DATAGRAM, NULL), 0);
    assert_true(sk_ua_dialog_match(f->uas_dialog, &bye));
    assert_true(sk_ua_dialog_accept_cseq(f->uas_dialog, &bye));
    sk_msg_free(&bye);
    snprintf(buf, sizeof(buf), BYE_FMT, "other");
    sk_msg_init(&bye);
    assert_int_equal(sk_msg_parse(&bye, buf, strlen(buf), SK_MSG_DATAGRAM, NULL), 0);
    assert_false(sk_ua_dialog_match(f->uas_dialog, &bye));
    sk_msg_free(&bye);
    fx_free(f);
}

#define UAS_INVITE                                                                                 \
    "INVITE sip:alice@127.0.0.1:40000 SIP/2.0\r\n"                                                 \
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKuas3\r\n"                                       \
    "From: <sip:bob@example.test>;tag=bt\r\n"                                                      \
    "To: <sip:alice@example.test>\r\n"                                                             \
    "Call-ID: c3@test\r\nCSeq: 7 INVITE\r\n"                                                       \
    "Contact: <sip:bob@127.0.0.1:5060>\r\nContent-Length: 0\r\n\r\n"

/* Answer UAS_INVITE with 200 at the fixture's time; the 200 is sent[0]. */
static void uas_answer_200(struct fx *f)
{
    sk_ua_feed(f->ua, UAS_INVITE, strlen(UAS_INVITE), &f->peer);
    assert_non_null(f->txn);
    assert_int_equal(sk_ua_respond(f->ua, f->txn, 200, f->uas_dialog, NULL, NULL, SK_SLICE_NULL),
                     0);
    assert_int_equal(f->nsent, 1);
    assert_int_equal(f->msg[0].status, 200);
    assert_int_equal(sk_ua_awaiting_ack(f->ua), 1);
}

static void tick_to(struct fx *f, uint64_t t)
{
    f->now = t;
    sk_ua_tick(f->ua);
}

static void uas_resends_2xx_until_the_ack(void **state)
{
    struct fx *f = fx_new(NULL);
    uint64_t t0 = f->now;
    char ack[512];

    (void)state;
    uas_answer_200(f);
    /* RFC 3261 §13.3.1.4: after T1, then 2*T1, 4*T1, capped at T2 (4 s). */
    const uint64_t at[] = {500, 1500, 3500, 7500, 11500};
    for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
        tick_to(f, t0 + at[k] - 1);
        assert_int_equal(f->nsent, 1 + k);
        tick_to(f, t0 + at[k]);
        assert_int_equal(f->nsent, 2 + k);
        assert_int_equal(f->sent[1 + k].len, f->sent[0].len);
        assert_memory_equal(f->sent[1 + k].p, f->sent[0].p, f->sent[0].len);
        assert_true(sk_addr_equal(&f->dst[1 + k], &f->peer));
    }
    /* The ACK (its own transaction-less request, CSeq of the INVITE). */
    snprintf(ack, sizeof(ack),
             "ACK sip:alice@127.0.0.1:40000 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKack3\r\n"
             "From: <sip:bob@example.test>;tag=bt\r\n"
             "To: <sip:alice@example.test>;tag=%s\r\n"
             "Call-ID: c3@test\r\nCSeq: 7 ACK\r\nContent-Length: 0\r\n\r\n",
             sk_ua_dialog_local_tag(f->uas_dialog));
    sk_ua_feed(f->ua, ack, strlen(ack), &f->peer);
    assert_int_equal(sk_ua_awaiting_ack(f->ua), 0);
    tick_to(f, t0 + 40000);
    assert_int_equal(f->nsent, 6);
    assert_int_equal(f->no_acks, 0);
    fx_free(f);
}

static void uas_gives_up_the_2xx_after_64_t1(void **state)
{
    struct fx *f = fx_new(NULL);
    uint64_t t0 = f->now;

    (void)state;
    uas_answer_200(f);
    /* Resent at 0.5, 1.5, 3.5, 7.5 s and every 4 s after: 10 times before
     * 64*T1 = 32 s, when the application hears of it once. */
    for (uint64_t t = 100; t < 32000; t += 100)
        tick_to(f, t0 + t);
    assert_int_equal(f->nsent, 11);
    assert_int_equal(f->no_acks, 0);
    tick_to(f, t0 + 32000);
    assert_int_equal(f->no_acks, 1);
    assert_int_equal(f->no_ack_cseq, 7);
    assert_string_equal(f->no_ack_call_id, "c3@test");
    assert_int_equal(sk_ua_awaiting_ack(f->ua), 0);
    tick_to(f, t0 + 60000);
    assert_int_equal(f->nsent, 11);
    assert_int_equal(f->no_acks, 1);
    fx_free(f);
}

static void sdp_offer_is_minimal_and_valid(void **state)
{
    struct sk_buf b;

    (void)state;
    sk_buf_init(&b);
    assert_int_equal(sk_ua_sdp(&b, "192.0.2.1", 4000, 42), 0);
    assert_string_equal(b.p, "v=0\r\no=sipkit 42 42 IN IP4 192.0.2.1\r\ns=sipkit\r\n"
                             "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\n"
                             "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
                             "a=sendrecv\r\n");
    sk_buf_reset(&b);
    assert_int_equal(sk_ua_sdp(&b, "2001:db8::1", 4000, 1), 0);
    assert_non_null(strstr(b.p, "c=IN IP6 2001:db8::1\r\n"));
    sk_buf_free(&b);
}

static void config_is_checked(void **state)
{
    struct sk_ua_config cfg;
    struct sk_ua *ua = NULL;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    assert_int_equal(sk_ua_new(&ua, &cfg), SK_EINVAL); /* no AOR */
    cfg.aor = "tel:+15551234";
    assert_int_equal(sk_ua_new(&ua, &cfg), SK_EINVAL); /* not sip: */
    cfg.aor = "sip:alice@example.test";
    cfg.proxy = "not a host:99999";
    assert_int_equal(sk_ua_new(&ua, &cfg), SK_EINVAL);
    cfg.proxy = NULL;
    cfg.local = "127.0.0.1:0";
    cfg.password = "pw";
    assert_int_equal(sk_ua_new(&ua, &cfg), 0);
    assert_non_null(strstr(sk_ua_contact(ua), "sip:alice@127.0.0.1:"));
    assert_string_equal(sk_ua_from(ua), "<sip:alice@example.test>");
    sk_ua_free(ua);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(register_challenge_then_ok),
        cmocka_unit_test(strongest_algorithm_whatever_the_order),
        cmocka_unit_test(wrong_password_is_refused_after_one_retry),
        cmocka_unit_test(stale_nonce_is_retried_once_more),
        cmocka_unit_test(challenge_without_password),
        cmocka_unit_test(timeout_after_timer_f),
        cmocka_unit_test(invite_dialog_route_set_and_ack),
        cmocka_unit_test(cancel_waits_for_a_provisional),
        cmocka_unit_test(uas_answers_with_tag_contact_and_record_route),
        cmocka_unit_test(uas_resends_2xx_until_the_ack),
        cmocka_unit_test(uas_gives_up_the_2xx_after_64_t1),
        cmocka_unit_test(sdp_offer_is_minimal_and_valid),
        cmocka_unit_test(config_is_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
