/*
 * The proxy's Record-Route values and the tokens in them: what lets a
 * request within a dialog through, and nothing else (DESIGN: "nothing is
 * forwarded on the strength of a Route header alone").
 *
 *   - RFC 3261 §16.6 step 4: a dialog-creating request we forward gets our
 *     Record-Route. It names the transport of a TCP leg (;transport=tcp)
 *     so a UA on that leg comes back over TCP. When the two legs differ in
 *     transport or address (UDP/TCP, IPv4/IPv6), two values go in, the
 *     callee's leg on top (RFC 5658 §3.2 double record-routing): each side
 *     reaches us on its own leg, and the request leaves on the other one.
 *   - Each value carries ";sk=" and a token: an HMAC under the server
 *     secret (sk_auth_mac) over the Call-ID, the caller's tag and where the
 *     request may go next once our values are removed. The values the
 *     callee sees (in the request) name the caller's side as next hop: the
 *     Record-Route value below ours, else the caller's Contact. Those the
 *     caller sees are rewritten in the 1xx/2xx going upstream (§16.7 step
 *     4 allows it) to name the callee's side: the value above ours, else
 *     the callee's Contact. A request's token is checked statelessly (no
 *     dialog table: restarts and workers do not matter) with its From tag
 *     or, for a request from the callee, its To tag.
 *   - A forged or copied token fails: an in-dialog request is forwarded
 *     only to the next hop its token was minted for, which stops the
 *     relay of a request with `Route: <sip:us;lr>` to any address and
 *     port, TCP included.
 *
 * Limits: a target refresh that moves a UA to another address or
 * transport (a re-INVITE with a new Contact) is not followed; the old
 * route token names the old address, so requests to the new one get 403.
 *
 * Memory: values and edits are written into caller-owned buffers.
 */
#include "server/proxy_int.h"

#include <sipkit/auth.h>

#include <ctype.h>
#include <string.h>

#define TOKEN_BIN 16 /* 128 bits of the HMAC, as 32 hex digits */

enum sk_transport sk__uri_transport(const struct sk_uri *u, enum sk_transport def)
{
    struct sk_slice tp;

    /* RFC 5630: sips: means TLS on every hop. transport=tls is TLS too
     * (RFC 3261 §26.2.2 deprecates it for sips:, phones still send it). */
    if (u->scheme == SK_URI_SIPS)
        return SK_TP_TLS;
    if (!sk_uri_param(u, "transport", &tp))
        return def;
    if (sk_slice_caseeq_cstr(tp, "tls"))
        return SK_TP_TLS;
    /* RFC 7118 §5.2: transport=ws and wss. */
    if (sk_slice_caseeq_cstr(tp, "ws"))
        return SK_TP_WS;
    if (sk_slice_caseeq_cstr(tp, "wss"))
        return SK_TP_WSS;
    return sk_slice_caseeq_cstr(tp, "tcp") ? SK_TP_TCP : SK_TP_UDP;
}

enum sk_transport sk__rr_leg(const struct sk_uri *u)
{
    return sk__uri_transport(u, SK_TP_UDP);
}

int sk__rr_hop_key(struct sk_slice text, enum sk_transport def, char *out, size_t outsz)
{
    struct sk_uri u;
    struct sk_addr a;
    struct sk_buf b;
    uint16_t port;
    int err = 0;

    if (sk_uri_parse(text, &u) != 0 || (u.scheme != SK_URI_SIP && u.scheme != SK_URI_SIPS) ||
        u.host.len == 0)
        return SK_EPARSE;
    port = u.has_port ? u.port : (u.scheme == SK_URI_SIPS ? 5061 : 5060);
    /* The transport the request will leave on, as sk__proxy_resolve()
     * decides it, then where to. */
    def = sk__uri_transport(&u, def);
    sk_buf_init(&b);
    sk_buf_append_cstr(&b, sk_transport_name(def));
    sk_buf_append_cstr(&b, " ");
    if (u.host_type == SK_HOST_IPV4 || u.host_type == SK_HOST_IPV6) {
        char t[SK_ADDR_STRLEN];
        /* One spelling per address: [::1] and [0::1] are the same hop. */
        if (sk_addr_parse(u.host, port, &a) != 0)
            err = SK_EPARSE;
        else
            sk_buf_append_cstr(&b, sk_addr_format(&a, t, sizeof(t)));
    } else {
        for (size_t i = 0; i < u.host.len; i++) {
            char c = (char)tolower((unsigned char)u.host.p[i]);
            sk_buf_append(&b, &c, 1);
        }
        sk_buf_append_cstr(&b, ":");
        sk_buf_append_u64(&b, port);
    }
    if (err == 0)
        err = sk_buf_copy_out(&b, out, outsz);
    sk_buf_free(&b);
    return err;
}

int sk__rr_token(struct sk_auth *a, struct sk_slice call_id, struct sk_slice tag, const char *hop,
                 char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[32];
    const struct sk_slice parts[] = {call_id, SK_SLICE_LIT("\n"), tag, SK_SLICE_LIT("\n"),
                                     sk_slice_cstr(hop)};
    int err = sk_auth_mac(a, "sipkit record-route 1", parts, sizeof(parts) / sizeof(parts[0]), mac);

    if (err != 0)
        return err;
    for (size_t i = 0; i < TOKEN_BIN; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[SK__RR_TOKEN_LEN] = '\0';
    return 0;
}

/* Token comparison in constant time, hex digits of either case. */
static bool token_eq(struct sk_slice got, const char *want)
{
    unsigned diff = 0;

    if (got.len != SK__RR_TOKEN_LEN)
        return false;
    for (size_t i = 0; i < SK__RR_TOKEN_LEN; i++)
        diff |= (unsigned)(tolower((unsigned char)got.p[i]) ^ (unsigned char)want[i]);
    return diff == 0;
}

/* The URI of the first value of a header (Record-Route, Contact). */
static bool first_uri(const struct sk_msg *m, enum sk_hdr_id id, struct sk_slice *uri)
{
    struct sk_hdr_iter it;
    struct sk_nameaddr na;

    sk_hdr_iter_init(&it, m, id);
    if (sk_msg_nameaddr_next(&it, &na) != 1)
        return false;
    *uri = na.uri.raw;
    return true;
}

/* The token for the dialog of m (its Call-ID and From tag, the caller's)
 * towards hop; an unknown hop gets a token nothing verifies against. */
static int token_towards(struct sk_auth *a, const struct sk_msg *m, bool have_hop,
                         struct sk_slice hop, enum sk_transport def, char *out)
{
    char key[SK__RR_HOP_KEY_MAX];

    if (!have_hop || sk__rr_hop_key(hop, def, key, sizeof(key)) != 0)
        key[0] = '\0';
    return sk__rr_token(a, m->call_id, m->from.tag, key, out);
}

/* sips: a sips: request's Record-Route on a TLS leg is sips: too, so
 * the dialog's requests stay on TLS (RFC 5630). */
static void append_value(struct sk_buf *b, const struct sk__rr_side *leg, const char *tok,
                         bool sips)
{
    sips = sips && leg->tp == SK_TP_TLS;
    sk_buf_append_cstr(b, sips ? "<sips:" : "<sip:");
    sk_buf_append_cstr(b, leg->host);
    if (leg->tp == SK_TP_TCP)
        sk_buf_append_cstr(b, ";transport=tcp");
    else if (leg->tp == SK_TP_TLS && !sips)
        sk_buf_append_cstr(b, ";transport=tls");
    else if (sk_transport_is_ws(leg->tp))
        sk_buf_append_cstr(b, leg->tp == SK_TP_WS ? ";transport=ws" : ";transport=wss");
    /* §19.1.1: ;lr, we are a loose router. */
    sk_buf_append_cstr(b, ";lr;" SK__RR_PARAM "=");
    sk_buf_append_cstr(b, tok);
    if (leg->params != NULL)
        sk_buf_append_cstr(b, leg->params);
    sk_buf_append_cstr(b, ">");
}

int sk__rr_values(struct sk_auth *a, const struct sk_msg *req, const struct sk__rr_side *out_leg,
                  const struct sk__rr_side *in_leg, struct sk_buf *b)
{
    char tok[SK__RR_TOKEN_LEN + 1];
    struct sk_slice hop = SK_SLICE_NULL;
    bool have;
    int err;

    /* What the callee's requests reach after us: the previous proxy's
     * Record-Route value, or the caller itself, over the inbound leg. */
    have = first_uri(req, SK_HDR_RECORD_ROUTE, &hop) || first_uri(req, SK_HDR_CONTACT, &hop);
    err = token_towards(a, req, have, hop, in_leg->tp, tok);
    if (err != 0)
        return err;
    append_value(b, out_leg, tok, req->ruri.scheme == SK_URI_SIPS);
    if (out_leg->tp != in_leg->tp || strcmp(out_leg->host, in_leg->host) != 0) {
        /* RFC 5658 §3.2: the inbound leg's value below the outbound's. */
        sk_buf_append_cstr(b, ", ");
        append_value(b, in_leg, tok, req->ruri.scheme == SK_URI_SIPS);
    }
    return sk_buf_ok(b) ? 0 : SK_ENOMEM;
}

int sk__rr_check(struct sk_auth *a, const struct sk_msg *m, const struct sk__route_pre *pre,
                 struct sk_addr *dst, const char **why)
{
    const struct sk_uri *last = sk__proxy_last_self(pre, m);
    char key[SK__RR_HOP_KEY_MAX], want[SK__RR_TOKEN_LEN + 1];
    struct sk_slice tok, next = sk__proxy_next_hop(pre);
    const struct sk_slice tags[2] = {m->from.tag, m->to.tag};
    enum sk_transport def;
    bool ok = false;

    if (last == NULL || !sk_uri_param(last, SK__RR_PARAM, &tok) || tok.len != SK__RR_TOKEN_LEN) {
        *why = "Route Token Missing";
        return SK_EAUTH;
    }
    /* The last value of ours removed names the leg we send on (RFC 5658),
     * unless the next hop says otherwise. */
    def = sk__rr_leg(last);
    if (sk__rr_hop_key(next, def, key, sizeof(key)) != 0) {
        *why = "Bad Next Hop";
        return SK_EPARSE;
    }
    /* The caller's tag is the From tag of its requests and the To tag of
     * the callee's. */
    for (size_t i = 0; i < 2 && !ok; i++) {
        if (tags[i].len > 0 && sk__rr_token(a, m->call_id, tags[i], key, want) == 0)
            ok = token_eq(tok, want);
    }
    if (!ok) {
        *why = "Route Token Invalid";
        return SK_EAUTH;
    }
    if (sk__proxy_resolve(next, def, dst) != 0) {
        *why = "Next Hop Not Numeric";
        return SK_ENOTFOUND;
    }
    return 0;
}

/* ---- the values the caller sees ------------------------------------------------ */

#define MAX_RR 32

struct rr_value {
    size_t hdr; /* header index */
    struct sk_slice v;
    bool ours;
};

static bool is_ours(struct sk_slice v, const struct sk_addr *self, size_t nself)
{
    struct sk_nameaddr na;
    struct sk_slice tok;

    return sk_nameaddr_parse(v, &na) == 0 && sk__proxy_uri_is_self(&na.uri, self, nself) &&
           sk_uri_param(&na.uri, SK__RR_PARAM, &tok) && tok.len == SK__RR_TOKEN_LEN;
}

/* Every Record-Route value of m with its header. Returns the count, or
 * SK_ETOOBIG / SK_EPARSE. */
static long collect(const struct sk_msg *m, struct rr_value *v)
{
    long n = 0;

    for (size_t i = 0; i < m->nhdrs; i++) {
        struct sk_slice cur = m->hdrs[i].value, one;
        int r;
        if (m->hdrs[i].id != SK_HDR_RECORD_ROUTE)
            continue;
        while ((r = sk_list_next(&cur, &one)) == 1) {
            if (n == MAX_RR)
                return SK_ETOOBIG;
            v[n].hdr = i;
            v[n].v = one;
            v[n].ours = false;
            n++;
        }
        if (r < 0)
            return SK_EPARSE;
    }
    return n;
}

static size_t count_rr(const struct sk_msg *m)
{
    struct rr_value v[MAX_RR];
    long n = collect(m, v);

    return n > 0 ? (size_t)n : 0;
}

/* One value of ours with the new token in place of the old one. */
static void append_retokened(struct sk_buf *b, struct sk_slice v, const char *tok)
{
    struct sk_nameaddr na;
    struct sk_slice old;

    if (sk_nameaddr_parse(v, &na) != 0 || !sk_uri_param(&na.uri, SK__RR_PARAM, &old) ||
        old.p < v.p || old.p + old.len > v.p + v.len) {
        sk_buf_append_slice(b, v);
        return;
    }
    sk_buf_append(b, v.p, (size_t)(old.p - v.p));
    sk_buf_append_cstr(b, tok);
    sk_buf_append(b, old.p + old.len, (size_t)(v.p + v.len - (old.p + old.len)));
}

int sk__rr_edit_response(struct sk_auth *a, const struct sk_addr *self, size_t nself,
                         struct sk_msg_edit *e, size_t n_up, struct sk_buf *sc)
{
    const struct sk_msg *resp = e->m;
    struct rr_value v[MAX_RR];
    char tok[SK__RR_TOKEN_LEN + 1];
    struct sk_slice hop = SK_SLICE_NULL;
    size_t top, k = 0, offs[MAX_RR], lens[MAX_RR], hdrs[MAX_RR], nh = 0;
    long n = collect(resp, v);
    bool have;
    int err;

    if (n < 0)
        return n == SK_ETOOBIG ? 0 : (int)n; /* too many to be ours to find: left alone */
    if ((size_t)n <= n_up)
        return 0;
    /* The UAS copied every value (§12.1.1) and those below ours came with
     * the request: ours are the one or two just above them. The whole run
     * of ours there is retokened, as the caller's requests will have every
     * leading value of ours removed in one pass and the last one checked
     * (sk__rr_check): a spiral puts more of ours side by side, and
     * linphonec 5.1 echoes the lower of two values in one header twice. */
    top = (size_t)n - n_up;
    while (top > 0 && is_ours(v[top - 1].v, self, nself)) {
        v[--top].ours = true;
        k++;
    }
    if (k == 0)
        return 0;
    /* Where the caller's requests go after us: the next proxy towards the
     * callee, or the callee, over the leg our top value names. */
    if (top > 0) {
        struct sk_nameaddr na;
        have = sk_nameaddr_parse(v[top - 1].v, &na) == 0;
        hop = na.uri.raw;
    } else {
        have = first_uri(resp, SK_HDR_CONTACT, &hop);
    }
    {
        struct sk_nameaddr na;
        if (sk_nameaddr_parse(v[top].v, &na) != 0)
            return 0;
        err = token_towards(a, resp, have, hop, sk__rr_leg(&na.uri), tok);
    }
    if (err != 0)
        return err;
    /* Rewrite the header(s) holding ours, value by value. */
    for (size_t i = top; i < top + k; i++) {
        size_t h = v[i].hdr;
        if (nh > 0 && hdrs[nh - 1] == h)
            continue;
        hdrs[nh] = h;
        offs[nh] = sc->len;
        for (long j = 0; j < n; j++) {
            if (v[j].hdr != h)
                continue;
            if (sc->len > offs[nh])
                sk_buf_append_cstr(sc, ", ");
            if (v[j].ours)
                append_retokened(sc, v[j].v, tok);
            else
                sk_buf_append_slice(sc, v[j].v);
        }
        lens[nh] = sc->len - offs[nh];
        nh++;
    }
    if (!sk_buf_ok(sc))
        return SK_ENOMEM;
    for (size_t i = 0; i < nh; i++) {
        err = sk_msg_edit_replace(e, hdrs[i], sk_slice_make(sc->p + offs[i], lens[i]));
        if (err != 0)
            return err;
    }
    return 0;
}

int sk__rr_relay_response(struct sk_auth *a, const struct sk_addr *self, size_t nself,
                          const struct sk_msg *resp, const struct sk_msg *up, struct sk_buf *out)
{
    struct sk_msg_edit e;
    struct sk_buf vsc, rsc;
    int err;

    if (resp->first[SK_HDR_RECORD_ROUTE] == 0)
        return sk__proxy_relay_response(resp, up, out);
    /* Two scratch buffers: slices into the first are taken before the
     * second grows. */
    sk_buf_init(&vsc);
    sk_buf_init(&rsc);
    sk_msg_edit_init(&e, resp);
    err = sk__proxy_edit_vias(&e, up, &vsc);
    if (err == 0)
        err = sk__rr_edit_response(a, self, nself, &e, count_rr(up), &rsc);
    if (err == 0)
        err = sk_msg_edit_write(&e, out);
    sk_buf_free(&vsc);
    sk_buf_free(&rsc);
    return err == SK_ETOOBIG ? sk__proxy_relay_response(resp, up, out) : err;
}
