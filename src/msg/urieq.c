/*
 * URI equality: RFC 3261 §19.1.4 for SIP and SIPS URIs, RFC 3966 §4 for
 * tel URIs, and for other schemes a case-insensitive scheme with an
 * escape-normalised, case-sensitive rest.
 *
 * Escapes: a %HH escape equals the character it encodes, except that a
 * reserved character never equals its escaped form (§19.1.4: "characters
 * other than those in the reserved set ... are equivalent to their
 * encoding").
 *
 * Memory: no allocation; both URIs must come from sk_uri_parse().
 */
#include "msg/value.h"

#include <string.h>

/* The decoded byte at s.p[*i], moving past it; *esc says it was %HH. */
static unsigned char dec_next(struct sk_slice s, size_t *i, bool *esc)
{
    size_t k = *i;

    if (s.p[k] == '%' && k + 2 < s.len && cc_hexval(s.p[k + 1]) >= 0 &&
        cc_hexval(s.p[k + 2]) >= 0) {
        *esc = true;
        *i = k + 3;
        return (unsigned char)(cc_hexval(s.p[k + 1]) * 16 + cc_hexval(s.p[k + 2]));
    }
    *esc = false;
    *i = k + 1;
    return (unsigned char)s.p[k];
}

static bool dec_equal(struct sk_slice a, struct sk_slice b, bool icase)
{
    size_t i = 0, j = 0;

    while (i < a.len && j < b.len) {
        bool ea, eb;
        unsigned char ca = dec_next(a, &i, &ea);
        unsigned char cb = dec_next(b, &j, &eb);
        if (ea != eb && cc_is((char)ca, SK__CC_RESERVED))
            return false;
        if (icase) {
            ca = cc_lower(ca);
            cb = cc_lower(cb);
        }
        if (ca != cb)
            return false;
    }
    return i == a.len && j == b.len;
}

static bool host_equal(const struct sk_uri *a, const struct sk_uri *b)
{
    uint8_t x[16], y[16];

    if (a->host_type != b->host_type)
        return false;
    switch (a->host_type) {
    case SK_HOST_IPV4:
        return sk__ipv4_parse(a->host, x) && sk__ipv4_parse(b->host, y) && memcmp(x, y, 4) == 0;
    case SK_HOST_IPV6:
        /* Compare addresses, not spellings: [::1] is [0:0:0:0:0:0:0:1]. */
        return a->host.len >= 2 && b->host.len >= 2 &&
               sk__ipv6_parse(sk_slice_make(a->host.p + 1, a->host.len - 2), x) &&
               sk__ipv6_parse(sk_slice_make(b->host.p + 1, b->host.len - 2), y) &&
               memcmp(x, y, 16) == 0;
    default:
        return sk_slice_caseeq(a->host, b->host);
    }
}

/* The first entry of list named like name (decoded, case-insensitive). */
static bool list_find(struct sk_slice list, char sep, struct sk_slice name, struct sk_slice *value,
                      bool *has_value)
{
    struct sk_slice cur = list, n, v;
    bool hv;

    while (sk__uri_list_next(&cur, sep, &n, &v, &hv) == 1) {
        if (dec_equal(n, name, true)) {
            *value = v;
            *has_value = hv;
            return true;
        }
    }
    return false;
}

/* Whether no entry before this name in the list has the same name. */
static bool first_of_name(struct sk_slice list, struct sk_slice name)
{
    struct sk_slice before = sk_slice_make(list.p, (size_t)(name.p - list.p));
    struct sk_slice v;
    bool hv;

    return !list_find(before, ';', name, &v, &hv);
}

static bool sip_param_required(struct sk_slice name)
{
    static const char *const must[] = {"user", "ttl", "method", "maddr", "transport"};

    for (size_t k = 0; k < sizeof(must) / sizeof(must[0]); k++) {
        if (dec_equal(name, sk_slice_cstr(must[k]), true))
            return true;
    }
    return false;
}

static bool visual_sep(char c)
{
    return c == '-' || c == '.' || c == '(' || c == ')';
}

/* RFC 3966 §4: digits compared after removing visual separators. */
static bool digits_equal(struct sk_slice a, struct sk_slice b)
{
    size_t i = 0, j = 0;

    for (;;) {
        while (i < a.len && visual_sep(a.p[i]))
            i++;
        while (j < b.len && visual_sep(b.p[j]))
            j++;
        if (i == a.len || j == b.len)
            return i == a.len && j == b.len;
        if (cc_lower((unsigned char)a.p[i]) != cc_lower((unsigned char)b.p[j]))
            return false;
        i++;
        j++;
    }
}

/* RFC 3966 §4: ext, and phone-context given as digits, compare without
 * their visual separators. */
static bool digit_param(struct sk_slice name, struct sk_slice value)
{
    return sk_slice_caseeq_cstr(name, "ext") ||
           (sk_slice_caseeq_cstr(name, "phone-context") && value.len > 0 && value.p[0] == '+');
}

/* RFC 3261 §19.1.4: a parameter in both must match; user, ttl, method,
 * maddr and transport in only one never match (the section's examples
 * treat transport like this); any other parameter in only one is ignored.
 * tel (RFC 3966 §4): every parameter must be in both. */
static bool params_subset(struct sk_slice x, struct sk_slice y, bool tel)
{
    struct sk_slice cur = x, n, v, w;
    bool hv, hw;

    while (sk__uri_list_next(&cur, ';', &n, &v, &hv) == 1) {
        if (!first_of_name(x, n))
            continue; /* a repeated name: its first value decides */
        if (!list_find(y, ';', n, &w, &hw)) {
            if (tel || sip_param_required(n))
                return false;
            continue;
        }
        if (hv != hw || !(tel && digit_param(n, v) ? digits_equal(v, w) : dec_equal(v, w, true)))
            return false;
    }
    return true;
}

static size_t header_count(struct sk_slice list, struct sk_slice name, struct sk_slice value)
{
    struct sk_slice cur = list, n, v;
    bool hv;
    size_t count = 0;

    while (sk__uri_list_next(&cur, '&', &n, &v, &hv) == 1) {
        if (dec_equal(n, name, true) && dec_equal(v, value, true))
            count++;
    }
    return count;
}

/* "Any present header component MUST be present in both URIs and match":
 * the two header lists are equal as multisets, in any order. */
static bool headers_equal(struct sk_slice a, struct sk_slice b)
{
    for (int side = 0; side < 2; side++) {
        struct sk_slice cur = side ? b : a, n, v;
        bool hv;
        while (sk__uri_list_next(&cur, '&', &n, &v, &hv) == 1) {
            if (header_count(a, n, v) != header_count(b, n, v))
                return false;
        }
    }
    return true;
}

static bool tel_equal(const struct sk_uri *a, const struct sk_uri *b)
{
    bool ga = a->user.len > 0 && a->user.p[0] == '+';
    bool gb = b->user.len > 0 && b->user.p[0] == '+';

    return ga == gb && digits_equal(a->user, b->user) &&
           params_subset(a->params, b->params, true) && params_subset(b->params, a->params, true);
}

bool sk_uri_equal(const struct sk_uri *a, const struct sk_uri *b)
{
    if (a->scheme != b->scheme)
        return false;
    switch (a->scheme) {
    case SK_URI_SIP:
    case SK_URI_SIPS:
        /* userinfo is case-sensitive, everything else is not. */
        return dec_equal(a->user, b->user, false) && dec_equal(a->password, b->password, false) &&
               host_equal(a, b) && a->has_port == b->has_port &&
               (!a->has_port || a->port == b->port) && params_subset(a->params, b->params, false) &&
               params_subset(b->params, a->params, false) && headers_equal(a->headers, b->headers);
    case SK_URI_TEL:
        return tel_equal(a, b);
    default:
        return sk_slice_caseeq(a->scheme_name, b->scheme_name) &&
               dec_equal(a->opaque, b->opaque, false);
    }
}
