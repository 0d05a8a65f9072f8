/*
 * SUBSCRIBE and PUBLISH to the served domain: the notifier (RFC 6665 §4.2)
 * and the event state compositor (RFC 3903 §6) of `sipkit serve`.
 *
 * SUBSCRIBE, in order: Event (missing or not served -> 489 with
 * Allow-Events, §8.2.1 / §4.2.1), digest authentication (401, as for any
 * request, auth.c), Accept (the watcher must take our body type, else
 * 406), no body (we take no filters: 415 with an empty Accept), Expires
 * (423 with Min-Expires below the minimum, capped at the maximum). An
 * initial SUBSCRIBE names a user of the domain (404) the watcher may
 * watch (403: reg is one's own AOR only; presence follows the
 * watch_policy setting, dialog the dialog_policy one), is stored (a 200 OK is a promise) and
 * answered 200 with Expires and Contact and our To tag, and a NOTIFY with the current state follows
 * at once (§4.2.1.1). Expires: 0 on an initial SUBSCRIBE is a fetch (§4.4.3): 200 and a terminated
 * NOTIFY. A SUBSCRIBE within a subscription (To tag) refreshes it (§4.2.1.2) or, with Expires: 0,
 * ends it with a terminated NOTIFY (reason timeout, §4.2.1.4); one that matches none gets 481.
 *
 * RFC 6665 §7.2.1 (as RFC 3265 did, for PINT) reads a SUBSCRIBE without
 * Event as asking for a package we do not serve, so it gets 489 too, with
 * a reason phrase naming the missing header.
 *
 * PUBLISH: Event presence only (489 otherwise), authenticated, the
 * publisher may publish only its own presence (403), the body must be
 * application/pidf+xml (415 with Accept) and look like PIDF, its basic
 * statuses open or closed (400 naming the defect); then the RFC 3903 rules in events/publish.c, and
 * every change notifies the resource's watchers.
 *
 * Memory: responses are built in the request's buffer; subscriptions
 * belong to the table (events_notify.c).
 */
#include "server/events_int.h"

#include <sipkit/codes.h>

#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

bool sk__events_wants(const struct sk_server *s, const struct sk_msg *req)
{
    return (req->method_id == SK_METHOD_SUBSCRIBE || req->method_id == SK_METHOD_PUBLISH) &&
           s->events != NULL && sk__is_our_host(s, &req->ruri);
}

/* A response with our To tag (tag may be empty when To has one). */
static void start_tagged(struct sk__req *r, unsigned code, const char *reason, const char *tag)
{
    sk_buf_reset(&r->out);
    sk_msg_start_response(&r->out, r->m, code,
                          sk_slice_cstr(reason != NULL ? reason : sk_code_phrase(code)),
                          sk_slice_cstr(tag));
    sk_msg_add_header(&r->out, "Server", SK_SLICE_LIT("sipkit"));
}

static void bad_event(struct sk__req *r, const char *reason, const char *allow)
{
    sk__log_reject(r, 489, reason, NULL);
    sk__resp_start(r, 489, reason);
    sk_msg_add_header(&r->out, "Allow-Events", sk_slice_cstr(allow));
    sk__resp_send(r);
}

/* Expires: absent -> default; malformed -> 400 (answered, returns false);
 * below the minimum -> 423 (answered); above the maximum -> capped. */
static bool expires_of(struct sk__req *r, uint32_t *out)
{
    const struct sk_server_config *c = &r->s->cfg;
    uint64_t v = c->sub_default_expires;
    int rc = sk_msg_get_uint(r->m, SK_HDR_EXPIRES, UINT32_MAX, &v);

    if (rc < 0) {
        sk__reply(r, 400, "Malformed Expires");
        return false;
    }
    if (rc == 0)
        v = c->sub_default_expires;
    if (v != 0 && v < c->sub_min_expires) {
        sk__log_reject(r, 423, NULL, NULL);
        sk__resp_start(r, 423, NULL);
        sk_msg_add_headerf(&r->out, "Min-Expires", "%u", c->sub_min_expires);
        sk__resp_send(r);
        return false;
    }
    *out = v > c->sub_max_expires ? c->sub_max_expires : (uint32_t)v;
    return true;
}

/* RFC 6665 §4.1.2: Accept in a SUBSCRIBE lists the bodies the watcher
 * takes in NOTIFYs; ours must be among them. */
static bool accepts(const struct sk_msg *m, const char *ctype)
{
    struct sk_hdr_iter it;
    struct sk_slice v;
    const char *slash = strchr(ctype, '/');

    if (sk_msg_find(m, SK_HDR_ACCEPT) == NULL)
        return true;
    sk_hdr_iter_init(&it, m, SK_HDR_ACCEPT);
    while (sk_hdr_iter_next(&it, &v) == 1) {
        struct sk_ctype ct;
        if (sk_ctype_parse(v, &ct) != 0)
            continue;
        bool type_ok = sk_slice_eq(ct.type, SK_SLICE_LIT("*")) ||
                       sk_slice_caseeq(ct.type, sk_slice_make(ctype, (size_t)(slash - ctype)));
        bool sub_ok = sk_slice_eq(ct.subtype, SK_SLICE_LIT("*")) ||
                      sk_slice_caseeq(ct.subtype, sk_slice_cstr(slash + 1));
        if (type_ok && sub_ok)
            return true;
    }
    return false;
}

/* The resource: the Request-URI's user in our domain (the dispatch only
 * sends requests for our hosts). Answers 404 and returns false when it is
 * no user of ours. */
static bool resource_of(struct sk__req *r, char *out, size_t outsz, char *user, size_t usersz)
{
    char ha1[SK_AUTH_HEX_MAX + 1];
    int n = r->m->ruri.user.len > 0 ? sk_uri_unescape(r->m->ruri.user, user, usersz - 1) : -1;

    if (n <= 0 || snprintf(out, outsz, "%.*s@%s", n, user, r->s->cfg.domain) >= (int)outsz) {
        sk__reply(r, 404, NULL);
        return false;
    }
    user[n] = '\0';
    if (sk_store_user_ha1(r->s->store, sk_slice_cstr(r->s->cfg.domain),
                          sk_slice_make(user, (size_t)n), SK_HASH_MD5, ha1) != 0) {
        sk__reply(r, 404, NULL);
        return false;
    }
    return true;
}

static void make_key(char out[SK_SUB_KEY_MAX + 1])
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuv";
    unsigned char raw[16];

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        uint64_t t = sk_now_ms() ^ (uint64_t)(uintptr_t)out;
        for (size_t i = 0; i < sizeof(raw); i++, t = t * 6364136223846793005ull + 1)
            raw[i] = (unsigned char)(t >> 33);
    }
    memcpy(out, "ev", 2);
    for (size_t i = 0; i < sizeof(raw); i++)
        out[2 + i] = alphabet[raw[i] & 31];
    out[2 + sizeof(raw)] = '\0';
}

/* 200 with Expires and Contact (RFC 6665 §4.2.1.1); called with the
 * table lock held (the server transaction's callbacks never take it). */
static void send_ok(struct sk__req *r, const char *tag, uint32_t expires)
{
    start_tagged(r, 200, NULL, tag);
    /* RFC 3261 §12.1.1: a 2xx creating a dialog copies Record-Route. */
    for (size_t i = 0; tag[0] != '\0' && i < r->m->nhdrs; i++) {
        if (r->m->hdrs[i].id == SK_HDR_RECORD_ROUTE)
            sk_buf_append_slice(&r->out, r->m->hdrs[i].raw);
    }
    sk_msg_add_headerf(&r->out, "Expires", "%u", (unsigned)expires);
    char contact[SK_ADDR_STRLEN + 32];
    sk__ev_contact(r->s->events, r->to, contact, sizeof(contact));
    sk_msg_add_headerf(&r->out, "Contact", "<%s>", contact);
    sk__resp_send(r);
}

/* A SUBSCRIBE within an existing subscription (§4.2.1.2, §4.2.1.4). */
static void resubscribe(struct sk__req *r, uint32_t expires)
{
    struct sk__events *ev = r->s->events;
    struct sk__outbox box = {NULL};
    struct sk_hdr_iter it;
    struct sk_contact c;
    struct esub *e;
    int rc = 0;

    pthread_mutex_lock(&ev->lock);
    e = sk__ev_find(ev, r->m->to.tag);
    if (e == NULL || !sk_ev_sub_matches(&e->sub, r->m) || e->ending) {
        pthread_mutex_unlock(&ev->lock);
        sk__reply(r, 481, "Subscription Does Not Exist");
        return;
    }
    e->sub.remote_cseq = r->m->cseq.num;
    /* §12.2.2: SUBSCRIBE is a target refresh request. */
    sk_hdr_iter_init(&it, r->m, SK_HDR_CONTACT);
    if (sk_msg_contact_next(&it, &c) == 1 && !c.star &&
        c.addr.uri.raw.len < sizeof(e->sub.remote_target))
        sk_slice_to_cstr(c.addr.uri.raw, e->sub.remote_target, sizeof(e->sub.remote_target));
    if (expires == 0) {
        /* The removal is durable before its 200, as a refresh is: a row
         * left behind would bring the subscription back after a restart
         * (sk__ev_drop deletes again, finding nothing). */
        rc = sk_store_sub_del(r->s->store, e->sub.key);
        if (rc == 0 || rc == SK_ENOTFOUND) {
            rc = 0;
            e->ending = true;
            e->end_reason = "timeout";
        }
    } else {
        e->sub.expires_at = sk_wall_s() + expires;
        rc = sk__ev_store(ev, e);
    }
    if (rc != 0) {
        pthread_mutex_unlock(&ev->lock);
        sk__reply_store_failed(r, rc, "Subscription Not Stored");
        return;
    }
    send_ok(r, "", expires);
    sk__ev_notify(ev, e, &box);
    pthread_mutex_unlock(&ev->lock);
    sk__ev_flush(ev, &box);
}

/* Who may watch whom: reg is one's own AOR only; presence per
 * watch_policy, dialog per dialog_policy ("domain": any user of the domain,
 * who authenticated in our realm; "self": one's own only). A user's calls
 * say more than its presence (who it talks to), so dialog defaults to self. */
static bool may_watch(struct sk__req *r, enum sk_ev_pkg pkg, const char *user)
{
    const char *policy = pkg == SK_EV_PKG_PRESENCE ? r->s->cfg.watch_policy
                         : pkg == SK_EV_PKG_DIALOG ? r->s->cfg.dialog_policy
                                                   : "self";

    if (strcmp(policy, "domain") == 0)
        return true;
    return strcmp(r->user, user) == 0;
}

/* RFC 6665 §5.2: one watcher or one address cannot hold state without
 * bound. Checked before the store write; two SUBSCRIBEs racing may pass a
 * cap by one each, which is as good as a bound needs to be. */
static bool under_caps(struct sk__req *r, const char *watcher)
{
    struct sk__events *ev = r->s->events;
    char src[SK_LOC_IP_MAX + 1];
    const char *why;

    sk_slice_to_cstr(r->m->src_ip, src, sizeof(src));
    pthread_mutex_lock(&ev->lock);
    why = sk__evcaps_refuse(ev, watcher, src);
    pthread_mutex_unlock(&ev->lock);
    if (why == NULL)
        return true;
    sk__reply(r, 403, why);
    return false;
}

static void subscribe(struct sk__req *r, enum sk_ev_pkg pkg)
{
    struct sk__events *ev = r->s->events;
    struct sk__outbox box = {NULL};
    char resource[SK_LOC_AOR_MAX + 1], user[SK_LOC_AOR_MAX + 1], watcher[SK_LOC_AOR_MAX + 1];
    const char *why = NULL;
    uint32_t expires;
    struct esub *e;
    int rc;

    if (!accepts(r->m, sk_ev_pkg_ctype(pkg))) {
        sk__log_reject(r, 406, NULL, NULL);
        sk__resp_start(r, 406, NULL);
        sk_msg_add_header(&r->out, "Accept", sk_slice_cstr(sk_ev_pkg_ctype(pkg)));
        sk__resp_send(r);
        return;
    }
    if (r->m->body.len > 0) {
        sk__log_reject(r, 415, NULL, "SUBSCRIBE filters are not supported");
        sk__resp_start(r, 415, NULL);
        sk_buf_append_cstr(&r->out, "Accept: \r\n");
        sk__resp_send(r);
        return;
    }
    if (!expires_of(r, &expires))
        return;
    if (r->m->to.tag.len > 0) {
        resubscribe(r, expires);
        return;
    }
    if (!resource_of(r, resource, sizeof(resource), user, sizeof(user)))
        return;
    if (!may_watch(r, pkg, user)) {
        sk__reply(r, 403,
                  pkg == SK_EV_PKG_REG ? "Forbidden (Not Your Registration)"
                                       : "Forbidden (Watch Policy)");
        return;
    }
    if (snprintf(watcher, sizeof(watcher), "%s@%.*s", r->user, (int)(sizeof(watcher) / 2),
                 r->s->cfg.domain) >= (int)sizeof(watcher)) {
        sk__reply(r, 400, "Watcher Name Too Long");
        return;
    }
    if (expires > 0 && !under_caps(r, watcher))
        return;
    e = sk_calloc(1, sizeof(*e));
    if (e == NULL) {
        sk__reply(r, 500, NULL);
        return;
    }
    char key[SK_SUB_KEY_MAX + 1];
    make_key(key);
    rc = sk_ev_sub_init(&e->sub, r->m, key, sk_ev_pkg_name(pkg), watcher, resource, &why);
    if (rc != 0) {
        sk_free(e);
        sk__reply(r, 400, why);
        return;
    }
    e->pkg = pkg;
    e->sub.transport = r->to->tp;
    e->sub.conn_id = r->to->conn_id;
    e->sub.expires_at = sk_wall_s() + expires;
    if (expires == 0) {
        /* §4.4.3: a fetch. One NOTIFY with the state, nothing kept. */
        e->ending = true;
        e->end_reason = "timeout";
    } else if ((rc = sk__ev_store(ev, e)) != 0) {
        sk_free(e);
        sk__reply_store_failed(r, rc, "Subscription Not Stored");
        return;
    }
    SK_LOG(SK_LOG_INFO, "events",
           "event=subscribed key=%s package=%s resource=%s watcher=%s expires=%u", key,
           sk_ev_pkg_name(pkg), resource, watcher, (unsigned)expires);
    pthread_mutex_lock(&ev->lock);
    if (expires > 0)
        sk__ev_link(ev, e);
    send_ok(r, key, expires);
    sk__ev_notify(ev, e, &box);
    pthread_mutex_unlock(&ev->lock);
    sk__ev_flush(ev, &box);
}

static void publish(struct sk__req *r)
{
    struct sk__events *ev = r->s->events;
    struct sk__outbox box = {NULL};
    char resource[SK_LOC_AOR_MAX + 1], user[SK_LOC_AOR_MAX + 1];
    struct sk_pub_request rq;
    struct sk_pub_result res;
    const struct sk_hdr *im;
    struct sk_ctype ct;
    uint64_t v = 0;
    int rc;

    if (!resource_of(r, resource, sizeof(resource), user, sizeof(user)))
        return;
    /* RFC 3903 §6 step 2 leaves authorization to policy: one's own. */
    if (strcmp(r->user, user) != 0) {
        sk__reply(r, 403, "Forbidden (Not Your Presence)");
        return;
    }
    memset(&rq, 0, sizeof(rq));
    if (r->m->body.len > 0) {
        const char *why = NULL;
        if (sk_msg_ctype(r->m, &ct) != 1 || !sk_slice_caseeq_cstr(ct.type, "application") ||
            !sk_slice_caseeq_cstr(ct.subtype, "pidf+xml")) {
            sk__log_reject(r, 415, NULL, NULL);
            sk__resp_start(r, 415, NULL);
            sk_msg_add_header(&r->out, "Accept", SK_SLICE_LIT("application/pidf+xml"));
            sk__resp_send(r);
            return;
        }
        if (sk_ev_pidf_check(r->m->body, &why) != 0) {
            sk__reply(r, 400, why);
            return;
        }
        rq.ctype = SK_SLICE_LIT("application/pidf+xml");
        rq.body = r->m->body;
    }
    rc = sk_msg_get_uint(r->m, SK_HDR_EXPIRES, UINT32_MAX, &v);
    if (rc < 0) {
        sk__reply(r, 400, "Malformed Expires");
        return;
    }
    im = sk_msg_find_name(r->m, SK_SLICE_LIT("SIP-If-Match"));
    rq.resource = sk_slice_cstr(resource);
    rq.package = SK_SLICE_LIT("presence");
    rq.if_match = im != NULL ? im->value : SK_SLICE_NULL;
    rq.expires = rc == 1 ? (int64_t)v : -1;
    rq.now = sk_wall_s();
    if ((rc = sk_pubstate_apply(ev->pubs, &rq, &res)) != 0) {
        sk__reply_store_failed(r, rc, "Publication Not Stored");
        return;
    }
    if (res.status >= 300)
        sk__log_reject(r, res.status, res.reason, NULL);
    sk__resp_start(r, res.status, res.reason);
    if (res.status == 200) {
        if (res.etag[0] != '\0')
            sk_msg_add_header(&r->out, "SIP-ETag", sk_slice_cstr(res.etag));
        sk_msg_add_headerf(&r->out, "Expires", "%u", (unsigned)res.expires);
    } else if (res.status == 423) {
        sk_msg_add_headerf(&r->out, "Min-Expires", "%u", (unsigned)res.min_expires);
    }
    sk__resp_send(r);
    if (!res.changed)
        return;
    pthread_mutex_lock(&ev->lock);
    sk__ev_notify_resource(ev, resource, SK_EV_PKG_PRESENCE, &box);
    pthread_mutex_unlock(&ev->lock);
    sk__ev_flush(ev, &box);
}

void sk__events_handle(struct sk__req *r)
{
    struct sk_event evh;
    enum sk_ev_pkg pkg;
    bool is_pub = r->m->method_id == SK_METHOD_PUBLISH;
    int rc = sk_msg_event(r->m, &evh);

    if (rc == 0) {
        bad_event(r, "Bad Event (Missing Event Header)", is_pub ? "presence" : SK_EV_ALLOW_EVENTS);
        return;
    }
    pkg = rc == 1 ? sk_ev_pkg_from(evh.package) : SK_EV_PKG_NONE;
    if (pkg == SK_EV_PKG_NONE || (is_pub && pkg != SK_EV_PKG_PRESENCE)) {
        bad_event(r, NULL, is_pub ? "presence" : SK_EV_ALLOW_EVENTS);
        return;
    }
    if (!sk__auth_check(r, SK_AUTH_WWW))
        return;
    if (is_pub)
        publish(r);
    else
        subscribe(r, pkg);
}
