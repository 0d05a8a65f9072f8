/* Clocks. Transaction timers do not call these directly: they read an
 * injected clock so tests can drive time. */
#include <sipkit/base.h>

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
