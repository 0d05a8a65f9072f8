/*
 * Private structures of the transaction layer, shared by table.c (hashing,
 * matching, locking, event delivery), client.c and server.c (the state
 * machines), timer.c (the timer heap) and build.c (messages we generate).
 *
 * Locking: every field of a transaction that changes after creation (state,
 * timers, stored response, event queue, hash links) is guarded by its
 * shard's lock. The request copy (req, arena) is immutable once the
 * transaction is published and is read without the lock.
 */
#ifndef SK_TXN_INT_H
#define SK_TXN_INT_H

#include <sipkit/containers.h>
#include <sipkit/txn.h>

#include <pthread.h>
#include <stdatomic.h>

/* ---- timer heap (timer.c) ---------------------------------------------- */

/* A timer node embedded in its transaction: arming one never allocates.
 * The heap is a pairing heap: O(1) insert, O(log n) amortized removal. */
struct sk__timer {
    uint64_t due;
    struct sk__timer *child;
    struct sk__timer *next;
    struct sk__timer *prev; /* previous sibling, or the parent for a first child */
    struct sk_txn *owner;
    enum sk_txn_timer which;
    bool armed;
};

struct sk__heap {
    struct sk__timer *root;
};

void sk__heap_insert(struct sk__heap *h, struct sk__timer *n);
void sk__heap_remove(struct sk__heap *h, struct sk__timer *n);

/* ---- events queued for the TU ------------------------------------------ */

enum sk__ev_kind {
    SK__EV_REQUEST,
    SK__EV_RESPONSE,
    SK__EV_TIMEOUT,
    SK__EV_TPERR,
    SK__EV_TERMINATED,
};

struct sk__event {
    enum sk__ev_kind kind;
    int err;
    const struct sk_msg *msg; /* borrowed: the delivering call still holds it */
    char *copy;               /* or an owned copy of the message bytes */
    size_t copylen;
};

/* Room for a burst of provisional responses plus final, timeout or error,
 * and terminated. */
#define SK__EVQ 8

/* ---- transactions and shards ------------------------------------------- */

struct sk__shard;
struct sk__ctx;

struct sk_txn {
    struct sk_txn_table *table;
    struct sk__shard *shard;
    atomic_uint refs;
    enum sk_txn_kind kind;
    enum sk_txn_state state;
    bool reliable; /* sent over TCP/TLS/WS: no retransmissions, zero waits */
    bool rfc2543;  /* server: request without the magic cookie */
    bool in_table;
    bool delivering;       /* a thread owns the event queue (see table.c) */
    bool let_go_at_final;  /* server: the TU answers nothing after its final (retire.c) */
    bool let_go_at_2xx;    /* INVITE client: the TU reads no request after a 2xx */
    unsigned status;       /* last response sent (server) or received (client) */
    uint64_t hash;         /* of the matching key, set before it is linked */
    struct sk_hnode hnode; /* in the shard's table while in_table */
    struct sk_txn *dnext;  /* delivery list of the owning context */
    const struct sk__ctx *dctx;
    /* Two timers run at once at most: a retransmission one (A, E, G or
     * the 100 Trying delay) and a lifetime one (B, D, F, H, I, J, K, L, M). */
    struct sk__timer tm_retx;
    struct sk__timer tm_life;
    uint32_t retx_ms; /* current retransmission interval */
    struct sk_addr peer;
    struct sk_arena arena;       /* the request copy and small keys */
    struct sk_msg req;           /* parsed from the copy in the arena */
    struct sk_buf out;           /* server: last response; INVITE client: the ACK */
    struct sk_slice resp_to_tag; /* RFC 2543 ACK matching: To tag we sent */
    void *user;
    struct sk__event evq[SK__EVQ];
    unsigned evhead;
    unsigned evcount;
};

/* A retired server transaction (retire.c): what answering retransmissions
 * of its request until Timer J (non-INVITE) or absorbing them until Timer
 * L (INVITE, Accepted) needs, in one allocation. */
struct sk__done {
    struct sk_hnode hnode; /* in the shard's done table, same hash as the txn */
    struct sk__done *next; /* the shard's expiry FIFO, oldest first */
    uint64_t due;          /* Timer J */
    uint32_t resp_len;
    uint16_t port; /* top Via sent-by */
    uint8_t flags;
    uint8_t tp;        /* enum sk_transport */
    uint8_t method_id; /* enum sk_method */
    uint8_t sslen;     /* of the peer address */
    uint8_t addr_len;  /* bytes of it kept in data */
    uint8_t branch_len;
    uint8_t host_len;
    uint8_t method_len; /* method bytes kept only for SK_METHOD_OTHER */
    /* Peer address, branch, sent-by host, method, final response. */
    char data[];
};

struct sk__shard {
    pthread_mutex_t lock;
    struct sk_htab txns;
    struct sk__heap heap;
    struct sk_htab done; /* retired transactions */
    struct sk__done *done_head;
    struct sk__done *done_tail;
};

struct sk_txn_table {
    struct sk_txn_settings set; /* defaults filled in */
    struct sk_txn_hooks hooks;
    unsigned nshards;
    atomic_size_t live;
    struct sk__shard *shards;
};

/* One entry into the layer (receive, tick, an API call): the time it
 * runs at and the transactions whose events this thread must deliver once
 * it has dropped the shard lock. */
struct sk__ctx {
    uint64_t now;
    struct sk_txn *deliver;
};

/* ---- table.c: used by the machines (shard lock held) ------------------- */

int sk__txn_send(struct sk_txn *txn, const char *data, size_t len);
void sk__txn_arm(struct sk_txn *txn, struct sk__timer *tm, enum sk_txn_timer which, uint64_t now,
                 uint32_t ms);
void sk__txn_disarm(struct sk_txn *txn, struct sk__timer *tm);
void sk__txn_post(struct sk__ctx *ctx, struct sk_txn *txn, enum sk__ev_kind kind, int err,
                  const struct sk_msg *msg);
/* Move to Terminated: stop timers, leave the table, queue on_terminated. */
void sk__txn_terminate(struct sk__ctx *ctx, struct sk_txn *txn);
/* The log line of a timeout (Timer B, F, H): the request's method,
 * Call-ID, Request-URI and peer. */
void sk__txn_log_timeout(const struct sk_txn *txn, enum sk_txn_timer which);
/* Report a send failure and terminate. Returns err. */
int sk__txn_fail(struct sk__ctx *ctx, struct sk_txn *txn, int err);

/* Start / finish an API call: read the clock; deliver the queued events
 * (call with no lock held). */
void sk__ctx_begin(struct sk__ctx *ctx, struct sk_txn_table *t);
void sk__ctx_end(struct sk__ctx *ctx);

/* ---- client.c / server.c (shard lock held) ------------------------------ */

int sk__client_start(struct sk__ctx *ctx, struct sk_txn *txn);
void sk__client_response(struct sk__ctx *ctx, struct sk_txn *txn, const struct sk_msg *resp);
void sk__client_timer(struct sk__ctx *ctx, struct sk_txn *txn, enum sk_txn_timer which);

void sk__server_start(struct sk__ctx *ctx, struct sk_txn *txn);
/* A retransmitted request or an ACK matched txn. Returns true when the
 * message must go up to the TU (an ACK in the Accepted state). */
bool sk__server_request(struct sk__ctx *ctx, struct sk_txn *txn, const struct sk_msg *req);
int sk__server_respond(struct sk__ctx *ctx, struct sk_txn *txn, const char *data, size_t len,
                       unsigned status);
void sk__server_timer(struct sk__ctx *ctx, struct sk_txn *txn, enum sk_txn_timer which);

/* ---- retire.c (shard lock held) ---------------------------------------- */

/* May txn be replaced by a struct sk__done: a non-INVITE server
 * transaction over UDP, Completed and waiting for Timer J, with nothing
 * queued, no user pointer and exactly refs references (the table's, plus
 * the deliverer's when it asks). */
bool sk__txn_retirable(const struct sk_txn *txn, unsigned refs);
/* Put a struct sk__done in txn's place and terminate txn (on_terminated is
 * queued on ctx; the table's reference is dropped). Returns false, with
 * nothing changed, when memory is short. */
bool sk__txn_retire(struct sk__ctx *ctx, struct sk_txn *txn);
/* Request m hashing to h matches a retired transaction of sh: the final
 * response went out again (§17.2.2). Returns whether it matched. */
bool sk__done_request(struct sk_txn_table *t, struct sk__shard *sh, uint64_t h,
                      const struct sk_msg *m);
/* Free the retired transactions whose Timer J is due; returns how many. */
unsigned sk__done_expire(struct sk_txn_table *t, struct sk__shard *sh, uint64_t now);
uint64_t sk__done_next_due(const struct sk__shard *sh);
void sk__done_free_all(struct sk_txn_table *t, struct sk__shard *sh);

/* ---- build.c ----------------------------------------------------------- */

/* RFC 3261 §17.1.1.3: the ACK for a non-2xx final response. */
int sk__build_ack(const struct sk_msg *req, const struct sk_msg *resp, struct sk_buf *out);
/* A response to req (§8.2.6) with an empty body; for 100 the Timestamp
 * header is copied (§8.2.6.1). */
int sk__build_response(const struct sk_msg *req, unsigned status, const char *reason,
                       struct sk_slice to_tag, struct sk_buf *out);
/* Status code of a serialized response ("SIP/2.0 NNN ..."), or 0. */
unsigned sk__response_status(const char *data, size_t len);
/* Branch parameter starts with RFC 3261's magic cookie (§8.1.1.7). */
bool sk__branch_is_3261(struct sk_slice branch);

#endif
