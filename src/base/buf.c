/*
 * Growable output buffer. Appends never fail loudly: the first failed
 * allocation marks the buffer failed and later appends are ignored, so a
 * serializer checks sk_buf_ok() once at the end.
 */
#include <sipkit/base.h>

#include <stdio.h>
#include <string.h>

void sk_buf_init(struct sk_buf *b)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = false;
}

void sk_buf_free(struct sk_buf *b)
{
    sk_free(b->p);
    sk_buf_init(b);
}

void sk_buf_reset(struct sk_buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->p != NULL)
        b->p[0] = '\0';
}

int sk_buf_reserve(struct sk_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (b->failed)
        return SK_ENOMEM;
    if (extra > SIZE_MAX - b->len - 1)
        goto fail;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = sk_realloc(b->p, cap);
    if (p == NULL)
        goto fail;
    b->p = p;
    b->cap = cap;
    return 0;
fail:
    b->failed = true;
    return SK_ENOMEM;
}

void sk_buf_append(struct sk_buf *b, const void *p, size_t len)
{
    if (sk_buf_reserve(b, len) != 0)
        return;
    if (len > 0)
        memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void sk_buf_append_slice(struct sk_buf *b, struct sk_slice s)
{
    sk_buf_append(b, s.p, s.len);
}

void sk_buf_append_cstr(struct sk_buf *b, const char *s)
{
    sk_buf_append(b, s, strlen(s));
}

void sk_buf_append_u64(struct sk_buf *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    sk_buf_append(b, tmp + i, sizeof(tmp) - i);
}

void sk_buf_vprintf(struct sk_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (sk_buf_reserve(b, (size_t)n) != 0)
        return;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sk_buf_printf(struct sk_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sk_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if it is not one:
 * RFC 3629 §3-4 forbids overlong forms, surrogates (U+D800..DFFF) and code
 * points above U+10FFFF, and JSON parsers (jansson, Python) refuse them. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
    uint32_t cp;
    size_t n;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (n > avail)
        return 0;
    cp = p[0] & (0x7fu >> n); /* the lead byte's payload bits */
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int sk_buf_copy_out(const struct sk_buf *b, char *out, size_t outsz)
{
    if (b->failed)
        return SK_ENOMEM;
    if (b->len >= outsz)
        return SK_ETOOBIG;
    memcpy(out, b->p, b->len);
    out[b->len] = '\0';
    return 0;
}

void sk_buf_append_json(struct sk_buf *b, struct sk_slice s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s.p;
    size_t i = 0;

    sk_buf_append(b, "\"", 1);
    while (i < s.len) {
        unsigned char c = p[i];
        size_t n = utf8_len(p + i, s.len - i);
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            sk_buf_append(b, esc, 2);
        } else if (c == '\n') {
            sk_buf_append(b, "\\n", 2);
        } else if (c == '\r') {
            sk_buf_append(b, "\\r", 2);
        } else if (c == '\t') {
            sk_buf_append(b, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f || n == 0) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sk_buf_append(b, esc, 6);
            n = 1;
        } else {
            sk_buf_append(b, p + i, n);
        }
        i += n ? n : 1;
    }
    sk_buf_append(b, "\"", 1);
}
