/*
 * Server transactions (RFC 3261 §17.2.1 INVITE, §17.2.2 non-INVITE, RFC
 * 6026 Accepted): every transition on a fake clock, over UDP and TCP,
 * including the automatic 100 (Trying) and absorption of retransmissions.
 */
#include "txn_fixture.h"

#define BR "z9hG4bKs1"

/* A request from 192.0.2.1 with CSeq method `method`; to_tag may be "". */
static int uas(enum sk_transport tp, const char *method, const char *branch, const char *to_tag)
{
    char buf[FX_BUF];

    fx_text(buf, sizeof(buf),
            "%s sip:bob@example.com SIP/2.0\n"
            "Via: SIP/2.0/%s 192.0.2.1:5060;branch=%s\n"
            "Max-Forwards: 70\n"
            "From: <sip:alice@example.com>;tag=ft1\n"
            "To: <sip:bob@example.com>%s%s\n"
            "Call-ID: s1@192.0.2.1\n"
            "CSeq: 1 %s\n"
            "Timestamp: 54\n"
            "Content-Length: 0\n\n",
            method, tp == SK_TP_UDP ? "UDP" : "TCP", branch, to_tag[0] ? ";tag=" : "", to_tag,
            method);
    return fx_recv(tp, buf);
}

static void invite(enum sk_transport tp)
{
    assert_int_equal(uas(tp, "INVITE", BR, ""), 0);
}

static void ack(enum sk_transport tp)
{
    assert_int_equal(uas(tp, "ACK", BR, "srv1"), 0);
}

static int reply(unsigned status)
{
    return sk_txn_respond_status(F.srv, status, "Some Reason", S("srv1"));
}

/* ---- INVITE server, §17.2.1 ------------------------------------------------ */

static void is_trying_after_200ms(void **state)
{
    (void)state;
    invite(SK_TP_UDP);
    assert_int_equal(F.nev, 1);
    assert_int_equal(F.ev[0].kind, EV_REQ);
    assert_string_equal(F.ev[0].method, "INVITE");
    assert_int_equal(sk_txn_kind(F.srv), SK_TXN_INVITE_SERVER);
    assert_int_equal(sk_txn_state(F.srv), SK_TXN_PROCEEDING);
    assert_int_equal(F.nsent, 0);
    assert_int_equal(sk_txn_table_next_due(F.t), 200);
    fx_at(199);
    assert_int_equal(F.nsent, 0);
    fx_at(200);
    assert_int_equal(F.nsent, 1);
    assert_string_equal(F.sent[0].data, "SIP/2.0 100 Trying\r\n"
                                        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" BR "\r\n"
                                        "From: <sip:alice@example.com>;tag=ft1\r\n"
                                        "To: <sip:bob@example.com>\r\n"
                                        "Call-ID: s1@192.0.2.1\r\n"
                                        "CSeq: 1 INVITE\r\n"
                                        "Timestamp: 54\r\n"
                                        "Content-Length: 0\r\n\r\n");
    assert_int_equal(sk_txn_status(F.srv), 100);
    F.now = 500;
    invite(SK_TP_UDP); /* retransmission: the 100 again, no new request */
    assert_int_equal(F.nsent, 2);
    assert_string_equal(F.sent[1].data, F.sent[0].data);
    assert_int_equal(F.nev, 1);
}

static void is_fast_tu_gets_no_trying(void **state)
{
    (void)state;
    F.auto_status = 180;
    invite(SK_TP_UDP);
    assert_int_equal(F.nsent, 1);
    assert_true(fx_starts(&F.sent[0], "SIP/2.0 180 Auto\r\n"));
    assert_true(fx_contains(&F.sent[0], "To: <sip:bob@example.com>;tag=srv1\r\n"));
    assert_int_equal(sk_txn_table_next_due(F.t), UINT64_MAX);
    fx_at(1000);
    assert_int_equal(F.nsent, 1);
    invite(SK_TP_UDP); /* the most recent provisional goes out again */
    assert_int_equal(F.nsent, 2);
    assert_string_equal(F.sent[1].data, F.sent[0].data);
}

static void is_responses_carry_received_and_rport(void **state)
{
    char buf[FX_BUF];

    (void)state;
    /* Behind a NAT: sent-by is private, the packet came from elsewhere. */
    fx_text(buf, sizeof(buf),
            "INVITE sip:bob@example.com SIP/2.0\n"
            "Via: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=" BR "\n"
            "From: <sip:alice@example.com>;tag=ft1\nTo: <sip:bob@example.com>\n"
            "Call-ID: nat\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
    assert_int_equal(fx_recv_from(SK_TP_UDP, buf, "203.0.113.7", 40000), 0);
    assert_int_equal(reply(486), 0);
    fx_at(200);
    assert_int_equal(F.nsent, 1);
    assert_true(fx_contains(&F.sent[0], ";received=203.0.113.7"));
    assert_true(fx_contains(&F.sent[0], "rport=40000"));
}

static void is_trying_at_once_when_configured(void **state)
{
    struct sk_txn_settings set = {.trying_ms = -1};

    (void)state;
    fx_teardown(NULL);
    fx_setup_with(&set);
    invite(SK_TP_UDP);
    assert_int_equal(F.nsent, 1);
    assert_true(fx_starts(&F.sent[0], "SIP/2.0 100 Trying\r\n"));
    assert_int_equal(sk_txn_table_next_due(F.t), UINT64_MAX);
}

static void is_retransmission_brings_trying_early(void **state)
{
    (void)state;
    invite(SK_TP_UDP);
    F.now = 50;
    invite(SK_TP_UDP);
    assert_int_equal(F.nsent, 1);
    assert_true(fx_starts(&F.sent[0], "SIP/2.0 100 Trying\r\n"));
    assert_int_equal(sk_txn_table_next_due(F.t), UINT64_MAX);
    fx_at(200);
    assert_int_equal(F.nsent, 1);
    assert_int_equal(F.nev, 1);
}

static void is_final_error_timer_g_then_h(void **state)
{
    static const uint64_t at[] = {0,     500,   1500,  3500,  7500, 11500,
                                  15500, 19500, 23500, 27500, 31500};

    (void)state;
    invite(SK_TP_UDP);
    assert_int_equal(reply(486), 0);
    assert_int_equal(sk_txn_state(F.srv), SK_TXN_COMPLETED);
    assert_true(fx_starts(&F.sent[0], "SIP/2.0 486 Some Reason\r\n"));
    fx_run_until(31999);
    /* Timer G: T1, doubling, capped at T2. */
    assert_int_equal(F.nsent, 11);
    for (unsigned i = 0; i < 11; i++) {
        assert_int_equal(F.sent[i].at, at[i]);
        assert_string_equal(F.sent[i].data, F.sent[0].data);
    }
    F.now = 31999;
    invite(SK_TP_UDP); /* Completed: the final again */
    assert_int_equal(F.nsent, 12);
    assert_int_equal(F.nev, 1);
    fx_at(32000); /* Timer H */
    assert_int_equal(F.nev, 3);
    assert_int_equal(F.ev[1].kind, EV_TIMEOUT);
    assert_false(F.ev[1].has_msg);
    assert_int_equal(F.ev[2].kind, EV_TERM);
    assert_int_equal(sk_txn_table_count(F.t), 0);
}

static void is_ack_confirms_then_timer_i(void **state)
{
    struct sk_txn *srv;

    (void)state;
    invite(SK_TP_UDP);
    srv = F.srv;
    sk_txn_ref(srv);
    assert_int_equal(reply(603), 0);
    fx_at(500);
    F.now = 700;
    ack(SK_TP_UDP);
    assert_int_equal(sk_txn_state(srv), SK_TXN_CONFIRMED);
    assert_int_equal(fx_count(EV_ACK), 0);                    /* absorbed: the TU never sees it */
    assert_int_equal(sk_txn_table_next_due(F.t), 700 + 5000); /* G and H gone */
    ack(SK_TP_UDP);
    invite(SK_TP_UDP);
    assert_int_equal(F.nsent, 2);
    fx_at(5699);
    assert_int_equal(sk_txn_state(srv), SK_TXN_CONFIRMED);
    fx_at(5700);
    assert_int_equal(sk_txn_state(srv), SK_TXN_TERMINATED);
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[1].kind, EV_TERM);
    sk_txn_unref(srv);
}

static void is_reliable_skips_g_and_i(void **state)
{
    (void)state;
    invite(SK_TP_TCP);
    assert_int_equal(reply(404), 0);
    assert_int_equal(F.sent[0].dst.tp, SK_TP_TCP);
    assert_int_equal(F.sent[0].dst.conn_id, 7);
    assert_int_equal(sk_txn_table_next_due(F.t), 32000); /* H only */
    ack(SK_TP_TCP); /* Confirmed -> Terminated at once (I = 0) */
    assert_int_equal(F.nsent, 1);
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[1].kind, EV_TERM);
    /* Without the ACK, Timer H still fires over TCP. */
    (void)uas(SK_TP_TCP, "INVITE", "z9hG4bKs2", "");
    assert_int_equal(reply(404), 0);
    fx_run_until(32000);
    assert_int_equal(F.nsent, 2);
    assert_int_equal(fx_count(EV_TIMEOUT), 1);
}

static void is_2xx_accepted_then_timer_l(void **state)
{
    struct sk_txn *srv;

    (void)state;
    invite(SK_TP_UDP);
    srv = F.srv;
    assert_int_equal(reply(200), 0);
    assert_int_equal(sk_txn_state(srv), SK_TXN_ACCEPTED);
    invite(SK_TP_UDP); /* RFC 6026 §8.5: absorbed, the TU retransmits 2xx */
    assert_int_equal(F.nsent, 1);
    assert_int_equal(sk_txn_table_next_due(F.t), 32000);
    fx_at(1000);
    assert_int_equal(F.nsent, 1);    /* no Timer G for 2xx */
    assert_int_equal(reply(200), 0); /* the TU's retransmission goes out */
    assert_int_equal(F.nsent, 2);
    assert_int_equal(reply(486), SK_ESTATE);
    ack(SK_TP_UDP); /* an ACK matching in Accepted goes up */
    assert_int_equal(fx_count(EV_ACK), 1);
    assert_string_equal(fx_find(EV_ACK)->method, "ACK");
    fx_at(32000);
    assert_int_equal(F.ev[F.nev - 1].kind, EV_TERM);
    ack(SK_TP_UDP); /* afterwards: no transaction, still up */
    assert_int_equal(fx_count(EV_ACK), 2);
}

static void is_2xx_terminates_without_accepted(void **state)
{
    struct sk_txn_settings set = {.no_accepted_state = true};

    (void)state;
    fx_teardown(NULL);
    fx_setup_with(&set);
    invite(SK_TP_UDP);
    assert_int_equal(reply(180), 0);
    assert_int_equal(reply(200), 0);
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[1].kind, EV_TERM);
    invite(SK_TP_UDP); /* a new transaction: the TU decides (§17.2.1) */
    assert_int_equal(fx_count(EV_REQ), 2);
}

static void is_transport_error(void **state)
{
    (void)state;
    invite(SK_TP_UDP);
    F.fail_send_at = 1;
    assert_int_equal(reply(500), -ECONNREFUSED);
    assert_int_equal(F.nev, 3);
    assert_int_equal(F.ev[1].kind, EV_TPERR);
    assert_false(F.ev[1].has_msg);
    assert_int_equal(F.ev[1].err, -ECONNREFUSED);
    assert_int_equal(F.ev[2].kind, EV_TERM);
    /* Timer G retransmission failing. */
    F.sends = 0;
    F.fail_send_at = 2;
    (void)uas(SK_TP_UDP, "INVITE", "z9hG4bKs3", "");
    assert_int_equal(reply(500), 0);
    fx_run_until(1000);
    assert_int_equal(fx_count(EV_TPERR), 2);
    assert_int_equal(F.ev[F.nev - 1].kind, EV_TERM);
}

static void is_refuses_second_final_and_bad_bytes(void **state)
{
    (void)state;
    invite(SK_TP_UDP);
    assert_int_equal(sk_txn_respond(F.srv, "garbage", 7), SK_EPARSE);
    assert_int_equal(sk_txn_respond(F.srv, "SIP/2.0 099 X\r\n", 15), SK_EPARSE);
    assert_int_equal(reply(480), 0);
    assert_int_equal(reply(200), SK_ESTATE);
    assert_int_equal(reply(180), SK_ESTATE);
    assert_int_equal(F.nsent, 1);
}

/* ---- non-INVITE server, §17.2.2 --------------------------------------------- */

static void ns_trying_absorbs_retransmissions(void **state)
{
    (void)state;
    assert_int_equal(uas(SK_TP_UDP, "OPTIONS", BR, ""), 0);
    assert_int_equal(sk_txn_kind(F.srv), SK_TXN_NON_INVITE_SERVER);
    assert_int_equal(sk_txn_state(F.srv), SK_TXN_TRYING);
    assert_int_equal(uas(SK_TP_UDP, "OPTIONS", BR, ""), 0);
    assert_int_equal(F.nev, 1);
    assert_int_equal(F.nsent, 0);
    assert_int_equal(sk_txn_table_next_due(F.t), UINT64_MAX); /* no 100 here */
}

static void ns_proceeding_completed_timer_j(void **state)
{
    struct sk_txn *srv;

    (void)state;
    assert_int_equal(uas(SK_TP_UDP, "REGISTER", BR, ""), 0);
    srv = F.srv;
    assert_int_equal(reply(100), 0);
    assert_int_equal(sk_txn_state(srv), SK_TXN_PROCEEDING);
    assert_int_equal(uas(SK_TP_UDP, "REGISTER", BR, ""), 0); /* last provisional again */
    assert_int_equal(F.nsent, 2);
    assert_string_equal(F.sent[1].data, F.sent[0].data);
    assert_int_equal(reply(101), 0);
    F.now = 100;
    assert_int_equal(reply(200), 0);
    assert_int_equal(sk_txn_state(srv), SK_TXN_COMPLETED);
    assert_int_equal(uas(SK_TP_UDP, "REGISTER", BR, ""), 0); /* the final again */
    assert_int_equal(F.nsent, 5);
    assert_true(fx_starts(&F.sent[4], "SIP/2.0 200 Some Reason\r\n"));
    assert_int_equal(reply(404), SK_ESTATE);
    assert_int_equal(sk_txn_table_next_due(F.t), 100 + 32000); /* Timer J = 64*T1 */
    fx_at(32099);
    assert_int_equal(F.nsent, 5); /* no retransmission of its own */
    fx_at(32100);
    assert_int_equal(F.ev[F.nev - 1].kind, EV_TERM);
    assert_int_equal(F.nev, 2);
}

static void ns_final_from_trying_over_tcp(void **state)
{
    (void)state;
    F.auto_status = 200; /* answered inside on_request */
    assert_int_equal(uas(SK_TP_TCP, "OPTIONS", BR, ""), 0);
    assert_int_equal(F.nsent, 1);
    assert_int_equal(F.nev, 2); /* Trying -> Completed -> Terminated (J = 0) */
    assert_int_equal(F.ev[0].kind, EV_REQ);
    assert_int_equal(F.ev[1].kind, EV_TERM);
    assert_int_equal(sk_txn_table_count(F.t), 0);
    F.auto_status = 0;
    assert_int_equal(uas(SK_TP_TCP, "OPTIONS", BR, ""), 0); /* new transaction */
    assert_int_equal(fx_count(EV_REQ), 2);
}

static void ns_final_from_trying_over_udp(void **state)
{
    (void)state;
    F.auto_status = 404;
    assert_int_equal(uas(SK_TP_UDP, "MESSAGE", BR, ""), 0);
    /* Answered and not held: retired at once (test_txn_retire.c). */
    assert_int_equal(fx_count(EV_TERM), 1);
    assert_int_equal(sk_txn_table_count(F.t), 1);
    assert_int_equal(uas(SK_TP_UDP, "MESSAGE", BR, ""), 0);
    assert_int_equal(F.nsent, 2);
    assert_true(fx_starts(&F.sent[1], "SIP/2.0 404 Auto\r\n"));
}

static void ns_transport_error(void **state)
{
    (void)state;
    assert_int_equal(uas(SK_TP_UDP, "OPTIONS", BR, ""), 0);
    sk_txn_ref(F.srv); /* used after on_terminated below */
    assert_int_equal(reply(100), 0);
    F.fail_send_at = 2;
    assert_int_equal(uas(SK_TP_UDP, "OPTIONS", BR, ""), 0); /* resend fails */
    assert_int_equal(F.nev, 3);
    assert_int_equal(F.ev[1].kind, EV_TPERR);
    assert_int_equal(F.ev[2].kind, EV_TERM);
    assert_int_equal(reply(200), SK_ESTATE);
    assert_int_equal(sk_txn_state(F.srv), SK_TXN_TERMINATED);
    sk_txn_unref(F.srv);
}

/* A TU holding the transaction keeps the whole request. */
static void ns_held_keeps_request(void **state)
{
    (void)state;
    assert_int_equal(uas(SK_TP_UDP, "MESSAGE", BR, ""), 0);
    sk_txn_ref(F.srv);
    assert_int_equal(reply(200), 0);
    assert_int_equal(uas(SK_TP_UDP, "MESSAGE", BR, ""), 0);
    assert_int_equal(F.nsent, 2);
    assert_int_equal(sk_txn_request(F.srv)->nhdrs, 8);
    assert_slice_equal(sk_msg_find(sk_txn_request(F.srv), SK_HDR_TIMESTAMP)->value, "54");
    sk_txn_unref(F.srv);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(is_trying_after_200ms),
        T(is_fast_tu_gets_no_trying),
        T(is_trying_at_once_when_configured),
        T(is_responses_carry_received_and_rport),
        T(is_retransmission_brings_trying_early),
        T(is_final_error_timer_g_then_h),
        T(is_ack_confirms_then_timer_i),
        T(is_reliable_skips_g_and_i),
        T(is_2xx_accepted_then_timer_l),
        T(is_2xx_terminates_without_accepted),
        T(is_transport_error),
        T(is_refuses_second_final_and_bad_bytes),
        T(ns_trying_absorbs_retransmissions),
        T(ns_proceeding_completed_timer_j),
        T(ns_final_from_trying_over_tcp),
        T(ns_final_from_trying_over_udp),
        T(ns_transport_error),
        T(ns_held_keeps_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
