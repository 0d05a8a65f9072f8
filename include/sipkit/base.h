/*
 * sipkit base layer: slices, error codes, the allocator hook, growable
 * buffers, arenas and logging. Nothing here knows about SIP.
 *
 * Memory: a struct sk_slice never owns what it points at; its bytes belong
 * to whoever owns the buffer it views (usually a receive buffer). A struct
 * sk_buf and a struct sk_arena own their storage and release it with
 * sk_buf_free() / sk_arena_free(). All heap memory goes through sk_malloc(),
 * sk_realloc() and sk_free(), so tests can count or fail allocations.
 *
 * Threads: everything here is reentrant. sk_set_allocator() must be
 * called before other threads start; sk_log_set() may be called any time.
 */
#ifndef SIPKIT_BASE_H
#define SIPKIT_BASE_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ---------------------------------------------------------- */

/* Functions return 0 or a negative code: -errno where POSIX has the
 * meaning, or one of these sipkit-specific codes. */
enum sk_err {
    SK_EPARSE = -10001,  /* malformed input */
    SK_ETOOBIG = -10002, /* input exceeds a configured limit */
    SK_EAGAIN = -10003,  /* need more input (stream framing) */
    SK_EAUTH = -10004,   /* authentication failed */
    SK_ENOMEM = -10005,  /* allocation failed */
    SK_ENOTFOUND = -10006,
    SK_EEXIST = -10007,
    SK_EINVAL = -10008,   /* bad argument from the caller */
    SK_EVERSION = -10009, /* unsupported SIP version */
    SK_ESCHEME = -10010,  /* unsupported URI scheme */
    SK_EIO = -10011,      /* storage or system failure */
    SK_ESTATE = -10012,   /* operation not valid in the current state */
    SK_ETIMEDOUT = -10013,
    SK_EUNAVAIL = -10014, /* a service we depend on (the database) is unreachable */
};

/* A fixed English description of an error code (never NULL). */
const char *sk_strerror(int err);

/* ---- slices ---------------------------------------------------------- */

/* A read-only view of bytes owned by someone else. Not NUL-terminated. */
struct sk_slice {
    const char *p;
    size_t len;
};

#define SK_SLICE_NULL ((struct sk_slice){NULL, 0})
/* A slice of a string literal. */
#define SK_SLICE_LIT(s) ((struct sk_slice){(s), sizeof(s) - 1})

struct sk_slice sk_slice_cstr(const char *s);
static inline struct sk_slice sk_slice_make(const char *p, size_t len)
{
    struct sk_slice s = {p, len};
    return s;
}
bool sk_slice_eq(struct sk_slice a, struct sk_slice b);
/* ASCII case-insensitive equality. */
bool sk_slice_caseeq(struct sk_slice a, struct sk_slice b);
bool sk_slice_caseeq_cstr(struct sk_slice a, const char *s);
static inline bool sk_slice_empty(struct sk_slice s)
{
    return s.len == 0;
}
/* Strip leading and trailing SP / HTAB / CR / LF. */
struct sk_slice sk_slice_trim(struct sk_slice s);
/* Parse an unsigned decimal number with no sign, no spaces, at most max.
 * Returns 0 or SK_EPARSE (empty, non-digit) / SK_ETOOBIG (over max). */
int sk_slice_to_u64(struct sk_slice s, uint64_t max, uint64_t *out);
/* Copy into dst (size dstsz, NUL-terminated, truncated). Returns dst. */
char *sk_slice_to_cstr(struct sk_slice s, char *dst, size_t dstsz);

/* ---- allocation ------------------------------------------------------ */

typedef void *(*sk_malloc_cb)(size_t size);
typedef void *(*sk_realloc_cb)(void *ptr, size_t size);
typedef void (*sk_free_cb)(void *ptr);

/* Replace the allocator (all three, or NULL for all to restore libc). */
void sk_set_allocator(sk_malloc_cb m, sk_realloc_cb r, sk_free_cb f);
void *sk_malloc(size_t size);
void *sk_calloc(size_t n, size_t size);
void *sk_realloc(void *ptr, size_t size);
void sk_free(void *ptr);
/* Duplicate a slice as a NUL-terminated heap string (NULL on failure). */
char *sk_strndup(const char *p, size_t len);

/* ---- growable byte buffer -------------------------------------------- */

/* Output buffer for serializing messages. Always kept NUL-terminated. A
 * failed append sets .failed and later appends do nothing, so a sequence of
 * appends is checked once at the end with sk_buf_ok(). */
struct sk_buf {
    char *p;
    size_t len;
    size_t cap;
    bool failed;
};

void sk_buf_init(struct sk_buf *b);
void sk_buf_free(struct sk_buf *b);
void sk_buf_reset(struct sk_buf *b);
int sk_buf_reserve(struct sk_buf *b, size_t extra);
void sk_buf_append(struct sk_buf *b, const void *p, size_t len);
void sk_buf_append_slice(struct sk_buf *b, struct sk_slice s);
void sk_buf_append_cstr(struct sk_buf *b, const char *s);
void sk_buf_append_u64(struct sk_buf *b, uint64_t v);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void sk_buf_printf(struct sk_buf *b, const char *fmt, ...);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 0)))
#endif
void sk_buf_vprintf(struct sk_buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal (quotes included; control characters,
 * quotes and backslashes escaped; bytes that are not UTF-8 as \u00XX). */
void sk_buf_append_json(struct sk_buf *b, struct sk_slice s);
/* Copy b's text into out (outsz bytes) with a NUL: 0, SK_ENOMEM when an
 * append into b failed, SK_ETOOBIG when it does not fit. */
int sk_buf_copy_out(const struct sk_buf *b, char *out, size_t outsz);
static inline bool sk_buf_ok(const struct sk_buf *b)
{
    return !b->failed;
}
static inline struct sk_slice sk_buf_slice(const struct sk_buf *b)
{
    return sk_slice_make(b->p, b->len);
}

/* ---- arena ----------------------------------------------------------- */

/* Bump allocator: many small allocations freed in one call. Reset keeps the
 * first block so a reused arena allocates nothing in steady state. */
struct sk_arena_block;
struct sk_arena {
    struct sk_arena_block *head;
    size_t block_size;
};

void sk_arena_init(struct sk_arena *a, size_t block_size);
void *sk_arena_alloc(struct sk_arena *a, size_t size);
char *sk_arena_strndup(struct sk_arena *a, const char *p, size_t len);
void sk_arena_reset(struct sk_arena *a);
void sk_arena_free(struct sk_arena *a);

/* ---- logging --------------------------------------------------------- */

enum sk_log_level {
    SK_LOG_ERROR = 0,
    SK_LOG_WARN = 1,
    SK_LOG_INFO = 2,
    SK_LOG_DEBUG = 3,
};

/* The application's log sink: one call per event. `text` is a line of
 * key=value fields without a trailing newline. */
typedef void (*sk_log_cb)(void *arg, enum sk_log_level level, const char *module, const char *text);

/* Any thread, at any time: a line being logged goes to the old or the new
 * callback with its own argument. The old argument must stay valid. */
void sk_log_set(sk_log_cb cb, void *arg, enum sk_log_level max_level);
extern _Atomic(enum sk_log_level) sk__log_max;
extern _Atomic(sk_log_cb) sk__log_cb;
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void sk__log(enum sk_log_level level, const char *module, const char *fmt, ...);
const char *sk_log_level_name(enum sk_log_level level);

/* Checks the level before any formatting happens. */
#define SK_LOG(level, module, ...)                                                                 \
    do {                                                                                           \
        if (atomic_load_explicit(&sk__log_cb, memory_order_relaxed) != NULL &&                     \
            (level) <= atomic_load_explicit(&sk__log_max, memory_order_relaxed))                   \
            sk__log((level), (module), __VA_ARGS__);                                               \
    } while (0)

/* ---- time ------------------------------------------------------------ */

/* Milliseconds from CLOCK_MONOTONIC (never steps with the wall clock). */
uint64_t sk_now_ms(void);
/* Seconds since the Unix epoch (wall clock). */
int64_t sk_wall_s(void);
/* Microseconds from CLOCK_MONOTONIC (for measuring durations). */
uint64_t sk_now_us(void);

/* ---- histograms ------------------------------------------------------ */

/* A latency histogram with fixed bucket bounds (sk_histo_bounds_us, in
 * microseconds, ascending; a last implicit +Inf bucket), for the admin
 * layer's Prometheus histograms. Any thread may observe at once: every
 * field is a relaxed atomic, no lock, so the hot path pays one or two
 * uncontended increments. Readers get a racy but monotonic snapshot.
 * Zero-initialised memory is an empty histogram. */
#define SK_HISTO_BUCKETS 14
struct sk_histo {
    _Atomic uint64_t bucket[SK_HISTO_BUCKETS + 1]; /* not cumulative; last: above every bound */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_us;
};
extern const uint64_t sk_histo_bounds_us[SK_HISTO_BUCKETS];
void sk_histo_observe(struct sk_histo *h, uint64_t us);

/* ---- process limits ---------------------------------------------------- */

/* Raise the soft limit on open descriptors (RLIMIT_NOFILE) to the hard
 * limit; *soft and *hard get the limits in force afterwards
 * (UINT64_MAX: unlimited). Returns 0 or -errno. */
int sk_fd_limit_raise(uint64_t *soft, uint64_t *hard);

#endif
