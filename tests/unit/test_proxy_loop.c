/*
 * Loops and spirals (RFC 3261 §16.3 step 4, §16.6 step 8): the branch of
 * our Via carries a hash of the request as we received it; a request
 * that comes back with that hash again has looped, one that changed on
 * the way (new Request-URI, a Route value consumed) is a spiral. Also
 * §22.3: the Proxy-Authorization values for our realm are not forwarded.
 */
#include "support.h"

#include "server/proxy_int.h"

#include <stdio.h>
#include <string.h>

#define REALM "example.test"

/* LF-terminated text to CRLF, into a static buffer per slot. */
static char *crlf(int slot, const char *text)
{
    static char bufs[3][4096];
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

static struct sk_addr self_addr(void)
{
    struct sk_addr a;

    assert_int_equal(sk_addr_parse(S("192.0.2.10:5060"), 5060, &a), 0);
    return a;
}

/* A new INVITE with credentials for us and for a proxy further on. */
static const char invite[] = "INVITE sip:bob@example.test SIP/2.0\n"
                             "Via: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKa\n"
                             "Max-Forwards: 70\n"
                             "From: <sip:alice@example.test>;tag=1\n"
                             "To: <sip:bob@example.test>\n"
                             "Call-ID: c1\n"
                             "CSeq: 2 INVITE\n"
                             "Proxy-Authorization: Digest username=\"alice\", realm=\"" REALM
                             "\", nonce=\"n\", uri=\"sip:bob@example.test\", response=\"r\"\n"
                             "Proxy-Authorization: Digest username=\"a\", realm=\"far.test\", "
                             "nonce=\"m\", uri=\"sip:bob@example.test\", response=\"s\"\n"
                             "Content-Length: 0\n\n";

/* A request routed through us twice on purpose (loose routing). */
static const char routed[] = "BYE sip:bob@198.51.100.20 SIP/2.0\n"
                             "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKb\n"
                             "Max-Forwards: 70\n"
                             "Route: <sip:192.0.2.10;lr>, <sip:192.0.2.10;lr>\n"
                             "From: <sip:alice@example.test>;tag=1\n"
                             "To: <sip:bob@example.test>;tag=2\n"
                             "Call-ID: c1\n"
                             "CSeq: 3 BYE\n"
                             "Content-Length: 0\n\n";

/* Forward `in` as the proxy does (our Via with the loop tag of the request
 * as received, our credentials removed) into out. */
static void forward(const char *in, const char *unique, struct sk_buf *out)
{
    struct sk_addr self = self_addr();
    char via[160], tag[SK__PROXY_LOOP_TAG_LEN + 1];
    struct sk__route_pre pre;
    struct sk__fwd_plan plan;
    struct sk_slice hop;
    struct sk_buf sc;
    struct sk_msg m;

    parse(&m, crlf(0, in));
    sk_msg_set_source(&m, S("10.0.0.1"), 5060);
    assert_int_equal(sk__proxy_preprocess(&m, &self, 1, &pre), 0);
    sk__proxy_loop_tag(sk__proxy_loop_hash(&m, &m.via, S(REALM)), tag);
    snprintf(via, sizeof(via), "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK%s%s", unique, tag);
    memset(&plan, 0, sizeof(plan));
    plan.via = S(via);
    plan.realm = S(REALM);
    sk_buf_init(&sc);
    assert_int_equal(sk__proxy_forward(&m, &pre, &plan, &sc, out, &hop), 0);
    sk_buf_free(&sc);
    sk_msg_free(&m);
}

/* Forward `in`, then let the next hop send it back to us: its Via on top,
 * the Request-URI replaced by `back_ruri` unless NULL. Returns whether the
 * returned request counts as a loop. */
static bool comes_back(const char *in, const char *back_ruri)
{
    struct sk_addr self = self_addr();
    char back[4096];
    struct sk_buf out;
    struct sk_msg r;
    const char *eol;
    bool loop;

    sk_buf_init(&out);
    forward(in, "u1", &out);
    eol = strstr(out.p, "\r\n");
    assert_non_null(eol);
    if (back_ruri == NULL)
        snprintf(back, sizeof(back), "%.*s\r\nVia: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bKx%s",
                 (int)(eol - out.p), out.p, eol);
    else
        snprintf(back, sizeof(back),
                 "INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.5;"
                 "branch=z9hG4bKx%s",
                 back_ruri, eol);
    parse(&r, back);
    loop = sk__proxy_looped(&r, &self, 1, S(REALM));
    sk_msg_free(&r);
    sk_buf_free(&out);
    return loop;
}

/* The same request back again: a loop, although our credentials were
 * removed on the way out and the next hop added its Via. */
static void same_request_is_a_loop(void **state)
{
    (void)state;
    assert_true(comes_back(invite, NULL));
}

/* Retargeted by the next hop (call forwarding to a user of ours): a
 * spiral, processed again. */
static void retargeted_request_spirals(void **state)
{
    (void)state;
    assert_false(comes_back(invite, "sip:carol@example.test"));
    /* Back with the Request-URI it had: a loop again. */
    assert_true(comes_back(invite, "sip:bob@example.test"));
}

/* A route set through us twice: one value fewer when it comes back. */
static void consumed_route_spirals(void **state)
{
    (void)state;
    assert_false(comes_back(routed, NULL));
}

static bool looped_text(const char *text)
{
    struct sk_addr self = self_addr();
    struct sk_msg m;
    bool loop;

    parse(&m, crlf(1, text));
    loop = sk__proxy_looped(&m, &self, 1, S(REALM));
    sk_msg_free(&m);
    return loop;
}

/* Our Via without a loop tag, or with nothing below it, counts as a
 * loop; other hosts' Vias (and ours on another port) never do. */
static void untagged_and_foreign_vias(void **state)
{
    static const char rest[] = "From: <sip:a@example.test>;tag=1\n"
                               "To: <sip:b@example.test>\n"
                               "Call-ID: c\n"
                               "CSeq: 1 MESSAGE\n"
                               "Content-Length: 0\n\n";
    char text[1024];

    (void)state;
    snprintf(text, sizeof(text),
             "MESSAGE sip:b@example.test SIP/2.0\n"
             "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKold\n"
             "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\n%s",
             rest);
    assert_true(looped_text(text));
    snprintf(text, sizeof(text),
             "MESSAGE sip:b@example.test SIP/2.0\n"
             "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKulp0123456789abcdef\n%s",
             rest);
    assert_true(looped_text(text));
    snprintf(text, sizeof(text),
             "MESSAGE sip:b@example.test SIP/2.0\n"
             "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKold\n"
             "Via: SIP/2.0/UDP 192.0.2.11;branch=z9hG4bKold\n%s",
             rest);
    assert_false(looped_text(text));
    /* A tag that is not the hash of this request: a spiral. */
    snprintf(text, sizeof(text),
             "MESSAGE sip:b@example.test SIP/2.0\n"
             "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKulp0123456789abcdef\n"
             "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\n%s",
             rest);
    assert_false(looped_text(text));
}

/* §22.3: credentials for our realm stop here; those for another realm
 * go on untouched. */
static void our_credentials_removed(void **state)
{
    struct sk_buf out;
    struct sk_msg m;
    size_t n = 0;

    (void)state;
    sk_buf_init(&out);
    forward(invite, "u1", &out);
    parse(&m, out.p);
    for (size_t i = 0; i < m.nhdrs; i++) {
        if (m.hdrs[i].id != SK_HDR_PROXY_AUTHORIZATION)
            continue;
        assert_slice_equal(m.hdrs[i].value,
                           "Digest username=\"a\", realm=\"far.test\", nonce=\"m\", "
                           "uri=\"sip:bob@example.test\", response=\"s\"");
        n++;
    }
    assert_int_equal(n, 1);
    sk_msg_free(&m);
    sk_buf_free(&out);
}

/* The hash ignores our own credentials (gone when the request comes
 * back) but not the others, nor the fields of §16.6 step 8. */
static void hash_fields(void **state)
{
    struct sk_msg a, b;
    uint64_t h;

    (void)state;
    parse(&a, crlf(0, invite));
    h = sk__proxy_loop_hash(&a, &a.via, S(REALM));
    assert_true(h != sk__proxy_loop_hash(&a, &a.via, S("far.test")));
    assert_true(h != sk__proxy_loop_hash(&a, NULL, S(REALM)));
    parse(&b, crlf(1, "INVITE sip:bob@example.test SIP/2.0\n"
                      "Via: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKa\n"
                      "Max-Forwards: 12\n"
                      "From: <sip:alice@example.test>;tag=1\n"
                      "To: <sip:bob@example.test>\n"
                      "Call-ID: c1\n"
                      "CSeq: 2 INVITE\n"
                      "Proxy-Authorization: Digest username=\"a\", realm=\"far.test\", "
                      "nonce=\"m\", uri=\"sip:bob@example.test\", response=\"s\"\n"
                      "Content-Length: 0\n\n"));
    assert_true(h == sk__proxy_loop_hash(&b, &b.via, S(REALM)));
    sk_msg_free(&b);
    parse(&b, crlf(1, "INVITE sip:bob@example.test SIP/2.0\n"
                      "Via: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKa\n"
                      "From: <sip:alice@example.test>;tag=1\n"
                      "To: <sip:bob@example.test>\n"
                      "Call-ID: c1\n"
                      "CSeq: 3 INVITE\n"
                      "Proxy-Authorization: Digest username=\"a\", realm=\"far.test\", "
                      "nonce=\"m\", uri=\"sip:bob@example.test\", response=\"s\"\n"
                      "Content-Length: 0\n\n"));
    assert_true(h != sk__proxy_loop_hash(&b, &b.via, S(REALM)));
    sk_msg_free(&b);
    sk_msg_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_request_is_a_loop),  cmocka_unit_test(retargeted_request_spirals),
        cmocka_unit_test(consumed_route_spirals),  cmocka_unit_test(untagged_and_foreign_vias),
        cmocka_unit_test(our_credentials_removed), cmocka_unit_test(hash_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
