/* Flow tokens for UAs behind NAT (src/server/nat.c): when a flow is needed,
 * tokens name the flow they were minted for and nothing else, and a
 * request within a dialog goes to the other party's flow (RFC 5626 §5.3). */
#include "support.h"

#include "server/nat.h"

#include <sipkit/auth.h>

#include <string.h>

static struct sk_auth *auth;

/* No user exists: only the server secret's MAC is used here. */
static int no_user(void *arg, struct sk_auth_lookup *q)
{
    (void)arg;
    (void)q;
    return SK_ENOTFOUND;
}

static int setup(void **state)
{
    struct sk_auth_config cfg;

    (void)state;
    sk_auth_config_init(&cfg);
    cfg.realm = "example.test";
    cfg.lookup = no_user;
    return sk_auth_new(&auth, &cfg);
}

static int teardown(void **state)
{
    (void)state;
    sk_auth_free(auth);
    return 0;
}

static struct sk_addr addr(const char *text, enum sk_transport tp, uint64_t conn)
{
    struct sk_addr a;

    assert_int_equal(sk_addr_parse(S(text), 5060, &a), 0);
    a.tp = tp;
    a.conn_id = conn;
    return a;
}

static void flow_needed(void **state)
{
    struct sk_addr udp = addr("198.51.100.2:5062", SK_TP_UDP, 0);
    struct sk_addr tcp = addr("198.51.100.2:40000", SK_TP_TCP, 7);

    (void)state;
    /* A private Contact, another port, a name: NAT, or cannot tell. */
    assert_true(sk__nat_flow_needed(S("sip:bob@203.0.113.10:5062"), &udp));
    assert_true(sk__nat_flow_needed(S("sip:bob@198.51.100.2:5070"), &udp));
    assert_true(sk__nat_flow_needed(S("sip:bob@phone.example"), &udp));
    assert_true(sk__nat_flow_needed(SK_SLICE_NULL, &udp));
    /* The Contact is the source: a public UA, routed by its Contact. */
    assert_false(sk__nat_flow_needed(S("sip:bob@198.51.100.2:5062;transport=udp"), &udp));
    /* On TCP the source port is the connection's: only the host tells. */
    assert_false(sk__nat_flow_needed(S("sip:bob@198.51.100.2:5060;transport=tcp"), &tcp));
    assert_true(sk__nat_flow_needed(S("sip:bob@203.0.113.10:5060;transport=tcp"), &tcp));
    /* TLS is a stream too; a WebSocket client always needs its flow
     * (RFC 7118 §5), whatever its Contact says. */
    struct sk_addr tls = addr("198.51.100.2:40001", SK_TP_TLS, 8);
    struct sk_addr ws = addr("198.51.100.2:40002", SK_TP_WS, 9);
    assert_false(sk__nat_flow_needed(S("sip:bob@198.51.100.2:5061;transport=tls"), &tls));
    assert_true(sk__nat_flow_needed(S("sip:bob@df7jal23ls0d.invalid;transport=ws"), &ws));
    assert_true(sk__nat_flow_needed(S("sip:bob@198.51.100.2:40002;transport=ws"), &ws));
}

/* A Record-Route URI of ours carrying the given flows. */
static void rr_uri(const struct sk_addr *fa, const struct sk_addr *fb, struct sk_buf *b,
                   struct sk_uri *u)
{
    sk_buf_init(b);
    sk_buf_append_cstr(b, "sip:198.51.100.1:5060;lr");
    if (fa != NULL)
        assert_int_equal(sk__nat_flow_append(auth, SK__NAT_CALLER, fa, b), 0);
    if (fb != NULL)
        assert_int_equal(sk__nat_flow_append(auth, SK__NAT_CALLEE, fb, b), 0);
    assert_true(sk_buf_ok(b));
    assert_int_equal(sk_uri_parse(sk_slice_make(b->p, b->len), u), 0);
}

static void route_between_flows(void **state)
{
    struct sk_addr caller = addr("198.51.100.2:5062", SK_TP_UDP, 0);
    struct sk_addr callee = addr("[2001:db8::7]:41000", SK_TP_TCP, 0x1234abcd5678ULL);
    struct sk_addr elsewhere = addr("198.51.100.20:5060", SK_TP_UDP, 0), dst;
    struct sk_buf b;
    struct sk_uri u;

    (void)state;
    rr_uri(&caller, &callee, &b, &u);
    /* From the caller's flow to the callee's, address, transport and
     * connection exactly. */
    assert_int_equal(sk__nat_route(auth, &u, &caller, &dst), 1);
    assert_true(sk_addr_equal(&dst, &callee));
    assert_int_equal(dst.tp, SK_TP_TCP);
    assert_true(dst.conn_id == 0x1234abcd5678ULL);
    assert_int_equal(sk__nat_route(auth, &u, &callee, &dst), 1);
    assert_true(sk_addr_equal(&dst, &caller));
    assert_int_equal(dst.tp, SK_TP_UDP);
    /* Both named and neither the source: the Request-URI decides. */
    assert_int_equal(sk__nat_route(auth, &u, &elsewhere, &dst), 0);
    sk_buf_free(&b);

    /* Only the callee behind NAT: the caller's requests go to its flow,
     * the callee's own requests follow the Request-URI. */
    rr_uri(NULL, &callee, &b, &u);
    assert_int_equal(sk__nat_route(auth, &u, &elsewhere, &dst), 1);
    assert_true(sk_addr_equal(&dst, &callee));
    assert_int_equal(sk__nat_route(auth, &u, &callee, &dst), 0);
    sk_buf_free(&b);

    /* No flow in our value, or no value: nothing to do. */
    rr_uri(NULL, NULL, &b, &u);
    assert_int_equal(sk__nat_route(auth, &u, &elsewhere, &dst), 0);
    assert_int_equal(sk__nat_route(auth, NULL, &elsewhere, &dst), 0);
    sk_buf_free(&b);
}

/* A token keeps the flow's transport and connection: TLS, WS and WSS
 * flows are reached over their own connection, never over UDP. */
static void stream_transports_kept(void **state)
{
    static const enum sk_transport tps[] = {SK_TP_TLS, SK_TP_WS, SK_TP_WSS};
    struct sk_addr elsewhere = addr("198.51.100.20:5060", SK_TP_UDP, 0), dst;
    struct sk_buf b;
    struct sk_uri u;

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct sk_addr callee = addr("198.51.100.3:50000", tps[i], 0x501 + i);
        rr_uri(NULL, &callee, &b, &u);
        assert_int_equal(sk__nat_route(auth, &u, &elsewhere, &dst), 1);
        assert_true(sk_addr_equal(&dst, &callee));
        assert_int_equal(dst.tp, tps[i]);
        assert_true(dst.conn_id == 0x501 + i);
        sk_buf_free(&b);
    }
}

static void forged_tokens_refused(void **state)
{
    struct sk_addr caller = addr("198.51.100.2:5062", SK_TP_UDP, 0);
    struct sk_addr elsewhere = addr("198.51.100.20:5060", SK_TP_UDP, 0), dst;
    struct sk_buf b;
    struct sk_uri u;
    char *port;

    (void)state;
    rr_uri(&caller, NULL, &b, &u);
    /* Another port in the same token: the MAC no longer matches. */
    port = strstr(b.p, "-5062-");
    assert_non_null(port);
    port[4] = '3';
    assert_int_equal(sk_uri_parse(sk_slice_make(b.p, b.len), &u), 0);
    assert_int_equal(sk__nat_route(auth, &u, &elsewhere, &dst), SK_EAUTH);
    sk_buf_free(&b);

    static const char *const bad[] = {
        "sip:198.51.100.1;lr;skfa=x",
        "sip:198.51.100.1;lr;skfa=uc6336402-5062-0",
        "sip:198.51.100.1;lr;skfa=uc6336402-99999-0-00000000000000000000000000000000",
        "sip:198.51.100.1;lr;skfa=uc6336402-5062-0-00000000000000000000000000000000",
        "sip:198.51.100.1;lr;skfb=tzz-1-0-00000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sk_uri_parse(S(bad[i]), &u), 0);
        assert_int_equal(sk__nat_route(auth, &u, &elsewhere, &dst), SK_EAUTH);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flow_needed),
        cmocka_unit_test(route_between_flows),
        cmocka_unit_test(stream_transports_kept),
        cmocka_unit_test(forged_tokens_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
