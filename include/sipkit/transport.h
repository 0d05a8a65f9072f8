/*
 * sipkit transport layer: UDP and TCP listeners on IPv4 and IPv6, one event
 * loop per worker thread, stream framing, connection reuse and the RFC 3261
 * §18 / RFC 3581 rules for received, rport and where responses go.
 *
 * Event loop: libuv. Each worker thread runs its own uv_loop_t and owns a
 * SO_REUSEPORT UDP socket and a SO_REUSEPORT TCP listening socket per
 * listener, so the kernel spreads datagrams and accepted connections over
 * the workers and no lock is taken on the receive path. libuv gives us
 * timers (TCP idle timeout), cross-thread wake-ups (uv_async) and portable
 * stream handling for less code than a hand-written epoll loop. The hot UDP
 * path reads with recvmmsg() and sends the answers to a batch of received
 * datagrams with one sendmmsg().
 *
 * Receive path: a datagram or a TCP frame (sk_msg_frame) is parsed in place
 * into the worker's reusable struct sk_msg and its source is recorded
 * with sk_msg_set_source(), so responses and forwarded copies carry
 * `received` and the `rport` value (§18.2.1, RFC 3581 §4); then the
 * receive callback runs on the worker thread with a struct sk_rx that is
 * valid only during the call (copy what must outlive it).
 *
 * Send path: sk_tp_send() takes bytes and a destination. Over TCP a message
 * goes on the connection given by id when it is still open (§18.2.2:
 * responses go back on the connection the request came on), else on any
 * open connection to the peer (on whichever worker owns it: the bytes are
 * handed to that worker), else a new connection is opened.
 *
 * Memory: sk_tp_new() returns a transport owned by the caller, released by
 * sk_tp_free() after sk_tp_stop(). Bytes passed to sk_tp_send() are copied
 * when they cannot be written at once; the caller keeps ownership.
 *
 * Threads: sk_tp_new/start/stop/free from one controlling thread. The
 * receive callback runs on worker threads (several at once); sk_tp_send()
 * and sk_tp_set_runtime() may be called from any thread.
 */
#ifndef SIPKIT_TRANSPORT_H
#define SIPKIT_TRANSPORT_H

#include <sipkit/base.h>
#include <sipkit/msg.h>
#include <sipkit/tls.h>

#include <netinet/in.h>
#include <sys/socket.h>

enum sk_transport {
    SK_TP_UDP = 0,
    SK_TP_TCP,
    SK_TP_TLS, /* TCP with a TLS layer (tls.c) */
    SK_TP_WS,  /* TCP with a WebSocket layer (ws.c, RFC 7118) */
    SK_TP_WSS, /* TCP with TLS and WebSocket layers */
};

/* WebSocket (RFC 7118): reached only over the connection the client
 * opened; never connected to. */
static inline bool sk_transport_is_ws(enum sk_transport tp)
{
    return tp == SK_TP_WS || tp == SK_TP_WSS;
}

/* RFC 3261 §17.1.1.2, §18: TCP, TLS and WebSocket deliver reliably, so the
 * transaction layer neither retransmits over them nor lingers in the
 * Completed / Confirmed states. */
static inline bool sk_transport_reliable(enum sk_transport tp)
{
    return tp != SK_TP_UDP;
}

/* "udp" / "tcp" / "tls" / "ws" / "wss"; the upper-case form is for Via
 * headers (RFC 7118 §5.2: WS, WSS). */
const char *sk_transport_name(enum sk_transport t);
const char *sk_transport_via_name(enum sk_transport t);

/* Where a message came from or goes to: an IPv4 or IPv6 socket address,
 * the transport, and for streams the connection. A plain value. */
struct sk_addr {
    union {
        struct sockaddr_storage ss; /* peer address (IPv4 or IPv6) */
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    };
    socklen_t sslen; /* bytes of ss in use; 0 when unset */
    enum sk_transport tp;
    /* The connection a stream message arrived on, so that responses go back
     * over it (RFC 3261 §18.2.2); 0 means "any / open one as needed". */
    uint64_t conn_id;
};

/* Longest text sk_addr_format() writes ("[v6%scope]:65535" and NUL). */
#define SK_ADDR_STRLEN 64

/* Parse "1.2.3.4:5060", "[::1]:5070", or without a port ("1.2.3.4",
 * "[::1]", "::1") using default_port. Numeric addresses only. Returns 0 or
 * SK_EPARSE. */
int sk_addr_parse(struct sk_slice s, uint16_t default_port, struct sk_addr *out);
/* "1.2.3.4:5060" / "[::1]:5060"; returns buf. */
char *sk_addr_format(const struct sk_addr *a, char *buf, size_t bufsz);
/* The address without the port ("1.2.3.4", "::1" when brackets is false,
 * "[::1]" when true); returns buf. */
char *sk_addr_format_host(const struct sk_addr *a, bool brackets, char *buf, size_t bufsz);
uint16_t sk_addr_port(const struct sk_addr *a);
void sk_addr_set_port(struct sk_addr *a, uint16_t port);
socklen_t sk_addr_len(const struct sk_addr *a);
/* Same family, address and port. */
bool sk_addr_equal(const struct sk_addr *a, const struct sk_addr *b);
/* Same family and address, ports ignored. */
bool sk_addr_same_host(const struct sk_addr *a, const struct sk_addr *b);
bool sk_addr_is_any(const struct sk_addr *a);
/* The keyed hash (sk_hash) of the address and port, for tables keyed by peer. */
uint64_t sk_addr_hash(const struct sk_addr *a);

/* One listening address; each listener serves UDP and TCP, or TLS only,
 * or WebSocket only (ws; wss with tls set too). */
struct sk_listener {
    struct sk_addr addr;
    bool optional; /* a bind failure is logged and the listener skipped */
    bool tls;      /* TLS over TCP (RFC 3261 §26), no UDP; needs cfg.tls */
    bool ws;       /* WebSocket (RFC 7118) over TCP, or over TLS with tls */
};

/* The transport a listener's connections carry. */
enum sk_transport sk_listener_transport(const struct sk_listener *l);

/* Settings that may change while running (SIGHUP). */
struct sk_tp_runtime {
    unsigned tcp_idle_timeout_s; /* close a TCP connection idle this long */
    /* A message must arrive whole within this long of its first byte, or
     * its connection is closed (slowloris); 0: the idle timeout. */
    unsigned tcp_message_timeout_s;
    /* Per transport, all workers together; lowered to what the descriptor
     * limit allows (logged). */
    unsigned tcp_max_connections;
    /* Accepted connections from one IPv4 address or IPv6 /64; 0: no cap. */
    unsigned tcp_max_per_address;
    size_t tcp_max_buffer; /* bytes buffered per connection, each way */
    /* WebSocket connections quiet this long get a ping; one still quiet
     * after as long again is closed. 0: no pings. */
    unsigned ws_ping_interval_s;
    bool trace; /* call the trace callback */
};

struct sk_rx;
struct sk_tp;
struct sk_tp_worker;

/* A received message. Valid only during the receive callback. */
struct sk_rx {
    struct sk_tp *tp;
    struct sk_tp_worker *worker;
    enum sk_transport transport;
    struct sk_addr peer;
    struct sk_addr local;  /* the listener's address (may be a wildcard) */
    unsigned listener;     /* index into the listener list */
    uint64_t conn_id;      /* TCP connection id, 0 for UDP */
    struct sk_msg *msg;    /* parsed; on failure msg->cause says why */
    int parse_err;         /* 0 or the sk_msg_parse() error */
    struct sk_slice bytes; /* the message as handed up (after the Via edit) */
    /* Set by the callback: close this TCP connection once the bytes sent
     * during the callback are written (a peer that sent garbage). */
    bool close_after;
};

typedef void (*sk_tp_recv_cb)(void *arg, struct sk_rx *rx);
/* A TCP connection closed (by either side, or for an error): conn_id and
 * the peer it was with. Called on the connection's worker thread. */
typedef void (*sk_tp_closed_cb)(void *arg, uint64_t conn_id, const struct sk_addr *peer);
/* A stream connection was idle for tcp_idle_timeout: true keeps it open
 * for another period (it carries state the application needs, such as a
 * registration), false lets it close. Called on the connection's worker
 * thread. */
typedef bool (*sk_tp_idle_cb)(void *arg, uint64_t conn_id, const struct sk_addr *peer);

enum sk_trace_dir { SK_TRACE_IN, SK_TRACE_OUT };
/* Called for every message in and out when runtime.trace is on. */
typedef void (*sk_tp_trace_cb)(void *arg, enum sk_trace_dir dir, enum sk_transport t,
                               const struct sk_addr *local, const struct sk_addr *peer,
                               struct sk_slice bytes);

struct sk_tp_config {
    const struct sk_listener *listeners;
    size_t nlisteners;
    unsigned workers;            /* 0: one per online CPU */
    struct sk_msg_limits limits; /* max_size also bounds a TCP frame */
    struct sk_tp_runtime runtime;
    sk_tp_recv_cb on_recv;
    void *recv_arg;
    sk_tp_trace_cb on_trace; /* may be NULL */
    void *trace_arg;
    sk_tp_closed_cb on_closed; /* may be NULL */
    void *closed_arg;
    sk_tp_idle_cb on_idle; /* may be NULL: idle connections close */
    void *idle_arg;
    /* The path MTU towards peers, when known; 0: unknown, so requests
     * over 1300 bytes leave UDP for TCP (RFC 3261 §18.1.1). */
    unsigned path_mtu;
    /* Descriptors the application keeps for itself (store, logs); the
     * transport keeps room for them when it caps TCP connections. */
    unsigned fd_reserve;
    /* Certificates and policy for TLS listeners and outgoing TLS; NULL:
     * no TLS (a TLS listener is then an error). */
    const struct sk_tls_config *tls;
    /* WebSocket listeners: the Origin values a browser's upgrade may
     * carry, separated by spaces or commas ("https://app.example.com");
     * NULL or empty: any. Requests without Origin (not from a browser)
     * are always taken. Copied. */
    const char *ws_origins;
};

/* Create the transport and bind every listener on every worker (so bind
 * errors show up here). Returns 0 or a negative error (-EMFILE when the
 * descriptor limit leaves no room for connections); *out set only on
 * success. */
int sk_tp_new(struct sk_tp **out, const struct sk_tp_config *cfg);
/* Start the worker threads; returns once they are all running. */
int sk_tp_start(struct sk_tp *tp);
/* Stop accepting and reading, flush pending TCP writes for at most
 * drain_ms, close everything and join the workers. */
void sk_tp_stop(struct sk_tp *tp, unsigned drain_ms);
void sk_tp_free(struct sk_tp *tp);
unsigned sk_tp_worker_count(const struct sk_tp *tp);
/* 0 .. worker_count-1: lets the layer above keep per-worker state. */
unsigned sk_tp_worker_index(const struct sk_tp_worker *w);
/* The actual bound address of a listener (port filled in when it was 0). */
int sk_tp_listener_addr(const struct sk_tp *tp, unsigned listener, struct sk_addr *out);
void sk_tp_set_runtime(struct sk_tp *tp, const struct sk_tp_runtime *rt);

/* Where a message goes. */
struct sk_dest {
    enum sk_transport transport;
    struct sk_addr addr;
    uint64_t conn_id; /* TCP, TLS: preferred connection, 0 for none */
    int listener;     /* UDP: the listener to send from, -1 for any */
};

/* Send bytes. UDP is sent at once, except from a receive callback handling
 * one of a batch of datagrams when the bytes go to the host that datagram
 * came from (an answer): then they are copied and sent with the rest of
 * the batch's output when the batch ends (a send error is then logged, not
 * returned). TCP on a connection owned by the
 * calling worker thread is written at once; otherwise the bytes are queued
 * to the worker that owns the connection (or, to open a new one, to the
 * calling worker or worker 0). Returns 0 or a negative error (-errno,
 * SK_ETOOBIG over tcp_max_buffer, SK_ENOTFOUND no socket for the address
 * family, SK_ESTATE when stopping). */
int sk_tp_send(struct sk_tp *tp, const struct sk_dest *dst, const void *data, size_t len);

/* Send a request (RFC 3261 §18.1.1). As sk_tp_send(), except that a
 * request for UDP larger than 1300 bytes (or within 200 bytes of
 * cfg.path_mtu when set) goes over TCP to the same address and port, with
 * the transport of its top Via changed to TCP; when that connection is
 * refused (the peer has no TCP), the request is sent over UDP unchanged.
 * Responses never change transport: send them with sk_tp_send(). */
int sk_tp_send_request(struct sk_tp *tp, const struct sk_dest *dst, const void *data, size_t len);

/* Whether a stream connection to peer (address and port) is open, so that
 * a message for it can go without opening a new one. Any thread. */
bool sk_tp_stream_open(struct sk_tp *tp, const struct sk_addr *peer);

/* RFC 3261 §18.2.2 / RFC 3581 §5: the destination of a response to rx. */
void sk_tp_response_dest(const struct sk_rx *rx, struct sk_dest *out);

/* Counters, summed over workers (racy reads, for logs and tests). */
struct sk_tp_stats {
    uint64_t rx_msgs, tx_msgs, rx_bad, tcp_accepted, tcp_closed, tcp_refused;
    uint64_t tcp_open; /* TCP connections open now, accepted and outgoing */
};
void sk_tp_get_stats(const struct sk_tp *tp, struct sk_tp_stats *out);
/* How late the workers' loops ran a timer due every 100 ms: the time a
 * message can wait behind other work on its loop (admin metrics). */
const struct sk_histo *sk_tp_loop_lag(const struct sk_tp *tp);

#endif
