/*
 * Private state of the server layer, shared by server.c (lifecycle, timer
 * thread, reload, drain), pipeline.c (what happens to each request),
 * merge.c (merged requests), auth.c (digest challenges), registrar.c and the
 * proxy (proxy*.c).
 *
 * Every request that parses goes through the transaction table: the
 * transport hands it to sk_txn_table_receive(), which absorbs
 * retransmissions and calls the pipeline (on_request) once per new server
 * transaction with a struct sk__req. Handlers answer with sk__reply() or
 * sk__resp_start() + headers + sk__resp_send(); they may also keep a
 * reference on r->txn (sk_txn_ref) and answer later from any thread with
 * sk_txn_respond().
 *
 * Ownership: the server owns its transport, transaction table, store,
 * location service, auth state and merge table. A struct sk__req lives on
 * the stack of the callback that handles the request; r->m is the
 * transaction's own copy of the request, valid while the transaction
 * lives.
 */
#ifndef SK_SERVER_INTERNAL_H
#define SK_SERVER_INTERNAL_H

#include <sipkit/auth.h>
#include <sipkit/events.h>
#include <sipkit/msg.h>
#include <sipkit/server.h>
#include <sipkit/store.h>
#include <sipkit/txn.h>

#include <pthread.h>
#include <stdatomic.h>

struct sk__merge;
struct sk__authwatch;
struct sk__events;
struct sk__proxy;
struct sk__guard;
struct sk__rechallenge;
struct sk__natping;

struct sk_server {
    struct sk_server_config cfg;
    struct sk_tp *tp;
    struct sk_txn_table *txns;
    struct sk_store *store;
    struct sk_location *loc;
    struct sk_auth *auth;
    struct sk__authwatch *authwatch; /* auth_watch.c: challenges never answered */
    struct sk__merge *merge;
    struct sk__events *events;           /* events.c: SUBSCRIBE, PUBLISH, NOTIFY */
    struct sk__proxy *proxy;             /* running forks (proxy_run.c) */
    struct sk__media *media;             /* rtpengine instances (media.c) */
    struct sk__guard *guard;             /* bans, rate limits, slow-downs (guard.c) */
    struct sk__rechallenge *rechallenge; /* nonces of recent challenges (rechallenge.c) */
    /* Addresses that mean "this server" in a Via (loop detection) or a
     * Request-URI: every bound listener, wildcards expanded to the host's
     * interfaces. */
    struct sk_addr *self;
    size_t nself;
    _Atomic uint64_t rejected;
    /* Metrics (stats.c): relaxed increments on the hot path. */
    _Atomic uint64_t n_requests[SK_METHOD__COUNT];
    _Atomic uint64_t n_responses[SK_SERVER_CLASSES];
    _Atomic uint64_t n_auth_failures[SK_AUTH_CAUSE__COUNT];
    _Atomic uint64_t n_auth_throttled;
    uint64_t started_ms;
    _Atomic bool draining; /* SIGTERM: new requests get 503 */
    /* The timer thread ticks the transaction table and purges expired
     * bindings (server.c). */
    pthread_t timer;
    pthread_mutex_t timer_lock;
    pthread_cond_t timer_cond;
    bool timer_started;
    bool timer_stop;
    uint64_t nat_next_keepalive; /* nat_keepalive.c, timer thread only: ms */
    struct sk__natping *natping; /* nat_ping.c: OPTIONS keep-alives outstanding */
    _Atomic uint64_t n_ka_sent, n_ka_answered, n_ka_dead; /* keep-alives (metrics) */
};

/* One request handled by the server core: a new server transaction. */
struct sk__req {
    struct sk_server *s;
    struct sk_txn *txn;       /* borrowed for the callback; NULL when stateless */
    struct sk_rx *rx;         /* stateless requests: answered where rx came from */
    const struct sk_msg *m;   /* the transaction's copy of the request */
    const struct sk_addr *to; /* where responses go (transport, conn_id) */
    struct sk_buf out;        /* the response being built */
    /* Set by sk__auth_check() when the request carried good credentials. */
    char user[SK_AUTH_NAME_MAX + 1];
};

/* ---- server.c ------------------------------------------------------------ */

/* Purge expired bindings (the timer thread calls it every second). */
void sk__server_purge(struct sk_server *s);

/* ---- nat_keepalive.c ------------------------------------------------------ */

/* Every nat.keepalive_interval seconds, a keep-alive to each UDP binding
 * whose REGISTER came from behind a NAT. Timer thread only. */
void sk__nat_keepalive_tick(struct sk_server *s, uint64_t now_ms);
/* Whether the configuration asks for OPTIONS keep-alives (else CRLF). */
bool sk__nat_keepalive_options(const struct sk_server_config *c);
/* The stray-response hook: answers to our OPTIONS keep-alives are
 * counted; the rest goes to the proxy. */
void sk__nat_keepalive_response(struct sk_server *s, const struct sk_msg *resp,
                                const struct sk_addr *from);
/* The transport's hook for a closed TCP connection (arg is the server):
 * the bindings of that flow that cannot be reached any other way (behind
 * NAT, or an Outbound flow) are removed. */
void sk__nat_flow_closed(void *arg, uint64_t conn_id, const struct sk_addr *peer);
/* The transport's on_idle: whether an idle connection carries a live
 * registration, and so stays open. */
bool sk__nat_flow_idle(void *arg, uint64_t conn_id, const struct sk_addr *peer);

/* ---- pipeline.c ---------------------------------------------------------- */

/* The transport's receive callback (arg is the server). */
void sk__pipeline_recv(void *arg, struct sk_rx *rx);
/* The transaction table's hooks, pointing at the pipeline and the proxy. */
void sk__pipeline_hooks(struct sk_server *s, struct sk_txn_hooks *h);

/* Start a response (status line, Via/From/To/Call-ID/CSeq, a To tag for
 * codes above 100, Server). reason NULL = the registered phrase. */
void sk__resp_start(struct sk__req *r, unsigned code, const char *reason);
/* Content-Length, the empty line, send on the transaction. */
int sk__resp_send(struct sk__req *r);
/* Send the response without keeping state (RFC 3261 §8.2.7, §16.11):
 * the transaction, if any, is forgotten (sk_txn_forget), so nothing holds
 * or retransmits it; a retransmitted request gets a new answer. For
 * challenges and refusals an attacker can ask for at will. */
int sk__resp_send_stateless(struct sk__req *r);
/* Send bytes to an address as the transaction layer would (requests may
 * leave UDP for TCP, §18.1.1; responses keep their transport). */
int sk__send_to(struct sk_server *s, const struct sk_addr *dst, const char *data, size_t len);
/* A response with no extra headers; >= 300 is logged as a rejection. */
void sk__reply(struct sk__req *r, unsigned code, const char *reason);
/* A request the store could not serve (a write it could not make
 * durable, a user it could not look up): 503 with Retry-After when the
 * database is unreachable (SK_EUNAVAIL: it reconnects by itself), else
 * 500 with reason (NULL = the registered phrase). */
void sk__reply_store_failed(struct sk__req *r, int rc, const char *reason);
#define SK__STORE_RETRY_AFTER "5"
/* Log a refusal: status, reason and a cause for the log only. */
void sk__log_reject(struct sk__req *r, unsigned code, const char *reason, const char *cause);
/* Whether host names this server: the served domain or a bound address. */
bool sk__is_our_host(const struct sk_server *s, const struct sk_uri *u);
/* Whether a Request-URI addresses this server itself, not a user nor
 * another host: no user part, a transport we serve, and one of our
 * addresses with its port, or our domain (with one of our ports when it
 * has one). Outside a dialog any port of ours counts (clients get ports
 * wrong); within one, a UA on this host is another party. */
bool sk__is_for_us(const struct sk_server *s, const struct sk_uri *u, bool in_dialog);

/* ---- cluster.c: bindings owned by the node holding their connection ---- */
/* Whether the store is shared with other nodes (PostgreSQL). */
bool sk__cluster_mode(const struct sk_server *s);
/* The Path naming this node and flow, into out. Returns 0, SK_ETOOBIG,
 * SK_ENOTFOUND (no address of ours) or SK_ENOMEM. */
int sk__cluster_path(const struct sk_server *s, const struct sk_addr *flow, char *out,
                     size_t outsz);
/* Whether path is the one sk__cluster_path() writes for flow here. */
bool sk__cluster_path_ours(const struct sk_server *s, const char *path, const struct sk_addr *flow);
/* Where a binding with another node's cluster Path is sent: that node.
 * Returns 0, SK_ENOTFOUND when path is not a cluster Path, SK_EPARSE. */
int sk__cluster_path_dst(const char *path, struct sk_addr *dst);
/* The domain part matches the served domain (case-insensitive). */
bool sk__is_our_domain(const struct sk_server *s, struct sk_slice host);
/* Whether a URI's host claims to be us in any spelling: the domain in any
 * case, with or without a trailing dot, or an IP literal (any IPv6 form)
 * of one of our addresses, whatever the port. Identity checks use this,
 * never an exact string match, so a spelling cannot skip authentication. */
bool sk__claims_our_domain(const struct sk_server *s, const struct sk_uri *u);

/* ---- stats.c: counters for the admin layer ------------------------------- */

/* A new request (not a retransmission) reached the server. */
void sk__count_request(struct sk_server *s, enum sk_method m);
/* The server sent bytes: counted when they are a response. */
void sk__count_sent(struct sk_server *s, const char *data, size_t len);
/* A request refused with an error response (sk__log_reject does it for
 * those it logs). */
void sk__count_rejected(struct sk_server *s);
/* Subscriptions by package and publications, under the events lock. */
void sk__events_counts(struct sk_server *s, size_t subs[SK_EV_PKG__COUNT], size_t *pubs);

/* ---- merge.c: RFC 3261 §8.2.2.2 ----------------------------------------- */

int sk__merge_new(struct sk__merge **out);
void sk__merge_free(struct sk__merge *m);
/* Record a request without To tag; true when another transaction with the
 * same From tag, Call-ID and CSeq but another branch is still recent. */
bool sk__merge_check(struct sk__merge *m, const struct sk_msg *req, uint64_t now_ms,
                     uint64_t lifetime_ms);

/* ---- auth.c ------------------------------------------------------------- */

/* Check the request's credentials (Authorization for SK_AUTH_WWW,
 * Proxy-Authorization for SK_AUTH_PROXY) for the served realm. Returns true
 * with r->user set when they are good; otherwise answers (401/407 with a
 * fresh challenge, stale=true for a stale nonce; 403; 500), logs the cause
 * and returns false. The proxy calls it with SK_AUTH_PROXY. */
bool sk__auth_check(struct sk__req *r, enum sk_auth_kind kind);

/* ---- auth_watch.c: clients challenged that never come back ---------------- */

int sk__authwatch_new(struct sk__authwatch **out);
void sk__authwatch_free(struct sk__authwatch *w); /* NULL-safe */
/* A challenge offering the algorithms of offered went to m's source. */
void sk__authwatch_challenged(struct sk__authwatch *w, const struct sk_msg *m,
                              const struct sk_auth_algos *offered, uint64_t now_ms);
/* m carried credentials: its source and User-Agent came back. */
void sk__authwatch_answered(struct sk__authwatch *w, const struct sk_msg *m);
/* Once a second from the timer thread: warn about the ones that did not. */
void sk__authwatch_tick(struct sk__authwatch *w, uint64_t now_ms);

/* ---- rechallenge.c: the same challenge for a retransmission ---------------- */

int sk__rechallenge_new(struct sk__rechallenge **out);
void sk__rechallenge_free(struct sk__rechallenge *c);
/* The nonce (SK_AUTH_NONCE_MAX + 1 bytes) this request was challenged with
 * within 64*T1; false when none is remembered. */
bool sk__rechallenge_get(struct sk__rechallenge *c, const struct sk_msg *m, uint64_t now_ms,
                         char *nonce);
void sk__rechallenge_put(struct sk__rechallenge *c, const struct sk_msg *m, uint64_t now_ms,
                         const char *nonce);

/* ---- registrar.c -------------------------------------------------------- */

/* The AOR key of a SIP URI: "user@host", user unescaped, host lower-case,
 * no port or parameters (RFC 3261 §10.3 step 5). Returns 0, SK_EINVAL (no
 * user or not sip/sips) or SK_ETOOBIG. The proxy uses it for lookups. */
int sk__aor_key(const struct sk_uri *u, char *out, size_t outsz);
void sk__registrar_handle(struct sk__req *r);

/* ---- proxy hooks (proxy*.c) ------------------------------------------------ */

/* A request the server does not handle as a UAS: the Request-URI names a
 * user (or a host that is not us). The proxy authenticates, routes and
 * forwards it (proxy.c). */
void sk__proxy_request(struct sk__req *r);
/* The INVITE a CANCEL matched (§9.2, §16.10). Return true when the proxy
 * owns it (it then cancels its branches and answers 487 itself); false
 * lets the pipeline answer 487 when the INVITE is still pending. The 200
 * to the CANCEL is sent by the pipeline either way. */
bool sk__proxy_cancel(struct sk_server *s, struct sk_txn *invite);
/* The remaining transaction-layer callbacks (see txn.h), all forwarded. */
void sk__proxy_ack(struct sk_server *s, const struct sk_msg *ack, const struct sk_addr *from);
void sk__proxy_stray_response(struct sk_server *s, const struct sk_msg *resp,
                              const struct sk_addr *from);
void sk__proxy_response(struct sk_server *s, struct sk_txn *txn, const struct sk_msg *resp);
void sk__proxy_timeout(struct sk_server *s, struct sk_txn *txn, const struct sk_msg *resp);
void sk__proxy_transport_error(struct sk_server *s, struct sk_txn *txn, int err,
                               const struct sk_msg *resp);
void sk__proxy_terminated(struct sk_server *s, struct sk_txn *txn);

/* The methods the server itself answers (Allow is generated from them). */
void sk__add_allow(struct sk_buf *b);
/* OPTIONS, 405 and 501 for a request addressed to the server itself. */
void sk__local_handle(struct sk__req *r);

/* ---- events.c, events_notify.c: RFC 6665 notifier ------------------------ */

int sk__events_new(struct sk_server *s);
void sk__events_free(struct sk_server *s);
/* SUBSCRIBE or PUBLISH addressed to our domain: handled by events.c. */
bool sk__events_wants(const struct sk_server *s, const struct sk_msg *req);
void sk__events_handle(struct sk__req *r);
/* Whether a client transaction is one of our NOTIFYs; then the final
 * response (or the locally made 408/503, resp NULL when none) goes to
 * sk__events_response(). */
bool sk__events_owns(const struct sk_txn *txn);
void sk__events_response(struct sk_server *s, struct sk_txn *txn, const struct sk_msg *resp);
/* Once a second from the timer thread: expiry of subscriptions,
 * publications and terminated dialogs. */
void sk__events_tick(struct sk_server *s);
/* The location service's on_change hook (arg is the server): the "reg"
 * package notifies the AOR's watchers. */
void sk__events_reg_changed(void *arg, const char *aor);
/* The proxy's hook for the "dialog" package: one user's view of one
 * INVITE dialog changed (see struct sk_dlg_event in events.h). */
void sk__events_dialog_changed(struct sk_server *s, const struct sk_dlg_event *e);

#endif
