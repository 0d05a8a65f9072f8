/*
 * Running forks: the glue between the response context (proxy_fork.c) and
 * the transaction layer. One struct fctx per proxied request holds its
 * server transaction, a client transaction per branch (RFC 3261 §16.6
 * step 10), and the fork state; the transaction callbacks of those
 * transactions (response, timeout, transport error, terminated) and the
 * CANCEL of the server transaction (§16.10) land here, as does Timer C
 * (§16.8) from the server's timer thread.
 *
 * Locking: each fctx has a mutex guarding its fork state and branch
 * fields. Decisions are taken under it; what they call for (sending
 * responses upstream, CANCELs, new branches) is done after it is
 * released, because the transaction layer may call back into us from
 * inside those calls. The proxy's list lock guards the list of live forks
 * and the server transaction's user pointer.
 *
 * Memory: a fctx is reference counted: one reference for the code that
 * starts it, one for the server transaction and one per client
 * transaction, each dropped by that transaction's on_terminated. The last
 * one frees it, with its copies of the targets and its references on the
 * transactions. When the server transaction ends (a forwarded request's
 * retires at its final response) the fork swaps its reference for a copy
 * of the request bytes (struct upcopy), since an INVITE's branches live on
 * in Accepted for Timer M; readers get the one or the other through
 * up_get() / up_put().
 */
#include "server/internal.h"
#include "server/media.h"
#include "server/nat.h"
#include "server/proxy_int.h"
#include "server/proxy_state.h"

#include <sipkit/containers.h>

#include <stdio.h>
#include <string.h>

struct fctx;

struct pbranch {
    struct fctx *fc;
    size_t idx;
    struct sk_txn *txn; /* our reference, NULL before start and after end */
    bool ended;         /* its on_terminated ran */
    char *uri;          /* copies of the target */
    char *path;
    struct sk_addr dst;
};

struct fctx {
    pthread_mutex_t lock;
    _Atomic int refs;
    struct sk_server *s;
    /* The server transaction (a reference) until it ends; then the copy
     * of its request kept for the responses still going up (see
     * keep_request), and stx is NULL. Both under lock. */
    struct sk_txn *stx;
    struct upcopy *up;
    bool record_route;
    char loop_tag[SK__PROXY_LOOP_TAG_LEN + 1]; /* §16.6 step 8, the same for every branch */
    struct sk__fork f;
    struct sk_dlist in_all; /* in the proxy's list */
    bool listed;
    /* In the list Timer C walks: an INVITE fork with a pending branch.
     * Most forks are done within a second or two but stay alive until
     * their transactions end (Timer J, K: up to 32 s), so walking every
     * live fork each second cost more than all the rest of the proxy. */
    struct sk_dlist in_timed;
    _Atomic bool timed; /* written under the list lock */
    /* Media relay (proxy_media.c), decided when the first branch is
     * built, before any response: whether the call's media is relayed,
     * whether the request made the offer, and the SDP rtpengine gave for
     * it (the same for every branch). */
    bool media_decided;
    bool media;
    bool media_offered;
    struct sk_buf media_sdp;
    /* One per target, sized to them: a fork outlives its call by the
     * transactions' Timer J / K (32 s over UDP), so its size is memory
     * held for every recent call. */
    size_t nbr;
    struct pbranch br[];
};

int sk__proxy_new(struct sk__proxy **out)
{
    struct sk__proxy *p = sk_calloc(1, sizeof(*p));

    if (p == NULL)
        return SK_ENOMEM;
    pthread_mutex_init(&p->lock, NULL);
    sk_dlist_init(&p->all);
    sk_dlist_init(&p->timed);
    *out = p;
    return 0;
}

static void fc_destroy(struct fctx *fc);

/* Forks still listed when the server is freed (its drain timed out): the
 * transaction table is about to go without calling anyone back, so our
 * references on its transactions go first. */
void sk__proxy_free(struct sk__proxy *p)
{
    struct sk_dlist *l;

    if (p == NULL)
        return;
    while ((l = sk_dlist_first(&p->all)) != NULL) {
        sk_dlist_remove(l);
        fc_destroy(SK_CONTAINER_OF(l, struct fctx, in_all));
    }
    sk_free(p->hosts);
    pthread_mutex_destroy(&p->lock);
    sk_free(p);
}

/* ---- the request as received ---------------------------------------------- */

/* What a fork keeps of its request once the server transaction ended
 * (a retired one: at its final response): a forked INVITE's branches
 * live on in Accepted (Timer M, 32 s), and the 2xx they pass up go out
 * with the Vias and Record-Route of this request (§16.7). The bytes and
 * the source are about half of what the held transaction was (its
 * struct and parsed header array); the rare response going up after
 * that parses them again. */
struct upcopy {
    struct sk_addr peer;
    uint16_t src_port;
    size_t len, iplen;
    char data[]; /* the request, NUL, its source IP */
};

/* The request of a fork and where it came from: the server
 * transaction's (a reference while in use), or parsed from the copy. */
struct upreq {
    struct sk_txn *txn;
    const struct sk_msg *m;
    const struct sk_addr *peer;
    struct sk_msg copy;
};

static int parse_copy(const struct upcopy *c, struct sk_msg *m)
{
    int err;

    sk_msg_init(m);
    err = sk_msg_parse(m, c->data, c->len, SK_MSG_DATAGRAM, NULL);
    if (err == 0)
        err = sk_msg_check(m);
    if (err == 0 && c->iplen > 0)
        sk_msg_set_source(m, sk_slice_make(c->data + c->len + 1, c->iplen), c->src_port);
    return err;
}

/* Returns 0, or an error when the copy cannot be parsed (no memory). */
static int up_get(struct fctx *fc, struct upreq *u)
{
    const struct upcopy *c;

    memset(u, 0, sizeof(*u));
    sk_msg_init(&u->copy);
    pthread_mutex_lock(&fc->lock);
    u->txn = fc->stx;
    if (u->txn != NULL)
        sk_txn_ref(u->txn);
    c = fc->up; /* never changes once set, and set before stx goes */
    pthread_mutex_unlock(&fc->lock);
    if (u->txn != NULL) {
        u->m = sk_txn_request(u->txn);
        u->peer = sk_txn_peer(u->txn);
        return 0;
    }
    u->m = &u->copy;
    u->peer = &c->peer;
    return parse_copy(c, &u->copy);
}

static void up_put(struct upreq *u)
{
    sk_txn_unref(u->txn);
    sk_msg_free(&u->copy);
}

/* The server transaction ended (it is txn, still readable in its
 * on_terminated): keep a copy of its request instead of the whole
 * transaction. When the copy cannot be made or parsed (a request only
 * the server's own limits allow), the transaction stays. */
static void keep_request(struct fctx *fc, struct sk_txn *txn)
{
    const struct sk_msg *m = sk_txn_request(txn);
    size_t iplen = m->src_ip.len;
    struct upcopy *c = sk_malloc(sizeof(*c) + m->raw.len + 1 + iplen);
    struct sk_msg check;

    if (c == NULL)
        return;
    c->peer = *sk_txn_peer(txn);
    c->src_port = m->src_port;
    c->len = m->raw.len;
    c->iplen = iplen;
    memcpy(c->data, m->raw.p, c->len);
    c->data[c->len] = '\0';
    if (iplen > 0)
        memcpy(c->data + c->len + 1, m->src_ip.p, iplen);
    if (parse_copy(c, &check) != 0) {
        sk_msg_free(&check);
        sk_free(c);
        return;
    }
    sk_msg_free(&check);
    pthread_mutex_lock(&fc->lock);
    if (fc->stx == txn && fc->up == NULL) {
        fc->up = c;
        fc->stx = NULL;
        c = NULL;
    }
    pthread_mutex_unlock(&fc->lock);
    if (c == NULL)
        sk_txn_unref(txn); /* the fork's reference */
    sk_free(c);
}

/* ---- lifetime ------------------------------------------------------------- */

/* Off the Timer C list. List lock held. */
static void untime_locked(struct fctx *fc)
{
    if (!fc->timed)
        return;
    sk_dlist_remove(&fc->in_timed);
    fc->timed = false;
}

static void fc_ref(struct fctx *fc)
{
    atomic_fetch_add(&fc->refs, 1);
}

/* A reference on a listed fctx unless it is already on its way out (the
 * list walk of Timer C races with the last unref). List lock held. */
static bool fc_tryref(struct fctx *fc)
{
    int n = atomic_load(&fc->refs);

    while (n > 0) {
        if (atomic_compare_exchange_weak(&fc->refs, &n, n + 1))
            return true;
    }
    return false;
}

static void fc_unref(struct fctx *fc)
{
    struct sk__proxy *p;

    if (atomic_fetch_sub(&fc->refs, 1) != 1)
        return;
    p = fc->s->proxy;
    pthread_mutex_lock(&p->lock);
    untime_locked(fc);
    if (fc->listed)
        sk_dlist_remove(&fc->in_all);
    pthread_mutex_unlock(&p->lock);
    fc_destroy(fc);
}

static void fc_destroy(struct fctx *fc)
{
    for (size_t i = 0; i < fc->nbr; i++) {
        sk_txn_unref(fc->br[i].txn);
        sk_free(fc->br[i].uri);
        sk_free(fc->br[i].path);
    }
    sk__fork_free(&fc->f);
    sk_buf_free(&fc->media_sdp);
    sk_txn_unref(fc->stx);
    sk_free(fc->up);
    pthread_mutex_destroy(&fc->lock);
    sk_free(fc);
}

/* ---- carrying out decisions ------------------------------------------------- */

static void run(struct fctx *fc, const struct sk__fork_acts *a, const struct sk_msg *resp);

/* The response to send upstream for what the fork decided, made here when
 * no branch response can be used (§16.7 step 6: 408, 500). */
static void send_made_up(struct fctx *fc, const struct upreq *u, unsigned status)
{
    struct sk__req r = {.s = fc->s, .txn = u->txn, .m = u->m};

    if (u->txn == NULL)
        return; /* the server transaction ended: nobody to answer */
    r.to = u->peer;
    sk_buf_init(&r.out);
    sk__resp_start(&r, status, NULL);
    sk__resp_send(&r);
    sk_buf_free(&r.out);
}

static void send_final(struct fctx *fc, const struct sk__fork_acts *a)
{
    struct sk_buf out;
    struct upreq u;
    unsigned status;
    int err;

    if (up_get(fc, &u) != 0) {
        up_put(&u);
        return;
    }
    sk_buf_init(&out);
    pthread_mutex_lock(&fc->lock);
    err = sk__fork_write_final(&fc->f, a->best, u.m, &out);
    status = err == 0 ? fc->f.b[a->best].final : a->status;
    pthread_mutex_unlock(&fc->lock);
    if (err == 0 && u.txn != NULL)
        sk_txn_respond(u.txn, out.p, out.len);
    else if (err != 0)
        send_made_up(fc, &u, a->status);
    sk_buf_free(&out);
    if (fc->media)
        sk__proxy_media_failed(fc->s, u.m, status);
    sk__proxy_dialog_upstream(fc->s, u.m, status, NULL);
    up_put(&u);
}

/* §16.7 step 9: pass a response up with our Via removed. */
static void forward_up_now(struct fctx *fc, const struct sk_msg *resp)
{
    struct sk_server *s = fc->s;
    const struct sk_msg *up;
    struct sk_buf out;
    struct upreq u;
    int err;

    if (up_get(fc, &u) != 0) {
        SK_LOG(SK_LOG_INFO, "proxy", "event=response_not_sent status=%u", resp->status);
        up_put(&u);
        return;
    }
    up = u.m;
    sk_buf_init(&out);
    sk_buf_reserve(&out, resp->raw.len + 256);
    /* §16.7 step 4: the caller's copy of our Record-Route gets the token
     * for its own direction (proxy_route.c). */
    if (fc->record_route && resp->status > 100 && resp->status < 300)
        err = sk__rr_relay_response(s->auth, s->self, s->nself, resp, up, &out);
    else
        err = sk__proxy_relay_response(resp, up, &out);
    if (err == 0 && (u.txn == NULL || sk_txn_respond(u.txn, out.p, out.len) == SK_ESTATE) &&
        resp->status / 100 == 2) {
        /* A 2xx from a branch we gave up on after the caller's CANCEL: the
         * server transaction already sent 487, but the callee answered
         * and the caller must hear it to hang up (§16.7 step 5, §16.10). */
        if (sk__proxy_send(s, u.peer, &out) != 0)
            SK_LOG(SK_LOG_INFO, "proxy", "event=response_not_sent status=%u", resp->status);
    }
    sk_buf_free(&out);
    sk__proxy_dialog_upstream(s, up, resp->status, resp);
    up_put(&u);
}

/* A response of a relayed call waiting for rtpengine's SDP. */
struct held_resp {
    struct fctx *fc; /* a reference */
    struct sk__media_held h;
};

static void fc_unref(struct fctx *fc);

static void response_sdp_done(void *arg, int err, struct sk_slice sdp)
{
    struct held_resp *hr = arg;
    const struct sk_msg *out = NULL;
    struct sk_msg m, copy;
    struct sk_buf raw;

    sk_msg_init(&m);
    sk_msg_init(&copy);
    sk_buf_init(&raw);
    if (sk__proxy_media_resume(&hr->h, err, sdp, &m, &raw, &copy, &out) == 0)
        forward_up_now(hr->fc, out);
    sk_msg_free(&copy);
    sk_msg_free(&m);
    sk_buf_free(&raw);
    sk__proxy_media_release(&hr->h);
    fc_unref(hr->fc);
    sk_free(hr);
}

static void fc_ref(struct fctx *fc);

/* The SDP of a relayed call is rtpengine's (proxy_media.c): such a
 * response goes up once rtpengine answered, from the media thread. */
static void forward_up(struct fctx *fc, const struct sk_msg *resp)
{
    struct held_resp *hr;

    if (fc->media && (hr = sk_calloc(1, sizeof(*hr))) != NULL) {
        hr->fc = fc;
        fc_ref(fc);
        if (sk__proxy_media_hold(&hr->h, resp) == 0 &&
            sk__proxy_media_response(fc->s, resp, fc->media_offered, response_sdp_done, hr) == 1)
            return;
        sk__proxy_media_release(&hr->h);
        fc_unref(fc);
        sk_free(hr);
    }
    forward_up_now(fc, resp);
}

static void cancel_branch(struct fctx *fc, size_t i)
{
    struct sk_txn *t;
    int err;

    pthread_mutex_lock(&fc->lock);
    t = fc->br[i].txn;
    if (t != NULL)
        sk_txn_ref(t);
    pthread_mutex_unlock(&fc->lock);
    if (t == NULL)
        return;
    /* §16.10: the CANCEL goes hop by hop on its own transaction; its
     * response is of no interest (user NULL). */
    err = sk_txn_cancel(t, NULL, NULL);
    if (err != 0)
        SK_LOG(SK_LOG_DEBUG, "proxy", "event=cancel_not_sent error=\"%s\"", sk_strerror(err));
    sk_txn_unref(t);
}

/* The first Contact URI of m (empty when there is none). */
static struct sk_slice contact_uri(const struct sk_msg *m)
{
    struct sk_hdr_iter it;
    struct sk_nameaddr na;

    sk_hdr_iter_init(&it, m, SK_HDR_CONTACT);
    return sk_msg_nameaddr_next(&it, &na) == 1 ? na.uri.raw : SK_SLICE_NULL;
}

/* Our Record-Route value(s) for branch b of req (proxy_route.c), with
 * the flows of a caller and a callee behind NAT or on TCP (nat.c) in each,
 * so that requests within the dialog reach them where they are. */
static int record_route(struct fctx *fc, const struct pbranch *b, const struct upreq *u,
                        const char *host, struct sk_buf *rr)
{
    const struct sk_msg *req = u->m;
    const struct sk_addr *src = u->peer;
    struct sk__rr_side to = {host, b->dst.tp, NULL}, from = {NULL, src->tp, NULL};
    struct sk_buf flows;
    int err = 0;

    sk_buf_init(&flows);
    if (sk__nat_flow_needed(contact_uri(req), src))
        err = sk__nat_flow_append(fc->s->auth, SK__NAT_CALLER, src, &flows);
    if (err == 0 && b->uri != NULL && sk__nat_flow_needed(sk_slice_cstr(b->uri), &b->dst))
        err = sk__nat_flow_append(fc->s->auth, SK__NAT_CALLEE, &b->dst, &flows);
    /* The dialog's later requests learn from it that its media is
     * relayed (proxy_media.c). */
    if (err == 0 && fc->media)
        sk_buf_append_cstr(&flows, ";" SK__MEDIA_RR_PARAM);
    if (err == 0 && flows.len > 0) {
        sk_buf_append(&flows, "", 1);
        if (!sk_buf_ok(&flows))
            err = SK_ENOMEM;
        to.params = flows.p;
    }
    from.host = sk__proxy_self_text(fc->s, src);
    from.params = to.params;
    if (from.host == NULL)
        from = to;
    if (err == 0)
        err = sk__rr_values(fc->s->auth, req, &to, &from, rr);
    sk_buf_free(&flows);
    return err;
}

static void begin(struct fctx *fc);

/* rtpengine's SDP for the request's offer: the branches start now. */
static void offer_done(void *arg, int err, struct sk_slice sdp)
{
    struct fctx *fc = arg;
    bool gone;

    if (err == 0) {
        sk_buf_append_slice(&fc->media_sdp, sdp);
        if (!sk_buf_ok(&fc->media_sdp))
            err = SK_ENOMEM;
    }
    if (err != 0) {
        /* The request goes on with its own SDP (docs/nat.md). */
        SK_LOG(SK_LOG_WARN, "media", "event=offer_failed error=\"%s\"", sk_strerror(err));
        sk_buf_reset(&fc->media_sdp);
    }
    pthread_mutex_lock(&fc->lock);
    gone = fc->f.cancelled || fc->f.final_sent;
    pthread_mutex_unlock(&fc->lock);
    if (!gone) {
        begin(fc);
    } else {
        /* CANCELed while rtpengine worked: its 487 is sent; the call
         * rtpengine just made goes too (the first delete may have
         * overtaken the offer). */
        struct upreq u;
        if (up_get(fc, &u) == 0)
            sk__proxy_media_failed(fc->s, u.m, 487);
        up_put(&u);
    }
    fc_unref(fc); /* the starter's reference, handed over */
}

/* Whether the call of this fork has its media relayed, and the SDP its
 * request carries on (proxy_media.c). A new INVITE follows media.engage,
 * "nat" meaning that the caller or any callee is behind NAT (nat.c); a
 * request within a dialog follows what its Record-Route says. Returns
 * true when the request waits for rtpengine's offer (offer_done then
 * starts the branches, with the caller's reference). */
static bool media_decide(struct fctx *fc, const struct sk_msg *req, const struct sk_addr *src,
                         const struct sk__route_pre *pre)
{
    bool natted;

    if (fc->media_decided)
        return false;
    fc->media_decided = true;
    if (fc->s->media == NULL)
        return false;
    if (fc->record_route && req->method_id == SK_METHOD_INVITE) {
        /* A browser's media (ICE, DTLS-SRTP) is not bridged to RTP yet:
         * relaying it as plain RTP would break the call (docs/webrtc.md). */
        bool ws = sk_transport_is_ws(src->tp);
        natted = sk__nat_flow_needed(contact_uri(req), src);
        for (size_t i = 0; i < fc->nbr; i++) {
            ws = ws || sk_transport_is_ws(fc->br[i].dst.tp);
            natted = natted || (fc->br[i].uri != NULL &&
                                sk__nat_flow_needed(sk_slice_cstr(fc->br[i].uri), &fc->br[i].dst));
        }
        fc->media = !ws && sk__media_engage(fc->s->media, natted);
    } else if (!fc->record_route) {
        fc->media = sk__proxy_media_dialog(fc->s, req, pre);
    }
    fc->media_offered = sk__media_has_sdp(req);
    return sk__proxy_media_request(fc->s, req, fc->media, offer_done, fc) == 1;
}

static int build_from(struct fctx *fc, struct pbranch *b, const struct upreq *u, struct sk_buf *out)
{
    struct sk_slice path[SK__PROXY_MAX_ROUTES];
    const struct sk_msg *req = u->m;
    struct sk__route_pre pre;
    char via[160], branch[40];
    const char *host = sk__proxy_self_text(fc->s, &b->dst);
    struct sk__fwd_plan plan;
    struct sk_slice hop;
    struct sk_buf sc, rr;
    int err;

    if (host == NULL)
        return SK_ENOTFOUND;
    /* §16.4 again rather than a copy kept in the fork for its whole life:
     * it reads only the request's Route values. */
    err = sk__proxy_preprocess(req, fc->s->self, fc->s->nself, &pre);
    if (err != 0)
        return err;
    sk__proxy_make_branch(branch);
    memset(&plan, 0, sizeof(plan));
    /* §16.6 step 8: a unique part per branch, then the loop-detection
     * hash of the request as received. */
    snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%s%s", sk_transport_via_name(b->dst.tp), host,
             branch, fc->loop_tag);
    plan.via = sk_slice_cstr(via);
    plan.realm = sk_slice_cstr(fc->s->cfg.domain);
    sk_buf_init(&rr);
    if (fc->record_route) {
        /* §16.6 step 4: so that later requests of the dialog come through
         * us, on the leg each side knows (RFC 5658), with the token that
         * lets them through (proxy_route.c) and the flows of UAs behind
         * NAT (nat.c). */
        err = record_route(fc, b, u, host, &rr);
        if (err != 0) {
            sk_buf_free(&rr);
            return err;
        }
        plan.rr = sk_slice_make(rr.p, rr.len);
    }
    sk__proxy_plan_target(&plan, b->uri, b->path, path);
    if (fc->media_sdp.len > 0) {
        plan.new_body = true;
        plan.body = sk_buf_slice(&fc->media_sdp);
    }
    sk_buf_init(&sc);
    /* One allocation each instead of a chain of doublings: the copy is
     * the request plus our few header values. */
    sk_buf_reserve(&sc, 512);
    sk_buf_reserve(out, req->raw.len + 512);
    err = sk__proxy_forward(req, &pre, &plan, &sc, out, &hop);
    sk_buf_free(&sc);
    sk_buf_free(&rr);
    return err;
}

static int build_branch(struct fctx *fc, struct pbranch *b, struct sk_buf *out)
{
    struct upreq u;
    int err = up_get(fc, &u);

    if (err == 0)
        err = build_from(fc, b, &u, out);
    up_put(&u);
    return err;
}

/* §16.6 step 10: a client transaction per branch. */
static void start_branch(struct fctx *fc, size_t i)
{
    struct pbranch *b = &fc->br[i];
    struct sk__fork_acts a;
    struct sk_txn *t = NULL;
    struct sk_buf out;
    int err;

    sk_buf_init(&out);
    err = build_branch(fc, b, &out);
    if (err == 0) {
        fc_ref(fc); /* dropped by the client transaction's on_terminated */
        err = sk_txn_client_new(fc->s->txns, out.p, out.len, &b->dst, b, &t);
        if (err != 0)
            fc_unref(fc);
        else
            sk_txn_let_go_at_2xx(t); /* the fork never reads a branch's request */
    }
    sk_buf_free(&out);
    if (err != 0) {
        SK_LOG(SK_LOG_WARN, "proxy", "event=branch_failed target=\"%s\" error=\"%s\"",
               b->uri != NULL ? b->uri : "", sk_strerror(err));
        pthread_mutex_lock(&fc->lock);
        sk__fork_failed(&fc->f, i, sk_now_ms(), &a);
        pthread_mutex_unlock(&fc->lock);
        run(fc, &a, NULL);
        return;
    }
    pthread_mutex_lock(&fc->lock);
    if (b->ended) {
        pthread_mutex_unlock(&fc->lock);
        sk_txn_unref(t);
        return;
    }
    b->txn = t;
    pthread_mutex_unlock(&fc->lock);
}

/* A fork with no pending branch has no Timer C running: off the list the
 * timer thread walks. */
static void untime_if_done(struct fctx *fc)
{
    struct sk__proxy *p = fc->s->proxy;
    bool done;

    if (!fc->timed)
        return; /* only ever set before the fork starts; a stale read is harmless */
    pthread_mutex_lock(&fc->lock);
    done = sk__fork_done(&fc->f);
    pthread_mutex_unlock(&fc->lock);
    if (!done)
        return;
    pthread_mutex_lock(&p->lock);
    untime_locked(fc);
    pthread_mutex_unlock(&p->lock);
}

/* In the order sk__fork_acts asks for. */
static void run(struct fctx *fc, const struct sk__fork_acts *a, const struct sk_msg *resp)
{
    for (size_t i = 0; i < fc->f.n; i++) {
        if (a->cancel & (1u << i))
            cancel_branch(fc, i);
    }
    if (a->forward && resp != NULL)
        forward_up(fc, resp);
    if (a->final)
        send_final(fc, a);
    for (size_t i = 0; i < fc->f.n; i++) {
        if (a->start & (1u << i))
            start_branch(fc, i);
    }
    untime_if_done(fc);
}

/* ---- starting ------------------------------------------------------------------ */

static int fill_targets(struct fctx *fc, const struct sk__target *t, size_t n)
{
    unsigned group = 0;

    for (size_t i = 0; i < n && i < SK__FORK_MAX; i++) {
        int q = t[i].q < 0 ? 1000 : t[i].q;
        int prev = i == 0 ? q : (t[i - 1].q < 0 ? 1000 : t[i - 1].q);
        struct pbranch *b = &fc->br[i];
        /* Equal q-values fork in parallel; a lower one waits (§16.6);
         * so does each backup flow of an Outbound instance. */
        if (q < prev || t[i].backup)
            group++;
        if (sk__fork_add(&fc->f, group) < 0)
            return SK_EINVAL;
        b->fc = fc;
        b->idx = i;
        b->dst = t[i].dst;
        if (t[i].uri != NULL && (b->uri = sk_strndup(t[i].uri, strlen(t[i].uri))) == NULL)
            return SK_ENOMEM;
        if (t[i].path != NULL && t[i].path[0] != '\0' &&
            (b->path = sk_strndup(t[i].path, strlen(t[i].path))) == NULL)
            return SK_ENOMEM;
    }
    return 0;
}

static void begin(struct fctx *fc)
{
    struct sk__fork_acts a;

    pthread_mutex_lock(&fc->lock);
    sk__fork_begin(&fc->f, sk_now_ms(), &a);
    pthread_mutex_unlock(&fc->lock);
    run(fc, &a, NULL);
}

int sk__proxy_start(struct sk__req *r, const struct sk__route_pre *pre,
                    const struct sk__target *targets, size_t n, bool record_route)
{
    struct sk__proxy *p = r->s->proxy;
    struct fctx *fc;
    int err;

    if (n == 0)
        return SK_EINVAL;
    if (n > SK__FORK_MAX)
        n = SK__FORK_MAX;
    fc = sk_calloc(1, sizeof(*fc) + n * sizeof(fc->br[0]));
    if (fc == NULL)
        return SK_ENOMEM;
    fc->nbr = n;
    sk_buf_init(&fc->media_sdp);
    pthread_mutex_init(&fc->lock, NULL);
    atomic_init(&fc->refs, 2); /* ours, and the server transaction's */
    fc->s = r->s;
    fc->stx = r->txn;
    sk_txn_ref(r->txn);
    /* Once answered, what the fork still reads is the request (through
     * this reference); late 2xx go out through sk__proxy_send(). So the
     * transaction retires to its compact form at its final response
     * instead of holding the whole request for Timer J or L. */
    sk_txn_let_go_at_final(r->txn);
    fc->record_route = record_route;
    sk__proxy_loop_tag(sk__proxy_loop_hash(r->m, &r->m->via, sk_slice_cstr(r->s->cfg.domain)),
                       fc->loop_tag);
    sk__fork_init(&fc->f, r->m->method_id == SK_METHOD_INVITE,
                  r->s->cfg.proxy_timer_c > 0 ? r->s->cfg.proxy_timer_c * 1000u
                                              : SK__PROXY_TIMER_C_MS);
    err = fill_targets(fc, targets, n);
    if (err != 0) {
        atomic_store(&fc->refs, 1);
        fc_unref(fc);
        return err;
    }
    pthread_mutex_lock(&p->lock);
    sk_dlist_push_front(&p->all, &fc->in_all);
    fc->listed = true;
    if (fc->f.invite) {
        sk_dlist_push_front(&p->timed, &fc->in_timed);
        fc->timed = true;
    }
    sk_txn_set_user(r->txn, fc);
    pthread_mutex_unlock(&p->lock);
    /* RFC 4235: before any branch can answer. */
    sk__proxy_dialog_request(r->s, r->m);
    /* A relayed offer waits for rtpengine, off this thread: offer_done
     * starts the branches, with our reference. */
    if (media_decide(fc, r->m, sk_txn_peer(r->txn), pre))
        return 0;
    begin(fc);
    fc_unref(fc);
    return 0;
}

/* ---- transaction callbacks --------------------------------------------------- */

static struct pbranch *branch_of(struct sk_txn *txn)
{
    enum sk_txn_kind k = sk_txn_kind(txn);

    if (k != SK_TXN_INVITE_CLIENT && k != SK_TXN_NON_INVITE_CLIENT)
        return NULL;
    return sk_txn_user(txn); /* NULL for our CANCELs */
}

static void branch_response(struct pbranch *b, const struct sk_msg *resp)
{
    struct fctx *fc = b->fc;
    struct sk__fork_acts a;
    struct upreq u;

    if (up_get(fc, &u) == 0)
        sk__proxy_dialog_branch(fc->s, u.m, resp);
    up_put(&u);
    pthread_mutex_lock(&fc->lock);
    sk__fork_response(&fc->f, b->idx, resp->status, resp->raw.p, resp->raw.len, sk_now_ms(), &a);
    pthread_mutex_unlock(&fc->lock);
    run(fc, &a, resp);
}

void sk__proxy_response(struct sk_server *s, struct sk_txn *txn, const struct sk_msg *resp)
{
    struct pbranch *b = branch_of(txn);

    (void)s;
    if (b != NULL)
        branch_response(b, resp);
}

/* Timer B / F: the locally made 408 counts as the branch's answer
 * (§16.7 step 2). A server transaction's Timer H needs nothing from us. */
void sk__proxy_timeout(struct sk_server *s, struct sk_txn *txn, const struct sk_msg *resp)
{
    struct pbranch *b = branch_of(txn);

    (void)s;
    if (b != NULL && resp != NULL)
        branch_response(b, resp);
}

/* §16.7 step 2 / §8.1.3.1: a transport error is a 503 from that branch. */
void sk__proxy_transport_error(struct sk_server *s, struct sk_txn *txn, int err,
                               const struct sk_msg *resp)
{
    struct pbranch *b = branch_of(txn);

    (void)s;
    SK_LOG(SK_LOG_INFO, "proxy", "event=transport_error kind=%s error=\"%s\"",
           sk_txn_kind_name(sk_txn_kind(txn)), sk_strerror(err));
    if (b != NULL && resp != NULL)
        branch_response(b, resp);
}

void sk__proxy_terminated(struct sk_server *s, struct sk_txn *txn)
{
    struct pbranch *b = branch_of(txn);
    struct sk__fork_acts a;
    struct fctx *fc;
    struct sk_txn *t;

    if (b != NULL) {
        fc = b->fc;
        pthread_mutex_lock(&fc->lock);
        b->ended = true;
        t = b->txn;
        b->txn = NULL;
        pthread_mutex_unlock(&fc->lock);
        sk_txn_unref(t);
        fc_unref(fc);
        return;
    }
    if (sk_txn_kind(txn) == SK_TXN_INVITE_CLIENT || sk_txn_kind(txn) == SK_TXN_NON_INVITE_CLIENT)
        return;
    pthread_mutex_lock(&s->proxy->lock);
    fc = sk_txn_user(txn);
    sk_txn_set_user(txn, NULL);
    pthread_mutex_unlock(&s->proxy->lock);
    if (fc == NULL)
        return;
    keep_request(fc, txn);
    /* Nobody is left to answer: stop the branches still looking. */
    pthread_mutex_lock(&fc->lock);
    sk__fork_cancel(&fc->f, &a);
    pthread_mutex_unlock(&fc->lock);
    run(fc, &a, NULL);
    fc_unref(fc);
}

/* §16.10: the pipeline answered the CANCEL with 200; every pending branch
 * is CANCELed and the best response (487s, normally) goes up once they
 * have all answered. */
bool sk__proxy_cancel(struct sk_server *s, struct sk_txn *invite)
{
    struct sk__fork_acts a;
    struct fctx *fc;

    pthread_mutex_lock(&s->proxy->lock);
    fc = sk_txn_user(invite);
    if (fc != NULL)
        fc_ref(fc);
    pthread_mutex_unlock(&s->proxy->lock);
    if (fc == NULL)
        return false;
    pthread_mutex_lock(&fc->lock);
    sk__fork_cancel(&fc->f, &a);
    pthread_mutex_unlock(&fc->lock);
    run(fc, &a, NULL);
    fc_unref(fc);
    return true;
}

/* ---- Timer C ------------------------------------------------------------------- */

void sk__proxy_tick(struct sk_server *s)
{
    struct sk__proxy *p = s->proxy;
    struct sk_vec list;
    uint64_t now = sk_now_ms();

    sk_vec_init(&list, sizeof(struct fctx *));
    pthread_mutex_lock(&p->lock);
    for (struct sk_dlist *l = sk_dlist_first(&p->timed); l != NULL;
         l = sk_dlist_next(&p->timed, l)) {
        struct fctx *fc = SK_CONTAINER_OF(l, struct fctx, in_timed);
        if (sk_vec_reserve(&list, 1) != 0)
            break; /* the rest waits for the next tick */
        if (fc_tryref(fc))
            *(struct fctx **)sk_vec_push(&list) = fc;
    }
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < list.len; i++) {
        struct fctx *fc = *(struct fctx **)sk_vec_at(&list, i);
        struct sk__fork_acts a;
        pthread_mutex_lock(&fc->lock);
        sk__fork_tick(&fc->f, now, &a);
        pthread_mutex_unlock(&fc->lock);
        run(fc, &a, NULL);
        fc_unref(fc);
    }
    sk_vec_free(&list);
}
