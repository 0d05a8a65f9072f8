/*
 * Slices: read-only views into buffers owned elsewhere, and the few
 * comparisons and conversions the wire path needs (no sscanf/atoi there).
 */
#include <sipkit/base.h>

#include <string.h>

struct sk_slice sk_slice_cstr(const char *s)
{
    return sk_slice_make(s, s ? strlen(s) : 0);
}

bool sk_slice_eq(struct sk_slice a, struct sk_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ASCII lower-case table: case-insensitive comparisons of header names
 * and parameters are on every parse, so no branches per byte. */
static const unsigned char lower_table[256] = {
#define R16(b)                                                                                     \
    b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12,      \
        b + 13, b + 14, b + 15
    R16(0),   R16(16),  R16(32),  R16(48),  64,       'a',      'b',      'c',
    'd',      'e',      'f',      'g',      'h',      'i',      'j',      'k',
    'l',      'm',      'n',      'o',      'p',      'q',      'r',      's',
    't',      'u',      'v',      'w',      'x',      'y',      'z',      91,
    92,       93,       94,       95,       R16(96),  R16(112), R16(128), R16(144),
    R16(160), R16(176), R16(192), R16(208), R16(224), R16(240),
#undef R16
};

bool sk_slice_caseeq(struct sk_slice a, struct sk_slice b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++) {
        if (lower_table[(unsigned char)a.p[i]] != lower_table[(unsigned char)b.p[i]])
            return false;
    }
    return true;
}

bool sk_slice_caseeq_cstr(struct sk_slice a, const char *s)
{
    size_t i;

    for (i = 0; i < a.len; i++) {
        if (s[i] == '\0' || lower_table[(unsigned char)a.p[i]] != lower_table[(unsigned char)s[i]])
            return false;
    }
    return s[i] == '\0';
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct sk_slice sk_slice_trim(struct sk_slice s)
{
    while (s.len > 0 && is_ws(s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len > 0 && is_ws(s.p[s.len - 1]))
        s.len--;
    return s;
}

int sk_slice_to_u64(struct sk_slice s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s.len == 0)
        return SK_EPARSE;
    if (s.len <= 19) {
        /* 19 digits cannot overflow 64 bits, and the value only grows
         * digit by digit: comparing with max once, at the end or at the
         * first non-digit, tells what checking every digit would. */
        for (size_t i = 0; i < s.len; i++) {
            unsigned d = (unsigned char)s.p[i] - (unsigned)'0';
            if (d > 9)
                return v > max ? SK_ETOOBIG : SK_EPARSE;
            v = v * 10 + d;
        }
        if (v > max)
            return SK_ETOOBIG;
        *out = v;
        return 0;
    }
    /* v * 10 + d > max exactly when v > max / 10, or v == max / 10 and
     * d > max % 10: no division per digit. */
    const uint64_t q = max / 10, r = max % 10;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < '0' || c > '9')
            return SK_EPARSE;
        uint64_t d = (uint64_t)(c - '0');
        if (v > q || (v == q && d > r))
            return SK_ETOOBIG;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

char *sk_slice_to_cstr(struct sk_slice s, char *dst, size_t dstsz)
{
    size_t n;

    if (dstsz == 0)
        return dst;
    n = s.len < dstsz - 1 ? s.len : dstsz - 1;
    if (n > 0)
        memcpy(dst, s.p, n);
    dst[n] = '\0';
    return dst;
}
