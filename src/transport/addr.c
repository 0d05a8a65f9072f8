/*
 * Socket addresses: parsing the "ADDR:PORT" / "[V6]:PORT" forms used by
 * listeners and Via headers (RFC 3261 §25.1 hostport, IPv6 references as in
 * RFC 5118 §4), formatting, comparison and hashing. Numeric addresses only:
 * name resolution (RFC 3263) is not this file's business.
 *
 * Memory: everything works on caller-owned values; nothing is allocated.
 */
#include <sipkit/containers.h>
#include <sipkit/transport.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

const char *sk_transport_name(enum sk_transport t)
{
    static const char *const names[] = {"udp", "tcp", "tls", "ws", "wss"};
    return (unsigned)t < 5 ? names[t] : "udp";
}

const char *sk_transport_via_name(enum sk_transport t)
{
    static const char *const names[] = {"UDP", "TCP", "TLS", "WS", "WSS"};
    return (unsigned)t < 5 ? names[t] : "UDP";
}

enum sk_transport sk_listener_transport(const struct sk_listener *l)
{
    if (l->ws)
        return l->tls ? SK_TP_WSS : SK_TP_WS;
    return l->tls ? SK_TP_TLS : SK_TP_UDP;
}

static int parse_port(struct sk_slice s, uint16_t *port)
{
    uint64_t v;

    if (sk_slice_to_u64(s, 65535, &v) != 0)
        return SK_EPARSE;
    *port = (uint16_t)v;
    return 0;
}

int sk_addr_parse(struct sk_slice s, uint16_t default_port, struct sk_addr *out)
{
    char host[SK_ADDR_STRLEN];
    struct sk_slice h = s, p = SK_SLICE_NULL;
    uint16_t port = default_port;
    struct sk_addr a;

    memset(&a, 0, sizeof(a));
    if (s.len == 0)
        return SK_EPARSE;
    if (s.p[0] == '[') {
        const char *close = memchr(s.p, ']', s.len);
        if (close == NULL)
            return SK_EPARSE;
        h = sk_slice_make(s.p + 1, (size_t)(close - s.p - 1));
        size_t rest = s.len - (size_t)(close - s.p) - 1;
        if (rest > 0) {
            if (close[1] != ':')
                return SK_EPARSE;
            p = sk_slice_make(close + 2, rest - 1);
        }
    } else {
        const char *colon = memchr(s.p, ':', s.len);
        /* A bare IPv6 address has several colons and no port. */
        if (colon != NULL && memchr(colon + 1, ':', s.len - (size_t)(colon - s.p) - 1) == NULL) {
            h = sk_slice_make(s.p, (size_t)(colon - s.p));
            p = sk_slice_make(colon + 1, s.len - h.len - 1);
        }
    }
    if (p.p != NULL && parse_port(p, &port) != 0)
        return SK_EPARSE;
    if (h.len == 0 || h.len >= sizeof(host))
        return SK_EPARSE;
    sk_slice_to_cstr(h, host, sizeof(host));
    if (inet_pton(AF_INET, host, &a.in.sin_addr) == 1) {
        a.in.sin_family = AF_INET;
        a.in.sin_port = htons(port);
    } else if (inet_pton(AF_INET6, host, &a.in6.sin6_addr) == 1) {
        a.in6.sin6_family = AF_INET6;
        a.in6.sin6_port = htons(port);
    } else {
        return SK_EPARSE;
    }
    a.sslen = sk_addr_len(&a);
    *out = a;
    return 0;
}

char *sk_addr_format_host(const struct sk_addr *a, bool brackets, char *buf, size_t bufsz)
{
    char tmp[INET6_ADDRSTRLEN];

    if (bufsz == 0)
        return buf;
    buf[0] = '\0';
    if (a->sa.sa_family == AF_INET) {
        /* Written by hand: the receive path formats every source address
         * (for Via received), and inet_ntop() goes through sprintf. */
        const unsigned char *b = (const unsigned char *)&a->in.sin_addr;
        size_t n = 0;
        for (int i = 0; i < 4; i++) {
            if (i > 0)
                tmp[n++] = '.';
            if (b[i] >= 100)
                tmp[n++] = (char)('0' + b[i] / 100);
            if (b[i] >= 10)
                tmp[n++] = (char)('0' + b[i] / 10 % 10);
            tmp[n++] = (char)('0' + b[i] % 10);
        }
        tmp[n] = '\0';
        if (n < bufsz)
            memcpy(buf, tmp, n + 1);
    } else if (a->sa.sa_family == AF_INET6) {
        if (inet_ntop(AF_INET6, &a->in6.sin6_addr, tmp, sizeof(tmp)) != NULL)
            snprintf(buf, bufsz, brackets ? "[%s]" : "%s", tmp);
    }
    return buf;
}

char *sk_addr_format(const struct sk_addr *a, char *buf, size_t bufsz)
{
    char host[SK_ADDR_STRLEN];

    sk_addr_format_host(a, true, host, sizeof(host));
    snprintf(buf, bufsz, "%s:%u", host, (unsigned)sk_addr_port(a));
    return buf;
}

uint16_t sk_addr_port(const struct sk_addr *a)
{
    if (a->sa.sa_family == AF_INET6)
        return ntohs(a->in6.sin6_port);
    return ntohs(a->in.sin_port);
}

void sk_addr_set_port(struct sk_addr *a, uint16_t port)
{
    if (a->sa.sa_family == AF_INET6)
        a->in6.sin6_port = htons(port);
    else
        a->in.sin_port = htons(port);
}

socklen_t sk_addr_len(const struct sk_addr *a)
{
    return a->sa.sa_family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6)
                                       : (socklen_t)sizeof(struct sockaddr_in);
}

bool sk_addr_same_host(const struct sk_addr *a, const struct sk_addr *b)
{
    if (a->sa.sa_family != b->sa.sa_family)
        return false;
    if (a->sa.sa_family == AF_INET)
        return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
    if (a->sa.sa_family == AF_INET6)
        return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(struct in6_addr)) == 0;
    return false;
}

bool sk_addr_equal(const struct sk_addr *a, const struct sk_addr *b)
{
    return sk_addr_same_host(a, b) && sk_addr_port(a) == sk_addr_port(b);
}

bool sk_addr_is_any(const struct sk_addr *a)
{
    if (a->sa.sa_family == AF_INET)
        return a->in.sin_addr.s_addr == htonl(INADDR_ANY);
    if (a->sa.sa_family == AF_INET6)
        return memcmp(&a->in6.sin6_addr, &in6addr_any, sizeof(struct in6_addr)) == 0;
    return false;
}

/* The keyed hash of the address bytes and the port: peers pick their
 * ports, and connection tables are keyed by them. */
uint64_t sk_addr_hash(const struct sk_addr *a)
{
    const unsigned char *p;
    size_t n;
    struct sk_hasher h;

    if (a->sa.sa_family == AF_INET6) {
        p = (const unsigned char *)&a->in6.sin6_addr;
        n = sizeof(struct in6_addr);
    } else {
        p = (const unsigned char *)&a->in.sin_addr;
        n = sizeof(struct in_addr);
    }
    sk_hasher_init(&h);
    sk_hasher_bytes(&h, p, n);
    sk_hasher_u64(&h, sk_addr_port(a));
    return sk_hasher_end(&h);
}
