/*
 * The stateful proxy's request routing (RFC 3261 §16): what happens to a
 * request the server does not answer as a UAS.
 *
 *   - §16.4: Route preprocessing removes every leading Route value naming
 *     us. A request within a dialog whose route set named us goes on to
 *     the next Route value or the Request-URI without authentication,
 *     but only when the last value of ours carries the token we minted
 *     for this dialog and that next hop (proxy_route.c); otherwise 403.
 *   - A request for this server (its address and port, or its domain)
 *     is answered here (sk__is_for_us).
 *   - Otherwise it starts something new. A request whose From claims our
 *     domain, in any spelling (case, trailing dot, an IP literal of ours),
 *     must carry Proxy-Authorization for its own From identity (407, then
 *     403 for another identity). A request from another domain to a local
 *     user follows proxy.foreign_callers (allow, challenge, deny). A
 *     request for our domain is routed by the location service (§16.5):
 *     unknown user 404, no binding 480 (both 480 for a caller who did not
 *     authenticate, so users cannot be listed from outside), else
 *     forked to its bindings (at most proxy.max_branches) through their
 *     Path, to the address the REGISTER came from (RFC 3327, NAT). Other
 *     domains are refused with 403 (no RFC 3263 forwarding yet).
 *   - An ACK for a 2xx (no transaction) is routed the same way and
 *     forwarded statelessly (§16.11), or dropped. A response no client
 *     transaction knows (§18.1.2) is dropped.
 *
 * Memory: the location lookup writes into a heap array kept per worker
 * thread (freed by the thread-specific key's destructor when the thread
 * ends); forwarded bytes are built in local buffers.
 */
#include "server/internal.h"
#include "server/nat.h"
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

/* The user part of a URI, unescaped, into out. */
static int user_of(const struct sk_uri *u, char *out, size_t outsz)
{
    int n = sk_uri_unescape(u->user, out, outsz);

    if (n < 0 || (size_t)n >= outsz)
        return SK_ETOOBIG;
    out[n] = '\0';
    return 0;
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

/* §16.4 / §16.12: where a request within a dialog goes. The route set
 * leads only when its token says that we minted it for this dialog and
 * this next hop (proxy_route.c), so that a Route header alone cannot make
 * us send anywhere; a UA behind NAT is then reached over the flow our value
 * names (nat.c, RFC 5626 §5.3). src is where the request came from.
 * Returns 0, or the error with *why for the reason phrase. */
static int indialog_dest(struct sk_server *s, const struct sk_msg *m,
                         const struct sk__route_pre *pre, const struct sk_addr *src,
                         struct sk_addr *dst, const char **why)
{
    int err = sk__rr_check(s->auth, m, pre, dst, why);
    int flow;

    if (err != 0 && err != SK_ENOTFOUND)
        return err;
    flow = sk__nat_route(s->auth, sk__proxy_last_self(pre, m), src, dst);
    if (flow == 1)
        return 0;
    if (flow != 0) {
        *why = "Flow Token Invalid";
        return SK_EAUTH;
    }
    return err;
}

/* RFC 3261 §12.1 / §16.6 step 4: record-route what may start a dialog. */
static bool starts_dialog(enum sk_method m)
{
    return m == SK_METHOD_INVITE || m == SK_METHOD_SUBSCRIBE || m == SK_METHOD_REFER ||
           m == SK_METHOD_NOTIFY;
}

/* A new request through our cluster Path (cluster.c): no dialog, so no
 * route token; the flow token alone names the connection. */
static int cluster_dest(struct sk_server *s, const struct sk_msg *m,
                        const struct sk__route_pre *pre, struct sk_addr *dst, const char **why)
{
    if (sk__nat_node_route(s->auth, sk__proxy_last_self(pre, m), dst) == 1)
        return 0;
    *why = "Flow Token Invalid";
    return SK_EAUTH;
}

/* cluster: a new request from another node of the cluster, through our
 * Path; record-routed when it may start a dialog. */
static void relay(struct sk__req *r, const struct sk__route_pre *pre, bool cluster)
{
    bool rr = cluster && starts_dialog(r->m->method_id);
    struct sk__target t;
    const char *why = NULL;
    char uri[SK_LOC_URI_MAX + 1];
    int err;

    memset(&t, 0, sizeof(t));
    t.q = -1;
    /* The Request-URI (the callee's Contact) as the target's URI, so our
     * Record-Route names the callee's flow when it needs one (nat.c). */
    if (cluster && pre->ruri.len < sizeof(uri)) {
        memcpy(uri, pre->ruri.p, pre->ruri.len);
        uri[pre->ruri.len] = '\0';
        t.uri = uri;
    }
    if (cluster)
        err = cluster_dest(r->s, r->m, pre, &t.dst, &why);
    else
        err = indialog_dest(r->s, r->m, pre, r->to, &t.dst, &why);
    if (err == SK_ENOTFOUND) {
        reject(r, 503, NULL, "next hop is not numeric");
        return;
    }
    if (err != 0) {
        reject(r, err == SK_EPARSE ? 400 : 403, why, "route set not minted here");
        return;
    }
    if (sk__proxy_start(r, pre, &t, 1, rr) != 0)
        reject(r, 500, NULL, "forwarding failed");
}

/* Whether new request r came through the cluster Path of ours
 * (cluster.c): the last Route value of ours carries a cluster flow token
 * (its MAC is checked when relay() reads it). */
static bool cluster_routed(struct sk__req *r, const struct sk__route_pre *pre)
{
    const struct sk_uri *ours;
    struct sk_slice v;

    if (!sk__cluster_mode(r->s) || pre->strict_prev || !sk__proxy_routed_to_us(pre))
        return false;
    ours = sk__proxy_last_self(pre, r->m);
    return ours != NULL && sk_uri_param(ours, SK__NAT_NODE, &v);
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

/* RFC 5626 §5.3: whether binding i is another flow of an Outbound
 * instance that an earlier (more preferred, more recent) binding already
 * reaches. */
static bool other_flow(const struct sk_binding *b, size_t i)
{
    if (b[i].instance[0] == '\0' || b[i].reg_id == 0)
        return false;
    for (size_t j = 0; j < i; j++) {
        if (b[j].reg_id != 0 && strcmp(b[j].instance, b[i].instance) == 0)
            return true;
    }
    return false;
}
/* A binding made over a stream is reached on its connection (the flow
 * of RFC 5626 §5.3). Once that connection is gone, its source port is
 * usually an ephemeral one nothing listens on (twinkle, linphone), so a new
 * connection goes to the Contact instead, when the Contact names the host
 * the REGISTER came from (no NAT in between that would refuse it). Through
 * a Path the source is a proxy, reached at its address as before. Returns
 * false when the binding cannot be reached: it counts as none, and the
 * caller gets 480 at once rather than 408 when Timer B fires. */
static bool reachable(struct sk_server *s, const struct sk_binding *b, bool via_path,
                      struct sk_addr *dst)
{
    struct sk_addr c;

    if (!sk_transport_reliable(b->transport) || via_path || s->tp == NULL ||
        sk_tp_stream_open(s->tp, dst))
        return true;
    /* RFC 7118 §5: a WebSocket client is reached over its connection only. */
    if (sk_transport_is_ws(b->transport)) {
        SK_LOG(SK_LOG_INFO, "proxy",
               "event=binding_unreachable aor=\"%s\" contact=\"%s\" reason=\"websocket closed\"",
               b->aor, b->contact);
        return false;
    }
    if (sk__proxy_resolve(sk_slice_cstr(b->contact), SK_TP_UDP, &c) != 0 ||
        !sk_addr_same_host(&c, dst) || sk_addr_port(&c) == 0) {
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

/* tls_only: a sips: Request-URI (RFC 5630, RFC 3261 §26.2.2) goes only
 * to bindings registered over TLS, so it is never forwarded in the
 * clear; *skipped counts the others. */
static size_t to_targets(struct sk_server *s, const struct sk_binding *b, size_t n,
                         struct sk__target *t, bool tls_only, size_t *skipped)
{
    size_t k = 0;

    /* Each instance's first flow, then (pass 1) its other flows, one at a
     * time, as failover. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            if (other_flow(b, i) != (pass == 1))
                continue;
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
            /* Our own cluster Path (cluster.c): the connection is ours. */
            bool via_path = b[i].path[0] != '\0' && !sk__cluster_path_ours(s, b[i].path, &t[k].dst);
            /* Another node's: it holds the connection, the request goes
             * there (cluster.c). */
            if (via_path && sk_transport_reliable(b[i].transport) &&
                sk__cluster_path_dst(b[i].path, &t[k].dst) == SK_EPARSE)
                continue;
            if (!reachable(s, &b[i], via_path, &t[k].dst))
                continue;
            t[k].uri = b[i].contact;
            t[k].path = via_path ? b[i].path : NULL;
            t[k].q = b[i].q;
            t[k].backup = pass == 1;
            k++;
        }
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

/* §16.5: the bindings of the user a Request-URI of our domain names, as
 * targets pointing into b (highest q first, at most [proxy] max_branches:
 * each branch is a transaction and its retransmissions). Returns how many
 * are reachable, or SK_EINVAL when the Request-URI has no user; *found is
 * how many bindings the user has, *not_tls how many of them a sips:
 * Request-URI may not use. */
static long user_targets(struct sk_server *s, const struct sk_uri *ruri, struct sk_binding *b,
                         struct sk__target *t, size_t *found, size_t *not_tls)
{
    char aor[SK_LOC_AOR_MAX + 1];
    struct sk_uri u = *ruri;
    size_t n = 0, cap = s->cfg.proxy_max_branches;

    *found = 0;
    *not_tls = 0;
    /* A Request-URI naming us by address means the user of our domain. */
    if (!sk__is_our_domain(s, u.host)) {
        u.host = sk_slice_cstr(s->cfg.domain);
        u.host_type = SK_HOST_NAME;
    }
    if (sk__aor_key(&u, aor, sizeof(aor)) != 0)
        return SK_EINVAL;
    if (sk_location_lookup(s->loc, sk_slice_cstr(aor), sk_wall_s(), b, SK__FORK_MAX, &n) != 0)
        n = 0;
    *found = n;
    n = to_targets(s, b, n, t, ruri->scheme == SK_URI_SIPS, not_tls);
    if (cap == 0 || cap > SK__FORK_MAX)
        cap = SK__FORK_MAX;
    return (long)(n > cap ? cap : n);
}

static void to_user(struct sk__req *r, const struct sk__route_pre *pre)
{
    struct sk__target t[SK__FORK_MAX];
    struct sk_binding *b;
    bool owned;
    size_t found, not_tls;
    long n;

    b = bindings_buf(&owned);
    if (b == NULL) {
        reject(r, 500, NULL, "out of memory");
        return;
    }
    n = user_targets(r->s, &pre->ruri_parsed, b, t, &found, &not_tls);
    if (n < 0) {
        reject(r, 404, NULL, "no user in the Request-URI");
    } else if (n == 0) {
        if (not_tls > 0 && not_tls == found)
            /* RFC 5630: no TLS path to the callee, so a 480 that says so
             * rather than a downgrade. */
            reject(r, 480, "Not Reachable Over TLS", "sips: without a TLS binding");
        else if (found > 0)
            reject(r, 480, NULL, "no binding reachable");
        /* Only an authenticated caller learns whether the user exists. */
        else if (r->user[0] == '\0' || user_exists(r->s, &pre->ruri_parsed))
            reject(r, 480, NULL, "no binding");
        else
            reject(r, 404, NULL, "unknown user");
    } else if (sk__proxy_start(r, pre, t, (size_t)n, starts_dialog(r->m->method_id)) != 0) {
        reject(r, 500, NULL, "forwarding failed");
    }
    if (owned)
        sk_free(b);
}

void sk__proxy_request(struct sk__req *r)
{
    const struct sk_msg *m = r->m;
    bool in_dialog = m->to.tag.len > 0;
    struct sk__route_pre pre;
    int err;

    err = sk__proxy_preprocess(m, r->s->self, r->s->nself, &pre);
    if (err != 0) {
        reject(r, err == SK_EPARSE ? 400 : 500, err == SK_EPARSE ? "Malformed Route" : NULL,
               "route preprocessing");
        return;
    }
    /* §16.4 / §16.12: in a dialog we record-routed, the route set leads. */
    if (in_dialog && sk__proxy_routed_to_us(&pre)) {
        relay(r, &pre, false);
        return;
    }
    /* Another node of the cluster routes to a connection of ours through
     * the Path we stored (cluster.c); it authenticated the caller. */
    if (!in_dialog && cluster_routed(r, &pre)) {
        relay(r, &pre, true);
        return;
    }
    if (sk__is_for_us(r->s, &pre.ruri_parsed, in_dialog)) {
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
        /* Our domain on a port that is not ours, within a dialog: no user
         * to look up and no route set of ours to follow. */
        if (in_dialog)
            reject(r, 403, "Forbidden", "in-dialog request for another port without a route");
        else
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
    sk__count_sent(s, b->p, b->len);
    return sk_tp_send(s->tp, &d, b->p, b->len);
}

/* §16.11: send one copy of an ACK for a 2xx to dst, with a branch that a
 * retransmission gets again; target replaces the Request-URI when set
 * (a binding's Contact), path goes first in its Route; sdp, when set,
 * replaces its body (rtpengine's). */
static void ack_send_now(struct sk_server *s, const struct sk_msg *ack,
                         const struct sk__route_pre *pre, const struct sk__target *t,
                         struct sk_slice sdp)
{
    struct sk_slice path[SK__PROXY_MAX_ROUTES], hop;
    char via[160], branch[40];
    const char *host = sk__proxy_self_text(s, &t->dst);
    struct sk__fwd_plan plan;
    struct sk_buf sc, out;

    if (host == NULL)
        return;
    memset(&plan, 0, sizeof(plan));
    sk__proxy_plan_target(&plan, t->uri, t->path, path);
    if (sdp.len > 0) {
        plan.new_body = true;
        plan.body = sdp;
    }
    sk__proxy_stateless_branch(ack, plan.target.len > 0 ? plan.target : sk__proxy_next_hop(pre),
                               branch, sizeof(branch));
    snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%s", sk_transport_via_name(t->dst.tp), host,
             branch);
    plan.via = sk_slice_cstr(via);
    sk_buf_init(&sc);
    sk_buf_init(&out);
    sk_buf_reserve(&sc, 256);
    sk_buf_reserve(&out, ack->raw.len + 256);
    if (sk__proxy_forward(ack, pre, &plan, &sc, &out, &hop) == 0 &&
        sk__proxy_send(s, &t->dst, &out) != 0)
        SK_LOG(SK_LOG_INFO, "proxy", "event=ack_not_sent");
    sk_buf_free(&sc);
    sk_buf_free(&out);
}

/* An ACK of a relayed call waiting for rtpengine's answer. */
struct held_ack {
    struct sk_server *s;
    struct sk__media_held h;
    struct sk__target t; /* uri and path: copies, below */
    char *uri, *path;
};

static void held_ack_free(struct held_ack *ha)
{
    sk__proxy_media_release(&ha->h);
    sk_free(ha->uri);
    sk_free(ha->path);
    sk_free(ha);
}

static void ack_sdp_done(void *arg, int err, struct sk_slice sdp)
{
    struct held_ack *ha = arg;
    struct sk__route_pre pre;
    struct sk_msg m;

    if (err != 0) /* the ACK goes on with its own SDP (docs/nat.md) */
        SK_LOG(SK_LOG_WARN, "media", "event=answer_failed method=ACK error=\"%s\"",
               sk_strerror(err));
    sk_msg_init(&m);
    /* The held copy is parsed again: the routing read it the same way. */
    if (sk__proxy_media_reparse(&ha->h, &m) == 0 &&
        sk__proxy_preprocess(&m, ha->s->self, ha->s->nself, &pre) == 0)
        ack_send_now(ha->s, &m, &pre, &ha->t, err == 0 ? sdp : SK_SLICE_NULL);
    sk_msg_free(&m);
    held_ack_free(ha);
}

static void ack_send(struct sk_server *s, const struct sk_msg *ack, const struct sk__route_pre *pre,
                     const struct sk__target *t)
{
    struct held_ack *ha;

    /* A relayed call whose offer was in the 2xx: the answer is here, and
     * goes to rtpengine first (on its thread, proxy_media.c). */
    if (sk__proxy_media_dialog(s, ack, pre) && sk__media_has_sdp(ack) &&
        (ha = sk_calloc(1, sizeof(*ha))) != NULL) {
        ha->s = s;
        ha->t = *t;
        ha->uri = t->uri != NULL ? sk_strndup(t->uri, strlen(t->uri)) : NULL;
        ha->path = t->path != NULL ? sk_strndup(t->path, strlen(t->path)) : NULL;
        ha->t.uri = ha->uri;
        ha->t.path = ha->path;
        if ((t->uri == NULL || ha->uri != NULL) && (t->path == NULL || ha->path != NULL) &&
            sk__proxy_media_hold(&ha->h, ack) == 0 &&
            sk__proxy_media_ack(s, ack, ack_sdp_done, ha) == 1)
            return;
        held_ack_free(ha);
    }
    ack_send_now(s, ack, pre, t, SK_SLICE_NULL);
}

/* An ACK for a 2xx without a route set of ours goes where any other
 * request within a dialog would: to the bindings of the user of our
 * domain it names. */
static void ack_to_user(struct sk_server *s, const struct sk_msg *ack,
                        const struct sk__route_pre *pre)
{
    struct sk__target t[SK__FORK_MAX];
    struct sk_binding *b;
    bool owned;
    size_t found, not_tls;
    long n;

    b = bindings_buf(&owned);
    if (b == NULL)
        return;
    n = user_targets(s, &pre->ruri_parsed, b, t, &found, &not_tls);
    for (long i = 0; i < n; i++)
        ack_send(s, ack, pre, &t[i]);
    if (n <= 0)
        SK_LOG(SK_LOG_INFO, "proxy", "event=ack_not_relayed reason=\"no binding\"");
    if (owned)
        sk_free(b);
}

/* §16.11: the ACK for a 2xx is its own transaction end to end; it follows
 * the same routing as the other requests of its dialog, statelessly and
 * without an answer: by a route set with a token of ours, or the location
 * service. Anything else is dropped: an ACK cannot be refused. */
void sk__proxy_ack(struct sk_server *s, const struct sk_msg *ack, const struct sk_addr *from)
{
    struct sk__route_pre pre;
    struct sk__target t;
    const char *why = NULL;

    if (ack->max_forwards == 0 || sk__proxy_preprocess(ack, s->self, s->nself, &pre) != 0)
        return;
    if (!sk__proxy_routed_to_us(&pre)) {
        /* An ACK cannot be challenged: from another domain, only when
         * foreign callers are let in without credentials. */
        if (pre.ruri_parsed.user.len > 0 && sk__proxy_routes_left(&pre) == 0 &&
            sk__is_our_host(s, &pre.ruri_parsed) &&
            (sk__claims_our_domain(s, &ack->from.uri) ||
             strcmp(s->cfg.foreign_callers, "allow") == 0))
            ack_to_user(s, ack, &pre);
        else
            SK_LOG(SK_LOG_INFO, "proxy", "event=ack_not_relayed reason=\"not for our domain\"");
        return;
    }
    memset(&t, 0, sizeof(t));
    if (indialog_dest(s, ack, &pre, from, &t.dst, &why) != 0) {
        SK_LOG(SK_LOG_INFO, "proxy", "event=ack_not_relayed reason=\"%s\"", why);
        return;
    }
    ack_send(s, ack, &pre, &t);
}

/* A response no client transaction knows (§18.1.2): with RFC 6026's
 * Accepted state every 2xx retransmission still finds its transaction for
 * 64*T1, so what arrives here is late or forged. Passing it on by its Via
 * would let anyone have us send anywhere; it is dropped. */
void sk__proxy_stray_response(struct sk_server *s, const struct sk_msg *resp,
                              const struct sk_addr *from)
{
    (void)s;
    (void)from;
    SK_LOG(SK_LOG_DEBUG, "proxy", "event=stray_response status=%u", resp->status);
}
