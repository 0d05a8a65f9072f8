/*
 * The stateful proxy's request routing (RFC 3261 §16): what happens to a
 * request the server does not answer as a UAS.
 *
 *   - §16.4: Route preprocessing; a request whose Route named us, or whose
 *     Request-URI we put in a Record-Route, belongs to a dialog we
 *     record-routed (ACK, BYE, re-INVITE, UPDATE, INFO ...): it goes on to
 *     the next Route value or the Request-URI, without authentication.
 *   - Otherwise it starts something new. A request whose From claims our
 *     domain, in any spelling (case, trailing dot, an IP literal of ours),
 *     must carry Proxy-Authorization for its own From identity (407, then
 *     403 for another identity). A request from another domain to a local
 *     user follows proxy.foreign_callers (allow, challenge, deny). A
 *     request for our domain is routed by the location service (§16.5):
 *     unknown user 404, no binding 480 (both 480 for a caller who did not
 *     authenticate, so users cannot be listed from outside), else
 *     forked to every binding through its Path, to the address the
 *     REGISTER came from (RFC 3327, NAT). Other domains are refused with
 *     403 (no RFC 3263 forwarding yet).
 *   - An ACK for a 2xx (no transaction) is forwarded statelessly (§16.11)
 *     the same way; a response no client transaction knows (§18.1.2) is
 *     passed on by its Via when the top Via is ours.
 *
 * Memory: the location lookup writes into a heap array kept per worker
 * thread (freed by the thread-specific key's destructor when the thread
 * ends); forwarded bytes are built in local buffers.
 */
#include "server/internal.h"
#include "server/proxy_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------------- */

static void reject(struct sk__req *r, unsigned code, const char *reason, const char *cause)
{
    sk__log_reject(r, code, reason, cause);
    sk__resp_start(r, code, reason);
    sk__resp_send(r);
}

/* The next hop of a request after preprocessing, when no new target is
 * set: the first remaining Route value's URI, or the Request-URI. */
static struct sk_slice next_hop(const struct sk__route_pre *pre)
{
    if (sk__proxy_routes_left(pre) > 0)
        return pre->routes[pre->drop_first ? 1 : 0].uri.raw;
    return pre->ruri;
}

/* The user part of a URI, unescaped, into out. */
static int user_of(const struct sk_uri *u, char *out, size_t outsz)
{
    int n = sk_uri_unescape(u->user, out, outsz);

    if (n < 0 || (size_t)n >= outsz)
        return SK_ETOOBIG;
    out[n] = '\0';
    return 0;
}

/* The URI's host is one of our addresses, whatever the port. */
static bool names_our_host(const struct sk_server *s, const struct sk_uri *u)
{
    struct sk_addr a;

    if (u->host_type != SK_HOST_IPV4 && u->host_type != SK_HOST_IPV6)
        return false;
    if (sk_addr_parse(u->host, 5060, &a) != 0)
        return false;
    for (size_t i = 0; i < s->nself; i++) {
        if (sk_addr_same_host(&a, &s->self[i]))
            return true;
    }
    return false;
}

/* A spiral (§16.3 step 4): a request we forwarded came back to us, sent
 * from our own socket with our Via on top. We authenticated it the first
 * time round and removed our credentials (§22.3), so it is not
 * challenged again. */
static bool from_us(const struct sk_server *s, const struct sk_msg *m)
{
    struct sk_addr src;

    if (!sk__proxy_via_is_self(&m->via, s->self, s->nself) ||
        sk_addr_parse(m->src_ip, m->src_port, &src) != 0)
        return false;
    for (size_t i = 0; i < s->nself; i++) {
        if (sk_addr_equal(&src, &s->self[i]))
            return true;
    }
    return false;
}

/* ---- requests within a dialog we record-routed ------------------------------ */

static void relay(struct sk__req *r, const struct sk__route_pre *pre)
{
    struct sk__target t;
    int err;

    memset(&t, 0, sizeof(t));
    t.q = -1;
    err = sk__proxy_resolve(next_hop(pre), &t.dst);
    if (err != 0) {
        reject(r, 503, NULL, err == SK_ENOTFOUND ? "next hop is not numeric" : "bad next hop");
        return;
    }
    if (sk__proxy_start(r, pre, &t, 1, false) != 0)
        reject(r, 500, NULL, "forwarding failed");
}

/* ---- new requests -------------------------------------------------------- */

/* §22.3 / the brief: an authenticated user may speak only for itself. */
static bool own_identity(struct sk__req *r)
{
    char user[SK_AUTH_NAME_MAX + 1];

    if (user_of(&r->m->from.uri, user, sizeof(user)) == 0 && strcmp(user, r->user) == 0)
        return true;
    reject(r, 403, "Forbidden", "From is not the authenticated user");
    return false;
}

static bool user_exists(struct sk_server *s, const struct sk_uri *u)
{
    char user[SK_AUTH_NAME_MAX + 1], ha1[SK_AUTH_HEX_MAX + 1];

    if (user_of(u, user, sizeof(user)) != 0)
        return false;
    return sk_store_user_ha1(s->store, sk_slice_cstr(s->cfg.domain), sk_slice_cstr(user),
                             SK_HASH_MD5, ha1) != SK_ENOTFOUND;
}

/* proxy.foreign_callers: whether a request from another domain may go on
 * (to a local user: anything else is refused further on). "challenge"
 * wants the credentials of any user of ours (407). */
static bool foreign_caller_admitted(struct sk__req *r)
{
    const char *policy = r->s->cfg.foreign_callers;

    if (strcmp(policy, "deny") == 0) {
        reject(r, 403, "Forbidden (Foreign Caller)", "proxy.foreign_callers is deny");
        return false;
    }
    if (strcmp(policy, "challenge") == 0)
        return sk__auth_check(r, SK_AUTH_PROXY);
    return true;
}

/* RFC 3261 §12.1 / §16.6 step 4: record-route what may start a dialog. */
static bool starts_dialog(enum sk_method m)
{
    return m == SK_METHOD_INVITE || m == SK_METHOD_SUBSCRIBE || m == SK_METHOD_REFER ||
           m == SK_METHOD_NOTIFY;
}

/* A binding made over a stream is reached on its connection (the flow
 * of RFC 5626 §5.3). Once that connection is gone, its source port is
 * usually an ephemeral one nothing listens on (twinkle, linphone), so a new
 * connection goes to the Contact instead, when the Contact names the host
 * the REGISTER came from (no NAT in between that would refuse it). Through
 * a Path the source is a proxy, reached at its address as before. Returns
 * false when the binding cannot be reached: it counts as none, and the
 * caller gets 480 at once rather than 408 when Timer B fires. */
static bool reachable(struct sk_server *s, const struct sk_binding *b, struct sk_addr *dst)
{
    struct sk_addr c;

    if (!sk_transport_reliable(b->transport) || b->path[0] != '\0' || s->tp == NULL ||
        sk_tp_stream_open(s->tp, dst))
        return true;
    if (sk__proxy_resolve(sk_slice_cstr(b->contact), &c) != 0 || !sk_addr_same_host(&c, dst) ||
        sk_addr_port(&c) == 0) {
        SK_LOG(SK_LOG_INFO, "proxy",
               "event=binding_unreachable aor=\"%s\" contact=\"%s\" reason=\"connection closed\"",
               b->aor, b->contact);
        return false;
    }
    /* A binding made over TLS is never reached in the clear, whatever
     * its Contact says (RFC 5630). */
    if (b->transport == SK_TP_TLS)
        c.tp = SK_TP_TLS;
    *dst = c;
    return true;
}

/* tls_only: a sips: Request-URI (RFC 5630, RFC 3261 §26.2.2)
 * goes only to bindings registered over TLS, so it is never forwarded in
 * the clear; *skipped counts the others. */
static size_t to_targets(struct sk_server *s, const struct sk_binding *b, size_t n,
                         struct sk__target *t, bool tls_only, size_t *skipped)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (tls_only && b[i].transport != SK_TP_TLS) {
            SK_LOG(SK_LOG_INFO, "proxy",
                   "event=binding_skipped aor=\"%s\" contact=\"%s\" reason=\"sips: needs TLS\"",
                   b[i].aor, b[i].contact);
            (*skipped)++;
            continue;
        }
        memset(&t[k], 0, sizeof(t[k]));
        /* The REGISTER's source: a UA behind NAT is reached the way it
         * came in, on its TCP connection when it has one. */
        if (sk_addr_parse(sk_slice_cstr(b[i].src_ip), b[i].src_port, &t[k].dst) != 0)
            continue;
        t[k].dst.tp = b[i].transport;
        t[k].dst.conn_id = b[i].conn_id;
        if (!reachable(s, &b[i], &t[k].dst))
            continue;
        t[k].uri = b[i].contact;
        t[k].path = b[i].path;
        t[k].q = b[i].q;
        k++;
    }
    return k;
}

/* The location lookup's result array (16 bindings, some 50 KB), one per
 * worker thread, kept for the thread's life: allocating and freeing it
 * for every INVITE made the allocator grow and shrink its heap twice per
 * call (an mprotect() each and fresh pages to fault in). */
static pthread_key_t bindings_key;
static pthread_once_t bindings_once = PTHREAD_ONCE_INIT;
static bool bindings_keyed;

static void bindings_key_make(void)
{
    bindings_keyed = pthread_key_create(&bindings_key, sk_free) == 0;
}

static struct sk_binding *bindings_buf(bool *owned)
{
    struct sk_binding *b = NULL;

    pthread_once(&bindings_once, bindings_key_make);
    if (bindings_keyed && (b = pthread_getspecific(bindings_key)) != NULL) {
        *owned = false;
        return b;
    }
    b = sk_malloc(SK__FORK_MAX * sizeof(*b));
    *owned = b != NULL;
    if (b != NULL && bindings_keyed && pthread_setspecific(bindings_key, b) == 0)
        *owned = false;
    return b;
}

/* §16.5: the targets of a request for our domain. */
static void to_user(struct sk__req *r, const struct sk__route_pre *pre)
{
    struct sk__target t[SK__FORK_MAX];
    char aor[SK_LOC_AOR_MAX + 1];
    struct sk_uri u = pre->ruri_parsed;
    struct sk_binding *b;
    bool owned;
    size_t n = 0, found, not_tls = 0;

    /* A Request-URI naming us by address means the user of our domain. */
    if (!sk__is_our_domain(r->s, u.host)) {
        u.host = sk_slice_cstr(r->s->cfg.domain);
        u.host_type = SK_HOST_NAME;
    }
    if (sk__aor_key(&u, aor, sizeof(aor)) != 0) {
        reject(r, 404, NULL, "no user in the Request-URI");
        return;
    }
    b = bindings_buf(&owned);
    if (b == NULL) {
        reject(r, 500, NULL, "out of memory");
        return;
    }
    if (sk_location_lookup(r->s->loc, sk_slice_cstr(aor), sk_wall_s(), b, SK__FORK_MAX, &n) != 0)
        n = 0;
    found = n;
    n = to_targets(r->s, b, n, t, u.scheme == SK_URI_SIPS, &not_tls);
    if (n == 0) {
        if (not_tls > 0 && not_tls == found)
            /* RFC 5630: no TLS path to the callee, so a
             * 480 that says so rather than a downgrade. */
            reject(r, 480, "Not Reachable Over TLS", "sips: without a TLS binding");
        else if (found > 0)
            reject(r, 480, NULL, "no binding reachable");
        /* Only an authenticated caller learns whether the user exists. */
        else if (r->user[0] == '\0' || user_exists(r->s, &pre->ruri_parsed))
            reject(r, 480, NULL, "no binding");
        else
            reject(r, 404, NULL, "unknown user");
    } else if (sk__proxy_start(r, pre, t, n, starts_dialog(r->m->method_id)) != 0) {
        reject(r, 500, NULL, "forwarding failed");
    }
    if (owned)
        sk_free(b);
}

void sk__proxy_request(struct sk__req *r)
{
    const struct sk_msg *m = r->m;
    struct sk__route_pre pre;
    int err;

    err = sk__proxy_preprocess(m, r->s->self, r->s->nself, &pre);
    if (err != 0) {
        reject(r, err == SK_EPARSE ? 400 : 500, err == SK_EPARSE ? "Malformed Route" : NULL,
               "route preprocessing");
        return;
    }
    /* §16.4 / §16.12: in a dialog we record-routed, the route set leads. */
    if (m->to.tag.len > 0 && (pre.drop_first || pre.strict_prev)) {
        relay(r, &pre);
        return;
    }
    /* A request for one of our addresses on another port (sipsak writes a
     * five-digit port with four) is still for this host, not a user. */
    if (pre.ruri_parsed.user.len == 0 && names_our_host(r->s, &pre.ruri_parsed)) {
        sk__local_handle(r);
        return;
    }
    /* §22.3: our users prove who they are before we forward for them,
     * however they spell our domain. */
    bool spiral = from_us(r->s, m);
    bool local_caller = sk__claims_our_domain(r->s, &m->from.uri);
    if (local_caller && !spiral) {
        if (!sk__auth_check(r, SK_AUTH_PROXY) || !own_identity(r))
            return;
    }
    if (sk__proxy_routes_left(&pre) > 0) {
        reject(r, 403, "Forbidden", "Route to another proxy");
        return;
    }
    if (!sk__is_our_host(r->s, &pre.ruri_parsed)) {
        reject(r, 403, "Forbidden", "domain not served");
        return;
    }
    if (pre.ruri_parsed.user.len == 0) {
        sk__local_handle(r);
        return;
    }
    if (!local_caller && !spiral && !foreign_caller_admitted(r))
        return;
    to_user(r, &pre);
}

/* ---- stateless forwarding ----------------------------------------------------- */

int sk__proxy_send(struct sk_server *s, const struct sk_addr *dst, const struct sk_buf *b)
{
    struct sk_dest d;

    memset(&d, 0, sizeof(d));
    d.transport = dst->tp;
    d.addr = *dst;
    d.conn_id = dst->conn_id;
    d.listener = -1;
    return sk_tp_send(s->tp, &d, b->p, b->len);
}

/* §16.11: the ACK for a 2xx is its own transaction end to end; we pass it
 * on by its Route set (ours removed) with a branch that a retransmission
 * gets again. */
void sk__proxy_ack(struct sk_server *s, const struct sk_msg *ack, const struct sk_addr *from)
{
    char via[160], branch[40];
    const char *host;
    struct sk__route_pre pre;
    struct sk__fwd_plan plan;
    struct sk_slice hop;
    struct sk_addr dst;
    struct sk_buf sc, out;

    (void)from;
    if (ack->max_forwards == 0 || sk__proxy_preprocess(ack, s->self, s->nself, &pre) != 0)
        return;
    if (!pre.drop_first && !pre.strict_prev)
        return; /* not through us: an ACK for a 2xx we never forwarded */
    if (sk__proxy_resolve(next_hop(&pre), &dst) != 0 ||
        (host = sk__proxy_self_text(s, &dst)) == NULL)
        return;
    sk__proxy_stateless_branch(ack, next_hop(&pre), branch, sizeof(branch));
    snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%s", sk_transport_via_name(dst.tp), host,
             branch);
    memset(&plan, 0, sizeof(plan));
    plan.via = sk_slice_cstr(via);
    sk_buf_init(&sc);
    sk_buf_init(&out);
    sk_buf_reserve(&sc, 256);
    sk_buf_reserve(&out, ack->raw.len + 256);
    if (sk__proxy_forward(ack, &pre, &plan, &sc, &out, &hop) == 0 &&
        sk__proxy_send(s, &dst, &out) != 0)
        SK_LOG(SK_LOG_INFO, "proxy", "event=ack_not_sent");
    sk_buf_free(&sc);
    sk_buf_free(&out);
}

/* The second Via of a response: where it goes once ours is removed
 * (§18.2.2: received / rport when present). */
static int via_dest(const struct sk_msg *resp, struct sk_addr *dst)
{
    struct sk_hdr_iter it;
    struct sk_via v;

    sk_hdr_iter_init(&it, resp, SK_HDR_VIA);
    if (sk_msg_via_next(&it, &v) != 1 || sk_msg_via_next(&it, &v) != 1)
        return SK_ENOTFOUND;
    if (sk_addr_parse(v.received.len > 0 ? v.received : v.host,
                      v.has_rport && v.rport > 0 ? v.rport : (v.has_port ? v.port : 5060),
                      dst) != 0)
        return SK_EPARSE;
    dst->tp = sk_slice_caseeq_cstr(v.transport, "TCP")   ? SK_TP_TCP
              : sk_slice_caseeq_cstr(v.transport, "TLS") ? SK_TP_TLS
                                                         : SK_TP_UDP;
    dst->conn_id = 0;
    return 0;
}

/* §16.7 step 9 for a response with no client transaction left (a late 2xx
 * retransmission): when the top Via is ours, pass it on by the next one. */
void sk__proxy_stray_response(struct sk_server *s, const struct sk_msg *resp,
                              const struct sk_addr *from)
{
    const struct sk_via *v = &resp->via;
    struct sk_addr me, dst;
    struct sk_buf out;
    bool ours = false;

    (void)from;
    if ((v->host_type == SK_HOST_IPV4 || v->host_type == SK_HOST_IPV6) &&
        sk_addr_parse(v->host, v->has_port ? v->port : 5060, &me) == 0) {
        for (size_t i = 0; i < s->nself && !ours; i++)
            ours = sk_addr_equal(&me, &s->self[i]);
    }
    if (!ours || via_dest(resp, &dst) != 0) {
        SK_LOG(SK_LOG_DEBUG, "proxy", "event=stray_response status=%u", resp->status);
        return;
    }
    sk_buf_init(&out);
    if (sk__proxy_strip_via(resp, &out) == 0 && sk__proxy_send(s, &dst, &out) != 0)
        SK_LOG(SK_LOG_INFO, "proxy", "event=response_not_sent status=%u", resp->status);
    sk_buf_free(&out);
}
