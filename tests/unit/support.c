/* Shared helpers for the unit tests (see support.h). */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long alloc_count;
static unsigned long fail_at;
static long live;
static long live_bytes;

/* A header in front of each block holds its size: the live counts stay
 * exact. */
static void *count_malloc(size_t size)
{
    alloc_count++;
    if (fail_at != 0 && alloc_count == fail_at)
        return NULL;
    size_t *p = malloc(size + sizeof(max_align_t));
    if (p == NULL)
        return NULL;
    live++;
    live_bytes += (long)size;
    *p = size;
    return (char *)p + sizeof(max_align_t);
}

static void count_free(void *ptr)
{
    if (ptr == NULL)
        return;
    live--;
    live_bytes -= (long)*(size_t *)(void *)((char *)ptr - sizeof(max_align_t));
    free((char *)ptr - sizeof(max_align_t));
}

static void *count_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return count_malloc(size);
    alloc_count++;
    if (fail_at != 0 && alloc_count == fail_at)
        return NULL;
    size_t old = *(size_t *)(void *)((char *)ptr - sizeof(max_align_t));
    char *p = realloc((char *)ptr - sizeof(max_align_t), size + sizeof(max_align_t));
    if (p == NULL)
        return NULL;
    live_bytes += (long)size - (long)old;
    *(size_t *)(void *)p = size;
    return p + sizeof(max_align_t);
}

void sk_test_alloc_hook(void)
{
    sk_test_alloc_reset();
    live = 0;
    live_bytes = 0;
    sk_set_allocator(count_malloc, count_realloc, count_free);
}

void sk_test_alloc_unhook(void)
{
    sk_set_allocator(NULL, NULL, NULL);
}

void sk_test_alloc_fail_at(unsigned long n)
{
    fail_at = n == 0 ? 0 : alloc_count + n;
}

unsigned long sk_test_alloc_count(void)
{
    return alloc_count;
}

long sk_test_alloc_live(void)
{
    return live;
}

long sk_test_alloc_live_bytes(void)
{
    return live_bytes;
}

void sk_test_alloc_reset(void)
{
    alloc_count = 0;
    fail_at = 0;
}

char *sk_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    if (len != NULL)
        *len = (size_t)n;
    return buf;
}

const char *sk_test_data(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", SK_TESTDATA_DIR, rel);
    return path;
}

const char *sk_test_path(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", SK_TESTS_DIR, rel);
    return path;
}

void sk_test_assert_slice(struct sk_slice sl, const char *cstr, const char *file, int line)
{
    if (sk_slice_eq(sl, sk_slice_cstr(cstr)))
        return;
    print_error("%s:%d: slice \"%.*s\" != \"%s\"\n", file, line, (int)sl.len, sl.p ? sl.p : "",
                cstr);
    fail();
}
