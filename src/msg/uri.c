/*
 * URI parsing: SIP and SIPS URIs (RFC 3261 §19.1.1, ABNF in §25.1), tel
 * URIs (RFC 3966 §3) and any other absoluteURI (RFC 2396 §3, as §25.1
 * admits it), plus uri-parameter lookup and %HH decoding (§19.1.2).
 * Equality lives in urieq.c.
 *
 * The userinfo is found by its '@', not by the first ';' or '?': user
 * accepts both (user-unreserved), so "sip:user;par=u%40example.net@host"
 * has the user "user;par=u%40example.net" (RFC 4475 §3.1.1.9). No
 * character outside the grammar is let through: white space, controls,
 * NUL, '<', '>', '"' and non-ASCII bytes all fail.
 *
 * Memory: no allocation; struct sk_uri holds slices into the input.
 */
#include "msg/value.h"

#include <string.h>

/* Whether s.p[i] starts a valid escaped = "%" HEXDIG HEXDIG. */
static bool escape_at(struct sk_slice s, size_t i)
{
    return i + 2 < s.len && s.p[i] == '%' && cc_hexval(s.p[i + 1]) >= 0 &&
           cc_hexval(s.p[i + 2]) >= 0;
}

/* The end of the run of characters in mask or valid escapes from i. No
 * mask holds '%'. */
static size_t chars_span(struct sk_slice s, size_t i, unsigned mask)
{
    for (;;) {
        while (i < s.len && cc_is(s.p[i], mask))
            i++;
        if (i == s.len || !escape_at(s, i))
            return i;
        i += 3;
    }
}

/* Whether every byte of s is in mask or part of a valid escape. */
static bool chars_ok(struct sk_slice s, unsigned mask)
{
    return chars_span(s, 0, mask) == s.len;
}

static struct sk_slice sub(struct sk_slice s, size_t from, size_t to)
{
    return sk_slice_make(s.p + from, to - from);
}

/* The index of the first c in s at or after from, or s.len. */
static size_t find_char(struct sk_slice s, size_t from, char c)
{
    const char *q = from < s.len ? memchr(s.p + from, c, s.len - from) : NULL;

    return q != NULL ? (size_t)(q - s.p) : s.len;
}

int sk__uri_list_next(struct sk_slice *cur, char sep, struct sk_slice *name, struct sk_slice *value,
                      bool *has_value)
{
    struct sk_slice s = *cur;

    if (s.p == NULL || s.len == 0)
        return 0;
    size_t end = find_char(s, 0, sep);
    size_t eq = find_char(sub(s, 0, end), 0, '=');
    *name = sub(s, 0, eq);
    *has_value = eq < end;
    *value = eq < end ? sub(s, eq + 1, end) : sk_slice_make(s.p + end, 0);
    *cur = end < s.len ? sub(s, end + 1, s.len) : sk_slice_make(s.p + s.len, 0);
    return 1;
}

/* RFC 3966 §3: pname = 1*( alphanum / "-" ). */
static bool tel_pname_ok(struct sk_slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (!cc_is(s.p[i], SK__CC_ALNUM) && s.p[i] != '-')
            return false;
    }
    return true;
}

/* uri-parameters: each pname [ "=" pvalue ], 1*paramchar both (tel names
 * are narrower), read in one pass. */
static bool params_ok(struct sk_slice s, bool tel)
{
    const unsigned paramchar = SK__CC_PARAM | SK__CC_UNRESERVED;
    size_t i = 0;

    for (;;) {
        size_t start = i;
        i = chars_span(s, i, paramchar);
        if (i == start || (tel && !tel_pname_ok(sub(s, start, i))))
            return false;
        if (i < s.len && s.p[i] == '=') {
            start = ++i;
            i = chars_span(s, i, paramchar);
            if (i == start)
                return false;
        }
        if (i == s.len)
            return true;
        if (s.p[i] != ';')
            return false;
        i++;
    }
}

/* headers = "?" header *( "&" header ); header = hname "=" hvalue. */
static bool headers_ok(struct sk_slice s)
{
    const unsigned hchar = SK__CC_HNV | SK__CC_UNRESERVED;
    size_t i = 0;

    for (;;) {
        size_t end = find_char(s, i, '&');
        size_t eq = find_char(sub(s, 0, end), i, '=');
        if (eq == end || eq == i || !chars_ok(sub(s, i, eq), hchar) ||
            !chars_ok(sub(s, eq + 1, end), hchar))
            return false;
        if (end == s.len)
            return true;
        i = end + 1;
    }
}

static int port_scan(struct sk_slice s, size_t *pos, uint16_t *port)
{
    size_t i = *pos;
    uint64_t v;

    while (i < s.len && cc_is(s.p[i], SK__CC_DIGIT))
        i++;
    if (sk_slice_to_u64(sub(s, *pos, i), 65535, &v) != 0)
        return SK_EPARSE;
    *port = (uint16_t)v;
    *pos = i;
    return 0;
}

/* userinfo: ( user / telephone-subscriber ) [ ":" password ] "@". The
 * user ends at the first ':', which no user character is. */
static int userinfo_parse(struct sk_slice ui, struct sk_uri *u)
{
    size_t colon = chars_span(ui, 0, SK__CC_UNRESERVED | SK__CC_USER);

    if (colon == 0 || (colon < ui.len && ui.p[colon] != ':'))
        return SK_EPARSE;
    u->user = sub(ui, 0, colon);
    if (colon < ui.len) {
        u->password = sub(ui, colon + 1, ui.len);
        if (chars_span(ui, colon + 1, SK__CC_UNRESERVED | SK__CC_PASS) != ui.len)
            return SK_EPARSE;
    } else {
        u->password = sk_slice_make(ui.p + ui.len, 0);
    }
    return 0;
}

/* SIP-URI / SIPS-URI after "sip:" (RFC 3261 §25.1). */
static int sip_parse(struct sk_slice s, size_t pos, struct sk_uri *u)
{
    size_t at = find_char(s, pos, '@');

    if (at < s.len) {
        if (userinfo_parse(sub(s, pos, at), u) != 0)
            return SK_EPARSE;
        pos = at + 1;
    }
    if (sk__host_scan(s, &pos, &u->host, &u->host_type) != 0)
        return SK_EPARSE;
    if (pos < s.len && s.p[pos] == ':') {
        pos++;
        if (port_scan(s, &pos, &u->port) != 0)
            return SK_EPARSE;
        u->has_port = true;
    }
    if (pos < s.len && s.p[pos] == ';') {
        size_t end = find_char(s, pos, '?');
        u->params = sub(s, pos + 1, end);
        if (!params_ok(u->params, false))
            return SK_EPARSE;
        pos = end;
    }
    if (pos < s.len && s.p[pos] == '?') {
        u->headers = sub(s, pos + 1, s.len);
        if (!headers_ok(u->headers))
            return SK_EPARSE;
        pos = s.len;
    }
    return pos == s.len ? 0 : SK_EPARSE;
}

static bool visual_sep(char c)
{
    return c == '-' || c == '.' || c == '(' || c == ')';
}

/* telephone-subscriber (RFC 3966 §3): the number, then parameters; a
 * local number needs a phone-context. */
static int tel_parse(struct sk_slice s, size_t pos, struct sk_uri *u)
{
    size_t end = find_char(s, pos, ';');
    bool global = pos < end && s.p[pos] == '+';
    bool digit = false;

    u->user = sub(s, pos, end);
    for (size_t i = pos + (global ? 1 : 0); i < end; i++) {
        char c = s.p[i];
        if (global ? cc_is(c, SK__CC_DIGIT) : (cc_is(c, SK__CC_HEX) || c == '*' || c == '#'))
            digit = true;
        else if (!visual_sep(c))
            return SK_EPARSE;
    }
    if (!digit)
        return SK_EPARSE;
    if (end < s.len) {
        u->params = sub(s, end + 1, s.len);
        if (!params_ok(u->params, true))
            return SK_EPARSE;
    }
    if (!global && !sk_uri_param(u, "phone-context", NULL))
        return SK_EPARSE;
    return 0;
}

int sk__uri_parse_into(struct sk_slice s, struct sk_uri *u)
{
    size_t i = 0;
    int rc;

    memset(u, 0, sizeof(*u));
    u->raw = s;
    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
    if (s.len == 0 || !cc_is(s.p[0], SK__CC_ALPHA))
        return SK_EPARSE;
    while (i < s.len && cc_is(s.p[i], SK__CC_SCHEME))
        i++;
    if (i == s.len || s.p[i] != ':')
        return SK_EPARSE;
    u->scheme_name = sub(s, 0, i);
    u->opaque = sub(s, i + 1, s.len);
    if (NAME_IS(u->scheme_name, "sip"))
        u->scheme = SK_URI_SIP;
    else if (NAME_IS(u->scheme_name, "sips"))
        u->scheme = SK_URI_SIPS;
    else if (NAME_IS(u->scheme_name, "tel"))
        u->scheme = SK_URI_TEL;
    else
        u->scheme = SK_URI_OTHER;

    switch (u->scheme) {
    case SK_URI_SIP:
    case SK_URI_SIPS:
        rc = sip_parse(s, i + 1, u);
        break;
    case SK_URI_TEL:
        rc = tel_parse(s, i + 1, u);
        break;
    default:
        /* absoluteURI: hier-part / opaque-part, both one or more uric. */
        rc = u->opaque.len > 0 && chars_ok(u->opaque, SK__CC_RESERVED | SK__CC_UNRESERVED)
                 ? 0
                 : SK_EPARSE;
        break;
    }
    return rc != 0 ? SK_EPARSE : 0;
}

int sk_uri_parse(struct sk_slice s, struct sk_uri *out)
{
    struct sk_uri u;

    if (sk__uri_parse_into(s, &u) != 0)
        return SK_EPARSE;
    *out = u;
    return 0;
}

bool sk_uri_param(const struct sk_uri *u, const char *name, struct sk_slice *value)
{
    struct sk_slice cur = u->params;
    struct sk_slice n, v;
    bool has_value;
    struct sk_slice want = sk_slice_cstr(name);

    while (sk__uri_list_next(&cur, ';', &n, &v, &has_value) == 1) {
        if (sk_slice_caseeq(n, want)) {
            if (value != NULL)
                *value = v;
            return true;
        }
    }
    return false;
}

int sk_uri_unescape(struct sk_slice s, char *dst, size_t dstsz)
{
    size_t n = 0;

    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '%' && escape_at(s, i)) {
            c = (char)(cc_hexval(s.p[i + 1]) * 16 + cc_hexval(s.p[i + 2]));
            i += 2;
        }
        if (n >= dstsz || n >= (size_t)INT32_MAX)
            return SK_ETOOBIG;
        dst[n++] = c;
    }
    /* Terminate when there is room, for callers who print it; the length
     * is what counts, since %00 decodes to a NUL (RFC 4475 §3.1.1.4). */
    if (n < dstsz)
        dst[n] = '\0';
    return (int)n;
}
