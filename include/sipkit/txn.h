/*
 * sipkit transaction layer: the four RFC 3261 §17 state machines (INVITE
 * and non-INVITE, client and server) with timers A-K, the RFC 6026
 * "Accepted" state for INVITE, and the table that matches incoming messages
 * to transactions (§17.1.3, §17.2.3, the RFC 2543 fallback, CANCEL per §9.2).
 *
 * Wiring: the transport hands every parsed message to
 * sk_txn_table_receive(); the layer sends through the send callback; the
 * event loop calls sk_txn_table_tick() when sk_txn_table_next_due() says a
 * timer is due. Time comes from the injected clock callback only, so tests
 * drive the machines with a fake clock. The transaction user (TU: server
 * core, proxy, UA) gets callbacks (struct sk_txn_hooks) and answers with
 * sk_txn_respond(), starts requests with sk_txn_client_new().
 *
 * Memory: each transaction owns copies of everything it must keep: the
 * request it was created from (bytes in a per-transaction arena, parsed into
 * its own struct sk_msg), the last response a server transaction sent and
 * the ACK a client INVITE transaction built. Bytes given to
 * sk_txn_client_new() and sk_txn_respond() are copied; the caller keeps
 * ownership of its buffer. Messages passed to sk_txn_table_receive() are only
 * read during the call; nothing keeps a pointer into the transport's buffer.
 * A transaction is reference counted: the table holds a reference until the
 * transaction terminates; a struct sk_txn * returned through an out
 * parameter carries a reference the caller drops with sk_txn_unref(); a
 * pointer passed to a callback is borrowed for the call and stays valid
 * until the transaction's on_terminated callback has returned (take a
 * reference with sk_txn_ref() to keep it longer or to use it from another
 * thread). The table is freed with sk_txn_table_free() once no thread
 * calls into it and the TU has dropped its references.
 *
 * Retirement: a non-INVITE server transaction over UDP that is Completed
 * (final response sent, Timer J running, RFC 3261 §17.2.2) and that the
 * TU no longer holds (no reference of its own, no user pointer) is
 * retired when its last callback returns or the TU's last reference goes:
 * the table keeps only its matching key, peer and final response to
 * answer retransmissions until Timer J, and on_terminated is delivered
 * then (so from inside sk_txn_unref() too). To keep the request or the
 * transaction past its answer, hold a reference or set a user pointer.
 *
 * Threads: one table is shared by all worker threads. It is split into
 * shards by a hash of the branch (or of the Call-ID for RFC 2543 requests);
 * each shard has its own lock, hash chains and timer heap. Per-worker tables
 * do not work: with SO_REUSEPORT the kernel picks a worker by the peer's
 * address, so a response from the next hop lands on an arbitrary worker,
 * not on the one that created the client transaction. Every function may be
 * called from any thread. The send callback is called with a shard lock
 * held: it must not block and must not call into this layer. TU callbacks
 * are never called with a lock held; they may call any function of this
 * layer except sk_txn_table_receive(), sk_txn_table_tick() and
 * sk_txn_table_free(). Callbacks for one transaction are delivered one at a
 * time and in the order the state machine produced them, even when the
 * messages causing them arrive on different threads; on_terminated is
 * always the last one. A callback may be delivered from inside an API call
 * (e.g. on_terminated from sk_txn_respond() over TCP).
 */
#ifndef SIPKIT_TXN_H
#define SIPKIT_TXN_H

#include <sipkit/base.h>
#include <sipkit/msg.h>
#include <sipkit/transport.h>

/* ---- settings ---------------------------------------------------------- */

#define SK_TXN_DEFAULT_T1_MS      500u
#define SK_TXN_DEFAULT_T2_MS      4000u
#define SK_TXN_DEFAULT_T4_MS      5000u
#define SK_TXN_DEFAULT_TIMER_D_MS 32000u
#define SK_TXN_DEFAULT_TRYING_MS  200u
#define SK_TXN_DEFAULT_SHARDS     16u
#define SK_TXN_MAX_SHARDS         1024u

/* RFC 3261 §17 timer values. A zeroed field means "the default". */
struct sk_txn_settings {
    uint32_t t1_ms;      /* RTT estimate: A, B, E, F, G, H, J derive from it */
    uint32_t t2_ms;      /* cap on non-INVITE and response retransmit intervals */
    uint32_t t4_ms;      /* max time a message stays in the network: I, K */
    uint32_t timer_d_ms; /* INVITE client Completed wait over UDP (>= 32 s) */
    /* RFC 3261 §17.2.1: an INVITE server transaction sends 100 Trying unless
     * it knows the TU answers within 200 ms. We wait trying_ms for the TU's
     * first response and send 100 Trying only if none came (a retransmitted
     * INVITE before then gets it at once). -1 sends it immediately, before
     * the TU sees the request; 0 means the default (200 ms). */
    int32_t trying_ms;
    /* RFC 6026: INVITE transactions go to Accepted after a 2xx and linger
     * 64*T1 (Timers L and M) so 2xx retransmissions reach the TU and
     * INVITE retransmissions are absorbed. Set to use plain RFC 3261
     * (Terminated at once). */
    bool no_accepted_state;
    unsigned shards;             /* power of two, 1..SK_TXN_MAX_SHARDS */
    struct sk_msg_limits limits; /* for parsing the copies we keep */
};

/* ---- transactions ------------------------------------------------------ */

struct sk_txn;
struct sk_txn_table;

enum sk_txn_kind {
    SK_TXN_INVITE_CLIENT,     /* §17.1.1 */
    SK_TXN_NON_INVITE_CLIENT, /* §17.1.2 */
    SK_TXN_INVITE_SERVER,     /* §17.2.1 */
    SK_TXN_NON_INVITE_SERVER, /* §17.2.2 */
};

enum sk_txn_state {
    SK_TXN_CALLING,    /* INVITE client */
    SK_TXN_TRYING,     /* non-INVITE client and server */
    SK_TXN_PROCEEDING, /* all four */
    SK_TXN_COMPLETED,  /* all four */
    SK_TXN_CONFIRMED,  /* INVITE server */
    SK_TXN_ACCEPTED,   /* INVITE client and server, RFC 6026 */
    SK_TXN_TERMINATED,
};

/* Timers by their RFC letter; L and M are RFC 6026's. TRYING is our delay
 * for the automatic 100 (Trying). */
enum sk_txn_timer {
    SK_TXN_TIMER_NONE = 0,
    SK_TXN_TIMER_A,
    SK_TXN_TIMER_B,
    SK_TXN_TIMER_D,
    SK_TXN_TIMER_E,
    SK_TXN_TIMER_F,
    SK_TXN_TIMER_G,
    SK_TXN_TIMER_H,
    SK_TXN_TIMER_I,
    SK_TXN_TIMER_J,
    SK_TXN_TIMER_K,
    SK_TXN_TIMER_L,
    SK_TXN_TIMER_M,
    SK_TXN_TIMER_TRYING,
};

const char *sk_txn_state_name(enum sk_txn_state s);
const char *sk_txn_kind_name(enum sk_txn_kind k);
const char *sk_txn_timer_name(enum sk_txn_timer t);

/* ---- callbacks ---------------------------------------------------------- */

/* Current time in milliseconds on a monotonic clock. */
typedef uint64_t (*sk_txn_clock_cb)(void *arg);
/* Send bytes to dst. Return 0, or a negative code: the transaction then
 * reports a transport error (§17.1.4, §17.2.4) and terminates. Called with a
 * shard lock held: do not block, do not call into this layer. */
typedef int (*sk_txn_send_cb)(void *arg, const struct sk_addr *dst, const char *data, size_t len);

/* A new server transaction was created for req (the transaction's own
 * copy, valid while the transaction lives, see sk_txn_request()). The TU
 * answers with sk_txn_respond(). For CANCEL, sk_txn_cancel_target() finds the INVITE. */
typedef void (*sk_txn_request_cb)(void *arg, struct sk_txn *txn, const struct sk_msg *req);
/* A response for a client transaction that §17.1 passes up: provisional
 * responses, the final response, and (Accepted state) 2xx
 * retransmissions. resp is valid for the call only. */
typedef void (*sk_txn_response_cb)(void *arg, struct sk_txn *txn, const struct sk_msg *resp);
/* A message that belongs to no transaction and goes to the TU as is
 * (valid for the call only): an ACK that matches no INVITE server
 * transaction (the ACK for a 2xx, RFC 3261 §17.2.3 / §13.3.1.4) or an ACK
 * received in the Accepted state; or a response that matches no client
 * transaction (§18.1.2: a UA discards it, a stateless proxy forwards it). */
typedef void (*sk_txn_stray_cb)(void *arg, const struct sk_msg *msg, const struct sk_addr *from);
/* Timer B, F (client) or H (server) fired. For a client transaction, resp
 * is a locally built "408 Request Timeout" to treat as the final response
 * (§8.1.3.1, §16.7 step 2); NULL for a server transaction. */
typedef void (*sk_txn_timeout_cb)(void *arg, struct sk_txn *txn, const struct sk_msg *resp);
/* Sending failed with err. For a client transaction, resp is a locally
 * built "503 Service Unavailable" (§8.1.3.1); NULL for a server one. */
typedef void (*sk_txn_tperr_cb)(void *arg, struct sk_txn *txn, int err, const struct sk_msg *resp);
/* The transaction reached Terminated: the last callback for it. */
typedef void (*sk_txn_terminated_cb)(void *arg, struct sk_txn *txn);

struct sk_txn_hooks {
    sk_txn_clock_cb clock; /* NULL: sk_now_ms() */
    void *clock_arg;
    sk_txn_send_cb send; /* required */
    void *send_arg;
    /* TU callbacks, all called with tu_arg; any may be NULL. */
    void *tu_arg;
    sk_txn_request_cb on_request;
    sk_txn_response_cb on_response;
    sk_txn_stray_cb on_ack;
    sk_txn_stray_cb on_stray_response;
    sk_txn_timeout_cb on_timeout;
    sk_txn_tperr_cb on_transport_error;
    sk_txn_terminated_cb on_terminated;
};

/* ---- the table ----------------------------------------------------------- */

/* settings may be NULL for the defaults. Returns 0, SK_EINVAL (no send
 * callback, bad shard count) or SK_ENOMEM. */
int sk_txn_table_new(struct sk_txn_table **out, const struct sk_txn_settings *settings,
                     const struct sk_txn_hooks *hooks);
/* Drops the table's reference on every live transaction without callbacks
 * and frees the table. NULL-safe. */
void sk_txn_table_free(struct sk_txn_table *t);

/* Feed one parsed message that arrived from `from`. Requests go to their
 * server transaction (a retransmission or ACK is absorbed or answered from
 * the stored response), create one (on_request) or, for an unmatched ACK,
 * go to on_ack. Responses go to their client transaction or to
 * on_stray_response. Returns 0; SK_ENOMEM when a new transaction could not
 * be created (the TU may then answer 500 statelessly); SK_EINVAL when the
 * message lacks what matching needs (no Via, no CSeq). */
int sk_txn_table_receive(struct sk_txn_table *t, const struct sk_msg *msg,
                         const struct sk_addr *from);

/* Fire every timer due at or before now. Returns how many fired. Any
 * thread may call it; shards are processed one at a time. */
unsigned sk_txn_table_tick(struct sk_txn_table *t, uint64_t now);
/* Earliest due time (ms, same clock) of any armed timer, or UINT64_MAX. */
uint64_t sk_txn_table_next_due(struct sk_txn_table *t);
/* Live (not yet terminated) transactions: a draining server waits for 0. */
size_t sk_txn_table_count(struct sk_txn_table *t);
/* The transactions in the table now, by kind and state (the admin
 * layer's gauges): counts[kind][state]. Walks every shard under its lock,
 * one at a time: meant for a scrape every few seconds, not per request. */
#define SK_TXN_KINDS  4
#define SK_TXN_STATES 7
void sk_txn_table_census(struct sk_txn_table *t, size_t counts[SK_TXN_KINDS][SK_TXN_STATES]);
const struct sk_txn_settings *sk_txn_table_settings(const struct sk_txn_table *t);

/* ---- client transactions --------------------------------------------------- */

/* Start a client transaction for the request in req[0..len) (a complete
 * message whose top Via carries a branch starting with "z9hG4bK", see
 * sk_txn_make_branch()) sent to dst. INVITE gets an INVITE client
 * transaction, anything else a non-INVITE one; ACK is refused (SK_EINVAL:
 * the ACK for a 2xx is sent by the TU straight to the transport). The
 * request is sent before this returns; a send failure is reported through
 * on_transport_error. *out (may be NULL) gets a reference. Returns 0,
 * SK_EPARSE, SK_EINVAL, SK_EEXIST (branch already in use) or SK_ENOMEM. */
int sk_txn_client_new(struct sk_txn_table *t, const char *req, size_t len,
                      const struct sk_addr *dst, void *user, struct sk_txn **out);

/* RFC 3261 §9.1: build the CANCEL for a request: same Request-URI,
 * Call-ID, From, To, CSeq number (method CANCEL), a single Via equal to the
 * request's top Via, its Route headers, Max-Forwards 70, no body. */
int sk_txn_build_cancel(const struct sk_msg *req, struct sk_buf *out);
/* Build the CANCEL for an INVITE client transaction and start it as a
 * non-INVITE client transaction to the same destination. §9.1: only after
 * a provisional response: SK_ESTATE before one (send it when the first
 * 1xx arrives) or once a final response arrived. *out as above. */
int sk_txn_cancel(struct sk_txn *invite, void *user, struct sk_txn **out);

/* "z9hG4bK" followed by 22 random characters, NUL-terminated. */
#define SK_TXN_BRANCH_LEN 29
void sk_txn_make_branch(char out[SK_TXN_BRANCH_LEN + 1]);

/* ---- server transactions --------------------------------------------------- */

/* Send a response (a complete message, copied) on a server transaction.
 * The state machine decides what happens next (§17.2.1, §17.2.2). Returns
 * 0; SK_ESTATE when the machine takes no response in its state (e.g. a
 * second final response); SK_EPARSE when resp has no valid status line;
 * the send error (after on_transport_error and on_terminated). */
int sk_txn_respond(struct sk_txn *txn, const char *resp, size_t len);
/* The TU answers this request statelessly (RFC 3261 §8.2.7 for a UAS,
 * §16.11 for a proxy) or not at all: the server transaction terminates
 * now, sends nothing (not even the pending 100 Trying) and keeps nothing.
 * A retransmission of the request then makes a new transaction and gets a
 * fresh answer; the ACK for a non-2xx the TU sent matches nothing and goes
 * to on_ack. This is how challenges cost no memory: a 401/407 is not held
 * 32 s for Timer J or retransmitted by Timer G to a peer that never
 * answers. Returns 0, SK_EINVAL (not a server transaction) or SK_ESTATE (a
 * final response was already sent through the machine). */
int sk_txn_forget(struct sk_txn *txn);
/* Build a response to the transaction's request (§8.2.6: Via, From, To with
 * to_tag added when the request had none and to_tag is not empty, Call-ID,
 * CSeq; Content-Length 0) and send it with sk_txn_respond(). */
int sk_txn_respond_status(struct sk_txn *txn, unsigned status, const char *reason,
                          struct sk_slice to_tag);

/* RFC 3261 §9.2: for the server transaction of a CANCEL, the INVITE server
 * transaction it cancels (same branch and sent-by, or the RFC 2543 fields),
 * with a reference; NULL when there is none (answer the CANCEL with 481). */
struct sk_txn *sk_txn_cancel_target(struct sk_txn *cancel);

/* ---- accessors ------------------------------------------------------------- */

void sk_txn_ref(struct sk_txn *txn);
void sk_txn_unref(struct sk_txn *txn); /* NULL-safe */

enum sk_txn_kind sk_txn_kind(const struct sk_txn *txn);
/* A snapshot: another thread may move the machine right after. */
enum sk_txn_state sk_txn_state(struct sk_txn *txn);
/* The request the transaction was created from (its own copy), valid
 * while the caller may use txn (see the memory rules above). */
const struct sk_msg *sk_txn_request(const struct sk_txn *txn);
/* The peer: where the request came from (server) or goes to (client). */
const struct sk_addr *sk_txn_peer(const struct sk_txn *txn);
/* Last status sent (server) or received (client); 0 when none. */
unsigned sk_txn_status(struct sk_txn *txn);
void *sk_txn_user(const struct sk_txn *txn);
void sk_txn_set_user(struct sk_txn *txn, void *user);
/* Server transactions: the TU promises to answer nothing through txn after
 * its final response (a 2xx retransmission of an INVITE it sends itself;
 * sk_txn_respond() then says SK_ESTATE). Once answered, the transaction
 * is retired to a compact record at once (a non-INVITE one over UDP in
 * Completed, an INVITE one in Accepted), even while the TU still holds a
 * reference and a user pointer: on_terminated comes then, not after Timer
 * J or L, and the TU's reference keeps only the request readable. A proxy
 * does this for what it forwards. */
void sk_txn_let_go_at_final(struct sk_txn *txn);
/* INVITE client transactions: the TU promises not to read sk_txn_request()
 * any more once a 2xx arrived (not even from a callback running then; it
 * may still be told of 2xx retransmissions and CANCEL nothing after a
 * final response anyway). In Accepted (RFC 6026 §7.2, Timer M: 64*T1) the
 * transaction then keeps of its request only the top Via branch, the
 * method and the CSeq: what matching responses needs. A proxy does this
 * for its branches. */
void sk_txn_let_go_at_2xx(struct sk_txn *txn);
struct sk_txn_table *sk_txn_table_of(const struct sk_txn *txn);

#endif
