/*
 * Transaction matching (RFC 3261 §17.2.3 with the RFC 2543 fallback,
 * §17.1.3, CANCEL per §9.2), the ACK for a 2xx passed up, the timer heap,
 * allocation failure, table growth and several threads on one table.
 */
#include "txn_fixture.h"

#include "txn/txn_int.h"

#include <pthread.h>

/* A request from 192.0.2.1. via is the whole top Via value; to_tag and
 * from_tag may be "". */
static int req(const char *method, const char *ruri, const char *via, const char *from_tag,
               const char *to_tag)
{
    char buf[FX_BUF];

    fx_text(buf, sizeof(buf),
            "%s %s SIP/2.0\n"
            "Via: %s\n"
            "Via: SIP/2.0/UDP 203.0.113.9;branch=z9hG4bKlower\n"
            "Max-Forwards: 70\n"
            "From: <sip:alice@example.com>;tag=%s\n"
            "To: <sip:bob@example.com>%s%s\n"
            "Call-ID: m1@192.0.2.1\n"
            "CSeq: 7 %s\n"
            "Content-Length: 0\n\n",
            method, ruri, via, from_tag, to_tag[0] ? ";tag=" : "", to_tag, method);
    return fx_recv(SK_TP_UDP, buf);
}

#define RURI    "sip:bob@example.com"
#define VIA3261 "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKm1"
#define VIA2543 "SIP/2.0/UDP 192.0.2.1:5060"

static void rfc3261_branch_sent_by_and_method(void **state)
{
    (void)state;
    assert_int_equal(req("INVITE", RURI, VIA3261, "f1", ""), 0);
    assert_int_equal(req("INVITE", RURI, VIA3261, "f1", ""), 0); /* retransmission */
    assert_int_equal(fx_count(EV_REQ), 1);
    /* Only branch, sent-by and method count: other fields may differ. */
    assert_int_equal(req("INVITE", "sip:other@example.com", VIA3261, "zz", ""), 0);
    assert_int_equal(fx_count(EV_REQ), 1);
    /* Another sent-by (host or port) with the same branch: new transaction. */
    assert_int_equal(req("INVITE", RURI, "SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKm1", "f1", ""),
                     0);
    assert_int_equal(req("INVITE", RURI, "SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKm1", "f1", ""),
                     0);
    assert_int_equal(fx_count(EV_REQ), 3);
    /* Another method with the same branch: new transaction. */
    assert_int_equal(req("OPTIONS", RURI, VIA3261, "f1", ""), 0);
    assert_int_equal(fx_count(EV_REQ), 4);
    /* The branch is compared case-sensitively. */
    assert_int_equal(req("INVITE", RURI, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKM1", "f1", ""),
                     0);
    assert_int_equal(fx_count(EV_REQ), 5);
    assert_int_equal(sk_txn_table_count(F.t), 5);
}

static void ack_for_2xx_goes_to_the_tu(void **state)
{
    (void)state;
    assert_int_equal(req("INVITE", RURI, VIA3261, "f1", ""), 0);
    assert_int_equal(sk_txn_respond_status(F.srv, 200, "OK", S("t1")), 0);
    /* §13.2.2.4: the ACK for a 2xx is a transaction of its own. */
    assert_int_equal(req("ACK", RURI, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKack", "f1", "t1"),
                     0);
    assert_int_equal(fx_count(EV_ACK), 1);
    assert_int_equal(sk_txn_table_count(F.t), 1); /* no transaction for it */
    /* Stray ACK without any INVITE. */
    assert_int_equal(req("ACK", RURI, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKzz", "f1", "t1"),
                     0);
    assert_int_equal(fx_count(EV_ACK), 2);
}

static void cancel_finds_its_invite(void **state)
{
    struct sk_txn *inv, *can, *target;

    (void)state;
    assert_int_equal(req("INVITE", RURI, VIA3261, "f1", ""), 0);
    inv = F.srv;
    assert_int_equal(req("CANCEL", RURI, VIA3261, "f1", ""), 0);
    can = F.srv;
    /* §9.2: the CANCEL is a transaction of its own... */
    assert_ptr_not_equal(can, inv);
    assert_int_equal(sk_txn_kind(can), SK_TXN_NON_INVITE_SERVER);
    assert_string_equal(F.ev[1].method, "CANCEL");
    /* ...that the TU can map to the INVITE. */
    target = sk_txn_cancel_target(can);
    assert_ptr_equal(target, inv);
    assert_null(sk_txn_cancel_target(inv));
    assert_int_equal(sk_txn_respond_status(can, 200, "OK", S("t1")), 0);
    assert_int_equal(sk_txn_respond_status(target, 487, "Request Terminated", S("t1")), 0);
    sk_txn_unref(target);
    assert_int_equal(req("CANCEL", RURI, VIA3261, "f1", ""), 0); /* retransmitted */
    assert_int_equal(F.nsent, 3);
    assert_true(fx_starts(&F.sent[2], "SIP/2.0 200 OK\r\n"));
    /* The ACK for the 487 carries the INVITE's branch and is absorbed. */
    assert_int_equal(req("ACK", RURI, VIA3261, "f1", "t1"), 0);
    assert_int_equal(sk_txn_state(inv), SK_TXN_CONFIRMED);
    assert_int_equal(fx_count(EV_ACK), 0);
    /* A CANCEL for nothing. */
    assert_int_equal(req("CANCEL", RURI, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnone", "f1", ""),
                     0);
    assert_null(sk_txn_cancel_target(F.srv));
}

static void rfc2543_fallback(void **state)
{
    struct sk_txn *inv, *can, *target;

    (void)state;
    assert_int_equal(req("INVITE", RURI, VIA2543, "f1", ""), 0);
    inv = F.srv;
    assert_int_equal(req("INVITE", RURI, VIA2543, "f1", ""), 0);
    assert_int_equal(fx_count(EV_REQ), 1);
    /* Each §17.2.3 field separates transactions. */
    assert_int_equal(req("INVITE", "sip:carol@example.com", VIA2543, "f1", ""), 0);
    assert_int_equal(req("INVITE", RURI, VIA2543, "f2", ""), 0);
    assert_int_equal(req("INVITE", RURI, VIA2543, "f1", "x"), 0);
    assert_int_equal(req("INVITE", RURI, "SIP/2.0/UDP 192.0.2.1:5061", "f1", ""), 0);
    assert_int_equal(fx_count(EV_REQ), 5);
    /* Request-URI equality is §19.1.4's, not byte equality. */
    assert_int_equal(req("INVITE", "sip:bob@EXAMPLE.com", VIA2543, "f1", ""), 0);
    assert_int_equal(fx_count(EV_REQ), 5);
    /* CANCEL (§9.2) by the same fields. */
    assert_int_equal(req("CANCEL", RURI, VIA2543, "f1", ""), 0);
    can = F.srv;
    target = sk_txn_cancel_target(can);
    assert_ptr_equal(target, inv);
    sk_txn_unref(target);
    /* The ACK matches with the To tag of our final response. */
    assert_int_equal(sk_txn_respond_status(inv, 486, "Busy Here", S("ours")), 0);
    assert_int_equal(req("ACK", RURI, VIA2543, "f1", "theirs"), 0);
    assert_int_equal(fx_count(EV_ACK), 1);
    assert_int_equal(sk_txn_state(inv), SK_TXN_COMPLETED);
    assert_int_equal(req("ACK", RURI, VIA2543, "f1", "ours"), 0);
    assert_int_equal(sk_txn_state(inv), SK_TXN_CONFIRMED);
    assert_int_equal(fx_count(EV_ACK), 1);
}

static void response_matching_by_branch_and_cseq(void **state)
{
    char buf[FX_BUF];
    struct sk_addr dst = fx_addr(SK_TP_UDP);
    struct sk_txn *txn;
    size_t n;

    (void)state;
    n = fx_text(buf, sizeof(buf),
                "MESSAGE sip:b@example.com SIP/2.0\n"
                "Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKr1\n"
                "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\n"
                "Call-ID: r\nCSeq: 3 MESSAGE\nContent-Length: 0\n\n");
    assert_int_equal(sk_txn_client_new(F.t, buf, n, &dst, NULL, &txn), 0);
    fx_text(buf, sizeof(buf),
            "SIP/2.0 200 OK\n"
            "Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKr1\n"
            "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>;tag=2\n"
            "Call-ID: r\nCSeq: 3 INFO\nContent-Length: 0\n\n");
    assert_int_equal(fx_recv(SK_TP_UDP, buf), 0); /* wrong method */
    fx_text(buf, sizeof(buf),
            "SIP/2.0 200 OK\n"
            "Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKr2\n"
            "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>;tag=2\n"
            "Call-ID: r\nCSeq: 3 MESSAGE\nContent-Length: 0\n\n");
    assert_int_equal(fx_recv(SK_TP_UDP, buf), 0); /* wrong branch */
    fx_text(buf, sizeof(buf),
            "SIP/2.0 200 OK\n"
            "Via: SIP/2.0/UDP 198.51.100.1;branch=1234\n"
            "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>;tag=2\n"
            "Call-ID: r\nCSeq: 3 MESSAGE\nContent-Length: 0\n\n");
    assert_int_equal(fx_recv(SK_TP_UDP, buf), 0); /* not ours at all */
    assert_int_equal(fx_count(EV_STRAY), 3);
    assert_int_equal(sk_txn_state(txn), SK_TXN_TRYING);
    fx_text(buf, sizeof(buf),
            "SIP/2.0 202 Accepted\n"
            "Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKr1\n"
            "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>;tag=2\n"
            "Call-ID: r\nCSeq: 3 MESSAGE\nContent-Length: 0\n\n");
    assert_int_equal(fx_recv(SK_TP_UDP, buf), 0);
    assert_int_equal(F.ev[3].kind, EV_RESP);
    assert_ptr_equal(F.ev[3].txn, txn);
    assert_int_equal(F.ev[3].status, 202);
    sk_txn_unref(txn);
}

/* ---- the heap ---------------------------------------------------------- */

static void heap_orders_and_removes(void **state)
{
    enum { N = 600 };
    static struct sk__timer nodes[N];
    struct sk__heap h = {NULL};
    uint64_t x = 12345, last = 0;
    unsigned popped = 0;

    (void)state;
    memset(nodes, 0, sizeof(nodes));
    for (unsigned i = 0; i < N; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        nodes[i].due = (x >> 33) % 1000;
        sk__heap_insert(&h, &nodes[i]);
    }
    /* Remove every third node (arbitrary positions), twice (idempotent). */
    for (unsigned i = 0; i < N; i += 3) {
        sk__heap_remove(&h, &nodes[i]);
        sk__heap_remove(&h, &nodes[i]);
    }
    while (h.root != NULL) {
        struct sk__timer *m = h.root;
        assert_true(m->due >= last);
        assert_true((m - nodes) % 3 != 0);
        last = m->due;
        sk__heap_remove(&h, m);
        popped++;
    }
    assert_int_equal(popped, N - N / 3);
}

/* ---- allocation failure and growth ------------------------------------- */

static void allocation_failure_leaks_nothing(void **state)
{
    char buf[FX_BUF];
    struct sk_addr a = fx_addr(SK_TP_UDP);
    struct sk_msg m;
    unsigned ok = 0, failed = 0;

    (void)state;
    fx_text(buf, sizeof(buf),
            "INVITE " RURI " SIP/2.0\nVia: " VIA3261 "\n"
            "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\n"
            "Call-ID: oom\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
    sk_msg_init(&m);
    assert_int_equal(sk_msg_parse(&m, buf, strlen(buf), SK_MSG_DATAGRAM, NULL), 0);
    F.quiet = true;
    for (unsigned n = 1; n < 20; n++) {
        int rc;
        sk_test_alloc_fail_at(n);
        rc = sk_txn_table_receive(F.t, &m, &a);
        sk_test_alloc_fail_at(0);
        if (rc == 0) {
            ok++;
            assert_int_equal(sk_txn_respond_status(F.srv, 500, "X", SK_SLICE_NULL) == 0 ||
                                 sk_txn_state(F.srv) == SK_TXN_TERMINATED,
                             1);
            fx_run_until(F.now + 40000);
        } else {
            assert_int_equal(rc, SK_ENOMEM);
            failed++;
        }
        assert_int_equal(sk_txn_table_count(F.t), 0);
    }
    assert_true(ok > 0);
    assert_true(failed >= 3); /* the transaction, its arena, its header array */
    sk_msg_free(&m);
}

static void table_grows_and_drains(void **state)
{
    enum { N = 3000 };
    char via[96];

    (void)state;
    F.auto_status = 200;
    F.quiet = true;
    for (unsigned i = 0; i < N; i++) {
        snprintf(via, sizeof(via), "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKg%u", i);
        assert_int_equal(req("OPTIONS", RURI, via, "f", ""), 0);
    }
    assert_int_equal(sk_txn_table_count(F.t), N);
    assert_int_equal(F.sends, N);
    /* on_request each, then on_terminated: answered inside on_request and
     * not held, each one is retired at once. */
    assert_int_equal(F.events, 2 * N);
    snprintf(via, sizeof(via), "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKg%u", N / 2);
    assert_int_equal(req("OPTIONS", RURI, via, "f", ""), 0);
    assert_int_equal(F.sends, N + 1); /* found among N: the 200 again */
    assert_int_equal(F.events, 2 * N);
    assert_int_equal(fx_at(40000), N); /* every Timer J at once */
    assert_int_equal(F.events, 2 * N);
    assert_int_equal(sk_txn_table_count(F.t), 0);
}

/* ---- several threads on one table -------------------------------------- */

enum { MT_THREADS = 4, MT_TXNS = 400 };

static struct {
    struct sk_txn_table *t;
    atomic_uint reqs, sends, terms, timeouts, out_of_order;
    atomic_uint_fast64_t now;
} MT;

static uint64_t mt_clock(void *arg)
{
    (void)arg;
    return atomic_load(&MT.now);
}

static int mt_send(void *arg, const struct sk_addr *dst, const char *data, size_t len)
{
    (void)arg;
    (void)dst;
    (void)data;
    (void)len;
    atomic_fetch_add(&MT.sends, 1);
    return 0;
}

static void mt_on_request(void *arg, struct sk_txn *txn, const struct sk_msg *m)
{
    (void)arg;
    atomic_fetch_add(&MT.reqs, 1);
    sk_txn_set_user(txn, (void *)1);
    assert_int_equal(
        sk_txn_respond_status(txn, m->method_id == SK_METHOD_INVITE ? 486 : 200, "X", S("t")), 0);
}

static void mt_on_timeout(void *arg, struct sk_txn *txn, const struct sk_msg *resp)
{
    (void)arg;
    (void)resp;
    if (sk_txn_user(txn) != (void *)1)
        atomic_fetch_add(&MT.out_of_order, 1);
    atomic_fetch_add(&MT.timeouts, 1);
}

static void mt_on_terminated(void *arg, struct sk_txn *txn)
{
    (void)arg;
    /* on_request must have been delivered first, whatever thread ran it. */
    if (sk_txn_user(txn) != (void *)1)
        atomic_fetch_add(&MT.out_of_order, 1);
    atomic_fetch_add(&MT.terms, 1);
}

static void *mt_worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    struct sk_addr a = fx_addr(SK_TP_UDP);
    char buf[FX_BUF];
    struct sk_msg m;

    sk_msg_init(&m);
    /* Every thread sends every request (so creation races), in its own
     * order, and ticks the clock forward now and then. */
    for (unsigned k = 0; k < MT_TXNS; k++) {
        unsigned i = (k * 7 + seed * 101) % MT_TXNS;
        const char *method = i % 2 ? "INVITE" : "OPTIONS";
        size_t n = fx_text(buf, sizeof(buf),
                           "%s sip:b@example.com SIP/2.0\n"
                           "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKmt%u\n"
                           "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\n"
                           "Call-ID: mt%u\nCSeq: 1 %s\nContent-Length: 0\n\n",
                           method, i, i, method);
        assert_int_equal(sk_msg_parse(&m, buf, n, SK_MSG_DATAGRAM, NULL), 0);
        assert_int_equal(sk_txn_table_receive(MT.t, &m, &a), 0);
        if (k % 50 == 0) {
            uint64_t now = atomic_fetch_add(&MT.now, 100) + 100;
            sk_txn_table_tick(MT.t, now);
        }
    }
    sk_msg_free(&m);
    return NULL;
}

static void threads_share_one_table(void **state)
{
    struct sk_txn_settings set = {.shards = 4};
    struct sk_txn_hooks hooks = {
        .clock = mt_clock,
        .send = mt_send,
        .on_request = mt_on_request,
        .on_timeout = mt_on_timeout,
        .on_terminated = mt_on_terminated,
    };
    pthread_t th[MT_THREADS];

    (void)state;
    memset(&MT, 0, sizeof(MT));
    assert_int_equal(sk_txn_table_new(&MT.t, &set, &hooks), 0);
    for (unsigned i = 0; i < MT_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, mt_worker, (void *)(uintptr_t)i), 0);
    for (unsigned i = 0; i < MT_THREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&MT.reqs), MT_TXNS);
    assert_true(atomic_load(&MT.sends) >= MT_TXNS);
    sk_txn_table_tick(MT.t, atomic_load(&MT.now) + 100000);
    assert_int_equal(sk_txn_table_count(MT.t), 0);
    assert_int_equal(atomic_load(&MT.terms), MT_TXNS);
    assert_int_equal(atomic_load(&MT.timeouts), MT_TXNS / 2); /* no ACK: Timer H */
    assert_int_equal(atomic_load(&MT.out_of_order), 0);
    sk_txn_table_free(MT.t);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(rfc3261_branch_sent_by_and_method),
        T(ack_for_2xx_goes_to_the_tu),
        T(cancel_finds_its_invite),
        T(rfc2543_fallback),
        T(response_matching_by_branch_and_cseq),
        cmocka_unit_test(heap_orders_and_removes),
        T(allocation_failure_leaks_nothing),
        T(table_grows_and_drains),
        cmocka_unit_test(threads_share_one_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
