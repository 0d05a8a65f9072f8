/*
 * Test shim for tests/interop/clock_step.sh, loaded with LD_PRELOAD: the
 * wall clock (CLOCK_REALTIME) reads SK_CLOCK_SHIFT seconds ahead of the
 * system's, as if it had been stepped back by that much just after a
 * program read it. A wait whose deadline comes from the wall clock then
 * lasts that much longer; one on CLOCK_MONOTONIC is unaffected.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int clock_gettime(clockid_t id, struct timespec *ts)
{
    int r = (int)syscall(SYS_clock_gettime, id, ts);
    const char *s = getenv("SK_CLOCK_SHIFT");

    if (r == 0 && id == CLOCK_REALTIME && s != NULL)
        ts->tv_sec += strtol(s, NULL, 10);
    return r;
}
