/*
 * Addresses as the guard keys them (guard.h): 16 octets, IPv4 as
 * IPv4-mapped IPv6 so one key type serves both families, and the trusted
 * networks (CIDRs) matched against them.
 *
 * Memory: nothing allocated; callers own every buffer.
 */
#include "server/guard.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* ---- keys --------------------------------------------------------------- */

void sk__ip_key(const struct sk_addr *a, unsigned char *ip)
{
    memset(ip, 0, 16);
    if (a->sa.sa_family == AF_INET6) {
        memcpy(ip, &a->in6.sin6_addr, 16);
    } else if (a->sa.sa_family == AF_INET) {
        ip[10] = ip[11] = 0xff;
        memcpy(ip + 12, &a->in.sin_addr, 4);
    }
}

void sk__ip_text(const unsigned char *ip, char *out, size_t outsz)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (memcmp(ip, mapped, 12) == 0)
        inet_ntop(AF_INET, ip + 12, out, (socklen_t)outsz);
    else
        inet_ntop(AF_INET6, ip, out, (socklen_t)outsz);
}

int sk__ip_parse(const char *text, unsigned char *ip)
{
    struct in_addr v4;

    memset(ip, 0, 16);
    if (inet_pton(AF_INET, text, &v4) == 1) {
        ip[10] = ip[11] = 0xff;
        memcpy(ip + 12, &v4, 4);
        return 0;
    }
    return inet_pton(AF_INET6, text, ip) == 1 ? 0 : SK_EINVAL;
}

/* ---- trusted CIDRs -------------------------------------------------------- */

static int parse_cidr(const char *p, size_t n, struct sk__cidr *c)
{
    char text[64];
    const char *slash;
    uint64_t bits;
    bool v4;

    if (n == 0 || n >= sizeof(text))
        return SK_EINVAL;
    memcpy(text, p, n);
    text[n] = '\0';
    slash = strchr(text, '/');
    if (slash != NULL)
        text[slash - text] = '\0';
    if (sk__ip_parse(text, c->ip) != 0)
        return SK_EINVAL;
    v4 = strchr(text, ':') == NULL;
    c->bits = 128;
    if (slash != NULL) {
        if (sk_slice_to_u64(sk_slice_cstr(slash + 1), v4 ? 32 : 128, &bits) != 0)
            return SK_EINVAL;
        c->bits = (unsigned)bits + (v4 ? 96 : 0);
    }
    return 0;
}

int sk__cidrs_parse(const char *list, struct sk__cidr *out, size_t *n, char *err, size_t errsz)
{
    const char *p = list;

    *n = 0;
    while (*p != '\0') {
        size_t len;
        p += strspn(p, " \t,");
        len = strcspn(p, " \t,");
        if (len == 0)
            break;
        if (*n == SK__GUARD_MAX_TRUSTED) {
            snprintf(err, errsz, "trusted: at most %d networks", SK__GUARD_MAX_TRUSTED);
            return SK_EINVAL;
        }
        if (parse_cidr(p, len, &out[*n]) != 0) {
            snprintf(err, errsz, "trusted: '%.*s' is not an address or ADDR/BITS", (int)len, p);
            return SK_EINVAL;
        }
        (*n)++;
        p += len;
    }
    return 0;
}

static bool in_cidr(const struct sk__cidr *c, const unsigned char *ip)
{
    unsigned full = c->bits / 8, rest = c->bits % 8;

    if (memcmp(c->ip, ip, full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (c->ip[full] & mask) == (ip[full] & mask);
}

bool sk__cidrs_match(const struct sk__cidr *list, size_t n, const unsigned char *ip)
{
    for (size_t i = 0; i < n; i++) {
        if (in_cidr(&list[i], ip))
            return true;
    }
    return false;
}
