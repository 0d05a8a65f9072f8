/*
 * Shared helpers for the unit tests: cmocka includes, allocation counting
 * and failure injection through sk_set_allocator(), and test data paths.
 */
#ifndef SK_TEST_SUPPORT_H
#define SK_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sipkit/base.h>

/* Route sipkit allocations through counters. fail_at = N makes the Nth
 * allocation from now fail (0 = never). */
void sk_test_alloc_hook(void);
void sk_test_alloc_unhook(void);
void sk_test_alloc_fail_at(unsigned long n);
unsigned long sk_test_alloc_count(void); /* allocations since hook/reset */
long sk_test_alloc_live(void);           /* allocated minus freed */
long sk_test_alloc_live_bytes(void);     /* the same in bytes asked for */
void sk_test_alloc_reset(void);

/* Read a whole file into a NUL-terminated heap buffer (plain malloc; free
 * with free()). Returns NULL if it cannot be read. */
char *sk_test_read_file(const char *path, size_t *len);
/* Path under the shared test data directory (static buffer). */
const char *sk_test_data(const char *rel);
/* Path under tests/ (static buffer). */
const char *sk_test_path(const char *rel);

/* A slice of a C string. */
#define S(str) sk_slice_cstr(str)

/* Assert a slice equals a C string, printing both on failure. */
#define assert_slice_equal(sl, cstr) sk_test_assert_slice((sl), (cstr), __FILE__, __LINE__)
void sk_test_assert_slice(struct sk_slice sl, const char *cstr, const char *file, int line);

#endif
