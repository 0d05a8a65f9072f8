/* Latency histograms (base.h): each observation lands in the first bucket
 * whose bound is at least the value (Prometheus "le" semantics), values
 * above every bound in the last one, and count and sum follow; several
 * threads observing at once lose nothing. */
#include "support.h"

#include <pthread.h>
#include <string.h>

static void buckets(void **state)
{
    struct sk_histo h;
    (void)state;

    memset(&h, 0, sizeof(h));
    sk_histo_observe(&h, 0);
    sk_histo_observe(&h, 50);   /* on the first bound: le="5e-05" */
    sk_histo_observe(&h, 51);   /* just above: the next bucket */
    sk_histo_observe(&h, 1000); /* 1 ms */
    sk_histo_observe(&h, 1000001);
    assert_int_equal(h.bucket[0], 2);
    assert_int_equal(h.bucket[1], 1);
    assert_int_equal(h.bucket[4], 1);
    assert_int_equal(sk_histo_bounds_us[4], 1000);
    assert_int_equal(h.bucket[SK_HISTO_BUCKETS], 1);
    assert_int_equal(h.count, 5);
    assert_int_equal(h.sum_us, 0 + 50 + 51 + 1000 + 1000001);
    for (size_t i = 1; i < SK_HISTO_BUCKETS; i++)
        assert_true(sk_histo_bounds_us[i] > sk_histo_bounds_us[i - 1]);
}

#define PER_THREAD 100000

static void *observe_many(void *arg)
{
    for (unsigned i = 0; i < PER_THREAD; i++)
        sk_histo_observe(arg, i % 3000);
    return NULL;
}

static void threads(void **state)
{
    static struct sk_histo h;
    pthread_t t[4];
    uint64_t total = 0;
    (void)state;

    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, observe_many, &h), 0);
    for (size_t i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (size_t i = 0; i <= SK_HISTO_BUCKETS; i++)
        total += h.bucket[i];
    assert_int_equal(h.count, 4 * PER_THREAD);
    assert_int_equal(total, 4 * PER_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buckets),
        cmocka_unit_test(threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
