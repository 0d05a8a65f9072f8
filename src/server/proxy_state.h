/*
 * The proxy's state (struct sk_server.proxy), shared by proxy_run.c,
 * which runs the forks, and proxy_self.c, which keeps our addresses as
 * text for Via and Record-Route. Private to those two files.
 *
 * Threads: lock guards the lists and the one-time formatting of hosts;
 * hosts_ready says (acquire) that hosts may be read without it.
 * Memory: hosts is freed by sk__proxy_free().
 */
#ifndef SK_SERVER_PROXY_STATE_H
#define SK_SERVER_PROXY_STATE_H

#include <sipkit/base.h>
#include <sipkit/containers.h>
#include <sipkit/transport.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct sk__proxy {
    pthread_mutex_t lock;
    struct sk_dlist all;
    struct sk_dlist timed; /* INVITE forks with a pending branch */
    /* Our addresses as text for Via and Record-Route, formatted once. */
    _Atomic bool hosts_ready;
    char (*hosts)[SK_ADDR_STRLEN];
};

#endif
