/*
 * Arena: a list of blocks with bump allocation. Reset keeps the first
 * block, so an arena reused per message or per transaction settles at zero
 * allocations. Oversized requests get a block of their own.
 */
#include <sipkit/base.h>

#include <string.h>

struct sk_arena_block {
    struct sk_arena_block *next;
    size_t size;
    size_t used;
    max_align_t data[];
};

void sk_arena_init(struct sk_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 4096;
}

static struct sk_arena_block *block_new(size_t size)
{
    struct sk_arena_block *b = sk_malloc(sizeof(*b) + size);

    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

void *sk_arena_alloc(struct sk_arena *a, size_t size)
{
    const size_t align = sizeof(max_align_t);
    struct sk_arena_block *b = a->head;
    size_t rounded;

    if (size > SIZE_MAX - align)
        return NULL;
    rounded = (size + align - 1) & ~(align - 1);
    if (b == NULL || b->size - b->used < rounded) {
        size_t bsize = rounded > a->block_size ? rounded : a->block_size;
        b = block_new(bsize);
        if (b == NULL)
            return NULL;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += rounded;
    return p;
}

char *sk_arena_strndup(struct sk_arena *a, const char *p, size_t len)
{
    char *s = sk_arena_alloc(a, len + 1);

    if (s == NULL)
        return NULL;
    if (len > 0)
        memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

void sk_arena_reset(struct sk_arena *a)
{
    struct sk_arena_block *b = a->head, *keep = NULL;

    /* Keep the oldest block (the last in the list): it has the default
     * size; later ones may be oversized one-offs. */
    while (b != NULL) {
        struct sk_arena_block *next = b->next;
        if (next == NULL) {
            keep = b;
            break;
        }
        sk_free(b);
        b = next;
    }
    if (keep != NULL)
        keep->used = 0;
    a->head = keep;
}

void sk_arena_free(struct sk_arena *a)
{
    struct sk_arena_block *b = a->head;

    while (b != NULL) {
        struct sk_arena_block *next = b->next;
        sk_free(b);
        b = next;
    }
    a->head = NULL;
}
