/*
 * libFuzzer target for the STUN Binding answer on the SIP UDP port
 * (src/transport/stun.c): whatever arrives, the answer is nothing or a
 * well-formed Binding success response whose XOR-MAPPED-ADDRESS decodes
 * back to the sender (RFC 5389 §15.2), for an IPv4 and an IPv6 sender.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_answer(const uint8_t *req, size_t size, const char *sender)
{
    unsigned char out[64], want[16];
    struct sk_addr from;
    size_t n, alen;

    if (sk_addr_parse(sk_slice_cstr(sender), 40000, &from) != 0)
        abort();
    n = sk__stun_binding_response(req, size, &from, out, sizeof(out));
    if (n == 0)
        return;
    alen = from.ss.ss_family == AF_INET6 ? 20 : 8;
    /* Only a Binding request is answered, with its transaction id. */
    if (!sk__stun_is(req, size) || n != 20 + 4 + alen || out[0] != 0x01 || out[1] != 0x01 ||
        memcmp(out + 4, req + 4, 16) != 0)
        abort();
    /* Undo the XOR: port with the cookie's high half, address with the
     * cookie and transaction id. */
    unsigned port = ((unsigned)out[26] << 8 | out[27]) ^ 0x2112u;
    for (size_t i = 0; i < alen - 4; i++)
        want[i] = out[28 + i] ^ out[4 + i];
    if (port != 40000)
        abort();
    if (from.ss.ss_family == AF_INET6 ? memcmp(want, &from.in6.sin6_addr, 16) != 0
                                      : memcmp(want, &from.in.sin_addr, 4) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_answer(data, size, "198.51.100.7");
    check_answer(data, size, "2001:db8::7");
    return 0;
}
