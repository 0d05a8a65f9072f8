/*
 * The request pipeline: what the server does with each message the
 * transport hands up. Stages, in order:
 *
 *   1. sanity (RFC 3261 §8.2, §16.3): malformed -> 400 naming the defect,
 *      SIP version -> 505, Max-Forwards 0 -> 483, loop -> 482, unsupported
 *      Require -> 420 with Unsupported, URI scheme -> 416, too large -> 513;
 *   2. (transaction layer: retransmissions, CANCEL matching - to come)
 *   3. (authentication, registrar, proxy - to come);
 *   4. method dispatch through the handler table below: methods with no
 *      handler get 405 with Allow, unknown methods 501; OPTIONS to the
 *      server gets 200 with Allow, Accept and Supported (§11.2).
 *
 * Until the transaction layer lands, responses are sent statelessly
 * (§8.2.7 / §16.11): the To tag is a hash of the request, so a
 * retransmitted request gets a byte-identical response.
 *
 * Memory: responses are built in the worker's reusable buffer and sent
 * before the callback returns; nothing outlives the received message.
 */
#include "server/internal.h"

#include <stdio.h>
#include <string.h>

struct req {
    struct sk_server *s;
    struct sk_rx *rx;
    const struct sk_msg *m;
    struct sk_buf *out;
};

typedef void (*handler_cb)(struct req *r);

struct method_handler {
    enum sk_method method;
    handler_cb run;
};

/* Option tags this server implements (Require / Supported, §19.2). */
static const char *const supported_tags[] = {NULL};

static const struct {
    unsigned code;
    const char *phrase;
} phrases[] = {
    {200, "OK"},
    {400, "Bad Request"},
    {405, "Method Not Allowed"},
    {416, "Unsupported URI Scheme"},
    {420, "Bad Extension"},
    {481, "Call/Transaction Does Not Exist"},
    {482, "Loop Detected"},
    {483, "Too Many Hops"},
    {500, "Server Internal Error"},
    {501, "Not Implemented"},
    {505, "Version Not Supported"},
    {513, "Message Too Large"},
};

static const char *phrase(unsigned code)
{
    for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
        if (phrases[i].code == code)
            return phrases[i].phrase;
    }
    return "Unknown";
}

/* ---- building and sending responses ------------------------------------- */

/* §8.2.6.2: a UAS adds a To tag. Stateless, so derive it from what
 * identifies the request: a retransmission gets the same tag. */
static void stateless_tag(const struct sk_msg *m, char *tag, size_t tagsz)
{
    uint64_t h = 1469598103934665603ull;
    const struct sk_slice parts[] = {m->call_id, m->from.tag, m->via.branch, m->cseq.method};
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        for (size_t j = 0; j < parts[i].len; j++)
            h = (h ^ (unsigned char)parts[i].p[j]) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    h ^= m->cseq.num;
    for (size_t i = 0; i < 16 && i + 1 < tagsz; i++, h >>= 4)
        tag[i] = hex[h & 15];
    tag[tagsz < 17 ? tagsz - 1 : 16] = '\0';
}

static void start(struct req *r, unsigned code, const char *reason)
{
    char tag[17];

    stateless_tag(r->m, tag, sizeof(tag));
    sk_buf_reset(r->out);
    sk_msg_start_response(r->out, r->m, code, sk_slice_cstr(reason),
                          code == 100 ? SK_SLICE_NULL : sk_slice_cstr(tag));
    sk_msg_add_header(r->out, "Server", SK_SLICE_LIT("sipkit"));
}

static void finish_and_send(struct req *r)
{
    struct sk_dest dst;
    int err;

    sk_msg_finish(r->out, SK_SLICE_NULL, SK_SLICE_NULL);
    if (!sk_buf_ok(r->out)) {
        SK_LOG(SK_LOG_ERROR, "server", "event=response_failed error=\"out of memory\"");
        return;
    }
    sk_tp_response_dest(r->rx, &dst);
    err = sk_tp_send(r->rx->tp, &dst, r->out->p, r->out->len);
    if (err != 0)
        SK_LOG(SK_LOG_WARN, "server", "event=response_not_sent error=\"%s\"", sk_strerror(err));
}

static void log_reject(struct req *r, unsigned code, const char *reason)
{
    char a[SK_ADDR_STRLEN];

    atomic_fetch_add_explicit(&r->s->rejected, 1, memory_order_relaxed);
    SK_LOG(SK_LOG_INFO, "server",
           "event=rejected status=%u reason=\"%s\" method=%.*s transport=%s peer=%s", code, reason,
           (int)(r->m->method.len > 32 ? 32 : r->m->method.len), r->m->method.p,
           sk_transport_name(r->rx->transport), sk_addr_format(&r->rx->peer, a, sizeof(a)));
}

/* A response with no extra headers. ACK is never answered (§17.2.3). */
static void reply(struct req *r, unsigned code, const char *reason)
{
    if (r->m->method_id == SK_METHOD_ACK)
        return;
    if (code >= 300)
        log_reject(r, code, reason);
    start(r, code, reason);
    finish_and_send(r);
}

static void add_allow(struct req *r);

/* ---- handlers ------------------------------------------------------------- */

static void add_supported(struct req *r)
{
    struct sk_buf *b = r->out;

    sk_buf_append_cstr(b, "Supported: ");
    for (size_t i = 0; supported_tags[i] != NULL; i++) {
        sk_buf_append_cstr(b, i > 0 ? ", " : ""); /* no printf: every OPTIONS runs this */
        sk_buf_append_cstr(b, supported_tags[i]);
    }
    sk_buf_append_cstr(b, "\r\n");
}

/* §11.2: OPTIONS addressed to the server. */
static void handle_options(struct req *r)
{
    start(r, 200, "OK");
    add_allow(r);
    sk_msg_add_header(r->out, "Accept", SK_SLICE_LIT("application/sdp"));
    sk_msg_add_header(r->out, "Accept-Encoding", SK_SLICE_LIT("identity"));
    sk_msg_add_header(r->out, "Accept-Language", SK_SLICE_LIT("en"));
    add_supported(r);
    finish_and_send(r);
}

/* §9.2: with no transaction to match, a CANCEL has nothing to cancel. */
static void handle_cancel(struct req *r)
{
    reply(r, 481, phrase(481));
}

/* ACK for a final response we sent statelessly: nothing to do. */
static void handle_ack(struct req *r)
{
    (void)r;
}

/* The methods the server handles; Allow is generated from this table. */
static const struct method_handler handlers[] = {
    {SK_METHOD_ACK, handle_ack},
    {SK_METHOD_CANCEL, handle_cancel},
    {SK_METHOD_OPTIONS, handle_options},
};

static void add_allow(struct req *r)
{
    struct sk_buf *b = r->out;

    sk_buf_append_cstr(b, "Allow: ");
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
        sk_buf_append_cstr(b, i > 0 ? ", " : ""); /* no printf: every OPTIONS runs this */
        sk_buf_append_cstr(b, sk_method_name(handlers[i].method));
    }
    sk_buf_append_cstr(b, "\r\n");
}

/* ---- sanity checks (RFC 3261 §8.2.1-§8.2.3, §16.3) ------------------------ */

/* A response needs the headers §8.2.6.1 copies from the request. */
static bool can_respond(const struct req *r)
{
    const struct sk_msg *m = r->m;

    return (r->rx->parse_err == 0 || m->respondable) && m->is_request &&
           m->method_id != SK_METHOD_ACK;
}

static bool is_self(const struct sk_server *s, const struct sk_via *v)
{
    struct sk_addr a;

    if (v->host_type != SK_HOST_IPV4 && v->host_type != SK_HOST_IPV6)
        return false;
    if (sk_addr_parse(v->host, v->has_port ? v->port : 5060, &a) != 0)
        return false;
    for (size_t i = 0; i < s->nself; i++) {
        if (sk_addr_equal(&a, &s->self[i]))
            return true;
    }
    return false;
}

/* §16.3 step 4: a Via naming this server means the request came back to
 * us. The server does not forward yet, so any such Via is a loop (once it
 * forwards, a matching branch hash tells a spiral from a loop). */
static bool looped(const struct req *r)
{
    struct sk_hdr_iter it;
    struct sk_via v;

    sk_hdr_iter_init(&it, r->m, SK_HDR_VIA);
    while (sk_msg_via_next(&it, &v) == 1) {
        if (is_self(r->s, &v))
            return true;
    }
    return false;
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
 * listing the ones that are not. ACK cannot be answered and §9.1 keeps
 * both headers out of CANCEL. Returns true when a 420 was sent. */
static bool check_option_tags(struct req *r, enum sk_hdr_id hdr)
{
    struct sk_hdr_iter it;
    struct sk_slice tok;
    bool bad = false;

    if (r->m->method_id == SK_METHOD_ACK || r->m->method_id == SK_METHOD_CANCEL ||
        sk_msg_find(r->m, hdr) == NULL)
        return false;
    sk_hdr_iter_init(&it, r->m, hdr);
    while (sk_msg_token_next(&it, &tok) == 1) {
        if (!tag_supported(tok)) {
            bad = true;
            break;
        }
    }
    if (!bad)
        return false;
    log_reject(r, 420, phrase(420));
    start(r, 420, phrase(420));
    sk_buf_append_cstr(r->out, "Unsupported: ");
    bool first = true;
    sk_hdr_iter_init(&it, r->m, hdr);
    while (sk_msg_token_next(&it, &tok) == 1) {
        if (tag_supported(tok))
            continue;
        if (!first)
            sk_buf_append_cstr(r->out, ", ");
        sk_buf_append_slice(r->out, tok);
        first = false;
    }
    sk_buf_append_cstr(r->out, "\r\n");
    finish_and_send(r);
    return true;
}

/* The server is both UAS (OPTIONS, REGISTER) and proxy: both apply. */
static bool check_require(struct req *r)
{
    return check_option_tags(r, SK_HDR_REQUIRE) || check_option_tags(r, SK_HDR_PROXY_REQUIRE);
}

static void reject_bad(struct req *r)
{
    char reason[128];
    char a[SK_ADDR_STRLEN];
    unsigned code = sk_msg_error(r->m, reason, sizeof(reason));

    if (reason[0] == '\0')
        snprintf(reason, sizeof(reason), "%s", phrase(code));
    if (!can_respond(r)) {
        /* §18.3 / DESIGN: nowhere to send a response; drop and count. */
        SK_LOG(SK_LOG_INFO, "server",
               "event=dropped reason=\"%s\" status=%u transport=%s peer=%s bytes=%zu", reason, code,
               sk_transport_name(r->rx->transport), sk_addr_format(&r->rx->peer, a, sizeof(a)),
               r->rx->bytes.len);
        return;
    }
    reply(r, code, reason);
}

/* Returns true when the request was answered (or dropped). */
static bool sanity(struct req *r)
{
    const struct sk_msg *m = r->m;

    /* sk_msg_parse() checked what every transaction needs; the typed
     * headers (all Vias, Contact, Route, Require, ...) are checked here,
     * before any stage trusts them. */
    if (r->rx->parse_err != 0 || sk_msg_check(r->rx->msg) != 0) {
        reject_bad(r);
        return true;
    }
    if (!sk_slice_eq(m->version, SK_SLICE_LIT("SIP/2.0"))) {
        reply(r, 505, phrase(505));
        return true;
    }
    /* §16.3 step 3. The brief of this server is strict: 483 for every
     * method, OPTIONS included (§11 would let us answer it). */
    if (m->max_forwards == 0) {
        reply(r, 483, phrase(483));
        return true;
    }
    if (looped(r)) {
        reply(r, 482, phrase(482));
        return true;
    }
    if (check_require(r))
        return true;
    if (m->ruri.scheme != SK_URI_SIP && m->ruri.scheme != SK_URI_SIPS) {
        reply(r, 416, phrase(416));
        return true;
    }
    if (m->raw.len > r->s->cfg.max_message_size) {
        reply(r, 513, phrase(513));
        return true;
    }
    return false;
}

/* ---- entry point ---------------------------------------------------------- */

void sk__pipeline_recv(void *arg, struct sk_rx *rx)
{
    struct sk_server *s = arg;
    struct req r = {s, rx, rx->msg, &s->workers[sk_tp_worker_index(rx->worker)].out};

    if (rx->parse_err == 0 && !rx->msg->is_request) {
        /* Responses belong to client transactions; none exist yet. */
        SK_LOG(SK_LOG_DEBUG, "server", "event=stray_response status=%u", rx->msg->status);
        return;
    }
    if (sanity(&r))
        return;
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
        if (handlers[i].method == r.m->method_id) {
            handlers[i].run(&r);
            return;
        }
    }
    /* §8.2.1: 405 for a method we know but do not handle, 501 otherwise. */
    if (r.m->method_id == SK_METHOD_OTHER) {
        reply(&r, 501, phrase(501));
        return;
    }
    if (r.m->method_id == SK_METHOD_ACK)
        return;
    log_reject(&r, 405, phrase(405));
    start(&r, 405, phrase(405));
    add_allow(&r);
    finish_and_send(&r);
}
