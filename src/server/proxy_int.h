/*
 * Private interface of the stateful proxy (RFC 3261 §16), shared by
 * proxy_edit.c (what a forwarded request and a returned response look
 * like), proxy_fork.c (the response context: branches, serial groups,
 * Timer C and the §16.7 choice of the best response) and proxy.c (wiring
 * to the transaction layer, authentication and the location store).
 *
 * The editing and fork functions are pure: they read parsed messages and
 * write into caller-owned buffers, never send, lock or read a clock, so
 * the unit tests drive them directly.
 */
#ifndef SK_SERVER_PROXY_INT_H
#define SK_SERVER_PROXY_INT_H

#include "server/media.h"
#include <sipkit/events.h>
#include <sipkit/msg.h>
#include <sipkit/transport.h>

/* ---- request editing (proxy_edit.c) --------------------------------------- */

/* Whether a sip/sips URI names this proxy: its host is one of the addresses
 * in self (an IP literal) with the URI's port or the scheme's default, and
 * its transport parameter, when there is one, one we serve (UDP, TCP). */
bool sk__proxy_uri_is_self(const struct sk_uri *u, const struct sk_addr *self, size_t nself);

/* Up to this many Route values are handled; more get 500. */
#define SK__PROXY_MAX_ROUTES 16

/* RFC 3261 §16.4 route information preprocessing, computed once for a
 * received request. Slices point into the request. */
struct sk__route_pre {
    struct sk_slice ruri; /* Request-URI after preprocessing */
    struct sk_uri ruri_parsed;
    bool strict_prev; /* the Request-URI was ours: the last Route replaced it */
    /* Leading Route values (after the strict case) that name us, all
     * removed in one pass: RFC 5658 double record-routing puts two of
     * ours in a row, and a spiral more. */
    size_t ndrop;
    size_t nroutes; /* Route values in the request */
    struct sk_nameaddr routes[SK__PROXY_MAX_ROUTES];
};

/* Returns 0, SK_EPARSE (a Route value is malformed) or SK_ETOOBIG. */
int sk__proxy_preprocess(const struct sk_msg *m, const struct sk_addr *self, size_t nself,
                         struct sk__route_pre *pre);
/* Route values that remain after preprocessing (0 for a request to us). */
size_t sk__proxy_routes_left(const struct sk__route_pre *pre);
/* Whether preprocessing removed anything of ours (a Route value, or the
 * Request-URI a strict router wrote): the request follows a route set. */
bool sk__proxy_routed_to_us(const struct sk__route_pre *pre);
/* The URI of ours that came last: the last Route value removed, or the
 * Request-URI of the strict case. NULL when there is none. */
const struct sk_uri *sk__proxy_last_self(const struct sk__route_pre *pre, const struct sk_msg *m);
/* The next hop after preprocessing: the first remaining Route value's
 * URI, or the Request-URI. */
struct sk_slice sk__proxy_next_hop(const struct sk__route_pre *pre);

/* How to forward one copy of a request (§16.6). Slices must outlive the
 * call. */
struct sk__fwd_plan {
    struct sk_slice target;      /* new Request-URI (step 2); empty: keep pre->ruri */
    struct sk_slice via;         /* our Via value (step 8), with its branch */
    struct sk_slice rr;          /* our Record-Route value (step 4); empty: none */
    const struct sk_slice *path; /* Route values to put first (RFC 3327 Path) */
    size_t npath;
    struct sk_slice realm; /* §22.3: Proxy-Authorization for this realm is removed */
    bool new_body;         /* replace the body with body (Content-Length follows) */
    struct sk_slice body;
};

/* Point plan at a target: its new Request-URI (NULL keeps the request's)
 * and its Path values joined with ", " (NULL for none), split into path
 * (SK__PROXY_MAX_ROUTES slots, which must outlive the plan). */
void sk__proxy_plan_target(struct sk__fwd_plan *plan, const char *uri, const char *path_list,
                           struct sk_slice *path);

/* Write the forwarded request (§16.6 steps 1-8): Request-URI set, Route
 * rebuilt (preprocessing, Path prepended, a strict next hop handled per
 * step 6), Max-Forwards decremented (or 70 added), Record-Route and Via
 * added on top, the previous top Via given received/rport; every other
 * header byte for byte. *next_hop gets the URI to send to: the first
 * Route value's URI, else the Request-URI (a slice into m, plan or
 * scratch). scratch holds built header values; it must stay untouched
 * until out was written. Returns 0, SK_ETOOBIG or SK_ENOMEM. */
int sk__proxy_forward(const struct sk_msg *m, const struct sk__route_pre *pre,
                      const struct sk__fwd_plan *plan, struct sk_buf *scratch, struct sk_buf *out,
                      struct sk_slice *next_hop);

/* §16.11: the branch for a request forwarded statelessly (a 2xx ACK),
 * the same for a retransmission: "z9hG4bK" and a hash of the received top
 * Via's branch (or of the RFC 2543 identifying fields) and the target. */
void sk__proxy_stateless_branch(const struct sk_msg *m, struct sk_slice target, char *out,
                                size_t outsz);

/* ---- loops and spirals (§16.3 step 4, §16.6 step 8) ------------------------ */

/* The loop-detection part of our branch: "lp" and 16 hex digits of a hash
 * over what decides how the request is routed, appended to the unique
 * part. */
#define SK__PROXY_LOOP_TAG_LEN 18

/* The hash of request m as this proxy received it: Request-URI, To and
 * From tags, Call-ID, CSeq number, the sent-by and branch of `below` (the
 * Via that was on top when we received it), Route, Proxy-Require and the
 * Proxy-Authorization values not for `realm` (ours are removed before
 * forwarding, so they cannot be part of what comes back). */
uint64_t sk__proxy_loop_hash(const struct sk_msg *m, const struct sk_via *below,
                             struct sk_slice realm);
/* Write the tag for hash h (SK__PROXY_LOOP_TAG_LEN chars and a NUL). */
void sk__proxy_loop_tag(uint64_t h, char *out);
/* Whether a Via's sent-by is one of our addresses. */
bool sk__proxy_via_is_self(const struct sk_via *v, const struct sk_addr *self, size_t nself);
/* §16.3 step 4: whether m has looped: one of its Vias names us (an address
 * in self) and carries the branch tag that m, with the Via below it as
 * top, would get again. Our Via with another tag means a spiral: the
 * request changed since we forwarded it. Our Via without a tag, or with
 * nothing below it, counts as a loop. */
bool sk__proxy_looped(const struct sk_msg *m, const struct sk_addr *self, size_t nself,
                      struct sk_slice realm);

/* §16.7 step 9 / §18.2.2: write resp without its top Via value. Returns 0,
 * SK_EINVAL (no Via) or SK_ENOMEM. */
int sk__proxy_strip_via(const struct sk_msg *resp, struct sk_buf *out);
/* The same as an operation on an edit of the response (e->m). */
int sk__proxy_edit_strip_via(struct sk_msg_edit *e);
/* A branch response passed upstream: its Vias replaced by those of the
 * request that came in (up, with received/rport on top). For a UAS that
 * copied every Via (§8.2.6.2) this equals removing our Via; it also
 * repairs a response that kept only ours, as a UAS answering our CANCEL's
 * INVITE from the CANCEL's single Via does. The edit form holds built
 * values in sc (untouched until the edit is written). Returns 0,
 * SK_EINVAL (no Via), SK_ETOOBIG or SK_ENOMEM. */
int sk__proxy_edit_vias(struct sk_msg_edit *e, const struct sk_msg *up, struct sk_buf *sc);
int sk__proxy_relay_response(const struct sk_msg *resp, const struct sk_msg *up,
                             struct sk_buf *out);

/* ---- Record-Route values and their tokens (proxy_route.c) ------------------ */

struct sk_auth;

#define SK__RR_PARAM       "sk" /* the URI parameter holding the token */
#define SK__RR_TOKEN_LEN   32   /* hex digits */
#define SK__RR_HOP_KEY_MAX 128

/* The transport of the leg a value of ours names: its transport parameter
 * (sips: TCP), UDP without one. */
enum sk_transport sk__rr_leg(const struct sk_uri *u);
/* The transport a request to u leaves on: TLS for sips: and
 * transport=tls, TCP for transport=tcp, UDP for udp, def otherwise. */
enum sk_transport sk__uri_transport(const struct sk_uri *u, enum sk_transport def);
/* One text per place a URI leads to: the transport (def unless the URI
 * names one), the address in one spelling and the port. Returns 0,
 * SK_EPARSE or SK_ETOOBIG. */
int sk__rr_hop_key(struct sk_slice uri, enum sk_transport def, char *out, size_t outsz);
/* The token of a dialog (Call-ID, the caller's tag) towards hop (a hop
 * key): SK__RR_TOKEN_LEN hex digits and a NUL. Returns 0 or an error of
 * sk_auth_mac(). */
int sk__rr_token(struct sk_auth *a, struct sk_slice call_id, struct sk_slice tag, const char *hop,
                 char *out);

/* One side of the proxy: our address as the peers on it see it
 * ("127.0.0.1:5060", "[::1]:5060") and the transport. */
struct sk__rr_side {
    const char *host;
    enum sk_transport tp;
    const char *params; /* more URI parameters (";skfa=..."), or NULL */
};
/* Append the Record-Route value(s) for dialog-creating request req,
 * received on side in and sent on side out: one value, or two when the
 * sides differ (RFC 5658), the out side's on top. Their token names the
 * caller's side (req's first Record-Route value, else its Contact).
 * Returns 0, SK_ENOMEM or an error of sk_auth_mac(). */
int sk__rr_values(struct sk_auth *a, const struct sk_msg *req, const struct sk__rr_side *out,
                  const struct sk__rr_side *in, struct sk_buf *b);
/* Check the route token of an in-dialog request whose preprocessing
 * removed values of ours: the last of them must carry a token for m's
 * Call-ID, its From or To tag, and the next hop. On success *dst is where
 * to send it. Otherwise *why is a reason phrase naming the defect and the
 * return SK_EAUTH, SK_EPARSE or SK_ENOTFOUND. */
int sk__rr_check(struct sk_auth *a, const struct sk_msg *m, const struct sk__route_pre *pre,
                 struct sk_addr *dst, const char **why);
/* §16.7 step 4: in a response to a request whose Record-Route had n_up
 * values when we received it, give our values (the one or two above
 * those) the token for the callee's side (the value above ours, else the
 * response's Contact). Built values go in sc (untouched until e is
 * written). Returns 0 (also when nothing of ours is found) or an error. */
int sk__rr_edit_response(struct sk_auth *a, const struct sk_addr *self, size_t nself,
                         struct sk_msg_edit *e, size_t n_up, struct sk_buf *sc);
/* sk__proxy_relay_response() with that rewrite. */
int sk__rr_relay_response(struct sk_auth *a, const struct sk_addr *self, size_t nself,
                          const struct sk_msg *resp, const struct sk_msg *up, struct sk_buf *out);

/* ---- the response context (proxy_fork.c) ----------------------------------- */

#define SK__FORK_MAX 16

enum sk__branch_state {
    SK__BR_IDLE = 0,   /* waits for its serial group */
    SK__BR_TRYING,     /* sent, nothing received */
    SK__BR_PROCEEDING, /* a provisional response arrived */
    SK__BR_DONE,       /* a final response arrived (or was made up) */
};

struct sk__branch {
    enum sk__branch_state state;
    unsigned group;     /* serial group (q-value order); 0 goes first */
    unsigned final;     /* final status, 0 until one */
    bool cancel_wanted; /* CANCEL asked for; sent once a 1xx arrived (§9.1) */
    bool cancel_sent;
    bool given_up;      /* CANCELed before any answer: counted as 487 (§9.1) */
    uint64_t timer_c;   /* Timer C due time (INVITE), 0 when off */
    struct sk_buf resp; /* the 3xx-6xx response as received, for §16.7 */
};

struct sk__fork {
    bool invite;
    uint32_t timer_c_ms;
    size_t n;
    struct sk__branch b[SK__FORK_MAX];
    unsigned group; /* serial group running */
    bool got_2xx;   /* a 2xx was forwarded: no more branches */
    bool got_6xx;
    bool cancelled;  /* the request was CANCELed upstream (§16.10) */
    bool final_sent; /* the best response went upstream */
    /* sk__fork_begin ran: until then (a relayed offer waiting for
     * rtpengine) Timer C has nothing to time. */
    bool begun;
};

/* What the caller must do after a fork call, in this order: CANCEL the
 * branches in .cancel, forward the response just received (.forward,
 * without our Via), send the best final response (.final: from branch
 * .best's stored response, or a locally made .status when .best < 0),
 * start the branches in .start. */
struct sk__fork_acts {
    uint32_t start;
    uint32_t cancel;
    bool forward;
    bool final;
    int best;
    unsigned status;
};

void sk__fork_init(struct sk__fork *f, bool invite, uint32_t timer_c_ms);
void sk__fork_free(struct sk__fork *f);
/* Add a branch in serial group `group` (groups must be added in
 * ascending order). Returns its index or SK_ETOOBIG. */
int sk__fork_add(struct sk__fork *f, unsigned group);
/* Start the first group. */
void sk__fork_begin(struct sk__fork *f, uint64_t now, struct sk__fork_acts *a);
/* A response on branch i (a locally made 408 / 503 from the transaction
 * layer counts too). bytes may be NULL for a made-up status. Returns 0 or
 * SK_ENOMEM (the response could not be kept; it counts as a 500). */
int sk__fork_response(struct sk__fork *f, size_t i, unsigned status, const char *bytes, size_t len,
                      uint64_t now, struct sk__fork_acts *a);
/* A branch could not be started (send failed at once): a made-up 503. */
void sk__fork_failed(struct sk__fork *f, size_t i, uint64_t now, struct sk__fork_acts *a);
/* §16.10: CANCEL every pending branch and start no more. */
void sk__fork_cancel(struct sk__fork *f, struct sk__fork_acts *a);
/* §16.8: Timer C. Returns the next due time (UINT64_MAX for none). */
uint64_t sk__fork_tick(struct sk__fork *f, uint64_t now, struct sk__fork_acts *a);
/* Every started branch has its final response. */
bool sk__fork_done(const struct sk__fork *f);

/* §16.7 step 6: index of the best among n final statuses (0 = none),
 * or -1 when there is none. */
int sk__proxy_best(const unsigned *status, size_t n);
/* §16.7 steps 7-9: the response to send upstream for acts.best >= 0:
 * branch best's stored response with the Vias of up (the request that
 * came in, see sk__proxy_edit_vias), with every challenge of
 * the other 401/407 responses added when it is a 401/407. Returns 0,
 * SK_EINVAL (nothing stored: make the status up instead) or SK_ENOMEM. */
int sk__fork_write_final(const struct sk__fork *f, int best, const struct sk_msg *up,
                         struct sk_buf *out);
/* The status to make up locally for a best response: 503 becomes 500
 * (§16.7 step 6), no response at all 408. */
unsigned sk__fork_final_status(const struct sk__fork *f, int best);

/* ---- running forks (proxy_run.c) -------------------------------------------- */

struct sk_server;
struct sk__req;
struct sk__proxy;

/* Timer C when the configuration has none ([proxy] timer_c; RFC 3261
 * §16.6 step 11: more than 3 minutes). */
#define SK__PROXY_TIMER_C_MS 181000u

/* One place to forward a request to. */
struct sk__target {
    const char *uri;    /* new Request-URI; NULL keeps the request's */
    const char *path;   /* Route values to put first, joined with ", "; NULL for none */
    struct sk_addr dst; /* where to send: address, transport, connection */
    int q;              /* thousandths; -1 counts as 1000 */
    /* RFC 5626 §5.3: another flow of an instance already targeted, tried
     * on its own only after every earlier target failed. */
    bool backup;
};

int sk__proxy_new(struct sk__proxy **out);
void sk__proxy_free(struct sk__proxy *p); /* NULL-safe; no fork may be running */
/* Timer C for every running fork (the server's timer thread, every second). */
void sk__proxy_tick(struct sk_server *s);

/* Forward r statefully to targets (ordered by q, highest first: equal
 * q-values run in parallel, lower ones after; at most SK__FORK_MAX). pre
 * is r->m's preprocessing; each branch redoes it on the transaction's copy
 * of the request rather than keeping it for the fork's life. Returns 0, or
 * an error before anything was sent (the caller answers 500). */
int sk__proxy_start(struct sk__req *r, const struct sk__route_pre *pre,
                    const struct sk__target *targets, size_t n, bool record_route);

/* proxy_self.c: the address of ours that dst should see in our Via and
 * Record-Route: a loopback one for a loopback peer, another one
 * otherwise. Returns 0 or SK_ENOTFOUND. */
int sk__proxy_self_for(const struct sk_server *s, const struct sk_addr *dst, struct sk_addr *out);
/* The same address as text (host:port, IPv6 in brackets), formatted once
 * per server; NULL when there is none (or no memory). */
const char *sk__proxy_self_text(const struct sk_server *s, const struct sk_addr *dst);
/* §16.6 step 8: a new branch for our Via, "z9hG4bK" and 32 hex digits,
 * unique across space and time (proxy_self.c); out holds 40 bytes. */
void sk__proxy_make_branch(char *out);
/* Send b to dst outside any transaction (§16.11, §16.7 step 5). */
int sk__proxy_send(struct sk_server *s, const struct sk_addr *dst, const struct sk_buf *b);
/* Where a URI sends us: numeric host (no DNS yet), port or the scheme's
 * default, the transport parameter or else def (the leg the route set
 * names, RFC 5658). Returns 0, SK_EPARSE or SK_ENOTFOUND (a host name). */
int sk__proxy_resolve(struct sk_slice uri, enum sk_transport def, struct sk_addr *out);

/* ---- dialog events (proxy_dialog.c, RFC 4235) --------------------------------- */

/* One user's view of an INVITE dialog, strings owned here. */
struct sk__dlg_view {
    char aor[SK_LOC_AOR_MAX + 1];
    char call_id[SK_LOC_CALLID_MAX + 1];
    char local_tag[SK_SUB_TAG_MAX + 1];
    char remote_tag[SK_SUB_TAG_MAX + 1];
    char local_uri[SK_LOC_URI_MAX + 1];
    char remote_uri[SK_LOC_URI_MAX + 1];
    struct sk_dlg_event e; /* points into the fields above */
};

/* The AOR key of one of our users: a sip/sips URI with a user whose host
 * is our domain or one of our addresses (then taken as our domain).
 * Returns 0, SK_ENOTFOUND (not ours) or SK_ETOOBIG. */
int sk__proxy_dialog_aor(const struct sk_server *s, const struct sk_uri *u, char *out,
                         size_t outsz);
/* The caller's (From) and the callee's (Request-URI) view of the dialog
 * of initial INVITE req, with resp's To tag when resp is not NULL; state
 * left TRYING. Returns 0, SK_ENOTFOUND (that side is not our user) or
 * SK_ETOOBIG. */
int sk__proxy_dialog_caller(const struct sk_server *s, const struct sk_msg *req,
                            const struct sk_msg *resp, struct sk__dlg_view *v);
int sk__proxy_dialog_callee(const struct sk_server *s, const struct sk_msg *req,
                            const struct sk_msg *resp, struct sk__dlg_view *v);
/* §3.7.1: state, code and event for a response status (0: trying). */
void sk__proxy_dialog_state(unsigned status, bool to_tag, struct sk_dlg_event *e);

/* The hooks: a request forwarded statefully (initial INVITE: trying; BYE:
 * terminated at both ends), a response on a branch (the callee's view),
 * what goes upstream (the caller's view: a forwarded response, or resp
 * NULL for a final status the fork chose). */
void sk__proxy_dialog_request(struct sk_server *s, const struct sk_msg *req);
void sk__proxy_dialog_branch(struct sk_server *s, const struct sk_msg *req,
                             const struct sk_msg *resp);
void sk__proxy_dialog_upstream(struct sk_server *s, const struct sk_msg *req, unsigned status,
                               const struct sk_msg *resp);

/* ---- media relay (proxy_media.c) --------------------------------------------- */

/* Whether the dialog of in-dialog request m has its media relayed: our
 * Route value (as preprocessed into pre) carries SK__MEDIA_RR_PARAM. */
bool sk__proxy_media_dialog(const struct sk_server *s, const struct sk_msg *m,
                            const struct sk__route_pre *pre);
/* For request req of a call whose media is relayed (relayed false: does
 * nothing): a BYE deletes the call (without waiting); an INVITE or UPDATE
 * with SDP is offered: returns 1 and cb gets rtpengine's SDP later (on
 * the media thread); 0 when req goes on as it is now. */
int sk__proxy_media_request(struct sk_server *s, const struct sk_msg *req, bool relayed,
                            sk__media_sdp_cb cb, void *arg);
/* For a response of a relayed call: the 183 / 2xx to an INVITE or UPDATE
 * with SDP is the answer (offered: the request had SDP) or the offer.
 * Returns 1 when cb will get rtpengine's SDP, 0 when resp goes on as it
 * is. */
int sk__proxy_media_response(struct sk_server *s, const struct sk_msg *resp, bool offered,
                             sk__media_sdp_cb cb, void *arg);
/* The final status of a relayed request: failure of the call's first
 * INVITE deletes the call. */
void sk__proxy_media_failed(struct sk_server *s, const struct sk_msg *req, unsigned status);
/* An ACK of a relayed dialog carrying SDP answers the 2xx's offer: 1 when
 * cb will get the SDP to forward, 0 when the ACK goes on as it is. */
int sk__proxy_media_ack(struct sk_server *s, const struct sk_msg *ack, sk__media_sdp_cb cb,
                        void *arg);
/* m with its body replaced by sdp, written into raw and parsed into copy. */
int sk__proxy_media_with_body(const struct sk_msg *m, struct sk_slice sdp, struct sk_buf *raw,
                              struct sk_msg *copy);

/* A message kept while rtpengine works on its SDP: its bytes and source. */
struct sk__media_held {
    char *raw;
    size_t len;
    char src_ip[SK_ADDR_STRLEN];
    uint16_t src_port;
};
/* Copy m into h. 0 or SK_ENOMEM. */
int sk__proxy_media_hold(struct sk__media_held *h, const struct sk_msg *m);
/* Parse the held message into m (sk_msg_init'ed), with its source. */
int sk__proxy_media_reparse(const struct sk__media_held *h, struct sk_msg *m);
/* In the callback: parse the held message into m (sk_msg_init'ed by the
 * caller) and set *out to what goes on: m with rtpengine's sdp written
 * into raw and parsed into copy when err is 0, m itself otherwise. 0 or
 * the parse error. */
int sk__proxy_media_resume(const struct sk__media_held *h, int err, struct sk_slice sdp,
                           struct sk_msg *m, struct sk_buf *raw, struct sk_msg *copy,
                           const struct sk_msg **out);
void sk__proxy_media_release(struct sk__media_held *h);

#endif
