/*
 * Digest challenge and credentials parser: one WWW-Authenticate,
 * Proxy-Authenticate, Authorization or Proxy-Authorization value.
 *
 * RFC 3261 §25.1 (challenge, credentials, digest-response), RFC 7616 §3.3
 * and §3.4 (the same grammar with userhash and charset), RFC 7235 §2.1
 * (auth-param, token68 for other schemes):
 *
 *   value      = auth-scheme LWS auth-param *(COMMA auth-param)
 *   auth-param = token LWS? "=" LWS? ( token / quoted-string )
 *
 * Leniency, where it cannot change the meaning: LWS is any run of SP, HTAB,
 * CR and LF (folded lines arrive as written); empty list elements (",,", a
 * trailing comma) are skipped, as the #rule of RFC 7230 §7 allows; a
 * missing comma between two parameters separated by whitespace is accepted,
 * because RFC 3665 §2.1 F3 prints `realm="..."` and `nonce=` on two lines
 * without one. An unquoted value may hold any visible character but comma
 * and quote (base64 nonces are sent unquoted by some UAs). Strict where a
 * guess would be needed: an unterminated quoted-string, a parameter without
 * '=', an empty unquoted value or a bad escape are SK_EPARSE.
 *
 * Memory: zero-copy. Every slice in struct sk_digest_hdr points into the
 * input; quoted values are given without their quotes and with their
 * backslash escapes left in place (flagged in .escaped). No allocation.
 */
#include <sipkit/msg.h>

#include <string.h>

#include "msg/value.h"

static bool is_lws(char c)
{
    return cc_is(c, SK__CC_LWS);
}

/* RFC 7235 §2.1 token68 characters (the '=' padding is handled apart). */
static bool is_token68_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("-._~+/", c) != NULL;
}

struct cursor {
    const char *p;
    const char *end;
};

static size_t skip_lws(struct cursor *c)
{
    const char *start = c->p;

    while (c->p < c->end && is_lws(*c->p))
        c->p++;
    return (size_t)(c->p - start);
}

/* token: at least one character. */
static int scan_token(struct cursor *c, struct sk_slice *out)
{
    const char *p = c->p;

    while (p < c->end && cc_is(*p, SK__CC_TOKEN))
        p++;
    if (p == c->p)
        return SK_EPARSE;
    *out = sk_slice_make(c->p, (size_t)(p - c->p));
    c->p = p;
    return 0;
}

/* quoted-string (RFC 3261 §25.1): the cursor is on the opening quote.
 * quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): a backslash before CR,
 * LF or a non-ASCII octet is malformed. */
static int scan_quoted(struct cursor *c, struct sk_slice *out, bool *escaped)
{
    const char *p = c->p + 1;

    *escaped = false;
    for (;;) {
        /* Runs of plain qdtext need no closer look: jump over them. */
        p += qdplain_span(p, (size_t)(c->end - p));
        if (p == c->end)
            break;
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') {
            *out = sk_slice_make(c->p + 1, (size_t)(p - c->p - 1));
            c->p = p + 1;
            return 0;
        }
        if (ch == '\\') {
            if (p + 1 >= c->end)
                return SK_EPARSE;
            unsigned char next = (unsigned char)p[1];
            if (next == '\r' || next == '\n' || next >= 0x80)
                return SK_EPARSE;
            *escaped = true;
            p += 2;
            continue;
        }
        /* qdtext excludes the controls but LWS; UTF8-NONASCII is allowed. */
        if ((ch < 0x20 && !is_lws((char)ch)) || ch == 0x7f)
            return SK_EPARSE;
        p++;
    }
    return SK_EPARSE; /* unterminated */
}

static int scan_value(struct cursor *c, struct sk_slice *out, bool *quoted, bool *escaped)
{
    const char *p = c->p;

    *escaped = false;
    *quoted = false;
    if (p < c->end && *p == '"') {
        *quoted = true;
        return scan_quoted(c, out, escaped);
    }
    while (p < c->end && cc_is(*p, SK__CC_AUTHVAL))
        p++;
    if (p == c->p)
        return SK_EPARSE; /* "name=" with nothing after it */
    *out = sk_slice_make(c->p, (size_t)(p - c->p));
    c->p = p;
    return 0;
}

/* The known parameter names (enum sk_digest_field), by length first: most
 * are ruled out without a comparison, the others are compared with
 * constant lengths. */
static int field_index(struct sk_slice name)
{
#define TRY(f, lit)                                                                                \
    if (NAME_IS(name, lit))                                                                        \
        return f;
    switch (name.len) {
    case 2:
        TRY(SK_DIG_NC, "nc");
        break;
    case 3:
        TRY(SK_DIG_URI, "uri");
        TRY(SK_DIG_QOP, "qop");
        break;
    case 5:
        TRY(SK_DIG_REALM, "realm");
        TRY(SK_DIG_NONCE, "nonce");
        TRY(SK_DIG_STALE, "stale");
        break;
    case 6:
        TRY(SK_DIG_CNONCE, "cnonce");
        TRY(SK_DIG_OPAQUE, "opaque");
        TRY(SK_DIG_DOMAIN, "domain");
        break;
    case 7:
        TRY(SK_DIG_CHARSET, "charset");
        break;
    case 8:
        TRY(SK_DIG_USERNAME, "username");
        TRY(SK_DIG_RESPONSE, "response");
        TRY(SK_DIG_USERHASH, "userhash");
        break;
    case 9:
        TRY(SK_DIG_ALGORITHM, "algorithm");
        break;
    default:
        break;
    }
#undef TRY
    return -1;
}

static void record(struct sk_digest_hdr *out, struct sk_slice name, struct sk_slice value,
                   bool escaped)
{
    int i = field_index(name);

    if (i < 0)
        return; /* unknown auth-params are ignored (RFC 7616 §3.3); they stay in .params */
    uint32_t bit = 1u << i;
    if (out->present & bit) {
        out->duplicated |= bit; /* the first value is kept */
        return;
    }
    out->present |= bit;
    out->f[i] = value;
    if (escaped)
        out->escaped |= bit;
}

/* The auth-param list after the scheme. */
static int parse_params(struct cursor *c, struct sk_digest_hdr *out)
{
    bool need_sep = false; /* a parameter was just read */

    for (;;) {
        size_t ws = skip_lws(c);
        if (c->p == c->end)
            return 0;
        if (*c->p == ',') {
            c->p++;
            need_sep = false;
            continue;
        }
        /* Two parameters with only whitespace between them: RFC 3665 F3. */
        if (need_sep && ws == 0)
            return SK_EPARSE;

        struct sk_slice name, value;
        bool quoted, escaped;
        if (scan_token(c, &name) != 0)
            return SK_EPARSE;
        skip_lws(c);
        if (c->p == c->end || *c->p != '=')
            return SK_EPARSE;
        c->p++;
        skip_lws(c);
        if (scan_value(c, &value, &quoted, &escaped) != 0)
            return SK_EPARSE;
        record(out, name, value, escaped);
        need_sep = true;
    }
}

/* RFC 7235 §2.1: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
 * "+" / "/" ) *"=" , the whole rest of the value (e.g. Basic). */
static bool is_token68(struct sk_slice s)
{
    size_t i = 0;

    while (i < s.len && is_token68_char((unsigned char)s.p[i]))
        i++;
    if (i == 0)
        return false;
    while (i < s.len && s.p[i] == '=')
        i++;
    return i == s.len;
}

int sk_digest_hdr_parse(struct sk_slice s, struct sk_digest_hdr *out)
{
    struct sk_digest_hdr h;
    struct cursor c;
    int rc;

    memset(&h, 0, sizeof(h));
    if (s.p == NULL && s.len > 0)
        return SK_EPARSE;
    s = sk_slice_trim(s);
    h.raw = s;
    c.p = s.p;
    c.end = s.p + s.len;
    if (scan_token(&c, &h.scheme) != 0)
        return SK_EPARSE;
    /* The scheme and the first parameter are separated by LWS. */
    if (c.p < c.end && skip_lws(&c) == 0)
        return SK_EPARSE;
    h.params = sk_slice_make(c.p, (size_t)(c.end - c.p));
    if (!NAME_IS(h.scheme, "digest") && is_token68(h.params)) {
        *out = h;
        return 0;
    }
    rc = parse_params(&c, &h);
    if (rc != 0)
        return rc;
    *out = h;
    return 0;
}
