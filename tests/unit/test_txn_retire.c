/*
 * Retired transactions (src/txn/retire.c): a non-INVITE server transaction
 * over UDP that is Completed and that no TU holds keeps only its matching
 * key (branch, sent-by, method), its peer and its final response until
 * Timer J (RFC 3261 §17.2.2), and still answers retransmissions.
 */
#include "txn_fixture.h"

#define BR "z9hG4bKr1"

/* A request from 192.0.2.1 over UDP, its Via sent-by port `port`. */
static int uac_req(const char *method, const char *branch, unsigned port)
{
    char buf[FX_BUF];

    fx_text(buf, sizeof(buf),
            "%s sip:bob@example.com SIP/2.0\n"
            "Via: SIP/2.0/UDP 192.0.2.1:%u;branch=%s\n"
            "Max-Forwards: 70\n"
            "From: <sip:alice@example.com>;tag=ft1\n"
            "To: <sip:bob@example.com>\n"
            "Call-ID: r1@192.0.2.1\n"
            "CSeq: 1 %s\n"
            "Contact: <sip:alice@192.0.2.1:5060>\n"
            "Expires: 3600\n"
            "Content-Length: 0\n\n",
            method, port, branch, method);
    return fx_recv(SK_TP_UDP, buf);
}

static int reg(const char *branch)
{
    return uac_req("REGISTER", branch, 5060);
}

static int reply(unsigned status)
{
    return sk_txn_respond_status(F.srv, status, "OK", S("srv1"));
}

/* Answered inside on_request: on_terminated follows at once, the table
 * still counts it, and every retransmission gets the same bytes at the
 * same peer until Timer J. */
static void retired_answers_retransmissions(void **state)
{
    (void)state;
    F.auto_status = 200;
    assert_int_equal(reg(BR), 0);
    assert_int_equal(F.nev, 2);
    assert_int_equal(F.ev[0].kind, EV_REQ);
    assert_int_equal(F.ev[1].kind, EV_TERM);
    assert_int_equal(sk_txn_table_count(F.t), 1);
    assert_int_equal(sk_txn_table_next_due(F.t), 32000); /* Timer J = 64*T1 */
    F.now = 500;
    assert_int_equal(reg(BR), 0);
    F.now = 4000;
    assert_int_equal(reg(BR), 0);
    assert_int_equal(F.nsent, 3);
    assert_string_equal(F.sent[1].data, F.sent[0].data);
    assert_string_equal(F.sent[2].data, F.sent[0].data);
    assert_memory_equal(&F.sent[2].dst.ss, &F.sent[0].dst.ss, sizeof(struct sockaddr_in));
    assert_int_equal(F.sent[2].dst.sslen, F.sent[0].dst.sslen);
    assert_int_equal(F.sent[2].dst.tp, SK_TP_UDP);
    assert_int_equal(F.nev, 2);
    assert_int_equal(fx_at(31999), 0);
    assert_int_equal(sk_txn_table_count(F.t), 1);
    assert_int_equal(fx_at(32000), 1);
    assert_int_equal(sk_txn_table_count(F.t), 0);
    assert_int_equal(sk_txn_table_next_due(F.t), UINT64_MAX);
    /* After Timer J the same request is a new transaction. */
    assert_int_equal(reg(BR), 0);
    assert_int_equal(fx_count(EV_REQ), 2);
}

/* §17.2.3: branch, sent-by and method all match, or it is another
 * transaction; ACK never matches a non-INVITE one. */
static void retired_matches_the_whole_key(void **state)
{
    (void)state;
    F.auto_status = 200;
    assert_int_equal(reg(BR), 0);
    assert_int_equal(uac_req("REGISTER", BR, 5062), 0); /* other sent-by */
    assert_int_equal(fx_count(EV_REQ), 2);
    assert_int_equal(uac_req("OPTIONS", BR, 5060), 0); /* other method */
    assert_int_equal(fx_count(EV_REQ), 3);
    assert_int_equal(uac_req("FOO", BR, 5060), 0); /* an extension method */
    assert_int_equal(fx_count(EV_REQ), 4);
    assert_int_equal(uac_req("FOO", BR, 5060), 0); /* ...retransmitted */
    assert_int_equal(fx_count(EV_REQ), 4);
    assert_int_equal(uac_req("REGISTER", "z9hG4bKr2", 5060), 0); /* other branch */
    assert_int_equal(fx_count(EV_REQ), 5);
    assert_int_equal(uac_req("ACK", BR, 5060), 0);
    assert_int_equal(fx_count(EV_ACK), 1);
    assert_int_equal(sk_txn_table_count(F.t), 5);
    assert_int_equal(F.nsent, 6); /* five answers, one retransmission */
    fx_at(32000);
    assert_int_equal(sk_txn_table_count(F.t), 0);
}

/* The bytes a retired transaction keeps: its response and at most 100
 * more; a held one keeps its whole request (about 2 KB more). */
static void retired_size_is_bounded(void **state)
{
    enum { N = 1000 };
    char br[32];
    long base, freed, held, per;
    size_t resp;

    (void)state;
    assert_int_equal(reg("z9hG4bK000000"), 0);
    sk_txn_ref(F.srv);
    assert_int_equal(reply(200), 0);
    resp = F.sent[0].len;
    base = sk_test_alloc_live_bytes();
    sk_txn_unref(F.srv); /* retired now */
    freed = base - sk_test_alloc_live_bytes();
    F.auto_status = 200;
    F.quiet = true;
    base = sk_test_alloc_live_bytes();
    for (unsigned i = 1; i <= N; i++) {
        snprintf(br, sizeof(br), "z9hG4bK%06u", i);
        assert_int_equal(reg(br), 0);
    }
    assert_int_equal(F.sends, N + 1);
    assert_int_equal(F.events, 2 * N + 2); /* on_request and on_terminated each */
    assert_int_equal(sk_txn_table_count(F.t), N + 1);
    per = (sk_test_alloc_live_bytes() - base) / N;
    held = freed + per;
    print_message("response %zu bytes; retired %ld bytes, held %ld bytes\n", resp, per, held);
    assert_true(per >= (long)resp);
    assert_true(per <= (long)resp + 100);
    assert_true(held > per + 1000);
    fx_at(32000);
    assert_int_equal(sk_txn_table_count(F.t), 0);
}

/* A TU that answers later holds a reference meanwhile; dropping it
 * retires the transaction (on_terminated from inside sk_txn_unref). */
static void last_unref_retires(void **state)
{
    (void)state;
    assert_int_equal(reg(BR), 0);
    sk_txn_ref(F.srv);
    assert_int_equal(reply(200), 0);
    assert_int_equal(fx_count(EV_TERM), 0);
    assert_int_equal(sk_txn_state(F.srv), SK_TXN_COMPLETED);
    sk_txn_unref(F.srv);
    assert_int_equal(fx_count(EV_TERM), 1);
    assert_int_equal(reg(BR), 0);
    assert_int_equal(F.nsent, 2);
    assert_string_equal(F.sent[1].data, F.sent[0].data);
    assert_int_equal(fx_count(EV_REQ), 1);
    fx_at(32000);
    assert_int_equal(sk_txn_table_count(F.t), 0);
}

/* A user pointer means the TU still cares: the full transaction stays
 * until Timer J, and on_terminated comes then. */
static void user_pointer_keeps_the_transaction(void **state)
{
    int mine = 0;

    (void)state;
    assert_int_equal(reg(BR), 0);
    sk_txn_set_user(F.srv, &mine);
    sk_txn_ref(F.srv);
    assert_int_equal(reply(200), 0);
    sk_txn_unref(F.srv);
    assert_int_equal(fx_count(EV_TERM), 0);
    assert_ptr_equal(sk_txn_user(F.srv), &mine);
    assert_int_equal(sk_txn_request(F.srv)->nhdrs, 9);
    fx_at(32000);
    assert_int_equal(fx_count(EV_TERM), 1);
}

/* A proxy's server transaction: the fork holds a reference and a user
 * pointer until its branches end, but said it answers nothing after the
 * final (sk_txn_let_go_at_final): the transaction retires at the final
 * response, the fork still reads the request, retransmissions get the
 * same answer from the record. */
static void let_go_retires_while_held(void **state)
{
    int fork = 0;
    struct sk_txn *held;

    (void)state;
    assert_int_equal(reg(BR), 0);
    held = F.srv;
    sk_txn_ref(held);
    sk_txn_set_user(held, &fork);
    sk_txn_let_go_at_final(held);
    assert_int_equal(reply(200), 0);
    assert_int_equal(fx_count(EV_TERM), 1);
    assert_int_equal(sk_txn_state(held), SK_TXN_TERMINATED);
    assert_int_equal(sk_txn_request(held)->nhdrs, 9); /* still readable */
    assert_int_equal(sk_txn_respond_status(held, 200, "OK", S("srv1")), SK_ESTATE);
    assert_int_equal(reg(BR), 0);
    assert_int_equal(F.nsent, 2);
    assert_string_equal(F.sent[1].data, F.sent[0].data);
    assert_int_equal(fx_count(EV_REQ), 1);
    sk_txn_unref(held);
    fx_at(32000);
    assert_int_equal(sk_txn_table_count(F.t), 0);
}

/* An INVITE request from 192.0.2.1 over UDP. */
static int invite(void)
{
    char buf[FX_BUF];

    fx_text(buf, sizeof(buf),
            "INVITE sip:bob@example.com SIP/2.0\n"
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" BR "\n"
            "Max-Forwards: 70\n"
            "From: <sip:alice@example.com>;tag=ft1\n"
            "To: <sip:bob@example.com>\n"
            "Call-ID: i1@192.0.2.1\n"
            "CSeq: 1 INVITE\n"
            "Contact: <sip:alice@192.0.2.1:5060>\n"
            "Content-Length: 0\n\n");
    return fx_recv(SK_TP_UDP, buf);
}

static int ack(void)
{
    char buf[FX_BUF];

    fx_text(buf, sizeof(buf),
            "ACK sip:bob@example.com SIP/2.0\n"
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" BR "\n"
            "Max-Forwards: 70\n"
            "From: <sip:alice@example.com>;tag=ft1\n"
            "To: <sip:bob@example.com>;tag=srv1\n"
            "Call-ID: i1@192.0.2.1\n"
            "CSeq: 1 ACK\n"
            "Content-Length: 0\n\n");
    return fx_recv(SK_TP_UDP, buf);
}

/* RFC 6026 §8.5-8.7: an INVITE answered 2xx by a TU that let go retires
 * in Accepted: a retransmitted INVITE is absorbed (no answer, no new
 * transaction) until Timer L, the ACK goes to the TU as Accepted would
 * pass it, and further 2xx are the TU's to send. A non-2xx final keeps
 * the full transaction (Timer G needs it). */
static void let_go_invite_accepted(void **state)
{
    struct sk_txn *held;
    size_t sent;

    (void)state;
    assert_int_equal(invite(), 0);
    held = F.srv;
    sk_txn_ref(held);
    sk_txn_let_go_at_final(held);
    assert_int_equal(sk_txn_respond_status(held, 200, "OK", S("srv1")), 0);
    assert_int_equal(fx_count(EV_TERM), 1);
    assert_int_equal(sk_txn_table_count(F.t), 1);
    sent = F.nsent;
    assert_int_equal(invite(), 0);
    assert_int_equal(F.nsent, sent);
    assert_int_equal(fx_count(EV_REQ), 1);
    assert_int_equal(ack(), 0);
    assert_int_equal(fx_count(EV_ACK), 1);
    assert_int_equal(sk_txn_respond_status(held, 200, "OK", S("srv1")), SK_ESTATE);
    sk_txn_unref(held);
    fx_at(32000); /* Timer L = 64*T1 */
    assert_int_equal(sk_txn_table_count(F.t), 0);
    assert_int_equal(invite(), 0); /* a new transaction now */
    assert_int_equal(fx_count(EV_REQ), 2);
    held = F.srv;
    sk_txn_ref(held);
    sk_txn_let_go_at_final(held);
    assert_int_equal(sk_txn_respond_status(held, 486, "Busy Here", S("srv1")), 0);
    assert_int_equal(sk_txn_state(held), SK_TXN_COMPLETED);
    assert_int_equal(fx_count(EV_TERM), 1);
    sk_txn_unref(held);
    fx_at(64000);
    assert_int_equal(sk_txn_table_count(F.t), 0);
}

/* An INVITE as a proxy forwards it (two Vias, Record-Route, SDP: about
 * 900 bytes), sent to 198.51.100.9 with top Via branch `branch`. */
static struct sk_txn *branch_invite(const char *branch, bool let_go)
{
    char buf[FX_BUF];
    struct sk_addr dst = fx_addr(SK_TP_UDP);
    struct sk_txn *txn = NULL;
    size_t n = fx_text(buf, sizeof(buf),
                       "INVITE sip:bob@198.51.100.9:5062 SIP/2.0\n"
                       "Via: SIP/2.0/UDP 192.0.2.10;branch=%s\n"
                       "Via: SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.1;branch=z9hG4bKc1\n"
                       "Record-Route: <sip:192.0.2.10;lr;rt=0123456789abcdef0123456789abcdef>\n"
                       "Max-Forwards: 69\n"
                       "From: <sip:caller1@example.com>;tag=ft1\n"
                       "To: <sip:bob@example.com>\n"
                       "Call-ID: 1-4242@192.0.2.1\n"
                       "CSeq: 2 INVITE\n"
                       "Contact: <sip:caller1@192.0.2.1:5060>\n"
                       "Proxy-Authorization: Digest username=\"caller1\", realm=\"example.com\", "
                       "nonce=\"0123456789abcdef0123456789abcdef\", uri=\"sip:bob@example.com\", "
                       "response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5\n"
                       "Content-Type: application/sdp\n"
                       "Content-Length: 129\n\n"
                       "v=0\no=user1 53655765 2353687637 IN IP4 192.0.2.1\ns=-\n"
                       "c=IN IP4 192.0.2.1\nt=0 0\nm=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n",
                       branch);

    assert_int_equal(sk_txn_client_new(F.t, buf, n, &dst, NULL, &txn), 0);
    if (let_go)
        sk_txn_let_go_at_2xx(txn);
    return txn;
}

static void branch_2xx(const char *branch)
{
    char buf[FX_BUF];

    fx_text(buf, sizeof(buf),
            "SIP/2.0 200 OK\n"
            "Via: SIP/2.0/UDP 192.0.2.10;branch=%s\n"
            "Via: SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.1;branch=z9hG4bKc1\n"
            "From: <sip:caller1@example.com>;tag=ft1\n"
            "To: <sip:bob@example.com>;tag=bt1\n"
            "Call-ID: 1-4242@192.0.2.1\n"
            "CSeq: 2 INVITE\n"
            "Content-Length: 0\n\n",
            branch);
    assert_int_equal(fx_recv(SK_TP_UDP, buf), 0);
}

/* RFC 6026 §7.2: an INVITE client transaction in Accepted whose TU let go
 * of the request (a proxy's branch) keeps only its matching key for the
 * 32 s of Timer M, and still passes 2xx retransmissions up. */
static void client_accepted_keeps_key_only(void **state)
{
    enum { N = 200 };
    struct sk_txn *txn[N];
    char br[32];
    long base, created, full, slim;

    (void)state;
    F.quiet = true;
    base = sk_test_alloc_live_bytes();
    for (unsigned i = 0; i < N; i++) {
        snprintf(br, sizeof(br), "z9hG4bKb%06u", i);
        txn[i] = branch_invite(br, i % 2 == 0);
    }
    created = sk_test_alloc_live_bytes();
    for (unsigned i = 0; i < N; i++) {
        snprintf(br, sizeof(br), "z9hG4bKb%06u", i);
        branch_2xx(br);
        assert_int_equal(sk_txn_state(txn[i]), SK_TXN_ACCEPTED);
    }
    /* The odd ones did not let go: they keep their whole request. */
    full = (created - base) / N;
    slim = (2 * (sk_test_alloc_live_bytes() - base) - N * full) / N;
    print_message("INVITE client transaction: %ld bytes, %ld in Accepted\n", full, slim);
    assert_int_equal(sk_txn_request(txn[1])->cseq.num, 2);
    assert_true(sk_txn_request(txn[1])->nhdrs > 0);
    assert_true(full > slim + 1500);
    assert_true(slim < 2200); /* the struct and the key */
    /* What is kept still matches, and nothing else is left to CANCEL. */
    assert_true(sk_slice_eq(sk_txn_request(txn[0])->via.branch, sk_slice_cstr("z9hG4bKb000000")));
    assert_int_equal(sk_txn_request(txn[0])->nhdrs, 0);
    assert_int_equal(sk_txn_cancel(txn[0], NULL, NULL), SK_ESTATE);
    F.events = 0;
    branch_2xx("z9hG4bKb000000");
    assert_int_equal(F.events, 1);
    for (unsigned i = 0; i < N; i++)
        sk_txn_unref(txn[i]);
    fx_at(32000); /* Timer M */
    assert_int_equal(sk_txn_table_count(F.t), 0);
}

/* A forwarded INVITE answered 2xx retires while the fork still holds it:
 * the held transaction keeps its request, not the response it sent. */
static void held_after_retire_drops_response(void **state)
{
    struct sk_txn *held;
    long before;

    (void)state;
    assert_int_equal(invite(), 0);
    held = F.srv;
    sk_txn_ref(held);
    sk_txn_let_go_at_final(held);
    before = sk_test_alloc_live_bytes();
    assert_int_equal(sk_txn_respond_status(held, 200, "OK", S("srv1")), 0);
    assert_int_equal(fx_count(EV_TERM), 1);
    /* Only the retired record (key, no response) was added. */
    assert_true(sk_test_alloc_live_bytes() - before < 100);
    assert_int_equal(sk_txn_request(held)->cseq.num, 1);
    sk_txn_unref(held);
    fx_at(32000);
    assert_int_equal(sk_txn_table_count(F.t), 0);
}

/* §17.2.4: a retransmission that cannot be sent ends the transaction; the
 * next copy of the request is a new one. */
static void send_failure_ends_it(void **state)
{
    (void)state;
    F.auto_status = 200;
    assert_int_equal(reg(BR), 0);
    F.fail_send_at = 2;
    assert_int_equal(reg(BR), 0);
    assert_int_equal(fx_count(EV_REQ), 1);
    assert_int_equal(reg(BR), 0);
    assert_int_equal(fx_count(EV_REQ), 2);
    fx_at(32000);
    assert_int_equal(sk_txn_table_count(F.t), 0);
}

/* Retired and full transactions expire together, in due order, and the
 * table frees what is left without leaks (teardown checks). */
static void mixed_expiry_and_free(void **state)
{
    (void)state;
    F.auto_status = 200;
    assert_int_equal(reg("z9hG4bKm1"), 0); /* retired, J at 32000 */
    F.now = 1000;
    F.auto_status = 0;
    assert_int_equal(reg("z9hG4bKm2"), 0);
    assert_int_equal(reply(200), 0); /* full (not held, not retired), J at 33000 */
    F.now = 2000;
    F.auto_status = 200;
    assert_int_equal(reg("z9hG4bKm3"), 0); /* retired, J at 34000 */
    assert_int_equal(sk_txn_table_count(F.t), 3);
    assert_int_equal(sk_txn_table_next_due(F.t), 32000);
    fx_run_until(32000);
    assert_int_equal(sk_txn_table_count(F.t), 2);
    assert_int_equal(sk_txn_table_next_due(F.t), 33000);
    fx_run_until(33000);
    assert_int_equal(sk_txn_table_count(F.t), 1);
    assert_int_equal(sk_txn_table_next_due(F.t), 34000);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(retired_answers_retransmissions),
        T(retired_matches_the_whole_key),
        T(retired_size_is_bounded),
        T(last_unref_retires),
        T(user_pointer_keeps_the_transaction),
        T(let_go_retires_while_held),
        T(let_go_invite_accepted),
        T(client_accepted_keeps_key_only),
        T(held_after_retire_drops_response),
        T(send_failure_ends_it),
        T(mixed_expiry_and_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
