/*
 * The allocator hook. Every heap allocation in libsipkit goes through
 * here so that tests can count allocations (a parse allocates nothing in
 * steady state) and make the Nth one fail.
 */
#include <sipkit/base.h>

#include <stdlib.h>
#include <string.h>

static sk_malloc_cb hook_malloc = malloc;
static sk_realloc_cb hook_realloc = realloc;
static sk_free_cb hook_free = free;

void sk_set_allocator(sk_malloc_cb m, sk_realloc_cb r, sk_free_cb f)
{
    if (m == NULL || r == NULL || f == NULL) {
        hook_malloc = malloc;
        hook_realloc = realloc;
        hook_free = free;
        return;
    }
    hook_malloc = m;
    hook_realloc = r;
    hook_free = f;
}

void *sk_malloc(size_t size)
{
    return hook_malloc(size ? size : 1);
}

void *sk_calloc(size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    p = sk_malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *sk_realloc(void *ptr, size_t size)
{
    return hook_realloc(ptr, size ? size : 1);
}

void sk_free(void *ptr)
{
    if (ptr != NULL)
        hook_free(ptr);
}

char *sk_strndup(const char *p, size_t len)
{
    char *s = sk_malloc(len + 1);

    if (s == NULL)
        return NULL;
    if (len > 0)
        memcpy(s, p, len);
    s[len] = '\0';
    return s;
}
