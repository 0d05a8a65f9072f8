/*
 * Client transactions (RFC 3261 §17.1.1 INVITE, §17.1.2 non-INVITE, RFC
 * 6026 Accepted): every transition on a fake clock, over UDP and TCP, plus
 * the ACK and CANCEL the layer builds (§17.1.1.3, §9.1).
 */
#include "txn_fixture.h"

#include <pthread.h>
#include <stdlib.h>

#define BR "z9hG4bKc1"

/* Start a client transaction for `method` sent over tp. */
static struct sk_txn *uac(const char *method, enum sk_transport tp)
{
    char buf[FX_BUF];
    struct sk_addr dst = fx_addr(tp);
    struct sk_txn *txn = NULL;
    size_t n = fx_text(buf, sizeof(buf),
                       "%s sip:bob@example.com SIP/2.0\n"
                       "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=" BR "\n"
                       "Route: <sip:p1.example.com;lr>\n"
                       "Route: <sip:p2.example.com;lr>\n"
                       "Max-Forwards: 70\n"
                       "From: <sip:alice@example.com>;tag=ft1\n"
                       "To: <sip:bob@example.com>\n"
                       "Call-ID: c1@198.51.100.1\n"
                       "CSeq: 1 %s\n"
                       "Content-Length: 0\n\n",
                       method, method);

    assert_int_equal(sk_txn_client_new(F.t, buf, n, &dst, NULL, &txn), 0);
    assert_non_null(txn);
    return txn;
}

/* The peer answers with status for the transaction of CSeq method. */
static void resp(unsigned status, const char *method)
{
    char buf[FX_BUF];

    fx_text(buf, sizeof(buf),
            "SIP/2.0 %u Reason\n"
            "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=" BR "\n"
            "From: <sip:alice@example.com>;tag=ft1\n"
            "To: <sip:bob@example.com>;tag=tt9\n"
            "Call-ID: c1@198.51.100.1\n"
            "CSeq: 1 %s\n"
            "Content-Length: 0\n\n",
            status, method);
    assert_int_equal(fx_recv(SK_TP_UDP, buf), 0);
}

static void assert_send_times(const uint64_t *times, unsigned n)
{
    assert_int_equal(F.nsent, n);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(F.sent[i].at, times[i]);
}

/* ---- INVITE client, §17.1.1 ------------------------------------------------ */

static void ic_timer_a_doubles_until_timer_b(void **state)
{
    static const uint64_t at[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
    struct sk_txn *txn;

    (void)state;
    txn = uac("INVITE", SK_TP_UDP);
    assert_int_equal(sk_txn_kind(txn), SK_TXN_INVITE_CLIENT);
    assert_int_equal(sk_txn_state(txn), SK_TXN_CALLING);
    assert_int_equal(sk_txn_table_next_due(F.t), 500);
    fx_run_until(31999);
    /* Timer A: T1, 2*T1, 4*T1... with no T2 cap for INVITE. */
    assert_send_times(at, 7);
    assert_true(fx_starts(&F.sent[6], "INVITE sip:bob@example.com SIP/2.0\r\n"));
    assert_int_equal(F.nev, 0);
    assert_int_equal(fx_at(32000), 1); /* Timer B = 64*T1 */
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[0].kind, EV_TIMEOUT);
    assert_true(F.ev[0].has_msg); /* reported as a local 408 */
    assert_int_equal(F.ev[0].status, 408);
    assert_string_equal(F.ev[0].method, "INVITE");
    assert_int_equal(F.ev[1].kind, EV_TERM);
    assert_ptr_equal(F.ev[1].txn, txn);
    assert_int_equal(sk_txn_state(txn), SK_TXN_TERMINATED);
    assert_int_equal(sk_txn_table_count(F.t), 0);
    assert_int_equal(sk_txn_table_next_due(F.t), UINT64_MAX);
    sk_txn_unref(txn);
}

static char logged[512];

static void keep_log(void *arg, enum sk_log_level level, const char *module, const char *text)
{
    (void)arg;
    (void)level;
    if (strcmp(module, "txn") == 0 && strstr(text, "event=timeout") != NULL)
        snprintf(logged, sizeof(logged), "%s", text);
}

/* The timeout's log line names the request, so a 408 can be traced. */
static void ic_timeout_log_names_the_request(void **state)
{
    struct sk_txn *txn;

    (void)state;
    logged[0] = '\0';
    sk_log_set(keep_log, NULL, SK_LOG_INFO);
    txn = uac("INVITE", SK_TP_UDP);
    fx_run_until(32000);
    sk_log_set(NULL, NULL, SK_LOG_INFO);
    assert_non_null(strstr(logged, "event=timeout timer=B kind="));
    assert_non_null(strstr(logged, " method=INVITE call_id=\"c1@198.51.100.1\" "
                                   "target=\"sip:bob@example.com\" peer="));
    sk_txn_unref(txn);
}

static void ic_reliable_sends_once(void **state)
{
    struct sk_txn *txn;

    (void)state;
    txn = uac("INVITE", SK_TP_TCP);
    assert_int_equal(F.nsent, 1);
    assert_int_equal(F.sent[0].dst.tp, SK_TP_TCP);
    assert_int_equal(F.sent[0].dst.conn_id, 7);
    /* No Timer A over TCP; Timer B still runs. */
    assert_int_equal(sk_txn_table_next_due(F.t), 32000);
    fx_run_until(32000);
    assert_int_equal(F.nsent, 1);
    assert_int_equal(fx_find(EV_TIMEOUT)->status, 408);
    assert_int_equal(sk_txn_state(txn), SK_TXN_TERMINATED);
    sk_txn_unref(txn);
}

static void ic_provisional_moves_to_proceeding(void **state)
{
    struct sk_txn *txn;

    (void)state;
    txn = uac("INVITE", SK_TP_UDP);
    fx_at(500);
    F.now = 700;
    resp(180, "INVITE");
    assert_int_equal(sk_txn_state(txn), SK_TXN_PROCEEDING);
    assert_int_equal(F.nev, 1);
    assert_int_equal(F.ev[0].kind, EV_RESP);
    assert_int_equal(F.ev[0].status, 180);
    assert_int_equal(sk_txn_status(txn), 180);
    resp(183, "INVITE"); /* Proceeding: 1xx passed up */
    assert_int_equal(F.ev[1].status, 183);
    /* Neither retransmissions nor Timer B in Proceeding (figure 5). */
    assert_int_equal(sk_txn_table_next_due(F.t), UINT64_MAX);
    fx_at(100000);
    assert_int_equal(F.nsent, 2);
    assert_int_equal(F.nev, 2);
    assert_int_equal(sk_txn_state(txn), SK_TXN_PROCEEDING);
    sk_txn_unref(txn);
}

static void ic_2xx_goes_to_accepted(void **state)
{
    struct sk_txn *txn;

    (void)state;
    txn = uac("INVITE", SK_TP_UDP);
    F.now = 100;
    resp(200, "INVITE"); /* straight from Calling */
    assert_int_equal(sk_txn_state(txn), SK_TXN_ACCEPTED);
    assert_int_equal(F.ev[0].kind, EV_RESP);
    assert_int_equal(F.ev[0].status, 200);
    assert_int_equal(F.nsent, 1); /* the TU sends the ACK for a 2xx */
    /* RFC 6026 §7.2: retransmitted 2xx reach the TU; others don't. */
    resp(200, "INVITE");
    resp(486, "INVITE");
    resp(180, "INVITE");
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[1].status, 200);
    assert_int_equal(sk_txn_table_next_due(F.t), 100 + 32000); /* Timer M */
    fx_run_until(32099);
    assert_int_equal(sk_txn_state(txn), SK_TXN_ACCEPTED);
    assert_int_equal(F.nsent, 1);
    fx_at(32100);
    assert_int_equal(F.ev[2].kind, EV_TERM);
    assert_int_equal(F.nev, 3);
    resp(200, "INVITE"); /* now stray */
    assert_int_equal(F.ev[3].kind, EV_STRAY);
    sk_txn_unref(txn);
}

static void ic_2xx_terminates_without_accepted(void **state)
{
    struct sk_txn_settings set = {.no_accepted_state = true};
    struct sk_txn *txn;

    (void)state;
    fx_teardown(NULL);
    fx_setup_with(&set);
    txn = uac("INVITE", SK_TP_UDP);
    resp(180, "INVITE");
    resp(200, "INVITE"); /* from Proceeding */
    assert_int_equal(F.nev, 3);
    assert_int_equal(F.ev[1].status, 200);
    assert_int_equal(F.ev[2].kind, EV_TERM);
    assert_int_equal(sk_txn_state(txn), SK_TXN_TERMINATED);
    resp(200, "INVITE"); /* RFC 3261: the 2xx retransmission is stray */
    assert_int_equal(F.ev[3].kind, EV_STRAY);
    sk_txn_unref(txn);
}

static void ic_final_error_sends_ack_then_timer_d(void **state)
{
    struct sk_txn *txn;
    struct sk_msg ack;

    (void)state;
    txn = uac("INVITE", SK_TP_UDP);
    F.now = 200;
    resp(100, "INVITE");
    F.now = 1000;
    resp(486, "INVITE");
    assert_int_equal(sk_txn_state(txn), SK_TXN_COMPLETED);
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[1].status, 486);
    assert_int_equal(F.nsent, 2);
    /* §17.1.1.3: the ACK the transaction builds itself. */
    assert_string_equal(F.sent[1].data, "ACK sip:bob@example.com SIP/2.0\r\n"
                                        "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=" BR "\r\n"
                                        "Route: <sip:p1.example.com;lr>\r\n"
                                        "Route: <sip:p2.example.com;lr>\r\n"
                                        "Max-Forwards: 70\r\n"
                                        "From: <sip:alice@example.com>;tag=ft1\r\n"
                                        "Call-ID: c1@198.51.100.1\r\n"
                                        "To: <sip:bob@example.com>;tag=tt9\r\n"
                                        "CSeq: 1 ACK\r\n"
                                        "Content-Length: 0\r\n\r\n");
    sk_msg_init(&ack);
    assert_int_equal(sk_msg_parse(&ack, F.sent[1].data, F.sent[1].len, SK_MSG_DATAGRAM, NULL), 0);
    assert_int_equal(ack.method_id, SK_METHOD_ACK);
    assert_int_equal(sk_msg_count(&ack, SK_HDR_VIA), 1);
    sk_msg_free(&ack);
    /* A retransmitted final: the ACK again, nothing to the TU. */
    F.now = 1500;
    resp(486, "INVITE");
    assert_int_equal(F.nsent, 3);
    assert_string_equal(F.sent[2].data, F.sent[1].data);
    assert_int_equal(F.nev, 2);
    assert_int_equal(sk_txn_status(txn), 486);
    /* Timer D: 32 s over UDP. */
    assert_int_equal(sk_txn_table_next_due(F.t), 1000 + 32000);
    fx_at(32999);
    assert_int_equal(sk_txn_state(txn), SK_TXN_COMPLETED);
    fx_at(33000);
    assert_int_equal(F.ev[2].kind, EV_TERM);
    assert_int_equal(sk_txn_state(txn), SK_TXN_TERMINATED);
    sk_txn_unref(txn);
}

static void ic_final_error_from_calling_over_tcp(void **state)
{
    struct sk_txn *txn;

    (void)state;
    txn = uac("INVITE", SK_TP_TCP);
    resp(603, "INVITE"); /* Calling -> Completed -> Terminated (D = 0) */
    assert_int_equal(F.nsent, 2);
    assert_true(fx_starts(&F.sent[1], "ACK sip:bob@example.com SIP/2.0\r\n"));
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[0].status, 603);
    assert_int_equal(F.ev[1].kind, EV_TERM);
    assert_int_equal(sk_txn_table_next_due(F.t), UINT64_MAX);
    sk_txn_unref(txn);
}

static void ic_transport_error(void **state)
{
    struct sk_txn *txn;

    (void)state;
    /* On the first send: reported as a local 503, then terminated. */
    F.fail_send_at = 1;
    txn = uac("INVITE", SK_TP_UDP);
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[0].kind, EV_TPERR);
    assert_int_equal(F.ev[0].err, -ECONNREFUSED);
    assert_int_equal(F.ev[0].status, 503);
    assert_int_equal(F.ev[1].kind, EV_TERM);
    sk_txn_unref(txn);
    /* On a Timer A retransmission. */
    F.nev = 0;
    F.sends = 0;
    F.fail_send_at = 3;
    txn = uac("INVITE", SK_TP_UDP);
    fx_run_until(2000);
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[0].kind, EV_TPERR);
    assert_int_equal(F.ev[0].at, 1500);
    assert_int_equal(sk_txn_state(txn), SK_TXN_TERMINATED);
    sk_txn_unref(txn);
}

/* ---- non-INVITE client, §17.1.2 --------------------------------------------- */

static void nc_timer_e_caps_at_t2_until_timer_f(void **state)
{
    static const uint64_t at[] = {0,     500,   1500,  3500,  7500, 11500,
                                  15500, 19500, 23500, 27500, 31500};
    struct sk_txn *txn;

    (void)state;
    txn = uac("OPTIONS", SK_TP_UDP);
    assert_int_equal(sk_txn_kind(txn), SK_TXN_NON_INVITE_CLIENT);
    assert_int_equal(sk_txn_state(txn), SK_TXN_TRYING);
    fx_run_until(31999);
    assert_send_times(at, 11);
    fx_at(32000);
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[0].kind, EV_TIMEOUT);
    assert_int_equal(F.ev[0].status, 408);
    assert_string_equal(F.ev[0].method, "OPTIONS");
    assert_int_equal(F.ev[1].kind, EV_TERM);
    sk_txn_unref(txn);
}

static void nc_proceeding_retransmits_every_t2(void **state)
{
    static const uint64_t at[] = {0, 500, 1500, 5500, 9500, 13500};
    struct sk_txn *txn;

    (void)state;
    txn = uac("REGISTER", SK_TP_UDP);
    fx_at(500);
    F.now = 600;
    resp(100, "REGISTER");
    assert_int_equal(sk_txn_state(txn), SK_TXN_PROCEEDING);
    assert_int_equal(F.ev[0].status, 100);
    fx_run_until(14000);
    /* §17.1.2.2: in Proceeding, Timer E is reset to T2 each time. */
    assert_send_times(at, 6);
    resp(101, "REGISTER");
    assert_int_equal(F.nev, 2);
    fx_run_until(32000); /* Timer F also fires in Proceeding */
    assert_int_equal(F.ev[2].kind, EV_TIMEOUT);
    assert_int_equal(F.ev[3].kind, EV_TERM);
    sk_txn_unref(txn);
}

static void nc_final_completed_then_timer_k(void **state)
{
    struct sk_txn *txn;

    (void)state;
    txn = uac("OPTIONS", SK_TP_UDP);
    fx_at(500);
    F.now = 800;
    resp(200, "OPTIONS"); /* Trying -> Completed */
    assert_int_equal(sk_txn_state(txn), SK_TXN_COMPLETED);
    assert_int_equal(F.ev[0].status, 200);
    resp(200, "OPTIONS"); /* absorbed */
    resp(100, "OPTIONS");
    assert_int_equal(F.nev, 1);
    assert_int_equal(sk_txn_table_next_due(F.t), 800 + 5000); /* Timer K = T4 */
    fx_at(5799);
    assert_int_equal(F.nsent, 2); /* no more retransmissions */
    fx_at(5800);
    assert_int_equal(F.ev[1].kind, EV_TERM);
    sk_txn_unref(txn);
}

static void nc_final_from_proceeding_over_tcp(void **state)
{
    struct sk_txn *txn;

    (void)state;
    txn = uac("OPTIONS", SK_TP_TCP);
    assert_int_equal(sk_txn_table_next_due(F.t), 32000); /* F only */
    resp(100, "OPTIONS");
    resp(404, "OPTIONS"); /* Proceeding -> Completed -> Terminated (K = 0) */
    assert_int_equal(F.nev, 3);
    assert_int_equal(F.ev[1].status, 404);
    assert_int_equal(F.ev[2].kind, EV_TERM);
    assert_int_equal(F.nsent, 1);
    sk_txn_unref(txn);
}

static void nc_transport_error_on_retransmit(void **state)
{
    struct sk_txn *txn;

    (void)state;
    F.fail_send_at = 2;
    txn = uac("OPTIONS", SK_TP_UDP);
    fx_at(500);
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[0].kind, EV_TPERR);
    assert_int_equal(F.ev[0].status, 503);
    assert_int_equal(F.ev[1].kind, EV_TERM);
    sk_txn_unref(txn);
}

/* ---- callbacks while another thread delivers ---------------------------- */

/* Another worker gets a 183 while this thread is still inside on_response
 * for the 180. Its message lives in heap memory freed as soon as its
 * receive returns, so the queued event must hold its own copy. */
static void *late_183(void *arg)
{
    char *text = malloc(FX_BUF);
    struct sk_msg *m = malloc(sizeof(*m));
    struct sk_addr a = fx_addr(SK_TP_UDP);
    size_t n;

    (void)arg;
    n = fx_text(text, FX_BUF,
                "SIP/2.0 183 Session Progress\n"
                "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=" BR "\n"
                "From: <sip:alice@example.com>;tag=ft1\nTo: <sip:bob@example.com>;tag=tt9\n"
                "Call-ID: c1@198.51.100.1\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
    sk_msg_init(m);
    if (sk_msg_parse(m, text, n, SK_MSG_DATAGRAM, NULL) == 0)
        sk_txn_table_receive(F.t, m, &a);
    sk_msg_free(m);
    memset(text, 'x', FX_BUF);
    free(text);
    free(m);
    return NULL;
}

static void run_late_183(void)
{
    pthread_t th;

    assert_int_equal(pthread_create(&th, NULL, late_183, NULL), 0);
    pthread_join(th, NULL);
    /* Queued behind the callback we are in, not delivered on the side. */
    assert_int_equal(F.nev, 1);
}

static void ic_responses_from_two_threads_stay_ordered(void **state)
{
    struct sk_txn *txn;

    (void)state;
    txn = uac("INVITE", SK_TP_UDP);
    F.in_response = run_late_183;
    resp(180, "INVITE");
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[0].status, 180);
    assert_int_equal(F.ev[1].status, 183);
    assert_string_equal(F.ev[1].method, "INVITE");
    assert_ptr_equal(F.ev[1].txn, txn);
    sk_txn_unref(txn);
}

/* ---- CANCEL, creation rules, branches ---------------------------------------- */

static void cancel_built_and_matched_per_9_1(void **state)
{
    struct sk_txn *inv, *can = NULL;

    (void)state;
    inv = uac("INVITE", SK_TP_UDP);
    /* §9.1: not before a provisional response. */
    assert_int_equal(sk_txn_cancel(inv, NULL, &can), SK_ESTATE);
    resp(180, "INVITE");
    F.now = 1000;
    assert_int_equal(sk_txn_cancel(inv, NULL, &can), 0);
    assert_int_equal(sk_txn_kind(can), SK_TXN_NON_INVITE_CLIENT);
    assert_string_equal(F.sent[F.nsent - 1].data,
                        "CANCEL sip:bob@example.com SIP/2.0\r\n"
                        "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=" BR "\r\n"
                        "Route: <sip:p1.example.com;lr>\r\n"
                        "Route: <sip:p2.example.com;lr>\r\n"
                        "Max-Forwards: 70\r\n"
                        "From: <sip:alice@example.com>;tag=ft1\r\n"
                        "Call-ID: c1@198.51.100.1\r\n"
                        "To: <sip:bob@example.com>\r\n"
                        "CSeq: 1 CANCEL\r\n"
                        "Content-Length: 0\r\n\r\n");
    /* Same branch: the CSeq method keeps the responses apart (§17.1.3). */
    resp(200, "CANCEL");
    assert_ptr_equal(F.ev[1].txn, can);
    assert_string_equal(F.ev[1].method, "CANCEL");
    assert_int_equal(sk_txn_state(can), SK_TXN_COMPLETED);
    assert_int_equal(sk_txn_state(inv), SK_TXN_PROCEEDING);
    resp(487, "INVITE");
    assert_ptr_equal(F.ev[2].txn, inv);
    assert_int_equal(F.ev[2].status, 487);
    assert_int_equal(sk_txn_state(inv), SK_TXN_COMPLETED);
    assert_int_equal(sk_txn_cancel(inv, NULL, NULL), SK_ESTATE);
    sk_txn_unref(can);
    sk_txn_unref(inv);
}

static void client_new_refuses_bad_requests(void **state)
{
    char buf[FX_BUF];
    struct sk_addr dst = fx_addr(SK_TP_UDP);
    struct sk_txn *txn = NULL;
    size_t n;

    (void)state;
    n = fx_text(buf, sizeof(buf),
                "OPTIONS sip:b@example.com SIP/2.0\n"
                "Via: SIP/2.0/UDP h.example.com;branch=1234\n"
                "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\n"
                "Call-ID: x\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n");
    assert_int_equal(sk_txn_client_new(F.t, buf, n, &dst, NULL, &txn), SK_EINVAL);
    n = fx_text(buf, sizeof(buf),
                "ACK sip:b@example.com SIP/2.0\n"
                "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\n"
                "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\n"
                "Call-ID: x\nCSeq: 1 ACK\nContent-Length: 0\n\n");
    assert_int_equal(sk_txn_client_new(F.t, buf, n, &dst, NULL, &txn), SK_EINVAL);
    assert_int_equal(sk_txn_client_new(F.t, "garbage", 7, &dst, NULL, &txn), SK_EPARSE);
    assert_null(txn);
    txn = uac("OPTIONS", SK_TP_UDP);
    assert_int_equal(sk_txn_client_new(F.t, F.sent[0].data, F.sent[0].len, &dst, NULL, NULL),
                     SK_EEXIST);
    assert_int_equal(sk_txn_table_count(F.t), 1);
    assert_int_equal(F.nsent, 1);
    sk_txn_unref(txn);
}

static void branches_are_unique_with_cookie(void **state)
{
    char a[SK_TXN_BRANCH_LEN + 1], b[SK_TXN_BRANCH_LEN + 1];

    (void)state;
    sk_txn_make_branch(a);
    sk_txn_make_branch(b);
    assert_int_equal(strlen(a), SK_TXN_BRANCH_LEN);
    assert_memory_equal(a, "z9hG4bK", 7);
    assert_string_not_equal(a, b);
}

static void unmatched_response_is_stray(void **state)
{
    (void)state;
    resp(200, "OPTIONS");
    assert_int_equal(F.nev, 1);
    assert_int_equal(F.ev[0].kind, EV_STRAY);
    assert_int_equal(F.ev[0].status, 200);
}

static void settings_defaults_and_checks(void **state)
{
    struct sk_txn_settings bad = {.shards = 3};
    struct sk_txn_hooks hooks = {.send = NULL};
    struct sk_txn_table *t = NULL;
    const struct sk_txn_settings *s = sk_txn_table_settings(F.t);

    (void)state;
    assert_int_equal(s->t1_ms, 500);
    assert_int_equal(s->t2_ms, 4000);
    assert_int_equal(s->t4_ms, 5000);
    assert_int_equal(s->timer_d_ms, 32000);
    assert_int_equal(s->trying_ms, 200);
    assert_int_equal(s->shards, 16);
    assert_int_equal(sk_txn_table_new(&t, NULL, &hooks), SK_EINVAL);
    hooks.send = fx_send;
    assert_int_equal(sk_txn_table_new(&t, &bad, &hooks), SK_EINVAL);
    assert_null(t);
    assert_string_equal(sk_txn_state_name(SK_TXN_ACCEPTED), "Accepted");
    assert_string_equal(sk_txn_timer_name(SK_TXN_TIMER_K), "K");
}

static void custom_timers_scale(void **state)
{
    struct sk_txn_settings set = {.t1_ms = 100, .t2_ms = 300, .t4_ms = 700};
    static const uint64_t at[] = {0, 100, 300, 600, 900, 1200};
    struct sk_txn *txn;

    (void)state;
    fx_teardown(NULL);
    fx_setup_with(&set);
    txn = uac("OPTIONS", SK_TP_UDP);
    fx_run_until(1499);
    assert_send_times(at, 6);
    resp(200, "OPTIONS");
    assert_int_equal(sk_txn_table_next_due(F.t), 1499 + 700);
    sk_txn_unref(txn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ic_timer_a_doubles_until_timer_b, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(ic_timeout_log_names_the_request, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(ic_reliable_sends_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(ic_provisional_moves_to_proceeding, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(ic_2xx_goes_to_accepted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(ic_2xx_terminates_without_accepted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(ic_final_error_sends_ack_then_timer_d, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(ic_final_error_from_calling_over_tcp, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(ic_transport_error, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(nc_timer_e_caps_at_t2_until_timer_f, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(nc_proceeding_retransmits_every_t2, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(nc_final_completed_then_timer_k, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(nc_final_from_proceeding_over_tcp, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(nc_transport_error_on_retransmit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(ic_responses_from_two_threads_stay_ordered, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(cancel_built_and_matched_per_9_1, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(client_new_refuses_bad_requests, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(branches_are_unique_with_cookie, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(unmatched_response_is_stray, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(settings_defaults_and_checks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(custom_timers_scale, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
