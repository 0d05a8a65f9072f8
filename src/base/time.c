/* Clocks, and latency histograms measured with them. Transaction timers
 * do not call the clocks directly: they read an injected clock so tests
 * can drive time. */
#include <sipkit/base.h>

#include <stdatomic.h>
#include <time.h>

uint64_t sk_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t sk_wall_s(void)
{
    return (int64_t)time(NULL);
}

uint64_t sk_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* From 50 us (a cached SQLite commit, a loop turn) to 1 s (a stalled
 * disk): the range where an operator needs to tell values apart. */
const uint64_t sk_histo_bounds_us[SK_HISTO_BUCKETS] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};

void sk_histo_observe(struct sk_histo *h, uint64_t us)
{
    size_t i = 0;

    while (i < SK_HISTO_BUCKETS && us > sk_histo_bounds_us[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}
