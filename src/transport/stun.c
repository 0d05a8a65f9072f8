/*
 * STUN Binding on the SIP UDP port (RFC 5389 §7.3, RFC 5626 §4.4.2): a
 * client behind NAT sends Binding requests to the port it registered to,
 * to keep its NAT mapping and to learn whether it changed. The answer is a
 * Binding success response with XOR-MAPPED-ADDRESS, the address and port
 * the request came from.
 *
 * Demultiplexing (RFC 5626 §4.4.2, RFC 7983): a STUN message starts with
 * two zero bits (first byte 0 or 1) and carries the magic cookie at
 * offset 4; a SIP message starts with a letter. Nothing is allocated.
 */
#include "transport/internal.h"

#include <string.h>

#define STUN_HDR        20
#define STUN_COOKIE     0x2112A442u
#define STUN_BINDING    0x0001u /* method Binding, class request */
#define STUN_BINDING_OK 0x0101u /* class success response */
#define ATTR_XOR_MAPPED 0x0020u

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

bool sk__stun_is(const void *data, size_t len)
{
    const unsigned char *p = data;

    return len >= STUN_HDR && p[0] < 2 && get32(p + 4) == STUN_COOKIE;
}

size_t sk__stun_binding_response(const void *data, size_t len, const struct sk_addr *from,
                                 unsigned char *out, size_t outsz)
{
    const unsigned char *p = data;
    unsigned char *a;
    uint16_t port = sk_addr_port(from);
    size_t alen;

    /* §6: the length counts the attributes after the header, a multiple
     * of 4; anything but a Binding request gets no answer (an indication
     * is a keep-alive by itself, §7.3.2). */
    if (!sk__stun_is(data, len) || get16(p) != STUN_BINDING || get16(p + 2) != len - STUN_HDR ||
        (len & 3) != 0)
        return 0;
    alen = from->ss.ss_family == AF_INET6 ? 20 : 8;
    if (outsz < STUN_HDR + 4 + alen)
        return 0;
    put16(out, STUN_BINDING_OK);
    put16(out + 2, (uint16_t)(4 + alen));
    memcpy(out + 4, p + 4, 16); /* the cookie and the transaction id */
    a = out + STUN_HDR;
    put16(a, ATTR_XOR_MAPPED);
    put16(a + 2, (uint16_t)alen);
    /* §15.2: the port XOR the cookie's high half, the address XOR the
     * cookie (and for IPv6 the transaction id after it). */
    a[4] = 0;
    a[5] = from->ss.ss_family == AF_INET6 ? 2 : 1;
    put16(a + 6, (uint16_t)(port ^ (STUN_COOKIE >> 16)));
    if (from->ss.ss_family == AF_INET6)
        memcpy(a + 8, &from->in6.sin6_addr, 16);
    else
        memcpy(a + 8, &from->in.sin_addr, 4);
    for (size_t i = 0; i < alen - 4; i++)
        a[8 + i] ^= out[4 + i];
    return STUN_HDR + 4 + alen;
}
