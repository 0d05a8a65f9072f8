/*
 * libFuzzer target for the bencode decoder (src/media/bencode.c), which
 * reads rtpengine's ng replies. Beyond "no crash, no out-of-bounds read",
 * it checks that decoding allocates nothing, that every string lies inside
 * the input, that the node links stay inside the array, and that a decoded
 * value encodes back to the very input (bencode is canonical, and the
 * decoder refuses non-canonical integers).
 */
#include "media/bencode.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *no_malloc(size_t n)
{
    (void)n;
    abort();
}

static void *no_realloc(void *p, size_t n)
{
    (void)p;
    (void)n;
    abort();
}

static void no_free(void *p)
{
    (void)p;
    abort();
}

/* Re-encode nodes[i] and its descendants; returns the next index. */
static size_t encode(const struct sk__benc_node *n, size_t i, struct sk_buf *b)
{
    size_t k;

    switch (n[i].type) {
    case SK__BENC_INT:
        sk__benc_int(b, n[i].num);
        return i + 1;
    case SK__BENC_STR:
        sk__benc_str(b, n[i].str);
        return i + 1;
    default:
        sk__benc_open(b, n[i].type == SK__BENC_LIST ? 'l' : 'd');
        for (k = i + 1; k < n[i].next;)
            k = encode(n, k, b);
        if (k != n[i].next)
            abort();
        sk__benc_end(b);
        return k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sk__benc_node nodes[128];
    struct sk_slice v;
    size_t count;
    char *copy = malloc(size ? size : 1);

    if (copy == NULL)
        return 0;
    if (size > 0)
        memcpy(copy, data, size);
    sk_set_allocator(no_malloc, no_realloc, no_free);
    int err = sk__benc_decode(sk_slice_make(copy, size), nodes, 128, &count);
    if (err == 0) {
        for (size_t i = 0; i < count; i++) {
            if (nodes[i].next <= i || nodes[i].next > count)
                abort();
            if (nodes[i].type == SK__BENC_STR && nodes[i].str.len > 0 &&
                (nodes[i].str.p < copy || nodes[i].str.p + nodes[i].str.len > copy + size))
                abort();
        }
        if (sk__benc_dict_str(nodes, 0, "result", &v) && v.len > size)
            abort();
    }
    sk_set_allocator(NULL, NULL, NULL);
    if (err == 0) {
        struct sk_buf b;
        sk_buf_init(&b);
        if (encode(nodes, 0, &b) != count || !sk_buf_ok(&b) || b.len != size ||
            memcmp(b.p, copy, size) != 0)
            abort();
        sk_buf_free(&b);
    }
    free(copy);
    return 0;
}
