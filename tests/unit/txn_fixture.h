/*
 * Shared fixture for the transaction tests (test_txn*.c): a table on a fake
 * clock, a send callback that records every message sent, and TU callbacks
 * that record every event. Messages come from literal SIP text (LF line
 * ends, turned into CRLF) parsed with sk_msg_parse().
 */
#ifndef SK_TXN_FIXTURE_H
#define SK_TXN_FIXTURE_H

#include "support.h"

#include <sipkit/txn.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define FX_UNUSED __attribute__((unused))
#define FX_MAX    160
#define FX_BUF    2048

enum fx_ev_kind { EV_REQ, EV_RESP, EV_ACK, EV_STRAY, EV_TIMEOUT, EV_TPERR, EV_TERM };

struct fx_sent {
    char data[FX_BUF];
    size_t len;
    struct sk_addr dst;
    uint64_t at;
};

struct fx_event {
    enum fx_ev_kind kind;
    struct sk_txn *txn;
    unsigned status; /* of the message passed, if any */
    bool has_msg;
    int err;
    char method[16]; /* CSeq method of the message passed */
    uint64_t at;
};

struct fx {
    struct sk_txn_table *t;
    uint64_t now;
    struct fx_sent sent[FX_MAX];
    unsigned nsent;
    struct fx_event ev[FX_MAX];
    unsigned nev;
    unsigned fail_send_at; /* the Nth send from now fails (0 = never) */
    unsigned sends;
    struct sk_txn *srv;        /* last server transaction created */
    unsigned auto_status;      /* respond with this in on_request (0 = no) */
    bool quiet;                /* count sends and events without recording */
    void (*in_response)(void); /* called once from on_response */
    unsigned events;           /* events seen, recorded or not */
};

static struct fx F;

static uint64_t fx_clock(void *arg)
{
    (void)arg;
    return F.now;
}

static int fx_send(void *arg, const struct sk_addr *dst, const char *data, size_t len)
{
    (void)arg;
    F.sends++;
    if (F.fail_send_at != 0 && F.sends == F.fail_send_at)
        return -ECONNREFUSED;
    if (F.quiet)
        return 0;
    assert_true(F.nsent < FX_MAX);
    assert_true(len < FX_BUF);
    struct fx_sent *s = &F.sent[F.nsent++];
    memcpy(s->data, data, len);
    s->data[len] = '\0';
    s->len = len;
    s->dst = *dst;
    s->at = F.now;
    return 0;
}

static struct fx_event *fx_record(enum fx_ev_kind kind, struct sk_txn *txn, const struct sk_msg *m)
{
    static struct fx_event scratch;
    struct fx_event *e = &scratch;

    F.events++;
    if (!F.quiet) {
        assert_true(F.nev < FX_MAX);
        e = &F.ev[F.nev++];
    }
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->txn = txn;
    e->at = F.now;
    if (m != NULL) {
        e->has_msg = true;
        e->status = m->status;
        sk_slice_to_cstr(m->cseq.method, e->method, sizeof(e->method));
    }
    return e;
}

static void fx_on_request(void *arg, struct sk_txn *txn, const struct sk_msg *req)
{
    (void)arg;
    fx_record(EV_REQ, txn, req);
    F.srv = txn;
    if (F.auto_status != 0)
        assert_int_equal(sk_txn_respond_status(txn, F.auto_status, "Auto", S("srv1")), 0);
}

static void fx_on_response(void *arg, struct sk_txn *txn, const struct sk_msg *resp)
{
    (void)arg;
    fx_record(EV_RESP, txn, resp);
    if (F.in_response != NULL) {
        void (*fn)(void) = F.in_response;
        F.in_response = NULL;
        fn();
    }
}

static void fx_on_ack(void *arg, const struct sk_msg *m, const struct sk_addr *from)
{
    (void)arg;
    (void)from;
    fx_record(EV_ACK, NULL, m);
}

static void fx_on_stray(void *arg, const struct sk_msg *m, const struct sk_addr *from)
{
    (void)arg;
    (void)from;
    fx_record(EV_STRAY, NULL, m);
}

static void fx_on_timeout(void *arg, struct sk_txn *txn, const struct sk_msg *resp)
{
    (void)arg;
    fx_record(EV_TIMEOUT, txn, resp);
}

static void fx_on_tperr(void *arg, struct sk_txn *txn, int err, const struct sk_msg *resp)
{
    (void)arg;
    fx_record(EV_TPERR, txn, resp)->err = err;
}

static void fx_on_terminated(void *arg, struct sk_txn *txn)
{
    (void)arg;
    /* The last callback: the machine is already in Terminated. */
    assert_int_equal(sk_txn_state(txn), SK_TXN_TERMINATED);
    fx_record(EV_TERM, txn, NULL);
}

static FX_UNUSED void fx_setup_with(const struct sk_txn_settings *set)
{
    struct sk_txn_hooks hooks = {
        .clock = fx_clock,
        .send = fx_send,
        .on_request = fx_on_request,
        .on_response = fx_on_response,
        .on_ack = fx_on_ack,
        .on_stray_response = fx_on_stray,
        .on_timeout = fx_on_timeout,
        .on_transport_error = fx_on_tperr,
        .on_terminated = fx_on_terminated,
    };

    memset(&F, 0, sizeof(F));
    sk_test_alloc_hook();
    assert_int_equal(sk_txn_table_new(&F.t, set, &hooks), 0);
}

static FX_UNUSED int fx_setup(void **state)
{
    (void)state;
    fx_setup_with(NULL);
    return 0;
}

static FX_UNUSED int fx_teardown(void **state)
{
    (void)state;
    sk_txn_table_free(F.t);
    F.t = NULL;
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
    return 0;
}

static FX_UNUSED struct sk_addr fx_addr(enum sk_transport tp)
{
    struct sk_addr a;
    struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;

    memset(&a, 0, sizeof(a));
    sin->sin_family = AF_INET;
    sin->sin_port = htons(5060);
    inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
    a.sslen = sizeof(*sin);
    a.tp = tp;
    a.conn_id = tp == SK_TP_UDP ? 0 : 7;
    return a;
}

/* printf into out, then LF -> CRLF. Returns the length. */
static FX_UNUSED size_t fx_text(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static FX_UNUSED size_t fx_text(char *out, size_t cap, const char *fmt, ...)
{
    char tmp[FX_BUF];
    va_list ap;
    size_t n = 0;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    for (const char *p = tmp; *p != '\0'; p++) {
        assert_true(n + 2 < cap);
        if (*p == '\n')
            out[n++] = '\r';
        out[n++] = *p;
    }
    out[n] = '\0';
    return n;
}

/* Parse text and feed it to the table as if it came from ip:port over tp
 * (the transport records the source on the message). */
static FX_UNUSED int fx_recv_from(enum sk_transport tp, const char *text, const char *ip,
                                  uint16_t port)
{
    struct sk_msg m;
    struct sk_addr a = fx_addr(tp);
    int rc;

    sk_msg_init(&m);
    assert_int_equal(sk_msg_parse(&m, text, strlen(text), SK_MSG_DATAGRAM, NULL), 0);
    sk_msg_set_source(&m, sk_slice_cstr(ip), port);
    rc = sk_txn_table_receive(F.t, &m, &a);
    sk_msg_free(&m);
    return rc;
}

static FX_UNUSED int fx_recv(enum sk_transport tp, const char *text)
{
    return fx_recv_from(tp, text, "192.0.2.1", 5060);
}

/* Advance the fake clock to `to` and fire what is due. */
static FX_UNUSED unsigned fx_at(uint64_t to)
{
    F.now = to;
    return sk_txn_table_tick(F.t, to);
}

/* Step the clock to every due time up to `to`, firing timers on time. */
static FX_UNUSED void fx_run_until(uint64_t to)
{
    for (;;) {
        uint64_t due = sk_txn_table_next_due(F.t);
        if (due > to)
            break;
        fx_at(due);
    }
    F.now = to;
}

static FX_UNUSED bool fx_starts(const struct fx_sent *s, const char *prefix)
{
    return strncmp(s->data, prefix, strlen(prefix)) == 0;
}

static FX_UNUSED bool fx_contains(const struct fx_sent *s, const char *needle)
{
    return strstr(s->data, needle) != NULL;
}

static FX_UNUSED unsigned fx_count(enum fx_ev_kind kind)
{
    unsigned n = 0;
    for (unsigned i = 0; i < F.nev; i++)
        n += F.ev[i].kind == kind;
    return n;
}

/* The index of the first event of this kind, asserting there is one. */
static FX_UNUSED const struct fx_event *fx_find(enum fx_ev_kind kind)
{
    for (unsigned i = 0; i < F.nev; i++) {
        if (F.ev[i].kind == kind)
            return &F.ev[i];
    }
    fail_msg("no event of kind %d", (int)kind);
    return NULL;
}

#endif
