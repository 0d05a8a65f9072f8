/*
 * What the proxy passes on always carries Content-Length (RFC 3261 §18.3,
 * §20.14): a request or response that came over UDP without one may leave
 * over TCP, where a peer cannot frame it without (twinkle answered such
 * an INVITE "400 Content-Length header missing"). A message that has one
 * keeps it byte for byte.
 */
#include "support.h"

#include "server/proxy_int.h"

#include <string.h>

#define HDRS                                                                                       \
    "From: <sip:alice@example.test>;tag=1\r\n"                                                     \
    "To: <sip:bob@example.test>\r\n"                                                               \
    "Call-ID: len1\r\n"

static void parse(struct sk_msg *m, const char *wire)
{
    sk_msg_init(m);
    assert_int_equal(sk_msg_parse(m, wire, strlen(wire), SK_MSG_DATAGRAM, NULL), 0);
}

/* The forwarded copy of in, as a C string in out. */
static void forward(const char *in, struct sk_buf *out)
{
    static const struct sk__fwd_plan plan = {
        .via = {"SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKp1", 44},
        .target = {"sip:bob@198.51.100.20:5070;transport=tcp", 40},
    };
    struct sk_addr self;
    struct sk__route_pre pre;
    struct sk_slice hop;
    struct sk_buf sc;
    struct sk_msg m;

    assert_int_equal(sk_addr_parse(S("192.0.2.10"), 5060, &self), 0);
    parse(&m, in);
    assert_int_equal(sk__proxy_preprocess(&m, &self, 1, &pre), 0);
    sk_buf_init(&sc);
    sk_buf_init(out);
    assert_int_equal(sk__proxy_forward(&m, &pre, &plan, &sc, out, &hop), 0);
    sk_buf_append(out, "", 1);
    sk_buf_free(&sc);
    sk_msg_free(&m);
}

static void request_without_length_gets_one(void **state)
{
    struct sk_buf out;

    (void)state;
    forward("INVITE sip:bob@example.test SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKa\r\n" HDRS "CSeq: 1 INVITE\r\n"
            "Content-Type: application/sdp\r\n"
            "\r\n"
            "v=0\r\n",
            &out);
    assert_non_null(strstr(out.p, "\r\nContent-Length: 5\r\n\r\nv=0\r\n"));
    sk_buf_free(&out);
    forward("OPTIONS sip:bob@example.test SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKb\r\n" HDRS "CSeq: 2 OPTIONS\r\n"
            "\r\n",
            &out);
    assert_non_null(strstr(out.p, "\r\nContent-Length: 0\r\n"));
    assert_int_equal(strcmp(out.p + out.len - 5, "\r\n\r\n"), 0);
    sk_buf_free(&out);
}

static void request_length_kept_as_written(void **state)
{
    struct sk_buf out;

    (void)state;
    forward("MESSAGE sip:bob@example.test SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKc\r\n" HDRS "CSeq: 3 MESSAGE\r\n"
            "l:  2\r\n"
            "\r\n"
            "hi",
            &out);
    assert_non_null(strstr(out.p, "\r\nl:  2\r\n"));
    assert_int_equal(strcmp(out.p + out.len - 7, "\r\n\r\nhi"), 0);
    assert_null(strstr(out.p, "Content-Length"));
    sk_buf_free(&out);
}

static void responses_without_length_get_one(void **state)
{
    static const char resp[] =
        "SIP/2.0 180 Ringing\r\n"
        "Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKp1\r\n"
        "Via: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKa\r\n" HDRS "CSeq: 1 INVITE\r\n"
        "\r\n";
    static const char req[] =
        "INVITE sip:bob@example.test SIP/2.0\r\n"
        "Via: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKa\r\n" HDRS "CSeq: 1 INVITE\r\n"
        "Content-Length: 0\r\n"
        "\r\n";
    struct sk_msg m, up;
    struct sk_buf out;

    (void)state;
    parse(&m, resp);
    parse(&up, req);
    sk_buf_init(&out);
    assert_int_equal(sk__proxy_relay_response(&m, &up, &out), 0);
    sk_buf_append(&out, "", 1);
    assert_non_null(strstr(out.p, "\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"));
    assert_null(strstr(out.p, "192.0.2.10"));
    sk_buf_reset(&out);
    assert_int_equal(sk__proxy_strip_via(&m, &out), 0);
    sk_buf_append(&out, "", 1);
    assert_non_null(strstr(out.p, "\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"));
    sk_buf_free(&out);
    sk_msg_free(&m);
    sk_msg_free(&up);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_without_length_gets_one),
        cmocka_unit_test(request_length_kept_as_written),
        cmocka_unit_test(responses_without_length_get_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
