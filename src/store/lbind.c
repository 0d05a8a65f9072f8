/*
 * Binding blocks of the location service (location.c): one heap block per
 * binding, its numbers followed by its six strings packed and
 * NUL-terminated, with 16-bit lengths instead of pointers. A registrar
 * holds one per registered phone, so the fixed part is kept to about 60
 * bytes (test_location.c bounds a binding's whole cost).
 *
 * Memory: a block is owned by whoever holds the list it is on (an AOR
 * entry, or a pending write's snapshot) and freed with
 * sk__lbind_free_list().
 */
#include "store/store_int.h"

#include <stddef.h>
#include <string.h>

/* Strings longer than a length field holds never come from an update
 * (check_update() refuses them); a hand-edited database gets them cut. */
static size_t packed_len(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    return n > UINT16_MAX ? UINT16_MAX : n;
}

static size_t block_size(const struct sk__lbind *b)
{
    size_t n = offsetof(struct sk__lbind, data);

    for (int i = 0; i < SK__LS_COUNT; i++)
        n += (size_t)b->len[i] + 1;
    return n;
}

struct sk__lbind *sk__lbind_new(const struct sk__lrow *r)
{
    const char *src[SK__LS_COUNT] = {r->contact, r->call_id,  r->path,
                                     r->src_ip,  r->instance, r->ua};
    size_t total = 0;
    struct sk__lbind b0, *b;
    char *p;

    memset(&b0, 0, sizeof(b0));
    for (int i = 0; i < SK__LS_COUNT; i++) {
        b0.len[i] = (uint16_t)packed_len(src[i]);
        total += (size_t)b0.len[i] + 1;
    }
    /* The strings start right after the header, in its tail padding. */
    b = sk_malloc(offsetof(struct sk__lbind, data) + total);
    if (b == NULL)
        return NULL;
    memcpy(b, &b0, offsetof(struct sk__lbind, data));
    b->expires_at = r->expires_at;
    b->updated_at = r->updated_at;
    b->conn_id = r->conn_id;
    b->cseq = r->cseq;
    b->reg_id = r->reg_id;
    b->q = (int16_t)(r->q < -1 ? -1 : r->q > 1000 ? 1000 : r->q);
    b->src_port = r->src_port;
    b->tp = (uint8_t)r->tp;
    p = b->data;
    for (int i = 0; i < SK__LS_COUNT; i++) {
        if (b->len[i] > 0)
            memcpy(p, src[i], b->len[i]);
        p[b->len[i]] = '\0';
        p += b->len[i] + 1;
    }
    return b;
}

struct sk__lbind *sk__lbind_clone(const struct sk__lbind *b)
{
    size_t n = block_size(b);
    struct sk__lbind *c = sk_malloc(n);

    if (c != NULL) {
        memcpy(c, b, n);
        c->next = NULL;
    }
    return c;
}

const char *sk__lbind_str(const struct sk__lbind *b, enum sk__lstr i)
{
    const char *p = b->data;

    for (int k = 0; k < (int)i; k++)
        p += b->len[k] + 1;
    return p;
}

void sk__lbind_row(const struct sk__lbind *b, struct sk__lrow *r)
{
    const char **dst[SK__LS_COUNT] = {&r->contact, &r->call_id,  &r->path,
                                      &r->src_ip,  &r->instance, &r->ua};
    const char *p = b->data;

    memset(r, 0, sizeof(*r));
    for (int i = 0; i < SK__LS_COUNT; i++) {
        *dst[i] = p;
        p += b->len[i] + 1;
    }
    r->expires_at = b->expires_at;
    r->updated_at = b->updated_at;
    r->q = b->q;
    r->cseq = b->cseq;
    r->reg_id = b->reg_id;
    r->src_port = b->src_port;
    r->tp = (enum sk_transport)b->tp;
    r->conn_id = b->conn_id;
}

void sk__lbind_free_list(struct sk__lbind *b)
{
    while (b != NULL) {
        struct sk__lbind *next = b->next;
        sk_free(b);
        b = next;
    }
}
