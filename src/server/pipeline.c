/*
 * The request pipeline: what the server does with each message the
 * transport hands up. Stages, in order:
 *
 *   0. the guard (guard.c): a message from a banned address, or over its
 *      address's rate limit, is dropped before anything else;
 *   1. parse (in the transport) and the typed-header check: a request that
 *      cannot form a transaction is answered statelessly here (400 naming
 *      the defect, 505, 416, 513) or dropped when no response can be
 *      routed (§18.3);
 *   2. OPTIONS to the server itself is answered statelessly (§8.2.7),
 *      after the same sanity checks as below; every other request goes to
 *      the transaction layer (RFC 3261 §17): sk_txn_table_receive()
 *      absorbs retransmissions (resending the last response), ACKs for
 *      non-2xx finals, and calls on_request once per new transaction;
 *   3. sanity of the new request (§8.2, §16.3): Max-Forwards 0 -> 483,
 *      loop (not a spiral) -> 482, unsupported Require -> 420 with Unsupported, URI
 *      scheme -> 416;
 *   4. CANCEL is matched to its INVITE (§9.2): 200 to the CANCEL, 487 to
 *      the INVITE when it is still pending, 481 when there is none;
 *   5. dispatch: REGISTER -> registrar (which authenticates, auth.c);
 *      SUBSCRIBE and PUBLISH to our domain -> events.c (the NOTIFY client
 *      transactions' callbacks go back there too);
 *      requests to the server itself -> the handler table below
 *      (OPTIONS, §11.2); merged requests (§8.2.2.2) -> 482 for requests we
 *      answer as a UAS; everything else -> the proxy hook.
 *
 * Responses go out through the transaction (sk_txn_respond), which keeps
 * the last one for retransmissions. While the server drains (SIGTERM) new
 * requests get 503.
 *
 * Memory: responses are built in the struct sk__req's buffer, freed when
 * the callback returns; the request is the transaction's copy.
 */
#include "server/guard.h"
#include "server/internal.h"
#include "server/proxy_int.h"

#include <sipkit/codes.h>
#include <sipkit/containers.h>

#include <stdio.h>
#include <string.h>

typedef void (*handler_cb)(struct sk__req *r);

struct method_handler {
    enum sk_method method;
    handler_cb run;
};

/* Option tags this server implements (Require / Supported, §19.2):
 * RFC 3327 Path, RFC 5626 Outbound (the registrar and edge proxy side:
 * registrar.c, nat.c). */
static const char *const supported_tags[] = {"path", "outbound", NULL};

/* ---- building and sending responses ------------------------------------- */

/* §8.2.6.2: a UAS adds a To tag. Derive it from what identifies the
 * request, so a stateless answer to a retransmission gets the same tag,
 * and the ACK for a stateless final response (same Call-ID, From tag,
 * branch and CSeq number, §17.1.1.3) is recognised by it. */
static void make_tag_for(const struct sk_msg *m, struct sk_slice method, char *tag, size_t tagsz)
{
    const struct sk_slice parts[] = {m->call_id, m->from.tag, m->via.branch, method};
    static const char hex[] = "0123456789abcdef";
    struct sk_hasher hs;
    uint64_t h;

    sk_hasher_init(&hs);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        sk_hasher_field(&hs, parts[i]);
    sk_hasher_u64(&hs, m->cseq.num);
    h = sk_hasher_end(&hs);
    for (size_t i = 0; i < 16 && i + 1 < tagsz; i++, h >>= 4)
        tag[i] = hex[h & 15];
    tag[tagsz < 17 ? tagsz - 1 : 16] = '\0';
}

static void make_tag(const struct sk_msg *m, char *tag, size_t tagsz)
{
    make_tag_for(m, m->cseq.method, tag, tagsz);
}

/* An ACK for a final response we sent without keeping a transaction
 * (a challenge, an authentication refusal): its To tag is the one we
 * derived from the INVITE. */
static bool acks_stateless_final(const struct sk_msg *ack)
{
    char tag[17];

    make_tag_for(ack, SK_SLICE_LIT("INVITE"), tag, sizeof(tag));
    return sk_slice_eq(ack->to.tag, sk_slice_cstr(tag));
}

static void start_on(struct sk_buf *out, const struct sk_msg *m, unsigned code, const char *reason)
{
    char tag[17];

    make_tag(m, tag, sizeof(tag));
    sk_buf_reset(out);
    sk_msg_start_response(out, m, code,
                          sk_slice_cstr(reason != NULL ? reason : sk_code_phrase(code)),
                          code == 100 ? SK_SLICE_NULL : sk_slice_cstr(tag));
    sk_msg_add_header(out, "Server", SK_SLICE_LIT("sipkit"));
}

void sk__resp_start(struct sk__req *r, unsigned code, const char *reason)
{
    start_on(&r->out, r->m, code, reason);
}

int sk__resp_send(struct sk__req *r)
{
    int err;

    sk_msg_finish(&r->out, SK_SLICE_NULL, SK_SLICE_NULL);
    if (!sk_buf_ok(&r->out)) {
        SK_LOG(SK_LOG_ERROR, "server", "event=response_failed error=\"out of memory\"");
        return SK_ENOMEM;
    }
    if (r->txn != NULL) {
        err = sk_txn_respond(r->txn, r->out.p, r->out.len); /* counted in txn_send */
    } else {
        struct sk_dest dst;
        sk_tp_response_dest(r->rx, &dst);
        err = sk_tp_send(r->rx->tp, &dst, r->out.p, r->out.len);
        if (err == 0)
            sk__count_sent(r->s, r->out.p, r->out.len);
    }
    if (err != 0)
        SK_LOG(SK_LOG_WARN, "server", "event=response_not_sent error=\"%s\"", sk_strerror(err));
    return err;
}

int sk__resp_send_stateless(struct sk__req *r)
{
    int err;

    if (r->txn == NULL)
        return sk__resp_send(r);
    sk_msg_finish(&r->out, SK_SLICE_NULL, SK_SLICE_NULL);
    if (!sk_buf_ok(&r->out)) {
        SK_LOG(SK_LOG_ERROR, "server", "event=response_failed error=\"out of memory\"");
        err = SK_ENOMEM;
    } else {
        err = sk__send_to(r->s, r->to, r->out.p, r->out.len);
        if (err != 0)
            SK_LOG(SK_LOG_WARN, "server", "event=response_not_sent error=\"%s\"", sk_strerror(err));
    }
    sk_txn_forget(r->txn);
    return err;
}

void sk__log_reject(struct sk__req *r, unsigned code, const char *reason, const char *cause)
{
    const struct sk_msg *m = r->m;

    sk__count_rejected(r->s);
    SK_LOG(SK_LOG_INFO, "server",
           "event=rejected status=%u reason=\"%s\" method=%.*s transport=%s peer=%.*s:%u%s%s%s",
           code, reason != NULL ? reason : sk_code_phrase(code),
           (int)(m->method.len > 32 ? 32 : m->method.len), m->method.p,
           sk_transport_name(r->to->tp), (int)m->src_ip.len, m->src_ip.p, m->src_port,
           cause != NULL ? " cause=\"" : "", cause != NULL ? cause : "", cause != NULL ? "\"" : "");
}

void sk__reply(struct sk__req *r, unsigned code, const char *reason)
{
    if (code >= 300)
        sk__log_reject(r, code, reason, NULL);
    sk__resp_start(r, code, reason);
    sk__resp_send(r);
}

void sk__reply_store_failed(struct sk__req *r, int rc, const char *reason)
{
    if (rc != SK_EUNAVAIL) {
        sk__reply(r, 500, reason);
        return;
    }
    /* RFC 3261 §21.5.4: a temporary condition; the store reconnects by
     * itself (store.h), so the client should simply try again. */
    sk__log_reject(r, 503, "Storage Unavailable", "database unreachable");
    sk__resp_start(r, 503, "Storage Unavailable");
    sk_msg_add_header(&r->out, "Retry-After", SK_SLICE_LIT(SK__STORE_RETRY_AFTER));
    sk__resp_send(r);
}

static void add_supported(struct sk_buf *b)
{
    sk_buf_append_cstr(b, "Supported: ");
    for (size_t i = 0; supported_tags[i] != NULL; i++) {
        sk_buf_append_cstr(b, i > 0 ? ", " : ""); /* no printf: every OPTIONS runs this */
        sk_buf_append_cstr(b, supported_tags[i]);
    }
    sk_buf_append_cstr(b, "\r\n");
}

/* ---- local handlers ---------------------------------------------------------- */

/* §11.2: OPTIONS addressed to the server. */
static void handle_options(struct sk__req *r)
{
    sk__resp_start(r, 200, NULL);
    sk__add_allow(&r->out);
    /* RFC 6665 §8.2.2: the event packages the server serves. */
    sk_msg_add_header(&r->out, "Allow-Events", SK_SLICE_LIT(SK_EV_ALLOW_EVENTS));
    sk_msg_add_header(&r->out, "Accept", SK_SLICE_LIT("application/sdp"));
    sk_msg_add_header(&r->out, "Accept-Encoding", SK_SLICE_LIT("identity"));
    sk_msg_add_header(&r->out, "Accept-Language", SK_SLICE_LIT("en"));
    add_supported(&r->out);
    sk__resp_send(r);
}

/* The methods the server handles itself; Allow is generated from this
 * table (CANCEL and ACK are handled before dispatch). */
static const struct method_handler handlers[] = {
    {SK_METHOD_OPTIONS, handle_options},
    {SK_METHOD_REGISTER, sk__registrar_handle},
};

void sk__add_allow(struct sk_buf *b)
{
    sk_buf_append_cstr(b, "Allow: ACK, CANCEL");
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
        sk_buf_append_cstr(b, ", "); /* no printf: every OPTIONS runs this */
        sk_buf_append_cstr(b, sk_method_name(handlers[i].method));
    }
    /* Dispatched before the handler table, to events.c (RFC 6665, 3903). */
    sk_buf_append_cstr(b, ", SUBSCRIBE, PUBLISH\r\n");
}

void sk__local_handle(struct sk__req *r)
{
    /* §8.2.2.2: a request we answer as a UAS that merges with another
     * ongoing transaction (same From tag, Call-ID, CSeq, other branch). */
    if (r->m->to.tag.len == 0 && sk__merge_check(r->s->merge, r->m, sk_now_ms(),
                                                 64u * sk_txn_table_settings(r->s->txns)->t1_ms)) {
        sk__reply(r, 482, "Loop Detected (Merged Request)");
        return;
    }
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
        if (handlers[i].method == r->m->method_id) {
            handlers[i].run(r);
            return;
        }
    }
    /* §8.2.1: 405 for a method we know but do not handle, 501 otherwise. */
    if (r->m->method_id == SK_METHOD_OTHER) {
        sk__reply(r, 501, NULL);
        return;
    }
    sk__log_reject(r, 405, NULL, NULL);
    sk__resp_start(r, 405, NULL);
    sk__add_allow(&r->out);
    sk__resp_send(r);
}

/* §9.2: 200 to the CANCEL; the INVITE it matches gets 487 while no final
 * response was sent (the proxy answers it itself for its own INVITEs). */
static void handle_cancel(struct sk__req *r)
{
    struct sk_txn *inv = sk_txn_cancel_target(r->txn);

    if (inv == NULL) {
        sk__reply(r, 481, NULL);
        return;
    }
    sk__reply(r, 200, NULL);
    if (!sk__proxy_cancel(r->s, inv)) {
        enum sk_txn_state st = sk_txn_state(inv);
        if (st == SK_TXN_PROCEEDING && sk_txn_status(inv) < 200) {
            struct sk_buf b;
            sk_buf_init(&b);
            start_on(&b, sk_txn_request(inv), 487, NULL);
            sk_msg_finish(&b, SK_SLICE_NULL, SK_SLICE_NULL);
            if (sk_buf_ok(&b))
                sk_txn_respond(inv, b.p, b.len);
            sk_buf_free(&b);
        }
    }
    sk_txn_unref(inv);
}

/* ---- routing ----------------------------------------------------------------- */

bool sk__is_our_domain(const struct sk_server *s, struct sk_slice host)
{
    return sk_slice_caseeq_cstr(host, s->cfg.domain);
}

/* Equal but for case and one trailing dot on either side (RFC 1034 §3.1:
 * "example.com." is the same absolute name). */
static bool same_domain_name(struct sk_slice a, const char *domain)
{
    struct sk_slice b = sk_slice_cstr(domain);

    if (a.len > 0 && a.p[a.len - 1] == '.')
        a.len--;
    if (b.len > 0 && b.p[b.len - 1] == '.')
        b.len--;
    return a.len > 0 && sk_slice_caseeq(a, b);
}

bool sk__claims_our_domain(const struct sk_server *s, const struct sk_uri *u)
{
    struct sk_addr a;

    if (u->host_type == SK_HOST_NAME)
        return same_domain_name(u->host, s->cfg.domain);
    if (u->host_type != SK_HOST_IPV4 && u->host_type != SK_HOST_IPV6)
        return false;
    /* sk_addr_parse() reads every IPv6 spelling to the same address. */
    if (sk_addr_parse(u->host, 5060, &a) != 0)
        return false;
    if (sk__is_our_domain(s, u->host))
        return true;
    for (size_t i = 0; i < s->nself; i++) {
        if (sk_addr_same_host(&a, &s->self[i]))
            return true;
    }
    return false;
}

bool sk__is_our_host(const struct sk_server *s, const struct sk_uri *u)
{
    struct sk_addr a;

    if (sk__is_our_domain(s, u->host))
        return true;
    if (u->host_type != SK_HOST_IPV4 && u->host_type != SK_HOST_IPV6)
        return false;
    if (sk_addr_parse(u->host, u->has_port ? u->port : 5060, &a) != 0)
        return false;
    for (size_t i = 0; i < s->nself; i++) {
        if (sk_addr_equal(&a, &s->self[i]))
            return true;
    }
    return false;
}

bool sk__is_for_us(const struct sk_server *s, const struct sk_uri *u, bool in_dialog)
{
    uint16_t port = u->has_port ? u->port : (u->scheme == SK_URI_SIPS ? 5061 : 5060);
    struct sk_slice tp;
    struct sk_addr a;
    bool any_port = false;

    if (u->user.len > 0 || (u->scheme != SK_URI_SIP && u->scheme != SK_URI_SIPS))
        return false;
    /* Listeners serve UDP and TCP, or TLS, or WebSocket, nothing else. */
    if (sk_uri_param(u, "transport", &tp) && !sk_slice_caseeq_cstr(tp, "udp") &&
        !sk_slice_caseeq_cstr(tp, "tcp") && !sk_slice_caseeq_cstr(tp, "tls") &&
        !sk_slice_caseeq_cstr(tp, "ws") && !sk_slice_caseeq_cstr(tp, "wss"))
        return false;
    if (u->host_type == SK_HOST_IPV4 || u->host_type == SK_HOST_IPV6) {
        /* An address of ours names us only with our port: a UA on this
         * host (sip:127.0.0.1:5090) is someone else, even with a domain
         * that is our address. A new request on another port is still
         * taken as ours (sipsak writes a five-digit port with four). */
        if (sk_addr_parse(u->host, port, &a) != 0)
            return false;
        for (size_t i = 0; i < s->nself; i++) {
            if (sk_addr_equal(&a, &s->self[i]))
                return true;
            any_port = any_port || sk_addr_same_host(&a, &s->self[i]);
        }
        return any_port && !in_dialog;
    }
    if (!sk__is_our_domain(s, u->host))
        return false;
    for (size_t i = 0; i < s->nself && u->has_port; i++) {
        if (sk_addr_port(&s->self[i]) == port)
            return true;
    }
    return !u->has_port || !in_dialog;
}

/* ---- sanity checks (RFC 3261 §8.2.1-§8.2.3, §16.3) ------------------------ */

/* §16.3 step 4: a request carrying our Via came back to us. The branch
 * hash of that Via (proxy_edit.c) tells a loop (482) from a legitimate
 * spiral (processed again). A CANCEL is answered hop by hop (§16.10) and
 * is never forwarded as such. */
static bool looped(const struct sk__req *r)
{
    return r->m->method_id != SK_METHOD_CANCEL &&
           sk__proxy_looped(r->m, r->s->self, r->s->nself, sk_slice_cstr(r->s->cfg.domain));
}

static bool tag_supported(struct sk_slice tok)
{
    for (size_t i = 0; supported_tags[i] != NULL; i++) {
        if (sk_slice_caseeq_cstr(tok, supported_tags[i]))
            return true;
    }
    return false;
}

/* §8.2.2.3 (Require, as a UAS) and §16.3 step 5 (Proxy-Require, as a
 * proxy): every option tag must be supported, else 420 with Unsupported
 * listing the ones that are not. §9.1 keeps both headers out of CANCEL.
 * Returns true when a 420 was sent. */
static bool check_option_tags(struct sk__req *r, enum sk_hdr_id hdr)
{
    struct sk_hdr_iter it;
    struct sk_slice tok;
    bool bad = false, first = true;

    if (r->m->method_id == SK_METHOD_CANCEL || sk_msg_find(r->m, hdr) == NULL)
        return false;
    sk_hdr_iter_init(&it, r->m, hdr);
    while (!bad && sk_msg_token_next(&it, &tok) == 1)
        bad = !tag_supported(tok);
    if (!bad)
        return false;
    sk__log_reject(r, 420, NULL, NULL);
    sk__resp_start(r, 420, NULL);
    sk_buf_append_cstr(&r->out, "Unsupported: ");
    sk_hdr_iter_init(&it, r->m, hdr);
    while (sk_msg_token_next(&it, &tok) == 1) {
        if (tag_supported(tok))
            continue;
        if (!first)
            sk_buf_append_cstr(&r->out, ", ");
        sk_buf_append_slice(&r->out, tok);
        first = false;
    }
    sk_buf_append_cstr(&r->out, "\r\n");
    sk__resp_send(r);
    return true;
}

/* The server is both UAS (OPTIONS, REGISTER) and proxy: both apply. */
static bool check_require(struct sk__req *r)
{
    return check_option_tags(r, SK_HDR_REQUIRE) || check_option_tags(r, SK_HDR_PROXY_REQUIRE);
}

/* Checks on a new transaction's request. Returns true when answered. */
static bool sanity(struct sk__req *r)
{
    const struct sk_msg *m = r->m;

    /* §16.3 step 3. The brief of this server is strict: 483 for every
     * method, OPTIONS included (§11 would let us answer it). */
    if (m->max_forwards == 0) {
        sk__reply(r, 483, NULL);
        return true;
    }
    if (looped(r)) {
        sk__reply(r, 482, NULL);
        return true;
    }
    if (check_require(r))
        return true;
    if (m->ruri.scheme != SK_URI_SIP && m->ruri.scheme != SK_URI_SIPS) {
        sk__reply(r, 416, NULL);
        return true;
    }
    if (m->raw.len > r->s->cfg.max_message_size) {
        sk__reply(r, 513, NULL);
        return true;
    }
    return false;
}

/* RFC 3261 §16.4: a strict router before us put our Record-Route URI (with
 * its route token) in the Request-URI and the real one last in Route; the
 * proxy follows that route set, this server has nothing to answer. */
static bool strict_routed(const struct sk_msg *m)
{
    struct sk_slice tok;

    return m->to.tag.len > 0 && m->first[SK_HDR_ROUTE] != 0 &&
           sk_uri_param(&m->ruri, SK__RR_PARAM, &tok);
}

/* ---- transaction callbacks ------------------------------------------------- */

static void on_request(void *arg, struct sk_txn *txn, const struct sk_msg *req)
{
    struct sk__req r = {.s = arg, .txn = txn, .m = req, .to = sk_txn_peer(txn)};

    sk_buf_init(&r.out);
    sk__count_request(r.s, req->method_id);
    if (atomic_load_explicit(&r.s->draining, memory_order_relaxed)) {
        sk__resp_start(&r, 503, NULL);
        sk_msg_add_header(&r.out, "Retry-After", SK_SLICE_LIT("5"));
        sk__resp_send(&r);
    } else if (!sanity(&r)) {
        if (req->method_id == SK_METHOD_CANCEL)
            handle_cancel(&r);
        else if (sk__events_wants(r.s, req))
            sk__events_handle(&r); /* SUBSCRIBE, PUBLISH: events.c */
        else if (req->method_id == SK_METHOD_REGISTER)
            sk__local_handle(&r); /* the registrar refuses other domains */
        else if (sk__is_for_us(r.s, &req->ruri, req->to.tag.len > 0) && !strict_routed(req))
            sk__local_handle(&r);
        else
            sk__proxy_request(&r);
    }
    sk_buf_free(&r.out);
}

static void on_ack(void *arg, const struct sk_msg *msg, const struct sk_addr *from)
{
    /* §17.2.1 has the transaction absorb the ACK of a non-2xx; for the
     * finals we sent statelessly the tag does it (and there is nothing to
     * stop: nothing retransmits them). */
    if (acks_stateless_final(msg)) {
        SK_LOG(SK_LOG_DEBUG, "server", "event=ack_absorbed stateless=true");
        return;
    }
    sk__count_request(arg, SK_METHOD_ACK); /* a 2xx ACK: outside the INVITE transaction (§17) */
    sk__proxy_ack(arg, msg, from);
}

static void on_stray(void *arg, const struct sk_msg *msg, const struct sk_addr *from)
{
    sk__nat_keepalive_response(arg, msg, from);
}

static void on_response(void *arg, struct sk_txn *txn, const struct sk_msg *resp)
{
    if (sk__events_owns(txn)) {
        sk__events_response(arg, txn, resp);
        return;
    }
    sk__proxy_response(arg, txn, resp);
}

static void on_timeout(void *arg, struct sk_txn *txn, const struct sk_msg *resp)
{
    if (sk__events_owns(txn)) {
        sk__events_response(arg, txn, resp);
        return;
    }
    sk__proxy_timeout(arg, txn, resp);
}

static void on_tperr(void *arg, struct sk_txn *txn, int err, const struct sk_msg *resp)
{
    if (sk__events_owns(txn)) {
        sk__events_response(arg, txn, resp);
        return;
    }
    sk__proxy_transport_error(arg, txn, err, resp);
}

static void on_terminated(void *arg, struct sk_txn *txn)
{
    if (sk__events_owns(txn))
        return;
    sk__proxy_terminated(arg, txn);
}

/* Called with a shard lock held: sk_tp_send() does not block (TCP bytes
 * for another worker's connection are queued to it). */
static int txn_send(void *arg, const struct sk_addr *dst, const char *data, size_t len)
{
    return sk__send_to(arg, dst, data, len);
}

int sk__send_to(struct sk_server *s, const struct sk_addr *dst, const char *data, size_t len)
{
    struct sk_dest d;

    memset(&d, 0, sizeof(d));
    d.transport = dst->tp;
    d.addr = *dst;
    d.conn_id = dst->conn_id;
    d.listener = -1;
    /* §18.1.1: a request too large for the path leaves UDP for TCP (the
     * transport decides, and falls back to UDP when the peer has no TCP);
     * a response keeps the transport its request came on (§18.2.2). */
    if (len < 8 || memcmp(data, "SIP/2.0 ", 8) != 0)
        return sk_tp_send_request(s->tp, &d, data, len);
    sk__count_sent(s, data, len);
    return sk_tp_send(s->tp, &d, data, len);
}

void sk__pipeline_hooks(struct sk_server *s, struct sk_txn_hooks *h)
{
    memset(h, 0, sizeof(*h));
    h->send = txn_send;
    h->send_arg = s;
    h->tu_arg = s;
    h->on_request = on_request;
    h->on_response = on_response;
    h->on_ack = on_ack;
    h->on_stray_response = on_stray;
    h->on_timeout = on_timeout;
    h->on_transport_error = on_tperr;
    h->on_terminated = on_terminated;
}

/* ---- entry point: stateless answers for what cannot be a transaction ------ */

static void reject_unparsed(struct sk_server *s, struct sk_rx *rx)
{
    char reason[128];
    char a[SK_ADDR_STRLEN];
    const struct sk_msg *m = rx->msg;
    unsigned code = sk_msg_error(m, reason, sizeof(reason));
    struct sk_dest dst;
    struct sk_buf out;

    if (reason[0] == '\0')
        snprintf(reason, sizeof(reason), "%s", sk_code_phrase(code));
    sk_addr_format(&rx->peer, a, sizeof(a));
    if ((rx->parse_err != 0 && !m->respondable) || !m->is_request ||
        m->method_id == SK_METHOD_ACK) {
        /* §18.3 / DESIGN: nowhere to send a response; drop and count. */
        SK_LOG(SK_LOG_INFO, "server",
               "event=dropped reason=\"%s\" status=%u transport=%s peer=%s bytes=%zu", reason, code,
               sk_transport_name(rx->transport), a, rx->bytes.len);
        return;
    }
    atomic_fetch_add_explicit(&s->rejected, 1, memory_order_relaxed);
    SK_LOG(SK_LOG_INFO, "server",
           "event=rejected status=%u reason=\"%s\" method=%.*s transport=%s peer=%s", code, reason,
           (int)(m->method.len > 32 ? 32 : m->method.len), m->method.p,
           sk_transport_name(rx->transport), a);
    sk_buf_init(&out);
    start_on(&out, m, code, reason);
    sk_msg_finish(&out, SK_SLICE_NULL, SK_SLICE_NULL);
    sk_tp_response_dest(rx, &dst);
    if (sk_buf_ok(&out) && sk_tp_send(rx->tp, &dst, out.p, out.len) == 0)
        sk__count_sent(s, out.p, out.len);
    sk_buf_free(&out);
}

/* OPTIONS to the server itself is answered statelessly (RFC 3261 §8.2.7,
 * §11): the answer is a function of the request (the To tag is derived
 * from it), so a retransmission gets the same bytes back without keeping
 * a transaction for Timer J's 32 s. That is most of a keep-alive load. */
static bool answer_statelessly(struct sk_server *s, struct sk_rx *rx, const struct sk_addr *to)
{
    const struct sk_msg *m = rx->msg;
    struct sk__req r = {.s = s, .m = m, .rx = rx, .to = to};

    if (!m->is_request || m->method_id != SK_METHOD_OPTIONS || m->to.tag.len != 0 ||
        !sk__is_for_us(s, &m->ruri, false) ||
        atomic_load_explicit(&s->draining, memory_order_relaxed))
        return false;
    sk_buf_init(&r.out);
    sk__count_request(s, m->method_id);
    if (!sanity(&r))
        handle_options(&r);
    sk_buf_free(&r.out);
    return true;
}

void sk__pipeline_recv(void *arg, struct sk_rx *rx)
{
    struct sk_server *s = arg;
    struct sk_addr from;
    struct sk_dest dst;
    int err;

    /* Limits and bans first (DESIGN): a banned or flooding address costs
     * no parsing, no answer and no state. */
    if (!sk__guard_admit(s->guard, &rx->peer, sk_now_ms()))
        return;
    /* sk_msg_parse() checked what every transaction needs; the typed
     * headers (all Vias, Contact, Route, Require, ...) are checked here,
     * before any stage trusts them. */
    if (rx->parse_err != 0 || sk_msg_check(rx->msg) != 0 ||
        (rx->msg->is_request && !sk_slice_eq(rx->msg->version, SK_SLICE_LIT("SIP/2.0")))) {
        if (rx->parse_err == 0 && rx->msg->cause == SK_CAUSE_NONE)
            rx->msg->cause = SK_CAUSE_VERSION;
        reject_unparsed(s, rx);
        return;
    }
    /* Requests: the transaction keeps where its responses go (§18.2.2,
     * RFC 3581); responses: where they came from. */
    from = rx->peer;
    if (rx->msg->is_request) {
        sk_tp_response_dest(rx, &dst);
        from = dst.addr;
    }
    from.tp = rx->transport;
    from.conn_id = rx->conn_id;
    if (answer_statelessly(s, rx, &from))
        return;
    err = sk_txn_table_receive(s->txns, rx->msg, &from);
    if (err != 0)
        SK_LOG(err == SK_ENOMEM ? SK_LOG_ERROR : SK_LOG_DEBUG, "server",
               "event=txn_refused error=\"%s\"", sk_strerror(err));
}
