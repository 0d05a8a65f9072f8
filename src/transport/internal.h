/*
 * Private structures of the transport layer, shared by tp.c (workers,
 * delivery, sending, lifecycle), udp.c (datagrams in and out), tcp.c
 * (connections) and via.c (the top Via: response routing, §18.1.1 rewrite).
 *
 * Ownership: a worker owns its loop, its sockets and its connections; only
 * its own thread touches them. Other threads reach a worker through its
 * mailbox (mutex + uv_async). The connection registry (peer -> owner) is
 * the one structure shared between workers, under tp->reg_lock.
 */
#ifndef SK_TRANSPORT_INTERNAL_H
#define SK_TRANSPORT_INTERNAL_H

#include <sipkit/containers.h>
#include <sipkit/transport.h>

#include <stdatomic.h>
#include <uv.h>

#define SK__MAX_WORKERS 128
/* Connection ids carry the owning worker in their low byte. */
#define SK__CONN_WORKER(id) ((unsigned)((id)&0xff))

/* Relaxed counters: written by one thread, read by anyone for stats. */
#define SK__INC(field)                                                                             \
    atomic_store_explicit(&(field), atomic_load_explicit(&(field), memory_order_relaxed) + 1,      \
                          memory_order_relaxed)

struct sk__conn;

/* A layer between the socket and SIP framing (TLS, WebSocket):
 * bytes read from the socket go up through the layers, bytes to send go
 * down. A connection without layers is plain TCP. Layers stack: layer 0
 * sits on the socket, and each passes bytes on with sk__layer_up() and
 * sk__layer_down(), so wss is a WebSocket layer over a TLS one. A layer
 * returning an error gets its connection closed. */
struct sk__layer_ops {
    const char *name;
    /* The TCP connection is up: accepted, or connected (outgoing). */
    int (*start)(struct sk__conn *c, unsigned level);
    /* Bytes from below (the socket for level 0). */
    int (*input)(struct sk__conn *c, unsigned level, const char *p, size_t n);
    /* Bytes from above (a SIP message for the top layer). */
    int (*output)(struct sk__conn *c, unsigned level, const char *p, size_t n);
    /* Bytes written on its behalf still waiting in the layer (plaintext
     * queued during a handshake), for the per-connection buffer cap. */
    size_t (*pending)(struct sk__conn *c, unsigned level);
    void (*free)(struct sk__conn *c, unsigned level);
};

#define SK__MAX_LAYERS 2

struct sk__layer {
    const struct sk__layer_ops *ops;
    void *state;
};

struct sk__conn {
    uv_tcp_t h;
    /* Idle timeout between messages; while a message is partly received,
     * its deadline (tcp_message_timeout); the linger after a drop. */
    uv_timer_t idle;
    struct sk_tp_worker *w;
    uint64_t id;
    struct sk_addr peer;
    unsigned listener;    /* accepted on this listener; UINT32_MAX if outgoing */
    struct sk_addr local; /* outgoing: the address connect() bound, for --trace */
    enum sk_transport tp; /* SK_TP_TCP, or what its layers make of it */
    struct sk__layer layers[SK__MAX_LAYERS];
    unsigned nlayers;
    char *rbuf;
    size_t rlen, rcap;
    size_t wpending;  /* bytes queued in libuv write requests */
    int open_handles; /* handles still to close before freeing */
    bool closing;
    bool shutting; /* shutdown requested, closes when flushed */
    bool registered;
    bool connecting; /* outgoing, not connected yet */
    bool in_msg;     /* a message is partly received: its deadline runs */
    bool counted;    /* holds a slot in its host's count (tp->hosts) */
    /* §18.1.1: the UDP form of requests queued while connecting, sent over
     * UDP if the connection is refused; a list through next. */
    struct sk__mail *fallback;
    struct sk_hnode by_id;     /* worker's table by id */
    struct sk_hnode by_peer;   /* registry (tp->reg_lock) */
    struct sk_dlist in_worker; /* worker's list of connections */
};

/* UDP datagrams read per recvmmsg() call. */
#define SK__UDP_BATCH 16
/* UDP datagrams queued for one sendmmsg() call (udp.c). */
#define SK__UDP_TXQ 32

struct sk__udp_tx {
    int fd;
    struct sk_addr to;
    size_t off, len; /* the bytes, in the worker's txq_bytes */
};

struct sk__udp {
    uv_poll_t h; /* level-triggered readiness; we read with recvmmsg() */
    int fd;
    struct sk_tp_worker *w;
    unsigned listener;
    bool active;
};

/* A listening socket, read with accept4() from a level-triggered poll
 * handle rather than uv_listen(), so that running out of descriptors
 * pauses accepting instead of looping (tcp.c, on_listen_readable). */
struct sk__tcpl {
    uv_poll_t h;
    uv_timer_t resume; /* accepting paused after EMFILE / ENFILE */
    int fd;
    struct sk_tp_worker *w;
    unsigned listener;
    bool active, paused;
};

/* Accepted TCP connections from one host (IPv4 address, IPv6 /64) across
 * all workers, for tcp_max_per_address; in tp->hosts under reg_lock. */
struct sk__host {
    struct sk_hnode node;
    struct sk_addr key; /* port 0, IPv6 low 64 bits 0 */
    unsigned n;
};

/* Bytes for another worker (or kept for a UDP retry, see fallback). */
struct sk__mail {
    struct sk__mail *next;
    struct sk_dest dst;
    unsigned flags; /* SK__SEND_* */
    size_t len;
    char data[];
};

/* §18.1.1: data is a request meant for UDP, sent over TCP because of its
 * size; rewrite its top Via and fall back to UDP if TCP is refused. */
#define SK__SEND_UDP_FALLBACK 1u

struct sk_tp_worker {
    struct sk_tp *tp;
    unsigned idx;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wake;
    uv_timer_t drain;
    uv_timer_t lag; /* measures how late the loop runs a due timer (tp.c) */
    uint64_t lag_due_us;
    uv_timer_t ws_tick;    /* WebSocket keepalive (ws.c), with ws listeners */
    uint64_t ws_ping_due;  /* sk_now_ms() of the next ping round */
    struct sk__udp *udp;   /* one per listener */
    struct sk__tcpl *tcpl; /* one per listener */
    struct sk_msg msg;
    char src_ip[SK_ADDR_STRLEN]; /* the current message's source, for its Via */
    struct sk_buf scratch;       /* the head of an oversized TCP frame */
    struct sk_buf txbuf;         /* a request rewritten for TCP (§18.1.1) */
    /* UDP sends queued while a received batch is handled (udp.c); set
     * while a message of a batch is handed up: where it came from. */
    const struct sk_addr *batch_peer;
    struct sk__udp_tx txq[SK__UDP_TXQ];
    size_t txq_n;
    struct sk_buf txq_bytes;
    char *layer_rbuf; /* socket bytes for a connection's layer 0, SK__LAYER_RBUF */
    char *rbuf;       /* UDP receive buffers, SK__UDP_BATCH slots */
    size_t rbuf_size; /* bytes per slot */
    uint64_t next_id;
    struct sk_htab conns;      /* by id */
    struct sk_dlist conn_list; /* every connection, newest first */
    uv_mutex_t mlock;
    struct sk__mail *mhead, *mtail;
    bool stop_requested; /* under mlock */
    bool stopping;       /* worker thread only */
    bool loop_ready, async_ready;
    /* Kept open so that, out of descriptors, one can be freed to accept
     * and close a waiting connection (tcp.c); -1 when none. */
    int spare_fd;
    /* Refusals are logged at most once a second per worker (tcp.c). */
    uint64_t refuse_log_ms;
    unsigned refuse_quiet;
    _Atomic uint64_t rx_msgs, tx_msgs, rx_bad, tcp_accepted, tcp_closed, tcp_refused;
};

struct sk_tp {
    struct sk_listener *listeners;
    struct sk_addr *bound; /* actual addresses, port filled in */
    bool *skipped;         /* optional listeners that failed to bind */
    size_t nlisteners;
    struct sk_msg_limits limits;
    sk_tp_recv_cb on_recv;
    void *recv_arg;
    sk_tp_trace_cb on_trace;
    void *trace_arg;
    sk_tp_closed_cb on_closed;
    void *closed_arg;
    sk_tp_idle_cb on_idle;
    void *idle_arg;
    _Atomic unsigned idle_timeout_s, max_conns, max_per_host, message_timeout_s;
    _Atomic size_t max_buffer;
    size_t udp_request_max; /* §18.1.1: larger requests leave UDP for TCP */
    _Atomic bool trace;
    _Atomic unsigned nconns;
    struct sk_histo loop_lag; /* all workers' loops together */
    unsigned drain_ms;
    /* Descriptors: the soft RLIMIT_NOFILE seen at sk_tp_new and what is
     * kept for everything but connections; max_conns stays below the
     * difference (sk_tp_set_runtime). */
    uint64_t fd_limit, fd_reserve;
    struct sk_tp_worker *workers;
    unsigned nworkers;
    bool started;
    uv_mutex_t reg_lock;
    struct sk_htab reg;   /* by peer address */
    struct sk_htab hosts; /* struct sk__host, keyed sk_hash; under reg_lock */
    struct sk__tls *tls;  /* contexts for TLS (tls.c); NULL without TLS */
    bool has_ws;          /* a WebSocket listener: workers tick keepalives */
    char *ws_origins;     /* allowed Origin values (ws.h); NULL: any */
    _Atomic unsigned ws_ping_s;
};

/* The worker whose loop runs on the calling thread, or NULL. */
struct sk_tp_worker *sk__tp_current(void);

/* Parse, fix the top Via, trace and hand up one message. */
void sk__tp_deliver(struct sk_tp_worker *w, enum sk_transport t, unsigned listener,
                    const struct sk_addr *peer, struct sk__conn *conn, const char *p, size_t n,
                    int frame_err);
void sk__tp_trace_out(struct sk_tp *tp, enum sk_transport t, const struct sk_addr *local,
                      const struct sk_addr *peer, const void *data, size_t len);

/* udp.c */
void sk__udp_readable(uv_poll_t *h, int status, int events);
/* Send a datagram now, or queue it when the calling worker is handling a
 * received batch and it goes to the sender's host (flushed with sendmmsg
 * at the end of the batch). */
int sk__udp_send(struct sk_tp *tp, const struct sk_dest *dst, const void *data, size_t len);

/* stun.c */
/* Whether a datagram is a STUN message (RFC 5389 §6: first two bits zero,
 * the magic cookie at offset 4), not SIP. */
bool sk__stun_is(const void *data, size_t len);
/* For a STUN Binding request from from, write the success response with
 * XOR-MAPPED-ADDRESS into out; returns its length, 0 for anything else
 * (no answer). */
size_t sk__stun_binding_response(const void *data, size_t len, const struct sk_addr *from,
                                 unsigned char *out, size_t outsz);

/* accept.c: listening sockets, caps on accepted connections. */
int sk__tcp_listen_start(struct sk_tp_worker *w, unsigned listener, int fd);
void sk__tcp_listen_stop_one(struct sk__tcpl *l);
/* Stop and close worker w's listening sockets. */
void sk__tcp_listen_stop(struct sk_tp_worker *w);
/* Give back the slot an accepted connection from peer held. */
void sk__host_release(struct sk_tp *tp, const struct sk_addr *peer);
void sk__host_free_all(struct sk_tp *tp);

/* tcp.c */
/* A connection on worker w (listener UINT32_MAX: outgoing), counted in
 * nconns; NULL without memory. */
struct sk__conn *sk__conn_new(struct sk_tp_worker *w, unsigned listener);
/* An accepted connection, its handle open and peer set: register it and
 * start reading. */
void sk__conn_accepted(struct sk__conn *c);
/* flags: SK__SEND_* */
void sk__tcp_send_local(struct sk_tp_worker *w, const struct sk_dest *dst, const void *data,
                        size_t len, unsigned flags);
struct sk__conn *sk__conn_find(struct sk_tp_worker *w, uint64_t id);
/* The worker's newest connection, or NULL when it has none. */
#define SK__FIRST_CONN(w)                                                                          \
    SK_CONTAINER_OR_NULL(sk_dlist_first(&(w)->conn_list), struct sk__conn, in_worker)
void sk__conn_close(struct sk__conn *c, const char *reason);
void sk__conn_close_after_flush(struct sk__conn *c, const char *reason);
void sk__tcp_stop(struct sk_tp_worker *w);
/* Registry lookup: owner worker index and id of an open connection to
 * peer. Returns 0 or SK_ENOTFOUND. */
int sk__reg_lookup(struct sk_tp *tp, const struct sk_addr *peer, unsigned *widx, uint64_t *id);
/* Only a connection of transport t (TCP and TLS to one address differ). */
int sk__reg_lookup_tp(struct sk_tp *tp, const struct sk_addr *peer, enum sk_transport t,
                      unsigned *widx, uint64_t *id);

/* Layers (tcp.c). Pass decoded bytes up from layer level: into the
 * next layer, or into SIP framing above the top one. */
int sk__layer_up(struct sk__conn *c, unsigned level, const char *p, size_t n);
/* Pass encoded bytes down from layer level: into the layer below, or
 * onto the socket below layer 0. */
int sk__layer_down(struct sk__conn *c, unsigned level, const char *p, size_t n);
/* A layer's handshake started / ended: while it runs, the connection has
 * tcp_message_timeout to complete it, as a message does. */
void sk__conn_handshake_started(struct sk__conn *c);
void sk__conn_handshake_done(struct sk__conn *c);
/* Bytes that one read from the socket hands a layer, in a buffer of the
 * worker's (w->layer_rbuf). */
#define SK__LAYER_RBUF 65536

/* tls.c */
struct sk__tls;
/* Build the contexts from cfg (files read now). Returns 0 or an error. */
int sk__tls_new(struct sk__tls **out, const struct sk_tls_config *cfg);
void sk__tls_free(struct sk__tls *t);
/* Put a TLS layer on c: as the server side of an accepted connection, or
 * the client side of an outgoing one (verifying the server). */
int sk__tls_attach(struct sk__conn *c, bool server);

/* ws.c */
/* Put a WebSocket layer on an accepted connection (above TLS for wss). */
int sk__ws_attach(struct sk__conn *c);
/* Ping worker w's quiet WebSocket connections; close those that did not
 * answer the last ping. */
void sk__ws_tick(struct sk_tp_worker *w);

/* via.c: the request with its top Via's transport changed to TCP, into out
 * (§18.1.1). Returns 0, or SK_EPARSE when the top Via cannot be found. */
int sk__via_to_tcp(const char *data, size_t len, struct sk_buf *out);

#endif
