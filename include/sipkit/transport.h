/*
 * sipkit transport layer: the types the layers above use to name a peer.
 *
 * For now this header holds only the address type that the transaction
 * layer passes to the transport's send callback; the transport layer
 * (sockets, framing, connections) adds its API here.
 *
 * Memory: a struct sk_addr is a plain value, copied freely; it owns
 * nothing. Threads: no state.
 */
#ifndef SIPKIT_TRANSPORT_H
#define SIPKIT_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum sk_transport {
    SK_TP_UDP = 0,
    SK_TP_TCP,
    SK_TP_TLS,
    SK_TP_WS,
};

/* Where a message came from or goes to. */
struct sk_addr {
    struct sockaddr_storage ss; /* peer address (IPv4 or IPv6) */
    socklen_t sslen;            /* bytes of ss in use; 0 when unset */
    enum sk_transport tp;
    /* The connection a stream message arrived on, so that responses go back
     * over it (RFC 3261 §18.2.2); 0 means "any / open one as needed". */
    uint64_t conn_id;
};

/* RFC 3261 §17.1.1.2, §18: TCP, TLS and WebSocket deliver reliably, so the
 * transaction layer neither retransmits over them nor lingers in the
 * Completed / Confirmed states. */
static inline bool sk_transport_reliable(enum sk_transport tp)
{
    return tp != SK_TP_UDP;
}

#endif
