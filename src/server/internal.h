/*
 * Private state of the server layer, shared by server.c (lifecycle,
 * reload) and pipeline.c (what happens to each request).
 *
 * Ownership: the server owns its transport and one output buffer per
 * worker; a worker's buffer is touched only on that worker's thread.
 */
#ifndef SK_SERVER_INTERNAL_H
#define SK_SERVER_INTERNAL_H

#include <sipkit/msg.h>
#include <sipkit/server.h>

#include <stdatomic.h>

struct sk__srv_worker {
    struct sk_buf out; /* the response being built */
};

struct sk_server {
    struct sk_server_config cfg;
    struct sk_tp *tp;
    struct sk__srv_worker *workers;
    unsigned nworkers;
    /* Addresses that mean "this server" in a Via (loop detection): every
     * bound listener, wildcards expanded to the host's interfaces. */
    struct sk_addr *self;
    size_t nself;
    _Atomic uint64_t rejected;
};

/* The transport's receive callback (arg is the server). */
void sk__pipeline_recv(void *arg, struct sk_rx *rx);

#endif
