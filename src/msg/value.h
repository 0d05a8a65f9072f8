/*
 * Private to the message layer: the character classes of RFC 3261 §25.1
 * and the small scanners the value parsers share (URIs, parameter lists,
 * name-addr, Via and the other header views). Scanners read s.p[*pos..]
 * and move *pos only on success; nothing here allocates.
 */
#ifndef SK_MSG_VALUE_H
#define SK_MSG_VALUE_H

#include <sipkit/msg.h>

#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

/* Bits of sk__cc[]: one per character set the grammar names. */
enum {
    SK__CC_ALPHA = 1u << 0,
    SK__CC_DIGIT = 1u << 1,
    SK__CC_HEX = 1u << 2,
    SK__CC_MARK = 1u << 3,      /* - _ . ! ~ * ' ( ) */
    SK__CC_TOKEN = 1u << 4,     /* alphanum and - . ! % * _ + ` ' ~ */
    SK__CC_USER = 1u << 5,      /* user-unreserved: & = + $ , ; ? / */
    SK__CC_PASS = 1u << 6,      /* password extras: & = + $ , */
    SK__CC_PARAM = 1u << 7,     /* param-unreserved: [ ] / : & + $ */
    SK__CC_HNV = 1u << 8,       /* hnv-unreserved: [ ] / ? : + $ */
    SK__CC_RESERVED = 1u << 9,  /* reserved: ; / ? : @ & = + $ , */
    SK__CC_WORD = 1u << 10,     /* word (Call-ID): token and ( ) < > : \ " / [ ] ? { } */
    SK__CC_HOST = 1u << 11,     /* hostname and IPv4 characters: alphanum - . */
    SK__CC_GENVAL = 1u << 12,   /* unquoted gen-value: token, host and IPv6 : [ ] */
    SK__CC_QDPLAIN = 1u << 13,  /* qdtext needing no second look (see chars.c) */
    SK__CC_LISTSTOP = 1u << 14, /* where a list splitter stops: DQUOTE \ < > , */
    SK__CC_AUTHVAL = 1u << 15,  /* unquoted auth-param value: visible but , and DQUOTE */
    SK__CC_SCHEME = 1u << 16,   /* URI scheme after its first letter: alphanum + - . */
    SK__CC_LWS = 1u << 17,      /* SP, HTAB, CR, LF */
};

#define SK__CC_ALNUM      (SK__CC_ALPHA | SK__CC_DIGIT)
#define SK__CC_UNRESERVED (SK__CC_ALNUM | SK__CC_MARK)

/* Both tables live in chars.c. */
extern const uint32_t sk__cc[256];
/* Token characters lower-cased; 0 for any other octet. */
extern const unsigned char sk__toklower[256];

static inline bool cc_is(char c, unsigned mask)
{
    return (sk__cc[(unsigned char)c] & mask) != 0;
}

static inline unsigned char cc_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static inline int cc_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The number of octets of plain qdtext (SK__CC_QDPLAIN) at p, at most n:
 * where a quoted-string scanner must stop and look. Quoted strings are
 * the longest runs in a request (digest credentials), so with SSE2 they
 * are skipped sixteen octets at a time: a block is left to the octet loop
 * from its first DQUOTE, backslash, control (HTAB included, which the
 * octet loop then takes as plain) or DEL. */
static inline size_t qdplain_span(const char *p, size_t n)
{
    size_t i = 0;

#if defined(__SSE2__) && defined(__GNUC__)
    const __m128i dquote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i del = _mm_set1_epi8(0x7f), ctl = _mm_set1_epi8(0x1f);

    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* min(x, 0x1f) == x exactly when x <= 0x1f (unsigned). */
        __m128i stop = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, dquote), _mm_cmpeq_epi8(x, bslash)),
            _mm_or_si128(_mm_cmpeq_epi8(x, del), _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x)));
        unsigned mask = (unsigned)_mm_movemask_epi8(stop);
        if (mask != 0) {
            i += (size_t)__builtin_ctz(mask);
            break;
        }
    }
#endif
    while (i < n && cc_is(p[i], SK__CC_QDPLAIN))
        i++;
    return i;
}

/* Skip LWS and SWS (RFC 3261 §25.1): spaces, tabs and a CRLF that folds
 * onto a line starting with white space. */
static inline void lws_skip(struct sk_slice s, size_t *pos)
{
    size_t i = *pos;

    if (i >= s.len || !cc_is(s.p[i], SK__CC_LWS))
        return; /* the common case: nothing to skip */
    for (;;) {
        if (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t')) {
            i++;
        } else if (i + 2 < s.len && s.p[i] == '\r' && s.p[i + 1] == '\n' &&
                   (s.p[i + 2] == ' ' || s.p[i + 2] == '\t')) {
            i += 3;
        } else {
            break;
        }
    }
    *pos = i;
}

/* Scan 1*token-char; an empty token is SK_EPARSE. */
static inline int token_scan(struct sk_slice s, size_t *pos, struct sk_slice *tok)
{
    size_t i = *pos;

    while (i < s.len && cc_is(s.p[i], SK__CC_TOKEN))
        i++;
    if (i == *pos)
        return SK_EPARSE;
    *tok = sk_slice_make(s.p + *pos, i - *pos);
    *pos = i;
    return 0;
}

/* Whether name is lit, a lower-case token literal, in any letter case.
 * The length is compared first, so most names are ruled out by it; names
 * are nearly always written in lower case, and with len a constant the
 * memcmp becomes one or two word compares. */
#define NAME_IS(name, lit) name_eq((name), "" lit, sizeof(lit) - 1)
static inline bool name_eq(struct sk_slice name, const char *lit, size_t len)
{
    if (name.len != len)
        return false;
    if (memcmp(name.p, lit, len) == 0)
        return true;
    for (size_t i = 0; i < len; i++) {
        if (sk__toklower[(unsigned char)name.p[i]] != (unsigned char)lit[i])
            return false;
    }
    return true;
}

/* Whether the whole slice is one non-empty token. */
static inline bool is_token(struct sk_slice s)
{
    size_t pos = 0;
    struct sk_slice t;

    return token_scan(s, &pos, &t) == 0 && pos == s.len;
}

/* quoted-string (RFC 3261 §25.1) starting at the opening DQUOTE. *inner is
 * the text between the quotes, escapes kept as written. */
int sk__quoted_scan(struct sk_slice s, size_t *pos, struct sk_slice *inner);

/* sk_uri_parse() into *u, which is written even when it fails: for
 * callers parsing into a scratch copy of their own. */
int sk__uri_parse_into(struct sk_slice s, struct sk_uri *u);

/* host = hostname / IPv4address / IPv6reference (RFC 3261 §25.1). The
 * brackets of an IPv6 reference are part of *host. */
int sk__host_scan(struct sk_slice s, size_t *pos, struct sk_slice *host, enum sk_host_type *type);
/* Whether the whole slice is one host; *type may be NULL. */
bool sk__host_check(struct sk_slice s, enum sk_host_type *type);
/* Dotted IPv4 (exactly four decimal parts 0..255) into 4 bytes. */
bool sk__ipv4_parse(struct sk_slice s, uint8_t out[4]);
/* IPv6 text form (RFC 4291 §2.2, RFC 5118) without brackets into 16 bytes. */
bool sk__ipv6_parse(struct sk_slice s, uint8_t out[16]);

/* Called for each parameter of a list as sk__params_tail() reads it; a
 * nonzero return makes the whole value SK_EPARSE. */
typedef int (*sk__param_cb)(void *arg, const struct sk_param *p);

/* The header parameters that end a value, from s.p[pos]: LWS, then the
 * end or ';' and a well-formed parameter list. *params is the list after
 * that first ';' (empty if none). cb (may be NULL) sees each parameter,
 * so a view reads its parameters in the same pass. Returns 0 or
 * SK_EPARSE. */
int sk__params_tail(struct sk_slice s, size_t pos, struct sk_slice *params, sk__param_cb cb,
                    void *arg);

/* Split a validated uri-parameter (sep ';') or header (sep '&') list:
 * 1 with name and value set, 0 at the end. */
int sk__uri_list_next(struct sk_slice *cur, char sep, struct sk_slice *name, struct sk_slice *value,
                      bool *has_value);

/* delta-seconds (RFC 3261 §25.1) bounded by 2^32-1. */
int sk__delta_seconds(struct sk_slice v, int64_t *out);

#endif
