/* STUN Binding on the SIP UDP port (src/transport/stun.c, RFC 5389):
 * what is STUN and what is SIP, the success response byte for byte for
 * IPv4 and IPv6, and no answer to anything but a well-formed request. */
#include "support.h"

#include "transport/internal.h"

#include <string.h>

static const unsigned char request[20] = {
    0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,               /* Binding request, cookie */
    1,    2,    3,    4,    5,    6,    7,    8,    9, 10, 11, 12 /* transaction id */
};

static void demultiplex(void **state)
{
    (void)state;
    assert_true(sk__stun_is(request, sizeof(request)));
    assert_false(sk__stun_is("OPTIONS sip:a@b SIP/2.0\r\n\r\n", 27));
    assert_false(sk__stun_is(request, 19));
    unsigned char no_cookie[20];
    memcpy(no_cookie, request, 20);
    no_cookie[4] = 0;
    assert_false(sk__stun_is(no_cookie, 20));
}

static void answer_ipv4(void **state)
{
    struct sk_addr from;
    unsigned char out[64];
    static const unsigned char want[32] =
        {
            0x01,       0x01,      0x00,        0x0c,        0x21, 0x12, 0xa4, 0x42,
            1,          2,         3,           4,           5,    6,    7,    8,
            9,          10,        11,          12,          0x00, 0x20, 0x00, 0x08,
            0x00,       0x01,      0x13 ^ 0x21, 0xc4 ^ 0x12, /* port 5060 XOR 0x2112 */
            198 ^ 0x21, 51 ^ 0x12, 100 ^ 0xa4,  2 ^ 0x42     /* 198.51.100.2 XOR the cookie */
        };

    (void)state;
    assert_int_equal(sk_addr_parse(S("198.51.100.2:5060"), 0, &from), 0);
    assert_int_equal(sk__stun_binding_response(request, sizeof(request), &from, out, sizeof(out)),
                     32);
    assert_memory_equal(out, want, 32);
    /* Too small a buffer: no answer rather than a cut one. */
    assert_int_equal(sk__stun_binding_response(request, sizeof(request), &from, out, 31), 0);
}

static void answer_ipv6(void **state)
{
    struct sk_addr from;
    unsigned char out[64];

    (void)state;
    assert_int_equal(sk_addr_parse(S("[2001:db8::1]:5062"), 0, &from), 0);
    assert_int_equal(sk__stun_binding_response(request, sizeof(request), &from, out, sizeof(out)),
                     44);
    assert_int_equal(out[3], 24);
    assert_int_equal(out[25], 2); /* family IPv6 */
    /* The address XOR the cookie and the transaction id. */
    unsigned char addr[16];
    for (size_t i = 0; i < 16; i++)
        addr[i] = (unsigned char)(out[28 + i] ^ out[4 + i]);
    assert_memory_equal(addr, &from.in6.sin6_addr, 16);
}

static void no_answer(void **state)
{
    struct sk_addr from;
    unsigned char msg[24], out[64];

    (void)state;
    assert_int_equal(sk_addr_parse(S("198.51.100.2:5060"), 0, &from), 0);
    /* An indication (class 01) is a keep-alive: nothing back. */
    memcpy(msg, request, 20);
    msg[1] = 0x11;
    assert_int_equal(sk__stun_binding_response(msg, 20, &from, out, sizeof(out)), 0);
    /* A length that does not match the datagram. */
    memcpy(msg, request, 20);
    msg[3] = 8;
    assert_int_equal(sk__stun_binding_response(msg, 20, &from, out, sizeof(out)), 0);
    assert_int_equal(sk__stun_binding_response(msg, 24, &from, out, sizeof(out)), 0);
    /* A success response (someone reflecting ours) is not answered. */
    memcpy(msg, request, 20);
    msg[0] = 0x01;
    msg[1] = 0x01;
    assert_int_equal(sk__stun_binding_response(msg, 20, &from, out, sizeof(out)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(demultiplex),
        cmocka_unit_test(answer_ipv4),
        cmocka_unit_test(answer_ipv6),
        cmocka_unit_test(no_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
