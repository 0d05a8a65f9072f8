/*
 * Process limits. A server that keeps a socket per TCP peer needs more
 * descriptors than the usual soft default (1024); the hard limit is what
 * an unprivileged process may raise itself to.
 */
#include <sipkit/base.h>

#include <errno.h>
#include <sys/resource.h>

static uint64_t as_u64(rlim_t v)
{
    return v == RLIM_INFINITY ? UINT64_MAX : (uint64_t)v;
}

int sk_fd_limit_raise(uint64_t *soft, uint64_t *hard)
{
    struct rlimit rl;
    int err = 0;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want;
        else
            err = -errno;
    }
    *soft = as_u64(rl.rlim_cur);
    *hard = as_u64(rl.rlim_max);
    return err;
}
