/*
 * The notifier's table and its NOTIFYs (RFC 6665 §4.2.2): subscriptions
 * in memory (hash by key, our To tag, and by resource), loaded from the
 * store at start; NOTIFYs sent by the server's own client transactions
 * within each subscription's dialog, one at a time per dialog (a change
 * while one is in flight is sent, as full state, once it is answered, so
 * CSeqs arrive in order); a 481, a timeout or another failure without
 * Retry-After ends the subscription (§4.2.2: "the notifier MUST remove the
 * subscription"); expiry ends it with a terminated NOTIFY (reason
 * timeout, §4.2.2). The registrar's and proxy's hooks land here too.
 *
 * Bodies: presence is the most recent publication or a PIDF saying closed
 * (RFC 3856 §6.6 leaves the composition to the server); reg is the
 * AOR's bindings as RFC 3680 §5.3 full state, with the contacts that went
 * away since the last NOTIFY listed as terminated; dialog is the proxy's
 * view of the user's calls (RFC 4235).
 *
 * Where NOTIFYs go: the first Route when the SUBSCRIBE was record-routed
 * (numeric host), else the address the SUBSCRIBE came from (transport,
 * connection), which reaches a watcher behind a NAT the way RFC 3581 lets
 * responses reach it.
 *
 * Memory: see events_int.h. Outbox entries are heap blocks freed by
 * sk__ev_flush().
 */
#include "server/events_int.h"
#include "server/proxy_int.h"

#include <stdio.h>
#include <string.h>

/* The user pointer of our NOTIFY client transactions. */
static const char notify_owner = 'N';

#define REG_MAX_BINDINGS 64
/* RFC 4235 full state keeps ended calls listed this long. */
#define DIALOG_LINGER_MS 32000u

struct sk__outmsg {
    struct sk__outmsg *next;
    struct sk_addr dst;
    size_t len;
    char data[];
};

/* Keyed: watchers choose keys and resources. */
static uint64_t key_hash(const char *key)
{
    return sk_hash(key, strlen(key));
}

static uint64_t res_hash(const char *resource, const char *package)
{
    struct sk_hasher h;

    sk_hasher_init(&h);
    sk_hasher_cstr(&h, resource);
    sk_hasher_cstr(&h, package);
    return sk_hasher_end(&h);
}

struct esub *sk__ev_find(struct sk__events *ev, struct sk_slice key)
{
    char k[SK_SUB_KEY_MAX + 1];

    if (key.len == 0 || key.len > SK_SUB_KEY_MAX)
        return NULL;
    sk_slice_to_cstr(key, k, sizeof(k));
    for (struct sk_hnode *n = sk_htab_first(&ev->bykey, key_hash(k)); n != NULL;
         n = sk_htab_next(n)) {
        struct esub *e = SK_CONTAINER_OF(n, struct esub, bykey);
        if (strcmp(e->sub.key, k) == 0)
            return e;
    }
    return NULL;
}

void sk__ev_link(struct sk__events *ev, struct esub *e)
{
    /* Cannot fail: sk__events_new reserved the buckets. */
    (void)sk_htab_insert(&ev->bykey, &e->bykey, key_hash(e->sub.key));
    (void)sk_htab_insert(&ev->byres, &e->byres, res_hash(e->sub.resource, e->sub.package));
    e->linked = true;
    if (e->pkg == SK_EV_PKG_REG)
        atomic_fetch_add(&ev->nreg, 1);
    sk__evcaps_added(ev, e);
}

void sk__ev_drop(struct sk__events *ev, struct esub *e)
{
    if (e->linked) {
        sk_htab_remove(&ev->bykey, &e->bykey);
        sk_htab_remove(&ev->byres, &e->byres);
        if (e->pkg == SK_EV_PKG_REG)
            atomic_fetch_sub(&ev->nreg, 1);
        sk__evcaps_removed(ev, e);
        int rc = sk_store_sub_del(ev->s->store, e->sub.key);
        if (rc != 0 && rc != SK_ENOTFOUND)
            SK_LOG(SK_LOG_ERROR, "events", "event=store_failed op=del error=\"%s\"",
                   sk_strerror(rc));
    }
    SK_LOG(SK_LOG_INFO, "events", "event=subscription_ended key=%s package=%s resource=%s",
           e->sub.key, e->sub.package, e->sub.resource);
    sk_free(e->reg_last);
    sk_free(e);
}

/* Our host:port for Via and Contact: the first listener, or for a
 * wildcard listener the first address of this host. */
const char *sk__ev_local(struct sk__events *ev)
{
    struct sk_addr a;

    if (ev->local[0] != '\0')
        return ev->local;
    if (sk_server_listener_addr(ev->s, 0, &a) != 0)
        return "127.0.0.1";
    if (sk_addr_is_any(&a) && ev->s->nself > 0)
        a = ev->s->self[0];
    sk_addr_format(&a, ev->local, sizeof(ev->local));
    return ev->local;
}

/* Our host:port as peer should see it: for a TLS or WebSocket peer the
 * listener of its kind (RFC 3261 §26.2: a dialog over TLS goes on over
 * TLS, to the port that speaks it), else sk__ev_local(). */
static const char *local_for(struct sk__events *ev, const struct sk_addr *peer)
{
    bool own = peer->tp == SK_TP_TLS || sk_transport_is_ws(peer->tp);
    const char *host = own ? sk__proxy_self_text(ev->s, peer) : NULL;

    return host != NULL ? host : sk__ev_local(ev);
}

void sk__ev_contact(struct sk__events *ev, const struct sk_addr *peer, char *out, size_t outsz)
{
    const char *param = peer->tp == SK_TP_TLS   ? ";transport=tls"
                        : peer->tp == SK_TP_WS  ? ";transport=ws"
                        : peer->tp == SK_TP_WSS ? ";transport=wss"
                                                : "";

    snprintf(out, outsz, "sip:%s%s", local_for(ev, peer), param);
}

int sk__ev_store(struct sk__events *ev, struct esub *e)
{
    struct sk_subscription *row = sk_malloc(sizeof(*row));
    int rc;

    if (row == NULL)
        return SK_ENOMEM;
    *row = e->sub;
    row->local_cseq += SK__EV_SEQ_BLOCK;
    row->version += SK__EV_SEQ_BLOCK;
    rc = sk_store_sub_put(ev->s->store, row);
    if (rc == 0) {
        e->cseq_mark = row->local_cseq;
        e->version_mark = row->version;
    }
    sk_free(row);
    return rc;
}

static int dest_of(const struct sk_subscription *sub, struct sk_addr *dst)
{
    struct sk_uri hop;

    memset(dst, 0, sizeof(*dst));
    if (sub->route_set[0] != '\0' && sk_ev_sub_next_hop(sub, &hop) == 0 &&
        (hop.host_type == SK_HOST_IPV4 || hop.host_type == SK_HOST_IPV6) &&
        sk_addr_parse(hop.host, hop.has_port ? hop.port : (hop.scheme == SK_URI_SIPS ? 5061 : 5060),
                      dst) == 0) {
        dst->tp = sk__uri_transport(&hop, SK_TP_UDP);
        return 0;
    }
    if (sk_addr_parse(sk_slice_cstr(sub->src_ip), sub->src_port, dst) != 0)
        return SK_EINVAL;
    dst->tp = sub->transport;
    dst->conn_id = sub->conn_id;
    return 0;
}

/* reg: the bindings now, compared with what the last NOTIFY said. */
static int reg_body(struct sk__events *ev, struct esub *e, struct sk_buf *body)
{
    struct sk_binding *cur = sk_calloc(REG_MAX_BINDINGS, sizeof(*cur));
    struct sk_reginfo_contact *c = NULL;
    char(*ids)[17] = NULL, aor[SK_LOC_AOR_MAX + 8];
    size_t n = 0, nc;
    int64_t now = sk_wall_s();

    if (cur == NULL)
        return SK_ENOMEM;
    if (ev->s->loc != NULL)
        sk_location_lookup(ev->s->loc, sk_slice_cstr(e->sub.resource), now, cur, REG_MAX_BINDINGS,
                           &n);
    c = sk_calloc(n + e->reg_n + 1, sizeof(*c));
    ids = sk_calloc(n + e->reg_n + 1, sizeof(*ids));
    if (c == NULL || ids == NULL) {
        sk_free(c);
        sk_free(ids);
        sk_free(cur);
        return SK_ENOMEM;
    }
    nc = sk_ev_reg_diff(e->reg_last, e->reg_n, cur, n, now, true, c, ids, n + e->reg_n);
    snprintf(aor, sizeof(aor), "sip:%s", e->sub.resource);
    struct sk_reginfo ri = {aor, "r0", e->sub.version, true, c, nc};
    sk_ev_reginfo_build(body, &ri);
    sk_free(c);
    sk_free(ids);
    sk_free(e->reg_last);
    e->reg_last = cur;
    e->reg_n = n;
    return 0;
}

static int build_body(struct sk__events *ev, struct esub *e, struct sk_buf *body, char *ctype,
                      size_t ctypesz)
{
    snprintf(ctype, ctypesz, "%s", sk_ev_pkg_ctype(e->pkg));
    switch (e->pkg) {
    case SK_EV_PKG_PRESENCE: {
        int rc = sk_pubstate_current(ev->pubs, sk_slice_cstr(e->sub.resource),
                                     SK_SLICE_LIT("presence"), sk_wall_s(), body, ctype, ctypesz);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        /* No publication: the resource is offline (RFC 3856 §6.6). */
        char entity[SK_LOC_AOR_MAX + 8];
        snprintf(entity, sizeof(entity), "pres:%s", e->sub.resource);
        struct sk_pidf p = {entity, "t0", false, NULL, NULL};
        sk_ev_pidf_build(body, &p);
        return 0;
    }
    case SK_EV_PKG_REG:
        return reg_body(ev, e, body);
    case SK_EV_PKG_DIALOG: {
        int rc = sk_dlgtrack_build(ev->dialogs, e->sub.resource, e->sub.version, body);
        return rc < 0 ? rc : 0;
    }
    default:
        return SK_EINVAL;
    }
}

static void queue(struct sk__outbox *box, const struct sk_addr *dst, const struct sk_buf *msg)
{
    struct sk__outmsg *m = sk_malloc(sizeof(*m) + msg->len);

    if (m == NULL)
        return;
    m->dst = *dst;
    m->len = msg->len;
    memcpy(m->data, msg->p, msg->len);
    m->next = box->head;
    box->head = m;
}

void sk__ev_notify(struct sk__events *ev, struct esub *e, struct sk__outbox *box)
{
    char branch[SK_TXN_BRANCH_LEN + 1], via[SK_ADDR_STRLEN + 16], contact[SK_ADDR_STRLEN + 8];
    char ctype[SK_PUB_CTYPE_MAX + 1];
    struct sk_buf body, msg;
    struct sk_addr dst;
    int64_t now = sk_wall_s();
    int rc;

    if (e->in_flight) {
        e->again = true;
        return;
    }
    if (dest_of(&e->sub, &dst) != 0) {
        SK_LOG(SK_LOG_WARN, "events", "event=no_route key=%s", e->sub.key);
        sk__ev_drop(ev, e);
        return;
    }
    sk_buf_init(&body);
    sk_buf_init(&msg);
    rc = build_body(ev, e, &body, ctype, sizeof(ctype));
    sk_txn_make_branch(branch);
    sk__ev_contact(ev, &dst, contact, sizeof(contact));
    snprintf(via, sizeof(via), "SIP/2.0/%s %s", sk_transport_via_name(dst.tp), local_for(ev, &dst));
    struct sk_ev_notify n = {
        sk_slice_cstr(via),
        sk_slice_cstr(branch),
        sk_slice_cstr(contact),
        e->ending ? SK_SUB_TERMINATED : SK_SUB_ACTIVE,
        e->sub.expires_at > now ? (uint32_t)(e->sub.expires_at - now) : 0,
        e->end_reason,
        rc == 0 ? sk_slice_cstr(ctype) : SK_SLICE_NULL,
        rc == 0 ? sk_buf_slice(&body) : SK_SLICE_NULL,
    };
    if (sk_ev_notify_build(&msg, &e->sub, &n) == 0) {
        e->sub.version++;
        queue(box, &dst, &msg);
        e->in_flight = true;
        e->again = false;
        if (e->linked && !e->ending &&
            (e->sub.local_cseq >= e->cseq_mark || e->sub.version >= e->version_mark)) {
            /* The reservation is used up: take the next block. */
            uint32_t cseq = e->sub.local_cseq + SK__EV_SEQ_BLOCK;
            uint32_t version = e->sub.version + SK__EV_SEQ_BLOCK;
            rc = sk_store_sub_seq(ev->s->store, e->sub.key, cseq, version);
            if (rc == 0) {
                e->cseq_mark = cseq;
                e->version_mark = version;
            } else {
                SK_LOG(SK_LOG_ERROR, "events", "event=store_failed op=seq error=\"%s\"",
                       sk_strerror(rc));
            }
        }
    }
    sk_buf_free(&body);
    sk_buf_free(&msg);
    /* §4.2.2: after the terminated NOTIFY the subscription is gone; its
     * response, if any, finds nothing. */
    if (e->ending)
        sk__ev_drop(ev, e);
}

void sk__ev_notify_resource(struct sk__events *ev, const char *resource, enum sk_ev_pkg pkg,
                            struct sk__outbox *box)
{
    const char *name = sk_ev_pkg_name(pkg);
    struct sk_hnode *n = sk_htab_first(&ev->byres, res_hash(resource, name));

    while (n != NULL) {
        struct sk_hnode *next = sk_htab_next(n); /* n may be dropped */
        struct esub *e = SK_CONTAINER_OF(n, struct esub, byres);
        if (e->pkg == pkg && strcmp(e->sub.resource, resource) == 0)
            sk__ev_notify(ev, e, box);
        n = next;
    }
}

void sk__ev_flush(struct sk__events *ev, struct sk__outbox *box)
{
    while (box->head != NULL) {
        struct sk__outmsg *m = box->head;
        int rc;

        box->head = m->next;
        rc = sk_txn_client_new(ev->s->txns, m->data, m->len, &m->dst, (void *)&notify_owner, NULL);
        if (rc != 0)
            SK_LOG(SK_LOG_WARN, "events", "event=notify_not_sent error=\"%s\"", sk_strerror(rc));
        sk_free(m);
    }
}

bool sk__events_owns(const struct sk_txn *txn)
{
    return sk_txn_user(txn) == (const void *)&notify_owner;
}

void sk__events_response(struct sk_server *s, struct sk_txn *txn, const struct sk_msg *resp)
{
    struct sk__events *ev = s->events;
    const struct sk_msg *req = sk_txn_request(txn);
    struct sk__outbox box = {NULL};
    unsigned status = resp != NULL ? resp->status : 408;
    struct esub *e;

    if (status < 200)
        return;
    pthread_mutex_lock(&ev->lock);
    e = sk__ev_find(ev, req->from.tag);
    /* A response to an older NOTIFY of the dialog is not the one awaited. */
    if (e != NULL && req->cseq.num == e->sub.local_cseq) {
        e->in_flight = false;
        if (status >= 300 &&
            (status == 481 || resp == NULL || sk_msg_find(resp, SK_HDR_RETRY_AFTER) == NULL)) {
            SK_LOG(SK_LOG_INFO, "events", "event=notify_failed key=%s status=%u", e->sub.key,
                   status);
            sk__ev_drop(ev, e);
        } else if (e->again || e->ending) {
            sk__ev_notify(ev, e, &box);
        }
    }
    pthread_mutex_unlock(&ev->lock);
    sk__ev_flush(ev, &box);
}

/* ---- hooks and timers --------------------------------------------------------- */

void sk__events_reg_changed(void *arg, const char *aor)
{
    struct sk_server *s = arg;
    struct sk__outbox box = {NULL};

    if (s->events == NULL)
        return;
    pthread_mutex_lock(&s->events->lock);
    sk__ev_notify_resource(s->events, aor, SK_EV_PKG_REG, &box);
    pthread_mutex_unlock(&s->events->lock);
    sk__ev_flush(s->events, &box);
}

bool sk__events_reg_watched(void *arg)
{
    struct sk_server *s = arg;

    return s->events != NULL && atomic_load(&s->events->nreg) > 0;
}

void sk__events_dialog_changed(struct sk_server *s, const struct sk_dlg_event *d)
{
    struct sk__outbox box = {NULL};
    int rc = sk_dlgtrack_update(s->events->dialogs, d);

    if (rc != 0) {
        SK_LOG(SK_LOG_WARN, "events", "event=dialog_not_tracked error=\"%s\"", sk_strerror(rc));
        return;
    }
    pthread_mutex_lock(&s->events->lock);
    sk__ev_notify_resource(s->events, d->aor, SK_EV_PKG_DIALOG, &box);
    pthread_mutex_unlock(&s->events->lock);
    sk__ev_flush(s->events, &box);
}

static void publication_gone(void *arg, const char *resource, const char *package)
{
    struct sk__events *ev = arg;
    struct sk__outbox box = {NULL};
    enum sk_ev_pkg pkg = sk_ev_pkg_from(sk_slice_cstr(package));

    pthread_mutex_lock(&ev->lock);
    sk__ev_notify_resource(ev, resource, pkg, &box);
    pthread_mutex_unlock(&ev->lock);
    sk__ev_flush(ev, &box);
}

void sk__events_tick(struct sk_server *s)
{
    struct sk__events *ev = s->events;
    struct sk__outbox box = {NULL};
    int64_t now = sk_wall_s();
    uint64_t now_ms = sk_now_ms();
    struct sk_htab_iter it;
    struct sk_hnode *n;

    if (ev == NULL)
        return;
    sk_pubstate_purge(ev->pubs, now, publication_gone, ev);
    if (now_ms > DIALOG_LINGER_MS)
        sk_dlgtrack_purge(ev->dialogs, now_ms - DIALOG_LINGER_MS);
    pthread_mutex_lock(&ev->lock);
    sk_htab_iter_init(&it, &ev->bykey);
    while ((n = sk_htab_iter_next(&it)) != NULL) {
        struct esub *e = SK_CONTAINER_OF(n, struct esub, bykey);
        if (!e->ending && e->sub.expires_at <= now) {
            e->ending = true;
            e->end_reason = "timeout";
            sk__ev_notify(ev, e, &box);
        }
    }
    pthread_mutex_unlock(&ev->lock);
    sk__ev_flush(ev, &box);
}

/* ---- life cycle ----------------------------------------------------------------- */

static int load_one(void *arg, const struct sk_subscription *sub)
{
    struct sk__events *ev = arg;
    struct esub *e;

    if (sub->expires_at <= sk_wall_s()) {
        (void)sk_store_sub_del(ev->s->store, sub->key);
        return 0;
    }
    e = sk_calloc(1, sizeof(*e));
    if (e == NULL)
        return SK_ENOMEM;
    e->sub = *sub;
    /* The stored CSeq and version are a reservation (SK__EV_SEQ_BLOCK):
     * at least what was sent; the next NOTIFY goes above and reserves. */
    e->cseq_mark = sub->local_cseq;
    e->version_mark = sub->version;
    e->pkg = sk_ev_pkg_from(sk_slice_cstr(sub->package));
    sk__ev_link(ev, e);
    return 0;
}

/* Another node changed a resource's publications (PostgreSQL's feed, on
 * its thread): read them again and tell this node's watchers. */
static void pub_fed(void *arg, const char *resource, const char *package)
{
    struct sk_server *s = arg;
    struct sk__outbox box = {NULL};
    enum sk_ev_pkg pkg = sk_ev_pkg_from(sk_slice_cstr(package));
    int rc;

    if (s->events == NULL || pkg == SK_EV_PKG_NONE)
        return;
    if ((rc = sk_pubstate_reload(s->events->pubs, resource, package, sk_wall_s())) != 0)
        SK_LOG(SK_LOG_WARN, "events",
               "event=publication_reload_failed resource=\"%s\" error=\"%s\"", resource,
               sk_strerror(rc));
    pthread_mutex_lock(&s->events->lock);
    sk__ev_notify_resource(s->events, resource, pkg, &box);
    pthread_mutex_unlock(&s->events->lock);
    sk__ev_flush(s->events, &box);
}

int sk__events_new(struct sk_server *s)
{
    struct sk_pubstate_options po = {s->cfg.sub_min_expires, s->cfg.sub_max_expires,
                                     s->cfg.sub_default_expires, s->store};
    struct sk__events *ev = sk_calloc(1, sizeof(*ev));
    int rc;

    if (ev == NULL)
        return SK_ENOMEM;
    pthread_mutex_init(&ev->lock, NULL);
    ev->s = s;
    s->events = ev;
    if ((rc = sk_htab_reserve(&ev->bykey, 256)) != 0 ||
        (rc = sk_htab_reserve(&ev->byres, 256)) != 0)
        return rc;
    if ((rc = sk_pubstate_new(&ev->pubs, &po)) != 0 || (rc = sk_dlgtrack_new(&ev->dialogs)) != 0)
        return rc;
    if ((rc = sk_pubstate_load(ev->pubs, sk_wall_s())) != 0 ||
        (rc = sk_store_sub_foreach(s->store, load_one, ev)) != 0) {
        SK_LOG(SK_LOG_ERROR, "events", "event=load_failed error=\"%s\"", sk_strerror(rc));
        return rc;
    }
    SK_LOG(SK_LOG_INFO, "events", "event=loaded subscriptions=%zu publications=%zu",
           sk_htab_count(&ev->bykey), sk_pubstate_count(ev->pubs));
    return sk_store_pub_feed(s->store, pub_fed, s);
}

void sk__events_free(struct sk_server *s)
{
    struct sk__events *ev = s->events;
    struct sk_htab_iter it;
    struct sk_hnode *n;

    if (ev == NULL)
        return;
    (void)sk_store_pub_feed(s->store, NULL, NULL); /* waits for a running call */
    sk_htab_iter_init(&it, &ev->bykey);
    while ((n = sk_htab_iter_next(&it)) != NULL) {
        struct esub *e = SK_CONTAINER_OF(n, struct esub, bykey);
        sk_free(e->reg_last);
        sk_free(e);
    }
    sk_htab_free(&ev->bykey);
    sk_htab_free(&ev->byres);
    sk_pubstate_free(ev->pubs);
    sk_dlgtrack_free(ev->dialogs);
    sk__evcaps_free(ev);
    pthread_mutex_destroy(&ev->lock);
    sk_free(ev);
    s->events = NULL;
}

void sk__events_counts(struct sk_server *s, size_t subs[SK_EV_PKG__COUNT], size_t *pubs)
{
    struct sk__events *ev = s->events;
    struct sk_htab_iter it;
    struct sk_hnode *n;

    memset(subs, 0, sizeof(size_t) * SK_EV_PKG__COUNT);
    pthread_mutex_lock(&ev->lock);
    sk_htab_iter_init(&it, &ev->bykey);
    while ((n = sk_htab_iter_next(&it)) != NULL) {
        const struct esub *e = SK_CONTAINER_OF(n, struct esub, bykey);
        if ((unsigned)e->pkg < SK_EV_PKG__COUNT)
            subs[e->pkg]++;
    }
    pthread_mutex_unlock(&ev->lock);
    *pubs = sk_pubstate_count(ev->pubs);
}
