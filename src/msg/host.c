/*
 * Hosts as SIP writes them: hostname, IPv4address and IPv6reference
 * (RFC 3261 §19.1.1, §25.1), with IPv6 text forms checked per RFC 4291
 * §2.2 and the tolerances RFC 5118 asks for (§4.9 IPv4-mapped forms, §4.10
 * the "2001:db8:::192.0.2.1" form the RFC 3261 ABNF admits by mistake).
 *
 * Memory: no allocation; results are slices into the input or small
 * caller-provided byte arrays.
 */
#include "msg/value.h"

#include <string.h>

bool sk__ipv4_parse(struct sk_slice s, uint8_t out[4])
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t start = i;

        if (part > 0) {
            if (i >= s.len || s.p[i] != '.')
                return false;
            start = ++i;
        }
        /* IPv4address = 1*3DIGIT "." ... : at most three digits a part. */
        while (i < s.len && i - start < 3 && cc_is(s.p[i], SK__CC_DIGIT))
            v = v * 10 + (unsigned)(s.p[i++] - '0');
        if (i == start || v > 255)
            return false;
        out[part] = (uint8_t)v;
    }
    return i == s.len;
}

/* The end of the hex group or dotted tail starting at i. */
static size_t group_end(struct sk_slice s, size_t i, bool *dotted)
{
    *dotted = false;
    while (i < s.len && s.p[i] != ':') {
        if (s.p[i] == '.')
            *dotted = true;
        i++;
    }
    return i;
}

/* Whether s[i..] is a dotted IPv4 tail with no further colon. */
static bool ipv4_tail(struct sk_slice s, size_t i)
{
    uint8_t v4[4];
    bool dotted;

    return group_end(s, i, &dotted) == s.len && dotted &&
           sk__ipv4_parse(sk_slice_make(s.p + i, s.len - i), v4);
}

bool sk__ipv6_parse(struct sk_slice s, uint8_t out[16])
{
    uint16_t g[8] = {0};
    int ng = 0;
    int gap = -1; /* group index where "::" stands */
    size_t i = 0;

    if (s.len >= 2 && s.p[0] == ':' && s.p[1] == ':') {
        gap = 0;
        i = 2;
        /* RFC 5118 §4.10: "::" ":" IPv4address is tolerated. */
        if (i < s.len && s.p[i] == ':' && ipv4_tail(s, i + 1))
            i++;
    }
    while (i < s.len) {
        bool dotted;
        size_t end = group_end(s, i, &dotted);
        uint8_t v4[4];

        if (dotted) {
            /* An IPv4 tail ends the address and fills two groups. */
            if (end != s.len || ng > 6 || !sk__ipv4_parse(sk_slice_make(s.p + i, end - i), v4))
                return false;
            g[ng++] = (uint16_t)(v4[0] << 8 | v4[1]);
            g[ng++] = (uint16_t)(v4[2] << 8 | v4[3]);
            i = end;
            break;
        }
        if (end == i || end - i > 4 || ng == 8)
            return false;
        unsigned v = 0;
        for (size_t k = i; k < end; k++) {
            int h = cc_hexval(s.p[k]);
            if (h < 0)
                return false;
            v = v * 16 + (unsigned)h;
        }
        g[ng++] = (uint16_t)v;
        i = end;
        if (i == s.len)
            break;
        i++; /* the ':' */
        if (i < s.len && s.p[i] == ':') {
            if (gap >= 0)
                return false;
            gap = ng;
            i++;
            if (i < s.len && s.p[i] == ':' && ipv4_tail(s, i + 1))
                i++;
        } else if (i == s.len) {
            return false; /* a lone trailing ':' */
        }
    }
    if (gap < 0 ? ng != 8 : ng > 7)
        return false;
    /* Expand the gap: groups after it move to the end. */
    uint16_t full[8] = {0};
    int tail = gap < 0 ? 0 : ng - gap;
    for (int k = 0; k < ng - tail; k++)
        full[k] = g[k];
    for (int k = 0; k < tail; k++)
        full[8 - tail + k] = g[ng - tail + k];
    for (int k = 0; k < 8; k++) {
        out[2 * k] = (uint8_t)(full[k] >> 8);
        out[2 * k + 1] = (uint8_t)(full[k] & 0xff);
    }
    return true;
}

/* Scan the hostname and IPv4 characters (alphanum, '-', '.') from s.p[i]
 * and return where they end. *name_ok says whether they form a hostname
 * = *( domainlabel "." ) toplabel [ "." ]: labels start and end with
 * alphanum, the top label starts with a letter (RFC 3261 §25.1). Both in
 * one pass: the label rules only look at dots and hyphens. */
static size_t host_chars(struct sk_slice s, size_t i, bool *name_ok)
{
    size_t start = i, label = i, top = i;
    bool ok = true;

    for (; i < s.len && cc_is(s.p[i], SK__CC_HOST); i++) {
        if (s.p[i] != '.')
            continue;
        if (i == label || s.p[label] == '-' || s.p[i - 1] == '-')
            ok = false;
        top = label;
        label = i + 1;
    }
    if (label < i) {
        /* The last label, with no final dot after it. */
        if (s.p[label] == '-' || s.p[i - 1] == '-')
            ok = false;
        top = label;
    }
    *name_ok = ok && i > start && cc_is(s.p[top], SK__CC_ALPHA);
    return i;
}

int sk__host_scan(struct sk_slice s, size_t *pos, struct sk_slice *host, enum sk_host_type *type)
{
    size_t i = *pos;
    uint8_t bytes[16];

    if (i < s.len && s.p[i] == '[') {
        const char *rb = memchr(s.p + i + 1, ']', s.len - i - 1);
        if (rb == NULL)
            return SK_EPARSE;
        size_t j = (size_t)(rb - s.p);
        if (!sk__ipv6_parse(sk_slice_make(s.p + i + 1, j - i - 1), bytes))
            return SK_EPARSE;
        *host = sk_slice_make(s.p + i, j + 1 - i);
        *type = SK_HOST_IPV6;
        *pos = j + 1;
        return 0;
    }
    bool name_ok;
    size_t j = host_chars(s, i, &name_ok);
    struct sk_slice h = sk_slice_make(s.p + i, j - i);
    /* An IPv4 address starts with a digit: anything else can only be a
     * hostname. */
    if (h.len > 0 && cc_is(h.p[0], SK__CC_DIGIT) && sk__ipv4_parse(h, bytes)) {
        *type = SK_HOST_IPV4;
    } else if (name_ok) {
        *type = SK_HOST_NAME;
    } else {
        return SK_EPARSE;
    }
    *host = h;
    *pos = j;
    return 0;
}

bool sk__host_check(struct sk_slice s, enum sk_host_type *type)
{
    size_t pos = 0;
    struct sk_slice h;
    enum sk_host_type t;

    if (sk__host_scan(s, &pos, &h, &t) != 0 || pos != s.len)
        return false;
    if (type != NULL)
        *type = t;
    return true;
}

int sk__delta_seconds(struct sk_slice v, int64_t *out)
{
    uint64_t n;

    if (sk_slice_to_u64(v, UINT32_MAX, &n) != 0)
        return SK_EPARSE;
    *out = (int64_t)n;
    return 0;
}
