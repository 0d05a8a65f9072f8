/*
 * Subscription dialogs from the notifier's side: the event packages we
 * serve, the dialog state a SUBSCRIBE establishes (RFC 6665 §4.2.1, as a
 * UAS per RFC 3261 §12.1.1: route set from Record-Route in order, remote
 * target from Contact, remote tag from From, our tag in To), matching an
 * in-dialog SUBSCRIBE, and the NOTIFY requests sent within the dialog
 * (RFC 6665 §4.2.2, §8.2; RFC 3261 §12.2.1.1).
 *
 * Memory: struct sk_subscription is a plain value with fixed-size strings
 * (copied from the request); NOTIFYs are written into the caller's sk_buf.
 */
#include <sipkit/events.h>

#include <string.h>

static const struct {
    const char *name;
    const char *ctype;
} packages[SK_EV_PKG__COUNT] = {
    [SK_EV_PKG_NONE] = {"", ""},
    [SK_EV_PKG_REG] = {"reg", "application/reginfo+xml"},
    [SK_EV_PKG_PRESENCE] = {"presence", "application/pidf+xml"},
    [SK_EV_PKG_DIALOG] = {"dialog", "application/dialog-info+xml"},
};

enum sk_ev_pkg sk_ev_pkg_from(struct sk_slice name)
{
    for (int i = 1; i < SK_EV_PKG__COUNT; i++) {
        if (sk_slice_eq(name, sk_slice_cstr(packages[i].name)))
            return (enum sk_ev_pkg)i;
    }
    return SK_EV_PKG_NONE;
}

const char *sk_ev_pkg_name(enum sk_ev_pkg p)
{
    return (unsigned)p < SK_EV_PKG__COUNT ? packages[p].name : "";
}

const char *sk_ev_pkg_ctype(enum sk_ev_pkg p)
{
    return (unsigned)p < SK_EV_PKG__COUNT ? packages[p].ctype : "";
}

/* Copy a slice into a fixed field; SK_ETOOBIG when it does not fit. */
static int put(char *dst, size_t dstsz, struct sk_slice s)
{
    if (s.len >= dstsz)
        return SK_ETOOBIG;
    if (s.len > 0)
        memcpy(dst, s.p, s.len);
    dst[s.len] = '\0';
    return 0;
}

#define PUT(field, slice) put((field), sizeof(field), (slice))

/* §12.1.1: the route set is the Record-Route values in order. */
static int join_record_route(const struct sk_msg *req, char *dst, size_t dstsz)
{
    struct sk_hdr_iter it;
    struct sk_slice v;
    size_t n = 0;
    int rc;

    dst[0] = '\0';
    sk_hdr_iter_init(&it, req, SK_HDR_RECORD_ROUTE);
    while ((rc = sk_hdr_iter_next(&it, &v)) == 1) {
        size_t need = v.len + (n > 0 ? 2 : 0);
        if (n + need >= dstsz)
            return SK_ETOOBIG;
        if (n > 0) {
            memcpy(dst + n, ", ", 2);
            n += 2;
        }
        memcpy(dst + n, v.p, v.len);
        n += v.len;
        dst[n] = '\0';
    }
    return rc < 0 ? SK_EPARSE : 0;
}

int sk_ev_sub_init(struct sk_subscription *sub, const struct sk_msg *req, const char *key,
                   const char *package, const char *watcher, const char *resource, const char **why)
{
    struct sk_hdr_iter it;
    struct sk_contact c;
    struct sk_event ev;
    int rc;

    memset(sub, 0, sizeof(*sub));
    /* RFC 6665 §4.1.2: a SUBSCRIBE carries one Contact, the remote target. */
    sk_hdr_iter_init(&it, req, SK_HDR_CONTACT);
    if (sk_msg_contact_next(&it, &c) != 1 || c.star) {
        *why = "Missing Contact";
        return SK_EPARSE;
    }
    *why = "Header Value Too Long";
    if (PUT(sub->key, sk_slice_cstr(key)) != 0 || PUT(sub->package, sk_slice_cstr(package)) != 0 ||
        PUT(sub->watcher, sk_slice_cstr(watcher)) != 0 ||
        PUT(sub->resource, sk_slice_cstr(resource)) != 0 || PUT(sub->call_id, req->call_id) != 0 ||
        PUT(sub->remote_tag, req->from.tag) != 0 || PUT(sub->remote_uri, req->from.uri.raw) != 0 ||
        PUT(sub->local_uri, req->to.uri.raw) != 0 || PUT(sub->remote_target, c.addr.uri.raw) != 0 ||
        PUT(sub->src_ip, req->src_ip) != 0)
        return SK_ETOOBIG;
    if (sk_msg_event(req, &ev) == 1 && PUT(sub->event_id, ev.id) != 0)
        return SK_ETOOBIG;
    rc = join_record_route(req, sub->route_set, sizeof(sub->route_set));
    if (rc != 0) {
        *why = rc == SK_ETOOBIG ? "Record-Route Too Long" : "Malformed Record-Route";
        return rc;
    }
    sub->remote_cseq = req->cseq.num;
    sub->src_port = req->src_port;
    return 0;
}

bool sk_ev_sub_matches(const struct sk_subscription *sub, const struct sk_msg *req)
{
    struct sk_event ev;

    if (!sk_slice_eq(req->call_id, sk_slice_cstr(sub->call_id)) ||
        !sk_slice_eq(req->from.tag, sk_slice_cstr(sub->remote_tag)) ||
        !sk_slice_eq(req->to.tag, sk_slice_cstr(sub->key)))
        return false;
    if (sk_msg_event(req, &ev) != 1)
        return false;
    return sk_slice_eq(ev.package, sk_slice_cstr(sub->package)) &&
           sk_slice_eq(ev.id, sk_slice_cstr(sub->event_id));
}

int sk_ev_notify_build(struct sk_buf *out, struct sk_subscription *sub,
                       const struct sk_ev_notify *n)
{
    uint32_t cseq = sub->local_cseq + 1;

    sk_buf_reset(out);
    sk_msg_start_request(out, SK_SLICE_LIT("NOTIFY"), sk_slice_cstr(sub->remote_target));
    sk_buf_append_cstr(out, "Via: ");
    sk_buf_append_slice(out, n->via);
    sk_buf_append_cstr(out, ";branch=");
    sk_buf_append_slice(out, n->branch);
    sk_buf_append_cstr(out, "\r\nMax-Forwards: 70\r\n");
    /* §12.2.1.1: with a loose-routing route set, the Request-URI is the
     * remote target and the route set goes into Route as is. */
    if (sub->route_set[0] != '\0')
        sk_msg_add_header(out, "Route", sk_slice_cstr(sub->route_set));
    sk_msg_add_headerf(out, "From", "<%s>;tag=%s", sub->local_uri, sub->key);
    sk_msg_add_headerf(out, "To", "<%s>;tag=%s", sub->remote_uri, sub->remote_tag);
    sk_msg_add_header(out, "Call-ID", sk_slice_cstr(sub->call_id));
    sk_msg_add_headerf(out, "CSeq", "%u NOTIFY", (unsigned)cseq);
    if (sub->event_id[0] != '\0')
        sk_msg_add_headerf(out, "Event", "%s;id=%s", sub->package, sub->event_id);
    else
        sk_msg_add_header(out, "Event", sk_slice_cstr(sub->package));
    /* RFC 6665 §4.1.3 / §8.2.3: expires while active or pending, a reason
     * once terminated. */
    switch (n->state) {
    case SK_SUB_ACTIVE:
    case SK_SUB_PENDING:
        sk_msg_add_headerf(out, "Subscription-State", "%s;expires=%u",
                           n->state == SK_SUB_ACTIVE ? "active" : "pending", (unsigned)n->expires);
        break;
    case SK_SUB_TERMINATED:
        sk_msg_add_headerf(out, "Subscription-State", "terminated;reason=%s",
                           n->reason != NULL ? n->reason : "noresource");
        break;
    }
    sk_msg_add_headerf(out, "Contact", "<%.*s>", (int)n->contact.len, n->contact.p);
    sk_msg_finish(out, n->ctype, n->body);
    if (!sk_buf_ok(out))
        return SK_ENOMEM;
    sub->local_cseq = cseq;
    return 0;
}

int sk_ev_sub_next_hop(const struct sk_subscription *sub, struct sk_uri *out)
{
    if (sub->route_set[0] != '\0') {
        struct sk_slice cur = sk_slice_cstr(sub->route_set), first;
        struct sk_nameaddr na;

        if (sk_list_next(&cur, &first) != 1 || sk_nameaddr_parse(first, &na) != 0)
            return SK_EPARSE;
        *out = na.uri;
        return 0;
    }
    return sk_uri_parse(sk_slice_cstr(sub->remote_target), out) == 0 ? 0 : SK_EPARSE;
}
