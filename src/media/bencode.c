/*
 * Bencode for rtpengine's ng control protocol (see bencode.h). The grammar
 * is small: a value is "i" integer "e", a length-prefixed string, or "l" /
 * "d" followed by values and "e". Everything comes from the network (an
 * rtpengine reply), so every length is checked against what is left and
 * integers against overflow; leading zeros and "-0" are refused, as they
 * are not canonical.
 *
 * Memory: the decoder writes only into the caller's node array.
 */
#include "media/bencode.h"

#include <string.h>

struct dec {
    const char *p, *end;
    struct sk__benc_node *nodes;
    size_t cap, n;
};

static int digits(struct dec *d, uint64_t max, uint64_t *out)
{
    const char *start = d->p;
    uint64_t v = 0;

    while (d->p < d->end && *d->p >= '0' && *d->p <= '9') {
        unsigned dig = (unsigned)(*d->p - '0');
        if (v > (max - dig) / 10)
            return SK_EPARSE;
        v = v * 10 + dig;
        d->p++;
    }
    /* Canonical form: at least one digit, no leading zero. */
    if (d->p == start || (start[0] == '0' && d->p - start > 1))
        return SK_EPARSE;
    *out = v;
    return 0;
}

static int value(struct dec *d, unsigned depth);

static int container(struct dec *d, struct sk__benc_node *nd, unsigned depth)
{
    bool dict = nd->type == SK__BENC_DICT;
    size_t items = 0;

    d->p++;
    while (d->p < d->end && *d->p != 'e') {
        /* A dictionary's keys are strings. */
        if (dict && items % 2 == 0 && (*d->p < '0' || *d->p > '9'))
            return SK_EPARSE;
        int err = value(d, depth + 1);
        if (err != 0)
            return err;
        items++;
    }
    if (d->p == d->end || (dict && items % 2 != 0))
        return SK_EPARSE;
    d->p++;
    return 0;
}

static int value(struct dec *d, unsigned depth)
{
    struct sk__benc_node *nd;
    size_t self;
    uint64_t u;
    int err = 0;

    if (depth >= SK__BENC_MAX_DEPTH || d->n == d->cap)
        return SK_ETOOBIG;
    if (d->p == d->end)
        return SK_EPARSE;
    self = d->n++;
    nd = &d->nodes[self];
    memset(nd, 0, sizeof(*nd));
    switch (*d->p) {
    case 'i': {
        bool neg;
        d->p++;
        neg = d->p < d->end && *d->p == '-';
        if (neg)
            d->p++;
        err = digits(d, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &u);
        if (err != 0 || d->p == d->end || *d->p != 'e' || (neg && u == 0))
            return SK_EPARSE;
        d->p++;
        nd->type = SK__BENC_INT;
        nd->num = neg ? (int64_t)(0 - u) : (int64_t)u;
        break;
    }
    case 'l':
    case 'd':
        nd->type = *d->p == 'l' ? SK__BENC_LIST : SK__BENC_DICT;
        err = container(d, nd, depth);
        break;
    default:
        err = digits(d, SIZE_MAX, &u);
        if (err != 0 || d->p == d->end || *d->p != ':' || u > (uint64_t)(d->end - d->p - 1))
            return SK_EPARSE;
        d->p++;
        nd->type = SK__BENC_STR;
        nd->str = sk_slice_make(d->p, (size_t)u);
        d->p += u;
        break;
    }
    /* nd may not be used here: children were written after it, but the
     * array does not move, so the index is what we keep. */
    d->nodes[self].next = d->n;
    return err;
}

int sk__benc_decode(struct sk_slice in, struct sk__benc_node *nodes, size_t cap, size_t *count)
{
    struct dec d = {in.p, in.p + in.len, nodes, cap, 0};
    int err;

    if (in.len == 0 || in.p == NULL)
        return SK_EPARSE;
    err = value(&d, 0);
    if (err != 0)
        return err;
    if (d.p != d.end)
        return SK_EPARSE;
    *count = d.n;
    return 0;
}

long sk__benc_dict_get(const struct sk__benc_node *nodes, size_t dict, const char *key)
{
    size_t klen = strlen(key);

    if (nodes[dict].type != SK__BENC_DICT)
        return -1;
    for (size_t k = dict + 1; k < nodes[dict].next; k = nodes[nodes[k].next].next) {
        size_t v = nodes[k].next;
        if (nodes[k].str.len == klen && memcmp(nodes[k].str.p, key, klen) == 0)
            return (long)v;
    }
    return -1;
}

bool sk__benc_dict_str(const struct sk__benc_node *nodes, size_t dict, const char *key,
                       struct sk_slice *out)
{
    long v = sk__benc_dict_get(nodes, dict, key);

    if (v < 0 || nodes[v].type != SK__BENC_STR)
        return false;
    *out = nodes[v].str;
    return true;
}

void sk__benc_str(struct sk_buf *b, struct sk_slice s)
{
    sk_buf_append_u64(b, s.len);
    sk_buf_append(b, ":", 1);
    sk_buf_append(b, s.p, s.len);
}

void sk__benc_cstr(struct sk_buf *b, const char *s)
{
    sk__benc_str(b, sk_slice_cstr(s));
}

void sk__benc_int(struct sk_buf *b, int64_t v)
{
    sk_buf_append(b, "i", 1);
    if (v < 0) {
        sk_buf_append(b, "-", 1);
        sk_buf_append_u64(b, 0 - (uint64_t)v);
    } else {
        sk_buf_append_u64(b, (uint64_t)v);
    }
    sk_buf_append(b, "e", 1);
}

void sk__benc_open(struct sk_buf *b, char kind)
{
    sk_buf_append(b, &kind, 1);
}

void sk__benc_end(struct sk_buf *b)
{
    sk_buf_append(b, "e", 1);
}
