/*
 * sipkit user-agent layer: the client side of SIP as the `sipkit` client
 * commands use it. A struct sk_ua owns an identity (address of record,
 * credentials), a small transport of its own (plain UDP / TCP sockets and
 * poll(2): one process, one thread, an ephemeral or given local port), a
 * transaction table (txn.h) and a digest client (auth.h). On top of it:
 *
 *   - client requests (struct sk_ua_req) that answer 401 / 407 by
 *     themselves: once, or twice when the server says stale=true (RFC 3261
 *     §22.2, RFC 7616 §3.3), with a new CSeq and branch each time, and then
 *     report one outcome: a final response, a timeout, a network error, or
 *     "credentials refused";
 *   - dialogs (struct sk_ua_dialog, RFC 3261 §12): built from an INVITE or
 *     SUBSCRIBE 2xx (UAC) or from a request (UAS), with the route set, the
 *     remote target and the CSeq counters; in-dialog requests, the ACK for
 *     a 2xx (§13.2.2.4, its own transaction-less request routed by the
 *     route set) and CANCEL (§9.1);
 *   - incoming requests: handed to the application's callback with their
 *     server transaction; answered with sk_ua_respond().
 *
 * The event loop is the caller's: sk_ua_poll() waits for input or the next
 * timer, at most timeout_ms, and runs the callbacks. For tests, a send hook
 * and an injected clock replace the sockets and the time: messages the UA
 * sends go to the hook, messages it receives are fed with sk_ua_feed().
 *
 * Memory: struct sk_ua owns its sockets, table and auth state; free it last
 * with sk_ua_free(). A struct sk_ua_req and a struct sk_ua_dialog are
 * owned by the caller (sk_ua_req_free(), sk_ua_dialog_free()) and must be
 * freed before the UA. Messages passed to callbacks are valid for the call
 * only; sk_ua_req_final() returns the request's own copy of its final
 * response, valid until the request is freed or resent. Strings in struct
 * sk_ua_config are copied.
 *
 * Threads: none. One thread owns a UA and everything made from it.
 */
#ifndef SIPKIT_UA_H
#define SIPKIT_UA_H

#include <sipkit/base.h>
#include <sipkit/msg.h>
#include <sipkit/transport.h>
#include <sipkit/txn.h>

struct sk_ua;
struct sk_ua_req;
struct sk_ua_dialog;

/* Every message sent (SK_TRACE_OUT) or received (SK_TRACE_IN); msg is NULL
 * for bytes that do not parse. For ladder diagrams. */
typedef void (*sk_ua_trace_cb)(void *arg, enum sk_trace_dir dir, const struct sk_addr *peer,
                               const struct sk_msg *msg, struct sk_slice bytes);
/* Test hook replacing the sockets: "send" bytes to dst. Return 0 or a
 * negative code (reported as a network error). */
typedef int (*sk_ua_send_cb)(void *arg, const struct sk_addr *dst, const char *data, size_t len);
/* A new request from the network (not an ACK): answer it with
 * sk_ua_respond() on txn, now or later (take a reference to keep txn). */
typedef void (*sk_ua_request_cb)(void *arg, struct sk_txn *txn, const struct sk_msg *req);
/* An ACK for a 2xx we sent (RFC 3261 §13.3.1.4: it has no transaction). */
typedef void (*sk_ua_ack_cb)(void *arg, const struct sk_msg *ack);
/* RFC 3261 §13.3.1.4: our 2xx to the INVITE with this Call-ID and CSeq
 * number was sent for 64*T1 and no ACK came; the session should be ended
 * with a BYE. call_id is valid for the call only. */
typedef void (*sk_ua_no_ack_cb)(void *arg, struct sk_slice call_id, uint32_t cseq);

struct sk_ua_config {
    const char *aor;          /* "sip:alice@example.com": From, and the auth user; required */
    const char *display_name; /* or NULL */
    const char *auth_user;    /* digest username; NULL: the AOR's user part */
    const char *password;     /* NULL: a 401/407 ends the request */
    const char *proxy;        /* outbound proxy "host:port" (every request goes there), or NULL */
    enum sk_transport transport; /* SK_TP_UDP, SK_TP_TCP or SK_TP_TLS */
    /* TLS: the CA bundle servers are verified against (NULL: the
     * system's), or no verification at all when tls_insecure. */
    const char *tls_ca;
    bool tls_insecure;
    const char *local;      /* "addr:port" to bind; NULL: any address, ephemeral port */
    const char *user_agent; /* User-Agent / Server value; NULL: "sipkit" */
    sk_ua_trace_cb on_trace;
    void *trace_arg;
    sk_ua_request_cb on_request; /* NULL: answered 405 (481 in a dialog we do not know) */
    void *request_arg;
    sk_ua_ack_cb on_ack;
    void *ack_arg;
    sk_ua_no_ack_cb on_no_ack; /* NULL: the UA only stops resending */
    void *no_ack_arg;
    /* Tests: both set or neither. With send set no socket is opened and
     * `local` (required) is the address written in Via and Contact. */
    sk_ua_send_cb send;
    void *send_arg;
    sk_txn_clock_cb clock;
    void *clock_arg;
    uint32_t t1_ms; /* 0: 500 */
};

/* Returns 0; SK_EINVAL (no AOR, AOR not sip:/sips:, bad proxy or local);
 * -errno from socket()/bind(); SK_ENOMEM. */
int sk_ua_new(struct sk_ua **out, const struct sk_ua_config *cfg);
/* NULL-safe. Requests and dialogs made from it must be freed first. */
void sk_ua_free(struct sk_ua *ua);

/* Wait at most timeout_ms (-1: until the next timer) for messages and
 * timers, and process them. Returns 0, -EINTR when a signal interrupted the
 * wait, or another negative code. */
int sk_ua_poll(struct sk_ua *ua, int timeout_ms);
/* Tests: process one received message as if it came from `from`. */
int sk_ua_feed(struct sk_ua *ua, const char *data, size_t len, const struct sk_addr *from);
/* Tests: fire the timers due by the injected clock. */
void sk_ua_tick(struct sk_ua *ua);

/* The local address written in Via and Contact ("ip:port"); before the
 * first request it is the bound address (may be a wildcard). */
const char *sk_ua_local(const struct sk_ua *ua);
/* Our Contact URI, "sip:user@ip:port" (";transport=tcp" over TCP). */
const char *sk_ua_contact(const struct sk_ua *ua);
const char *sk_ua_aor(const struct sk_ua *ua);
/* The digest username ("" when none can be derived). */
const char *sk_ua_auth_user(const struct sk_ua *ua);
/* The AOR with a display name as it goes in From ("<sip:...>" form). */
const char *sk_ua_from(const struct sk_ua *ua);
/* Resolve a host (name or literal) and port to an address with the UA's
 * transport. Returns 0 or SK_ENOTFOUND. */
int sk_ua_resolve(const struct sk_ua *ua, struct sk_slice host, uint16_t port, struct sk_addr *out);
/* Where a request to ruri goes: the proxy when configured, else the URI's
 * host and port (5060 by default). */
int sk_ua_target(const struct sk_ua *ua, struct sk_slice ruri, struct sk_addr *out);
/* Pick the local address used towards dst (Via, Contact, SDP): requests do
 * it themselves; a UAS calls it with the caller's address before answering.
 * Returns 0 or a negative code. */
int sk_ua_prepare(struct sk_ua *ua, const struct sk_addr *dst);
/* Fresh random token (tags, Call-ID parts): 16 characters and a NUL. */
void sk_ua_token(char out[17]);

/* ---- client requests ------------------------------------------------------ */

enum sk_ua_outcome {
    SK_UA_PENDING = 0,   /* no final response yet */
    SK_UA_FINAL,         /* a final response arrived: sk_ua_req_status() */
    SK_UA_TIMEOUT,       /* no final response before Timer B / F */
    SK_UA_NETWORK,       /* the request could not be sent: sk_ua_req_error() */
    SK_UA_AUTH_REFUSED,  /* our credentials were answered with another 401/407 */
    SK_UA_AUTH_MISSING,  /* 401/407 and no password was given */
    SK_UA_AUTH_UNUSABLE, /* 401/407 without a challenge we can answer */
};

const char *sk_ua_outcome_name(enum sk_ua_outcome o);

/* Every response to the request that is passed up: provisional ones, the
 * final one (after automatic authentication retries, which are not
 * reported), and for INVITE the 2xx retransmissions (answer them with
 * sk_ua_ack() again). Also called once with resp NULL when the outcome is
 * not SK_UA_FINAL. */
typedef void (*sk_ua_response_cb)(void *arg, struct sk_ua_req *req, const struct sk_msg *resp);

struct sk_ua_req_opts {
    const char *method;         /* "REGISTER", "INVITE", ... */
    const char *ruri;           /* Request-URI; ignored in a dialog */
    const char *to;             /* To URI; NULL: ruri */
    const char *call_id;        /* NULL: new */
    const char *from_tag;       /* NULL: new */
    uint32_t cseq;              /* 0: 1 */
    const char *headers;        /* extra header lines, each ending in CRLF, or NULL */
    bool contact;               /* add our Contact */
    const char *contact_params; /* appended after our Contact's ">" (";expires=0"), or NULL */
    const char *ctype;          /* Content-Type of body, or NULL */
    struct sk_slice body;
    struct sk_ua_dialog *dialog; /* in-dialog request: the dialog decides URI, tags, CSeq */
    sk_ua_response_cb on_response;
    void *arg;
};

/* Build and send a request. *out gets the request object (owned by the
 * caller) even when sending failed at once (its outcome then says so).
 * Returns 0, SK_EINVAL (bad options), SK_ENOTFOUND (target unresolvable)
 * or SK_ENOMEM. */
int sk_ua_request(struct sk_ua *ua, const struct sk_ua_req_opts *o, struct sk_ua_req **out);
/* Stop reporting and release. An INVITE still pending is not cancelled:
 * call sk_ua_req_cancel() first. NULL-safe. */
void sk_ua_req_free(struct sk_ua_req *r);
/* RFC 3261 §9.1: CANCEL a pending INVITE, now if a provisional response
 * arrived, else as soon as one does. Returns 0 or SK_ESTATE (not an INVITE,
 * or already final). */
int sk_ua_req_cancel(struct sk_ua_req *r);

enum sk_ua_outcome sk_ua_req_outcome(const struct sk_ua_req *r);
unsigned sk_ua_req_status(const struct sk_ua_req *r); /* final status or 0 */
/* The final response (the request's own copy) or NULL. */
const struct sk_msg *sk_ua_req_final(const struct sk_ua_req *r);
/* The last request sent (after authentication retries). */
const struct sk_msg *sk_ua_req_sent(const struct sk_ua_req *r);
/* Where the request went. */
const struct sk_addr *sk_ua_req_peer(const struct sk_ua_req *r);
/* The negative code of a network error (SK_UA_NETWORK), else 0. */
int sk_ua_req_error(const struct sk_ua_req *r);
/* How many times credentials were sent (0, 1 or 2). */
unsigned sk_ua_req_auth_tries(const struct sk_ua_req *r);
/* The realm whose credentials were refused (SK_UA_AUTH_*), else "". */
const char *sk_ua_req_realm(const struct sk_ua_req *r);
/* Whether a provisional response arrived. */
bool sk_ua_req_provisional(const struct sk_ua_req *r);

/* ---- dialogs ---------------------------------------------------------- */

/* UAC: the dialog created by a 2xx (or 1xx with a To tag) to an INVITE or
 * SUBSCRIBE sent with req (RFC 3261 §12.1.2). */
int sk_ua_dialog_from_response(struct sk_ua_req *req, const struct sk_msg *resp,
                               struct sk_ua_dialog **out);
/* UAS: the dialog created by a request we answer (§12.1.1): INVITE, or a
 * NOTIFY for our SUBSCRIBE (its To tag is ours). A new local tag is made
 * when the request's To has none. */
int sk_ua_dialog_from_request(struct sk_ua *ua, const struct sk_msg *req,
                              struct sk_ua_dialog **out);
void sk_ua_dialog_free(struct sk_ua_dialog *d);
/* Whether msg (a request) belongs to the dialog: Call-ID and both tags. */
bool sk_ua_dialog_match(const struct sk_ua_dialog *d, const struct sk_msg *msg);
/* §12.2.2: a request in the dialog whose CSeq is lower than the last one is
 * refused with 500. Returns true (and records it) when it is in order. */
bool sk_ua_dialog_accept_cseq(struct sk_ua_dialog *d, const struct sk_msg *req);
/* §12.2.1.2: the remote target moves to the Contact of a target refresh. */
void sk_ua_dialog_refresh_target(struct sk_ua_dialog *d, const struct sk_msg *msg);
/* The CSeq number of our last request in the dialog (the next one gets one
 * more): a subscriber whose dialog came from a NOTIFY sets it to its
 * SUBSCRIBE's. */
void sk_ua_dialog_set_local_cseq(struct sk_ua_dialog *d, uint32_t cseq);
const char *sk_ua_dialog_local_tag(const struct sk_ua_dialog *d);
const char *sk_ua_dialog_remote_tag(const struct sk_ua_dialog *d);
const char *sk_ua_dialog_remote_target(const struct sk_ua_dialog *d);
const char *sk_ua_dialog_call_id(const struct sk_ua_dialog *d);
/* Number of Route entries in the route set. */
size_t sk_ua_dialog_route_count(const struct sk_ua_dialog *d);
/* RFC 3261 §13.2.2.4: send the ACK for the 2xx to the INVITE whose CSeq
 * number is cseq, straight to the transport, routed by the route set. */
int sk_ua_ack(struct sk_ua_dialog *d, uint32_t cseq);

/* ---- answering requests ------------------------------------------------ */

/* Answer a request with status. When d is given its local tag goes in To,
 * and 1xx/2xx to a dialog-creating request copy Record-Route and carry our
 * Contact (§12.1.1). headers: extra lines ending in CRLF, or NULL.
 * A 2xx to an INVITE is sent again by the UA (§13.3.1.4: after T1, the
 * interval doubling up to T2) until its ACK arrives or 64*T1 pass
 * (on_no_ack), on every transport: the ACK is end to end, and a proxy's
 * reliable hop does not make it arrive. sk_ua_poll() / sk_ua_tick() drive
 * the resending. Returns 0 or the sk_txn_respond() error. */
int sk_ua_respond(struct sk_ua *ua, struct sk_txn *txn, unsigned status,
                  const struct sk_ua_dialog *d, const char *headers, const char *ctype,
                  struct sk_slice body);
/* How many of our 2xx to INVITEs still wait for their ACK. */
size_t sk_ua_awaiting_ack(const struct sk_ua *ua);

/* ---- SDP (RFC 4566, RFC 3264) -------------------------------------------- */

/* A minimal audio offer or answer (PCMU/PCMA, telephone-event) for the
 * local address, on port. Returns 0 or SK_ENOMEM. */
int sk_ua_sdp(struct sk_buf *out, const char *local_ip, uint16_t port, uint64_t session_id);

#endif
