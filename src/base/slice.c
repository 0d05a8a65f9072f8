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

static inline unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool sk_slice_caseeq(struct sk_slice a, struct sk_slice b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++) {
        if (ascii_lower((unsigned char)a.p[i]) != ascii_lower((unsigned char)b.p[i]))
            return false;
    }
    return true;
}

bool sk_slice_caseeq_cstr(struct sk_slice a, const char *s)
{
    return sk_slice_caseeq(a, sk_slice_cstr(s));
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
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < '0' || c > '9')
            return SK_EPARSE;
        if (v > (max - (uint64_t)(c - '0')) / 10)
            return SK_ETOOBIG;
        v = v * 10 + (uint64_t)(c - '0');
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
