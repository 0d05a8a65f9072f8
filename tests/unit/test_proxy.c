/*
 * The proxy's pure parts: route preprocessing and the forwarded copy of a
 * request (RFC 3261 §16.4, §16.6), responses with our Via removed, the
 * stateless ACK branch (§16.11), and the response context (§16.7: best
 * response, 6xx, serial groups, 401/407 aggregation, CANCEL, Timer C).
 */
#include "support.h"

#include "server/proxy_int.h"

#include <stdio.h>
#include <string.h>

/* LF-terminated text to CRLF, into a static buffer per slot. */
static char *crlf(int slot, const char *text)
{
    static char bufs[4][4096];
    char *b = bufs[slot];
    size_t n = 0;

    for (const char *p = text; *p != '\0' && n + 2 < sizeof(bufs[0]); p++) {
        if (*p == '\n')
            b[n++] = '\r';
        b[n++] = *p;
    }
    b[n] = '\0';
    return b;
}

static void parse(struct sk_msg *m, const char *wire)
{
    sk_msg_init(m);
    assert_int_equal(sk_msg_parse(m, wire, strlen(wire), SK_MSG_DATAGRAM, NULL), 0);
}

static struct sk_addr self_addr(const char *text)
{
    struct sk_addr a;

    assert_int_equal(sk_addr_parse(S(text), 5060, &a), 0);
    return a;
}

/* Forward m with plan; check the output and next hop against want. */
static void check_forward(const char *in, const struct sk__fwd_plan *plan, const char *want,
                          const char *want_hop)
{
    struct sk_addr self = self_addr("192.0.2.10:5060");
    struct sk__route_pre pre;
    struct sk_buf sc, out;
    struct sk_slice hop;
    struct sk_msg m;
    char *w = crlf(1, want);

    parse(&m, crlf(0, in));
    sk_msg_set_source(&m, S("198.51.100.7"), 40000);
    assert_int_equal(sk__proxy_preprocess(&m, &self, 1, &pre), 0);
    sk_buf_init(&sc);
    sk_buf_init(&out);
    assert_int_equal(sk__proxy_forward(&m, &pre, plan, &sc, &out, &hop), 0);
    assert_string_equal(out.p, w);
    assert_slice_equal(hop, want_hop);
    sk_buf_free(&sc);
    sk_buf_free(&out);
    sk_msg_free(&m);
}

static const struct sk__fwd_plan plain = {
    .via = {"SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKp1", 44},
    .rr = {"<sip:192.0.2.10:5060;lr>", 24},
};

static void fwd_initial_invite(void **state)
{
    struct sk__fwd_plan p = plain;

    (void)state;
    p.target = S("sip:bob@198.51.100.20:5070;transport=udp");
    check_forward("INVITE sip:bob@example.test SIP/2.0\n"
                  "Via: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKa\n"
                  "Max-Forwards: 70\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To:   <sip:bob@example.test>\n"
                  "Call-ID: c1\n"
                  "CSeq: 2 INVITE\n"
                  "X-Odd:  kept   as is \n"
                  "Content-Length: 0\n\n",
                  &p,
                  "INVITE sip:bob@198.51.100.20:5070;transport=udp SIP/2.0\n"
                  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKp1\n"
                  "Record-Route: <sip:192.0.2.10:5060;lr>\n"
                  "Via: SIP/2.0/UDP 10.0.0.1:5060;rport=40000;branch=z9hG4bKa"
                  ";received=198.51.100.7\n"
                  "Max-Forwards: 69\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To:   <sip:bob@example.test>\n"
                  "Call-ID: c1\n"
                  "CSeq: 2 INVITE\n"
                  "X-Odd:  kept   as is \n"
                  "Content-Length: 0\n\n",
                  "sip:bob@198.51.100.20:5070;transport=udp");
}

static void fwd_loose_route_naming_us_removed(void **state)
{
    struct sk__fwd_plan p = plain;

    (void)state;
    p.rr = SK_SLICE_NULL;
    check_forward("BYE sip:bob@198.51.100.20:5070 SIP/2.0\n"
                  "Via: SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bKb\n"
                  "Route: <sip:192.0.2.10;lr>, <sip:p2.example.test;lr>\n"
                  "Route: <sip:p3.example.test;lr>\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To: <sip:bob@example.test>;tag=2\n"
                  "Call-ID: c1\n"
                  "CSeq: 3 BYE\n"
                  "Max-Forwards: 5\n"
                  "Content-Length: 0\n\n",
                  &p,
                  "BYE sip:bob@198.51.100.20:5070 SIP/2.0\n"
                  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKp1\n"
                  "Via: SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bKb\n"
                  "Route: <sip:p2.example.test;lr>, <sip:p3.example.test;lr>\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To: <sip:bob@example.test>;tag=2\n"
                  "Call-ID: c1\n"
                  "CSeq: 3 BYE\n"
                  "Max-Forwards: 4\n"
                  "Content-Length: 0\n\n",
                  "sip:p2.example.test;lr");
}

static void fwd_only_route_us_goes_to_ruri(void **state)
{
    struct sk__fwd_plan p = plain;

    (void)state;
    p.rr = SK_SLICE_NULL;
    check_forward("ACK sip:bob@198.51.100.20:5070 SIP/2.0\n"
                  "Via: SIP/2.0/TCP 198.51.100.7:40000;branch=z9hG4bKc\n"
                  "Route: <sip:192.0.2.10:5060;lr>\n"
                  "CSeq: 2 ACK\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To: <sip:bob@example.test>;tag=2\n"
                  "Call-ID: c1\n"
                  "Content-Length: 0\n\n",
                  &p,
                  "ACK sip:bob@198.51.100.20:5070 SIP/2.0\n"
                  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKp1\n"
                  "Via: SIP/2.0/TCP 198.51.100.7:40000;branch=z9hG4bKc\n"
                  "CSeq: 2 ACK\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To: <sip:bob@example.test>;tag=2\n"
                  "Call-ID: c1\n"
                  "Content-Length: 0\n"
                  "Max-Forwards: 70\n\n",
                  "sip:bob@198.51.100.20:5070");
}

/* §16.4: the previous hop was a strict router: the Request-URI is ours and
 * the last Route value holds the real one. */
static void fwd_strict_previous_hop(void **state)
{
    struct sk__fwd_plan p = plain;

    (void)state;
    p.rr = SK_SLICE_NULL;
    check_forward("INFO sip:192.0.2.10 SIP/2.0\n"
                  "Via: SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bKd\n"
                  "Route: <sip:p9.example.test;lr>, <sip:bob@198.51.100.20:5070>\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To: <sip:bob@example.test>;tag=2\n"
                  "Call-ID: c1\n"
                  "CSeq: 4 INFO\n"
                  "Max-Forwards: 70\n"
                  "Content-Length: 0\n\n",
                  &p,
                  "INFO sip:bob@198.51.100.20:5070 SIP/2.0\n"
                  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKp1\n"
                  "Via: SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bKd\n"
                  "Route: <sip:p9.example.test;lr>\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To: <sip:bob@example.test>;tag=2\n"
                  "Call-ID: c1\n"
                  "CSeq: 4 INFO\n"
                  "Max-Forwards: 69\n"
                  "Content-Length: 0\n\n",
                  "sip:p9.example.test;lr");
}

/* §16.6 step 6: the next hop is a strict router. */
static void fwd_strict_next_hop(void **state)
{
    struct sk__fwd_plan p = plain;

    (void)state;
    p.rr = SK_SLICE_NULL;
    check_forward("UPDATE sip:bob@198.51.100.20 SIP/2.0\n"
                  "Via: SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bKe\n"
                  "Route: <sip:192.0.2.10;lr>\n"
                  "Route: <sip:strict.example.test>\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To: <sip:bob@example.test>;tag=2\n"
                  "Call-ID: c1\n"
                  "CSeq: 5 UPDATE\n"
                  "Max-Forwards: 70\n"
                  "Content-Length: 0\n\n",
                  &p,
                  "UPDATE sip:strict.example.test SIP/2.0\n"
                  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKp1\n"
                  "Via: SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bKe\n"
                  "Route: <sip:bob@198.51.100.20>\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To: <sip:bob@example.test>;tag=2\n"
                  "Call-ID: c1\n"
                  "CSeq: 5 UPDATE\n"
                  "Max-Forwards: 69\n"
                  "Content-Length: 0\n\n",
                  "sip:strict.example.test");
}

/* RFC 3327: the Path of the binding becomes the first Route values. */
static void fwd_path_prepended(void **state)
{
    static const struct sk_slice path[] = {{"<sip:edge.example.test;lr>", 26}};
    struct sk__fwd_plan p = plain;

    (void)state;
    p.target = S("sip:bob@10.1.1.1:5062");
    p.path = path;
    p.npath = 1;
    check_forward("MESSAGE sip:bob@example.test SIP/2.0\n"
                  "Via: SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bKf\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To: <sip:bob@example.test>\n"
                  "Call-ID: c1\n"
                  "CSeq: 1 MESSAGE\n"
                  "Max-Forwards: 70\n"
                  "Content-Length: 2\n\nhi",
                  &p,
                  "MESSAGE sip:bob@10.1.1.1:5062 SIP/2.0\n"
                  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKp1\n"
                  "Record-Route: <sip:192.0.2.10:5060;lr>\n"
                  "Route: <sip:edge.example.test;lr>\n"
                  "Via: SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bKf\n"
                  "From: <sip:alice@example.test>;tag=1\n"
                  "To: <sip:bob@example.test>\n"
                  "Call-ID: c1\n"
                  "CSeq: 1 MESSAGE\n"
                  "Max-Forwards: 69\n"
                  "Content-Length: 2\n\nhi",
                  "sip:edge.example.test;lr");
}

static void uri_is_self(void **state)
{
    struct sk_addr self[2] = {self_addr("192.0.2.10:5060"), self_addr("[2001:db8::1]:5070")};
    static const struct {
        const char *uri;
        bool want;
    } cases[] = {
        {"sip:192.0.2.10;lr", true},          {"sip:192.0.2.10:5060;lr", true},
        {"sip:alice@192.0.2.10:5060", true},  {"sip:192.0.2.10:5061;lr", false},
        {"sips:192.0.2.10;lr", false}, /* default port 5061 */
        {"sip:[2001:db8::1]:5070;lr", true},  {"sip:[2001:db8::1];lr", false},
        {"sip:proxy.example.test;lr", false}, {"tel:+123", false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sk_uri u;
        assert_int_equal(sk_uri_parse(S(cases[i].uri), &u), 0);
        if (sk__proxy_uri_is_self(&u, self, 2) != cases[i].want)
            fail_msg("%s: want %d", cases[i].uri, cases[i].want);
    }
}

static void preprocess_counts(void **state)
{
    struct sk_addr self = self_addr("192.0.2.10:5060");
    struct sk__route_pre pre;
    struct sk_msg m;

    (void)state;
    parse(&m, crlf(0, "OPTIONS sip:192.0.2.10 SIP/2.0\n"
                      "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKg\n"
                      "From: <sip:a@example.test>;tag=1\n"
                      "To: <sip:b@example.test>\n"
                      "Call-ID: c\n"
                      "CSeq: 1 OPTIONS\n"
                      "Content-Length: 0\n\n"));
    assert_int_equal(sk__proxy_preprocess(&m, &self, 1, &pre), 0);
    assert_false(pre.strict_prev);
    assert_int_equal(pre.ndrop, 0);
    assert_int_equal(sk__proxy_routes_left(&pre), 0);
    assert_slice_equal(pre.ruri, "sip:192.0.2.10");
    sk_msg_free(&m);

    parse(&m, crlf(0, "BYE sip:b@198.51.100.9 SIP/2.0\n"
                      "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKg\n"
                      "Route: <sip:192.0.2.10;lr>\n"
                      "Route: <bad uri\n"
                      "From: <sip:a@example.test>;tag=1\n"
                      "To: <sip:b@example.test>;tag=2\n"
                      "Call-ID: c\n"
                      "CSeq: 1 BYE\n"
                      "Content-Length: 0\n\n"));
    assert_int_equal(sk__proxy_preprocess(&m, &self, 1, &pre), SK_EPARSE);
    sk_msg_free(&m);
}

static void strip_via(const char *in, const char *want)
{
    struct sk_buf out;
    struct sk_msg m;
    char *w = crlf(1, want);

    parse(&m, crlf(0, in));
    sk_buf_init(&out);
    assert_int_equal(sk__proxy_strip_via(&m, &out), 0);
    assert_string_equal(out.p, w);
    sk_buf_free(&out);
    sk_msg_free(&m);
}

static void response_via_removed(void **state)
{
    (void)state;
    strip_via("SIP/2.0 180 Ringing\n"
              "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1\n"
              "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa;received=198.51.100.7\n"
              "To: <sip:b@example.test>;tag=2\n"
              "From: <sip:a@example.test>;tag=1\n"
              "Call-ID: c\n"
              "CSeq: 1 INVITE\n"
              "Content-Length: 0\n\n",
              "SIP/2.0 180 Ringing\n"
              "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa;received=198.51.100.7\n"
              "To: <sip:b@example.test>;tag=2\n"
              "From: <sip:a@example.test>;tag=1\n"
              "Call-ID: c\n"
              "CSeq: 1 INVITE\n"
              "Content-Length: 0\n\n");
    strip_via("SIP/2.0 200 OK\n"
              "v: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1 , SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\n"
              "To: <sip:b@example.test>;tag=2\n"
              "From: <sip:a@example.test>;tag=1\n"
              "Call-ID: c\n"
              "CSeq: 1 INVITE\n"
              "Content-Length: 0\n\n",
              "SIP/2.0 200 OK\n"
              "v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\n"
              "To: <sip:b@example.test>;tag=2\n"
              "From: <sip:a@example.test>;tag=1\n"
              "Call-ID: c\n"
              "CSeq: 1 INVITE\n"
              "Content-Length: 0\n\n");
}

static void stateless_branch_is_stable(void **state)
{
    char b1[40], b2[40], b3[40];
    struct sk_msg m;

    (void)state;
    parse(&m, crlf(0, "ACK sip:b@198.51.100.9 SIP/2.0\n"
                      "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKack1\n"
                      "From: <sip:a@example.test>;tag=1\n"
                      "To: <sip:b@example.test>;tag=2\n"
                      "Call-ID: c\n"
                      "CSeq: 1 ACK\n"
                      "Content-Length: 0\n\n"));
    sk__proxy_stateless_branch(&m, S("sip:b@198.51.100.9"), b1, sizeof(b1));
    sk__proxy_stateless_branch(&m, S("sip:b@198.51.100.9"), b2, sizeof(b2));
    sk__proxy_stateless_branch(&m, S("sip:b@198.51.100.10"), b3, sizeof(b3));
    assert_string_equal(b1, b2);
    assert_string_not_equal(b1, b3);
    assert_int_equal(strlen(b1), 25);
    assert_memory_equal(b1, "z9hG4bKsl", 9);
    sk_msg_free(&m);
}

/* ---- §16.7 ----------------------------------------------------------------- */

static void best_response(void **state)
{
    static const struct {
        unsigned st[4];
        int want;
    } cases[] = {
        {{486, 404}, 0},    {{486, 407}, 1},      {{404, 401, 407}, 1}, {{503}, 0},
        {{408, 487}, 1},    {{302, 486}, 0},      {{486, 603, 302}, 1}, {{0, 0}, -1},
        {{200, 0}, -1},     {{500, 404}, 1},      {{503, 500}, 1},      {{600, 603}, 0},
        {{0, 480, 100}, 1}, {{415, 484, 420}, 0}, {{503, 408}, 1},      {{699, 700, 99}, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = sk__proxy_best(cases[i].st, 4);
        if (got != cases[i].want)
            fail_msg("case %zu: got %d want %d", i, got, cases[i].want);
    }
}

static char resp_buf[4096];

/* A response with our Via on top, as a branch receives it. */
static const char *resp(unsigned status, const char *extra)
{
    char text[1536];

    snprintf(text, sizeof(text),
             "SIP/2.0 %u Something\n"
             "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1\n"
             "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa;received=198.51.100.7\n"
             "Via: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKz\n"
             "To: <sip:b@example.test>;tag=x%u\n"
             "From: <sip:a@example.test>;tag=1\n"
             "Call-ID: c\n"
             "CSeq: 1 INVITE\n"
             "%s"
             "Content-Length: 0\n\n",
             status, status, extra);
    sk_slice_to_cstr(sk_slice_cstr(crlf(3, text)), resp_buf, sizeof(resp_buf));
    return resp_buf;
}

/* The request that came in, as the server transaction keeps it: the
 * branches' responses go up with its Vias. */
static struct sk_msg up;

static int up_setup(void **state)
{
    static char wire[4096];

    (void)state;
    sk_slice_to_cstr(sk_slice_cstr(crlf(2, "INVITE sip:b@example.test SIP/2.0\n"
                                           "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\n"
                                           "Via: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKz\n"
                                           "From: <sip:a@example.test>;tag=1\n"
                                           "To: <sip:b@example.test>\n"
                                           "Call-ID: c\n"
                                           "CSeq: 1 INVITE\n"
                                           "Content-Length: 0\n\n")),
                     wire, sizeof(wire));
    parse(&up, wire);
    sk_msg_set_source(&up, S("198.51.100.7"), 5060);
    return 0;
}

static int up_teardown(void **state)
{
    (void)state;
    sk_msg_free(&up);
    return 0;
}

static void on(struct sk__fork *f, size_t i, unsigned status, uint64_t now, struct sk__fork_acts *a)
{
    const char *r = resp(status, "");
    assert_int_equal(sk__fork_response(f, i, status, r, strlen(r), now, a), 0);
}

static void fork_parallel_first_2xx_wins(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;

    (void)state;
    sk__fork_init(&f, true, 180000);
    assert_int_equal(sk__fork_add(&f, 0), 0);
    assert_int_equal(sk__fork_add(&f, 0), 1);
    assert_int_equal(sk__fork_add(&f, 0), 2);
    sk__fork_begin(&f, 0, &a);
    assert_int_equal(a.start, 7);
    on(&f, 0, 100, 10, &a);
    assert_false(a.forward); /* §16.7 step 5: a 100 stays here */
    on(&f, 0, 180, 20, &a);
    assert_true(a.forward);
    on(&f, 1, 180, 30, &a);
    assert_true(a.forward);
    on(&f, 1, 200, 40, &a);
    assert_true(a.forward);
    assert_int_equal(a.cancel, 1); /* branch 0 rings; branch 2 has no 1xx yet */
    assert_false(a.final);
    on(&f, 2, 180, 50, &a); /* now branch 2 can be CANCELed (§9.1) */
    assert_int_equal(a.cancel, 4);
    assert_false(a.forward);
    on(&f, 1, 200, 55, &a); /* a retransmitted 2xx goes upstream too */
    assert_true(a.forward);
    on(&f, 0, 487, 60, &a);
    assert_false(a.final);
    /* Branch 2 was let go when the 2xx came (test_proxy_cancel.c). */
    assert_true(sk__fork_done(&f));
    on(&f, 2, 487, 70, &a);
    assert_false(a.final);
    sk__fork_free(&f);
}

static void fork_all_fail_best_is_sent(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;
    struct sk_buf out;

    (void)state;
    sk__fork_init(&f, false, 0);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 0);
    sk__fork_begin(&f, 0, &a);
    on(&f, 1, 500, 5, &a);
    assert_false(a.final);
    on(&f, 0, 486, 6, &a);
    assert_true(a.final);
    assert_int_equal(a.best, 0);
    assert_int_equal(a.status, 486);
    sk_buf_init(&out);
    assert_int_equal(sk__fork_write_final(&f, a.best, &up, &out), 0);
    assert_string_equal(out.p, crlf(1, "SIP/2.0 486 Something\n"
                                       "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa"
                                       ";received=198.51.100.7\n"
                                       "Via: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKz\n"
                                       "To: <sip:b@example.test>;tag=x486\n"
                                       "From: <sip:a@example.test>;tag=1\n"
                                       "Call-ID: c\n"
                                       "CSeq: 1 INVITE\n"
                                       "Content-Length: 0\n\n"));
    sk_buf_free(&out);
    sk__fork_free(&f);
}

static void fork_6xx_ends_search(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;

    (void)state;
    sk__fork_init(&f, true, 180000);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 1);
    sk__fork_begin(&f, 0, &a);
    assert_int_equal(a.start, 3);
    on(&f, 0, 180, 1, &a);
    on(&f, 1, 603, 2, &a);
    assert_int_equal(a.cancel, 1);
    assert_false(a.final);
    on(&f, 0, 487, 3, &a);
    assert_true(a.final);
    assert_int_equal(a.start, 0); /* the next group never starts */
    assert_int_equal(a.best, 1);
    assert_int_equal(a.status, 603);
    sk__fork_free(&f);
}

static void fork_serial_groups(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;

    (void)state;
    sk__fork_init(&f, false, 0);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 3);
    sk__fork_add(&f, 3);
    assert_int_equal(sk__fork_add(&f, 1), SK_EINVAL);
    sk__fork_begin(&f, 0, &a);
    assert_int_equal(a.start, 3);
    on(&f, 0, 486, 1, &a);
    assert_int_equal(a.start, 0);
    on(&f, 1, 480, 2, &a);
    assert_int_equal(a.start, 12);
    assert_false(a.final);
    on(&f, 3, 404, 3, &a);
    on(&f, 2, 408, 4, &a);
    assert_true(a.final);
    assert_int_equal(a.best, 0); /* 486 came first among equally telling 4xx */
    sk__fork_free(&f);
}

static void fork_challenges_aggregated(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;
    struct sk_buf out;
    const char *r;

    (void)state;
    sk__fork_init(&f, true, 180000);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 0);
    sk__fork_begin(&f, 0, &a);
    on(&f, 0, 486, 1, &a);
    r = resp(401, "WWW-Authenticate: Digest realm=\"a\", nonce=\"1\"\n");
    assert_int_equal(sk__fork_response(&f, 1, 401, r, strlen(r), 2, &a), 0);
    r = resp(407, "Proxy-Authenticate: Digest realm=\"b\", nonce=\"2\"\n"
                  "Proxy-Authenticate: Digest realm=\"b\", nonce=\"3\", algorithm=SHA-256\n");
    assert_int_equal(sk__fork_response(&f, 2, 407, r, strlen(r), 3, &a), 0);
    assert_true(a.final);
    assert_int_equal(a.best, 1);
    sk_buf_init(&out);
    assert_int_equal(sk__fork_write_final(&f, a.best, &up, &out), 0);
    assert_string_equal(
        out.p, crlf(1, "SIP/2.0 401 Something\n"
                       "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa;received=198.51.100.7\n"
                       "Via: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKz\n"
                       "To: <sip:b@example.test>;tag=x401\n"
                       "From: <sip:a@example.test>;tag=1\n"
                       "Call-ID: c\n"
                       "CSeq: 1 INVITE\n"
                       "WWW-Authenticate: Digest realm=\"a\", nonce=\"1\"\n"
                       "Content-Length: 0\n"
                       "Proxy-Authenticate: Digest realm=\"b\", nonce=\"2\"\n"
                       "Proxy-Authenticate: Digest realm=\"b\", nonce=\"3\", algorithm=SHA-256\n"
                       "\n"));
    sk_buf_free(&out);
    sk__fork_free(&f);
}

static void fork_upstream_cancel(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;

    (void)state;
    sk__fork_init(&f, true, 180000);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 1);
    sk__fork_begin(&f, 0, &a);
    on(&f, 0, 180, 1, &a);
    sk__fork_cancel(&f, &a);
    assert_int_equal(a.cancel, 1);
    sk__fork_cancel(&f, &a); /* a retransmitted CANCEL sends nothing new */
    assert_int_equal(a.cancel, 0);
    /* Branch 1 had answered nothing: given up on (test_proxy_cancel.c),
     * CANCELed once it rings. */
    on(&f, 1, 183, 2, &a);
    assert_int_equal(a.cancel, 2);
    on(&f, 0, 487, 3, &a);
    assert_true(a.final);
    assert_int_equal(a.start, 0);
    assert_int_equal(a.status, 487);
    on(&f, 1, 487, 4, &a);
    assert_false(a.final);
    sk__fork_free(&f);
}

static void fork_timer_c(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;

    (void)state;
    sk__fork_init(&f, true, 180000);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 0);
    sk__fork_begin(&f, 1000, &a);
    assert_int_equal(sk__fork_tick(&f, 1000, &a), 181000);
    on(&f, 0, 180, 5000, &a); /* §16.8: restarts branch 0's Timer C */
    assert_int_equal(sk__fork_tick(&f, 180999, &a), 181000);
    assert_int_equal(a.cancel, 0);
    /* Branch 1 never answered: a 408; branch 0 still rings until 185000. */
    assert_int_equal(sk__fork_tick(&f, 181000, &a), 185000);
    assert_int_equal(a.cancel, 0);
    assert_false(a.final);
    assert_int_equal(sk__fork_tick(&f, 185000, &a), UINT64_MAX);
    assert_int_equal(a.cancel, 1);
    on(&f, 0, 487, 185010, &a);
    assert_true(a.final);
    assert_int_equal(a.best, 0); /* 487 tells more than the made-up 408 */
    assert_int_equal(a.status, 487);
    sk__fork_free(&f);
}

/* A fork whose offer is still with rtpengine has not begun: Timer C has
 * nothing to time (no 408 while rtpengine works), and a CANCEL then
 * answers 487 with no branch to cancel; none starts afterwards. */
static void fork_not_begun(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;

    (void)state;
    sk__fork_init(&f, true, 180000);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 1);
    assert_int_equal(sk__fork_tick(&f, 500000, &a), UINT64_MAX);
    assert_false(a.final);
    sk__fork_cancel(&f, &a);
    assert_int_equal(a.cancel, 0);
    assert_int_equal(a.start, 0);
    assert_true(a.final);
    assert_int_equal(a.status, 487);
    assert_true(f.final_sent);
    sk__fork_free(&f);
}

/* A UAS answering the INVITE from our CANCEL's single Via: the response
 * still goes up with the caller's Vias. */
static void relay_response_repairs_vias(void **state)
{
    struct sk_buf out;
    struct sk_msg m;

    (void)state;
    parse(&m, crlf(0, "SIP/2.0 487 Request Terminated\n"
                      "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp1\n"
                      "To: <sip:b@example.test>;tag=2\n"
                      "From: <sip:a@example.test>;tag=1\n"
                      "Call-ID: c\n"
                      "CSeq: 1 INVITE\n"
                      "Content-Length: 0\n\n"));
    sk_buf_init(&out);
    assert_int_equal(sk__proxy_relay_response(&m, &up, &out), 0);
    assert_string_equal(out.p, crlf(1, "SIP/2.0 487 Request Terminated\n"
                                       "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa"
                                       ";received=198.51.100.7\n"
                                       "Via: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKz\n"
                                       "To: <sip:b@example.test>;tag=2\n"
                                       "From: <sip:a@example.test>;tag=1\n"
                                       "Call-ID: c\n"
                                       "CSeq: 1 INVITE\n"
                                       "Content-Length: 0\n\n"));
    sk_buf_free(&out);
    sk_msg_free(&m);
}

static void fork_made_up_statuses(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;
    struct sk_buf out;

    (void)state;
    sk__fork_init(&f, false, 0);
    sk__fork_add(&f, 0);
    sk__fork_begin(&f, 0, &a);
    on(&f, 0, 503, 1, &a);
    assert_true(a.final);
    assert_int_equal(a.status, 500); /* §16.7 step 6 */
    sk_buf_init(&out);
    assert_int_equal(sk__fork_write_final(&f, a.best, &up, &out), SK_EINVAL);
    sk__fork_free(&f);

    sk__fork_init(&f, false, 0);
    sk__fork_add(&f, 0);
    sk__fork_begin(&f, 0, &a);
    sk__fork_failed(&f, 0, 1, &a);
    assert_true(a.final);
    assert_int_equal(a.status, 500);
    assert_int_equal(sk__fork_write_final(&f, a.best, &up, &out), SK_EINVAL);
    assert_int_equal(sk__fork_final_status(&f, -1), 408);
    assert_int_equal(sk__fork_response(&f, 3, 200, NULL, 0, 1, &a), SK_EINVAL);
    sk_buf_free(&out);
    sk__fork_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fwd_initial_invite),
        cmocka_unit_test(fwd_loose_route_naming_us_removed),
        cmocka_unit_test(fwd_only_route_us_goes_to_ruri),
        cmocka_unit_test(fwd_strict_previous_hop),
        cmocka_unit_test(fwd_strict_next_hop),
        cmocka_unit_test(fwd_path_prepended),
        cmocka_unit_test(uri_is_self),
        cmocka_unit_test(preprocess_counts),
        cmocka_unit_test(response_via_removed),
        cmocka_unit_test(stateless_branch_is_stable),
        cmocka_unit_test(best_response),
        cmocka_unit_test(fork_parallel_first_2xx_wins),
        cmocka_unit_test(fork_all_fail_best_is_sent),
        cmocka_unit_test(fork_6xx_ends_search),
        cmocka_unit_test(fork_serial_groups),
        cmocka_unit_test(fork_challenges_aggregated),
        cmocka_unit_test(fork_upstream_cancel),
        cmocka_unit_test(fork_timer_c),
        cmocka_unit_test(fork_not_begun),
        cmocka_unit_test(fork_made_up_statuses),
        cmocka_unit_test(relay_response_repairs_vias),
    };
    return cmocka_run_group_tests(tests, up_setup, up_teardown);
}
