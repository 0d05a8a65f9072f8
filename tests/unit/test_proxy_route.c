/*
 * The proxy's route tokens and Record-Route values (proxy_route.c): every
 * leading Route value of ours removed in one pass, one text per next hop,
 * the values of a forwarded request (one, or two for differing legs, RFC
 * 5658), the check of an in-dialog request in both directions, and the
 * caller's copy rewritten in a response (RFC 3261 §16.7 step 4).
 */
#include "support.h"

#include "server/proxy_int.h"

#include <sipkit/auth.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *crlf(const char *text)
{
    static char buf[4096];
    size_t n = 0;

    for (const char *p = text; *p != '\0' && n + 2 < sizeof(buf); p++) {
        if (*p == '\n')
            buf[n++] = '\r';
        buf[n++] = *p;
    }
    buf[n] = '\0';
    return buf;
}

static void parse(struct sk_msg *m, const char *text)
{
    const char *wire = crlf(text);
    char *copy = strdup(wire);

    assert_non_null(copy);
    sk_msg_init(m);
    assert_int_equal(sk_msg_parse(m, copy, strlen(copy), SK_MSG_DATAGRAM, NULL), 0);
}

static void unparse(struct sk_msg *m)
{
    free((void *)m->raw.p);
    sk_msg_free(m);
}

static int no_users(void *arg, struct sk_auth_lookup *q)
{
    (void)arg;
    (void)q;
    return SK_ENOTFOUND;
}

static struct sk_auth *auth_in(const char *dir)
{
    struct sk_auth_config cfg;
    struct sk_auth *a;

    sk_auth_config_init(&cfg);
    cfg.realm = "example.test";
    cfg.lookup = no_users;
    cfg.data_dir = dir;
    assert_int_equal(sk_auth_new(&a, &cfg), 0);
    return a;
}

static struct sk_auth *auth_new(void)
{
    return auth_in(NULL);
}

/* The key comes from the persisted secret: a restarted server (a new
 * struct sk_auth on the same data directory) verifies what it minted. */
static void tokens_survive_a_restart(void **state)
{
    char dir[] = "/tmp/sk-rr-XXXXXX", path[64], t1[SK__RR_TOKEN_LEN + 1], t2[SK__RR_TOKEN_LEN + 1];
    struct sk_auth *a;

    (void)state;
    assert_non_null(mkdtemp(dir));
    a = auth_in(dir);
    assert_int_equal(sk__rr_token(a, S("c"), S("t"), "udp 127.0.0.1:5060", t1), 0);
    sk_auth_free(a);
    a = auth_in(dir);
    assert_int_equal(sk__rr_token(a, S("c"), S("t"), "udp 127.0.0.1:5060", t2), 0);
    assert_string_equal(t1, t2);
    assert_int_equal(sk__rr_token(a, S("c"), S("t"), "udp 127.0.0.1:5061", t2), 0);
    assert_string_not_equal(t1, t2);
    sk_auth_free(a);
    snprintf(path, sizeof(path), "%s/auth.secret", dir);
    unlink(path);
    rmdir(dir);
}

static struct sk_addr addr(const char *text)
{
    struct sk_addr a;

    assert_int_equal(sk_addr_parse(S(text), 5060, &a), 0);
    return a;
}

static void preprocess_removes_every_leading_self_route(void **state)
{
    struct sk_addr self[2] = {addr("192.0.2.10:5060"), addr("[2001:db8::1]:5060")};
    struct sk__route_pre pre;
    struct sk_msg m;

    (void)state;
    parse(&m, "BYE sip:b@198.51.100.9 SIP/2.0\n"
              "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKg\n"
              "Route: <sip:192.0.2.10;lr>, <sip:[2001:db8::1];lr>\n"
              "Route: <sip:192.0.2.10;transport=tcp;lr>, <sip:198.51.100.20;lr>\n"
              "From: <sip:a@example.test>;tag=1\n"
              "To: <sip:b@example.test>;tag=2\n"
              "Call-ID: c\n"
              "CSeq: 1 BYE\n"
              "Content-Length: 0\n\n");
    assert_int_equal(sk__proxy_preprocess(&m, self, 2, &pre), 0);
    assert_int_equal(pre.ndrop, 3);
    assert_int_equal(sk__proxy_routes_left(&pre), 1);
    assert_true(sk__proxy_routed_to_us(&pre));
    assert_slice_equal(sk__proxy_last_self(&pre, &m)->raw, "sip:192.0.2.10;transport=tcp;lr");
    assert_slice_equal(sk__proxy_next_hop(&pre), "sip:198.51.100.20;lr");
    unparse(&m);
}

static void hop_keys(void **state)
{
    static const struct {
        const char *uri;
        enum sk_transport def;
        const char *want;
    } cases[] = {
        {"sip:alice@[0:0::1]:5070;transport=UDP", SK_TP_TCP, "udp [::1]:5070"},
        {"sip:alice@127.0.0.1", SK_TP_TCP, "tcp 127.0.0.1:5060"},
        {"sip:Proxy.Example.TEST;lr", SK_TP_UDP, "udp proxy.example.test:5060"},
        /* RFC 5630: sips: and transport=tls leave over TLS. */
        {"sips:b@192.0.2.1", SK_TP_UDP, "tls 192.0.2.1:5061"},
        {"sip:b@192.0.2.1:5061;transport=TLS", SK_TP_UDP, "tls 192.0.2.1:5061"},
        /* RFC 7118 §5.2. */
        {"sip:b@192.0.2.1:8080;transport=ws", SK_TP_UDP, "ws 192.0.2.1:8080"},
        {"sip:b@192.0.2.1:8443;transport=WSS", SK_TP_UDP, "wss 192.0.2.1:8443"},
    };
    char key[SK__RR_HOP_KEY_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(sk__rr_hop_key(S(cases[i].uri), cases[i].def, key, sizeof(key)), 0);
        assert_string_equal(key, cases[i].want);
    }
    assert_int_equal(sk__rr_hop_key(S("tel:+1"), SK_TP_UDP, key, sizeof(key)), SK_EPARSE);
}

/* An in-dialog request through us with the given Route and Request-URI. */
static void in_dialog(struct sk_msg *m, const char *ruri, const char *route, bool from_callee)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "BYE %s SIP/2.0\n"
             "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKg\n"
             "Route: %s\n"
             "From: <sip:x@example.test>;tag=%s\n"
             "To: <sip:y@example.test>;tag=%s\n"
             "Call-ID: call-1\n"
             "CSeq: 2 BYE\n"
             "Content-Length: 0\n\n",
             ruri, route, from_callee ? "callee" : "caller", from_callee ? "caller" : "callee");
    parse(m, text);
}

static int check(struct sk_auth *a, const char *ruri, const char *route, bool from_callee,
                 struct sk_addr *dst, const char **why)
{
    struct sk_addr self[2] = {addr("192.0.2.10:5060"), addr("[2001:db8::1]:5060")};
    struct sk__route_pre pre;
    struct sk_msg m;
    int err;

    in_dialog(&m, ruri, route, from_callee);
    assert_int_equal(sk__proxy_preprocess(&m, self, 2, &pre), 0);
    err = sk__rr_check(a, &m, &pre, dst, why);
    unparse(&m);
    return err;
}

static void tokens_let_the_dialog_through_and_nothing_else(void **state)
{
    struct sk_auth *a = auth_new();
    char tok[SK__RR_TOKEN_LEN + 1], route[512], key[SK__RR_HOP_KEY_MAX];
    const char *why = NULL;
    struct sk_addr dst, want = addr("[2001:db8::9]:5080");

    (void)state;
    /* Minted for the caller's dialog towards the callee over TCP, the
     * caller's leg IPv6 over UDP. */
    assert_int_equal(sk__rr_hop_key(S("sip:y@[2001:db8::9]:5080"), SK_TP_TCP, key, sizeof(key)), 0);
    assert_int_equal(sk__rr_token(a, S("call-1"), S("caller"), key, tok), 0);
    assert_int_equal(strlen(tok), SK__RR_TOKEN_LEN);
    snprintf(route, sizeof(route),
             "<sip:[2001:db8::1];lr;sk=%s>, <sip:192.0.2.10;transport=tcp;lr;sk=%s>", tok, tok);
    assert_int_equal(check(a, "sip:y@[2001:db8::9]:5080", route, false, &dst, &why), 0);
    want.tp = SK_TP_TCP;
    assert_true(sk_addr_equal(&dst, &want));
    assert_int_equal(dst.tp, SK_TP_TCP);
    /* The callee's requests carry the caller's tag as To tag. */
    assert_int_equal(check(a, "sip:y@[2001:db8::9]:5080", route, true, &dst, &why), 0);
    /* A strict router before us: our value in the Request-URI, the real
     * one last in Route (RFC 3261 §16.4). */
    snprintf(route, sizeof(route), "sip:192.0.2.10;transport=tcp;lr;sk=%s", tok);
    assert_int_equal(check(a, route, "<sip:y@[2001:db8::9]:5080>", false, &dst, &why), 0);
    assert_true(sk_addr_equal(&dst, &want));
    snprintf(route, sizeof(route),
             "<sip:[2001:db8::1];lr;sk=%s>, <sip:192.0.2.10;transport=tcp;lr;sk=%s>", tok, tok);
    /* Another destination with the same token: refused. */
    assert_int_equal(check(a, "sip:y@192.0.2.99:25;transport=tcp", route, false, &dst, &why),
                     SK_EAUTH);
    assert_string_equal(why, "Route Token Invalid");
    assert_int_equal(check(a, "sip:y@[2001:db8::9]:5080;transport=udp", route, false, &dst, &why),
                     SK_EAUTH);
    /* Another proxy appended after ours: refused too. */
    snprintf(route, sizeof(route), "<sip:192.0.2.10;transport=tcp;lr;sk=%s>, <sip:192.0.2.99;lr>",
             tok);
    assert_int_equal(check(a, "sip:y@[2001:db8::9]:5080", route, false, &dst, &why), SK_EAUTH);
    /* No token, or one we never minted. */
    assert_int_equal(check(a, "sip:y@[2001:db8::9]:5080", "<sip:192.0.2.10;lr>", false, &dst, &why),
                     SK_EAUTH);
    assert_string_equal(why, "Route Token Missing");
    assert_int_equal(check(a, "sip:y@[2001:db8::9]:5080",
                           "<sip:192.0.2.10;lr;sk=00000000000000000000000000000000>", false, &dst,
                           &why),
                     SK_EAUTH);
    assert_string_equal(why, "Route Token Invalid");
    sk_auth_free(a);
}

static void values_and_response_rewrite(void **state)
{
    struct sk_auth *a = auth_new();
    struct sk_addr self[2] = {addr("192.0.2.10:5060"), addr("[2001:db8::1]:5060")};
    struct sk__rr_side out = {"192.0.2.10:5060", SK_TP_TCP, NULL},
                       in = {"[2001:db8::1]:5060", SK_TP_UDP, NULL};
    char text[2048], tok[SK__RR_TOKEN_LEN + 1], key[SK__RR_HOP_KEY_MAX], want[512];
    struct sk_msg req, resp;
    struct sk_msg_edit e;
    struct sk_buf b, sc, w;

    (void)state;
    parse(&req, "INVITE sip:y@192.0.2.50 SIP/2.0\n"
                "Via: SIP/2.0/UDP [2001:db8::7];branch=z9hG4bKg\n"
                "From: <sip:x@example.test>;tag=caller\n"
                "To: <sip:y@example.test>\n"
                "Call-ID: call-1\n"
                "CSeq: 1 INVITE\n"
                "Contact: <sip:x@[2001:db8::7]:5062>\n"
                "Content-Length: 0\n\n");
    sk_buf_init(&b);
    assert_int_equal(sk__rr_values(a, &req, &out, &in, &b), 0);
    /* The callee's copy names the caller's Contact over the UDP leg. */
    assert_int_equal(sk__rr_hop_key(S("sip:x@[2001:db8::7]:5062"), SK_TP_UDP, key, sizeof(key)), 0);
    assert_int_equal(sk__rr_token(a, S("call-1"), S("caller"), key, tok), 0);
    snprintf(want, sizeof(want),
             "<sip:192.0.2.10:5060;transport=tcp;lr;sk=%s>, <sip:[2001:db8::1]:5060;lr;sk=%s>", tok,
             tok);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.p, want, b.len);

    /* A browser's leg (RFC 7118 §5.2): transport=ws, and a value per leg. */
    struct sk__rr_side ws = {"192.0.2.10:8080", SK_TP_WS, NULL},
                       wss = {"192.0.2.10:8443", SK_TP_WSS, NULL};
    sk_buf_reset(&b);
    assert_int_equal(sk__rr_values(a, &req, &ws, &in, &b), 0);
    snprintf(want, sizeof(want),
             "<sip:192.0.2.10:8080;transport=ws;lr;sk=%s>, <sip:[2001:db8::1]:5060;lr;sk=%s>", tok,
             tok);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.p, want, b.len);
    sk_buf_reset(&b);
    assert_int_equal(sk__rr_values(a, &req, &wss, &in, &b), 0);
    static const char wss_head[] = "<sip:192.0.2.10:8443;transport=wss;lr;sk=";
    assert_true(b.len > sizeof(wss_head) && memcmp(b.p, wss_head, sizeof(wss_head) - 1) == 0);
    sk_buf_reset(&b);
    assert_int_equal(sk__rr_values(a, &req, &out, &in, &b), 0);

    /* The 200 carries them back with a downstream proxy's value above;
     * the caller's copy gets the token towards that proxy over TCP. */
    snprintf(text, sizeof(text),
             "SIP/2.0 200 OK\n"
             "Via: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKx\n"
             "Via: SIP/2.0/UDP [2001:db8::7];branch=z9hG4bKg\n"
             "Record-Route: <sip:198.51.100.30;lr>, %.*s\n"
             "From: <sip:x@example.test>;tag=caller\n"
             "To: <sip:y@example.test>;tag=callee\n"
             "Call-ID: call-1\n"
             "CSeq: 1 INVITE\n"
             "Contact: <sip:y@192.0.2.50>\n"
             "Content-Length: 0\n\n",
             (int)b.len, b.p);
    parse(&resp, text);
    sk_msg_edit_init(&e, &resp);
    sk_buf_init(&sc);
    sk_buf_init(&w);
    assert_int_equal(sk__rr_edit_response(a, self, 2, &e, 0, &sc), 0);
    assert_int_equal(sk_msg_edit_write(&e, &w), 0);
    assert_int_equal(sk__rr_hop_key(S("sip:198.51.100.30;lr"), SK_TP_TCP, key, sizeof(key)), 0);
    assert_int_equal(sk__rr_token(a, S("call-1"), S("caller"), key, tok), 0);
    snprintf(want, sizeof(want),
             "Record-Route: <sip:198.51.100.30;lr>, <sip:192.0.2.10:5060;transport=tcp;lr;sk=%s>, "
             "<sip:[2001:db8::1]:5060;lr;sk=%s>\r\n",
             tok, tok);
    sk_buf_append(&w, "", 1);
    if (strstr(w.p, want) == NULL)
        fail_msg("want %s in:\n%s", want, w.p);
    unparse(&resp);
    unparse(&req);
    sk_buf_free(&w);
    sk_buf_free(&sc);
    sk_buf_free(&b);
    sk_auth_free(a);
}

/* linphonec 5.1 answers "Record-Route: <out>, <in>" with three headers,
 * the lower value twice: every value of ours gets the caller's token, so
 * the caller's requests pass whichever of them is removed last. */
static void echoed_twice_still_retokened(void **state)
{
    struct sk_auth *a = auth_new();
    struct sk_addr self[2] = {addr("192.0.2.10:5060"), addr("[2001:db8::1]:5060")};
    char tok[SK__RR_TOKEN_LEN + 1], key[SK__RR_HOP_KEY_MAX], want[512];
    struct sk_msg resp;
    struct sk_msg_edit e;
    struct sk_buf sc, w;

    (void)state;
    parse(&resp, "SIP/2.0 200 OK\n"
                 "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKx\n"
                 "Via: SIP/2.0/UDP [2001:db8::7];branch=z9hG4bKg\n"
                 "Record-Route: <sip:192.0.2.10:5060;lr;sk=0123456789abcdef0123456789abcdef>\n"
                 "Record-Route: <sip:[2001:db8::1]:5060;lr;sk=0123456789abcdef0123456789abcdef>\n"
                 "Record-Route: <sip:[2001:db8::1]:5060;lr;sk=0123456789abcdef0123456789abcdef>\n"
                 "From: <sip:x@example.test>;tag=caller\n"
                 "To: <sip:y@example.test>;tag=callee\n"
                 "Call-ID: call-1\n"
                 "CSeq: 1 INVITE\n"
                 "Contact: <sip:y@192.0.2.50>\n"
                 "Content-Length: 0\n\n");
    sk_msg_edit_init(&e, &resp);
    sk_buf_init(&sc);
    sk_buf_init(&w);
    assert_int_equal(sk__rr_edit_response(a, self, 2, &e, 0, &sc), 0);
    assert_int_equal(sk_msg_edit_write(&e, &w), 0);
    sk_buf_append(&w, "", 1);
    assert_int_equal(sk__rr_hop_key(S("sip:y@192.0.2.50"), SK_TP_UDP, key, sizeof(key)), 0);
    assert_int_equal(sk__rr_token(a, S("call-1"), S("caller"), key, tok), 0);
    snprintf(want, sizeof(want), "sk=%s", tok);
    const char *p = w.p;
    int seen = 0;
    while ((p = strstr(p, want)) != NULL) {
        seen++;
        p += strlen(want);
    }
    if (seen != 3)
        fail_msg("want 3 values with %s in:\n%s", want, w.p);
    unparse(&resp);
    sk_buf_free(&w);
    sk_buf_free(&sc);
    sk_auth_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(preprocess_removes_every_leading_self_route),
        cmocka_unit_test(hop_keys),
        cmocka_unit_test(tokens_survive_a_restart),
        cmocka_unit_test(tokens_let_the_dialog_through_and_nothing_else),
        cmocka_unit_test(values_and_response_rewrite),
        cmocka_unit_test(echoed_twice_still_retokened),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
