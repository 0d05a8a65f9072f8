/*
 * Dialogs (RFC 3261 §12) and the ACK for a 2xx (§13.2.2.4).
 *
 * A dialog is identified by Call-ID, local tag and remote tag (§12). The
 * UAC builds it from a 2xx to its INVITE or SUBSCRIBE (§12.1.2): the route
 * set is the response's Record-Route in reverse order, the remote target
 * its Contact. The UAS builds it from the request (§12.1.1): Record-Route
 * in order, the request's Contact. Requests in the dialog (§12.2.1.1) go to
 * the remote target with the route set as Route headers; we support loose
 * routers (";lr", RFC 3261 §16.12) and send to the first Route entry, or to
 * the remote target when the route set is empty. An outbound proxy, when
 * configured, gets every request.
 *
 * Memory: struct sk_ua_dialog owns heap copies of every string it keeps.
 */
#include "ua/ua_int.h"

#include <stdio.h>
#include <string.h>

static int add_route(struct sk_ua_dialog *d, struct sk_slice value, bool prepend)
{
    char **grown = sk_realloc(d->routes, (d->nroutes + 1) * sizeof(*grown));
    char *copy;

    if (grown == NULL)
        return SK_ENOMEM;
    d->routes = grown;
    copy = sk__ua_strdup(value);
    if (copy == NULL)
        return SK_ENOMEM;
    if (prepend) {
        memmove(d->routes + 1, d->routes, d->nroutes * sizeof(*d->routes));
        d->routes[0] = copy;
    } else {
        d->routes[d->nroutes] = copy;
    }
    d->nroutes++;
    return 0;
}

/* Record-Route values, each one an entry of the route set (§12.1.1: in
 * order for the UAS; §12.1.2: reversed for the UAC). */
static int take_routes(struct sk_ua_dialog *d, const struct sk_msg *m, bool reverse)
{
    struct sk_hdr_iter it;
    struct sk_nameaddr na;
    int rc;

    sk_hdr_iter_init(&it, m, SK_HDR_RECORD_ROUTE);
    while ((rc = sk_msg_nameaddr_next(&it, &na)) == 1) {
        rc = add_route(d, na.raw, reverse);
        if (rc != 0)
            return rc;
    }
    return rc;
}

/* The first Contact URI of m as the remote target (§12.1.1, §12.1.2). */
static int take_target(struct sk_ua_dialog *d, const struct sk_msg *m)
{
    struct sk_hdr_iter it;
    struct sk_contact c;

    sk_hdr_iter_init(&it, m, SK_HDR_CONTACT);
    if (sk_msg_contact_next(&it, &c) != 1 || c.star)
        return SK_EPARSE;
    char *t = sk__ua_strdup(c.addr.uri.raw);
    if (t == NULL)
        return SK_ENOMEM;
    sk_free(d->remote_target);
    d->remote_target = t;
    return 0;
}

/* "<uri>" (with the display name when there is one) without the tag. */
static char *addr_of(const struct sk_nameaddr *na)
{
    struct sk_buf b;
    char *s;

    sk_buf_init(&b);
    if (na->display.len > 0) {
        sk_buf_append_cstr(&b, "\"");
        sk_buf_append_slice(&b, na->display);
        sk_buf_append_cstr(&b, "\" ");
    }
    sk_buf_append_cstr(&b, "<");
    sk_buf_append_slice(&b, na->uri.raw);
    sk_buf_append_cstr(&b, ">");
    s = sk_buf_ok(&b) ? sk__ua_strdup(sk_buf_slice(&b)) : NULL;
    sk_buf_free(&b);
    return s;
}

int sk_ua_dialog_from_response(struct sk_ua_req *req, const struct sk_msg *resp,
                               struct sk_ua_dialog **out)
{
    struct sk_ua_dialog *d;
    int rc = SK_ENOMEM;

    if (resp->to.tag.len == 0 || resp->is_request)
        return SK_EINVAL;
    d = sk_calloc(1, sizeof(*d));
    if (d == NULL)
        return SK_ENOMEM;
    d->ua = req->ua;
    d->call_id = sk__ua_strdup(req->sent.call_id);
    d->local_tag = sk__ua_strdup(req->sent.from.tag);
    d->remote_tag = sk__ua_strdup(resp->to.tag);
    d->local_uri = addr_of(&req->sent.from);
    d->remote_uri = addr_of(&req->sent.to);
    d->local_cseq = req->cseq;
    if (d->call_id != NULL && d->local_tag != NULL && d->remote_tag != NULL &&
        d->local_uri != NULL && d->remote_uri != NULL) {
        rc = take_target(d, resp);
        if (rc == 0)
            rc = take_routes(d, resp, true);
    }
    if (rc != 0) {
        sk_ua_dialog_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

int sk_ua_dialog_from_request(struct sk_ua *ua, const struct sk_msg *req, struct sk_ua_dialog **out)
{
    struct sk_ua_dialog *d;
    char tag[17];
    int rc = SK_ENOMEM;

    if (!req->is_request || req->from.tag.len == 0)
        return SK_EINVAL;
    d = sk_calloc(1, sizeof(*d));
    if (d == NULL)
        return SK_ENOMEM;
    d->ua = ua;
    if (req->to.tag.len > 0) {
        d->local_tag = sk__ua_strdup(req->to.tag);
    } else {
        sk_ua_token(tag);
        d->local_tag = sk__ua_strdup(sk_slice_cstr(tag));
    }
    d->call_id = sk__ua_strdup(req->call_id);
    d->remote_tag = sk__ua_strdup(req->from.tag);
    d->local_uri = addr_of(&req->to);
    d->remote_uri = addr_of(&req->from);
    d->remote_cseq = req->cseq.num;
    d->remote_cseq_set = true;
    if (d->call_id != NULL && d->local_tag != NULL && d->remote_tag != NULL &&
        d->local_uri != NULL && d->remote_uri != NULL) {
        rc = take_target(d, req);
        if (rc == 0)
            rc = take_routes(d, req, false);
    }
    if (rc != 0) {
        sk_ua_dialog_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

void sk_ua_dialog_free(struct sk_ua_dialog *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nroutes; i++)
        sk_free(d->routes[i]);
    sk_free(d->routes);
    sk_free(d->call_id);
    sk_free(d->local_tag);
    sk_free(d->remote_tag);
    sk_free(d->local_uri);
    sk_free(d->remote_uri);
    sk_free(d->remote_target);
    sk_free(d);
}

bool sk_ua_dialog_match(const struct sk_ua_dialog *d, const struct sk_msg *msg)
{
    /* §12.2.2: Call-ID, the To tag is ours, the From tag theirs. */
    return msg->is_request && sk_slice_eq(msg->call_id, sk_slice_cstr(d->call_id)) &&
           sk_slice_eq(msg->to.tag, sk_slice_cstr(d->local_tag)) &&
           sk_slice_eq(msg->from.tag, sk_slice_cstr(d->remote_tag));
}

bool sk_ua_dialog_accept_cseq(struct sk_ua_dialog *d, const struct sk_msg *req)
{
    if (d->remote_cseq_set && req->cseq.num < d->remote_cseq)
        return false;
    d->remote_cseq = req->cseq.num;
    d->remote_cseq_set = true;
    return true;
}

void sk_ua_dialog_refresh_target(struct sk_ua_dialog *d, const struct sk_msg *msg)
{
    take_target(d, msg); /* keep the old target when there is no usable Contact */
}

void sk_ua_dialog_set_local_cseq(struct sk_ua_dialog *d, uint32_t cseq)
{
    d->local_cseq = cseq;
}

const char *sk_ua_dialog_local_tag(const struct sk_ua_dialog *d)
{
    return d->local_tag;
}

const char *sk_ua_dialog_remote_tag(const struct sk_ua_dialog *d)
{
    return d->remote_tag;
}

const char *sk_ua_dialog_remote_target(const struct sk_ua_dialog *d)
{
    return d->remote_target;
}

const char *sk_ua_dialog_call_id(const struct sk_ua_dialog *d)
{
    return d->call_id;
}

size_t sk_ua_dialog_route_count(const struct sk_ua_dialog *d)
{
    return d->nroutes;
}

int sk__dialog_next_hop(const struct sk_ua_dialog *d, struct sk_addr *out)
{
    struct sk_nameaddr na;

    if (d->ua->proxy.sslen != 0) {
        *out = d->ua->proxy;
        return 0;
    }
    if (d->nroutes > 0) {
        if (sk_nameaddr_parse(sk_slice_cstr(d->routes[0]), &na) != 0)
            return SK_EINVAL;
        return sk_ua_resolve(d->ua, na.uri.host,
                             na.uri.has_port ? na.uri.port : sk__ua_default_port(d->ua), out);
    }
    return sk_ua_target(d->ua, sk_slice_cstr(d->remote_target), out);
}

void sk__dialog_headers(const struct sk_ua_dialog *d, struct sk_buf *out, const char *method,
                        uint32_t cseq)
{
    for (size_t i = 0; i < d->nroutes; i++)
        sk_msg_add_header(out, "Route", sk_slice_cstr(d->routes[i]));
    sk_msg_add_headerf(out, "From", "%s;tag=%s", d->local_uri, d->local_tag);
    sk_msg_add_headerf(out, "To", "%s;tag=%s", d->remote_uri, d->remote_tag);
    sk_msg_add_header(out, "Call-ID", sk_slice_cstr(d->call_id));
    sk_msg_add_headerf(out, "CSeq", "%lu %s", (unsigned long)cseq, method);
}

int sk_ua_ack(struct sk_ua_dialog *d, uint32_t cseq)
{
    char branch[SK_TXN_BRANCH_LEN + 1];
    struct sk_addr dst;
    struct sk_buf out;
    int rc;

    rc = sk__dialog_next_hop(d, &dst);
    if (rc != 0)
        return rc;
    rc = sk__ua_prepare_local(d->ua, &dst);
    if (rc != 0)
        return rc;
    /* §13.2.2.4: CSeq number of the INVITE, method ACK; a new branch (it is
     * a transaction of its own, §17.1.1.3); the dialog's route set. */
    sk_txn_make_branch(branch);
    sk_buf_init(&out);
    sk_msg_start_request(&out, SK_SLICE_LIT("ACK"), sk_slice_cstr(d->remote_target));
    sk__ua_via(d->ua, &out, branch);
    sk_msg_add_header(&out, "Max-Forwards", SK_SLICE_LIT("70"));
    sk__dialog_headers(d, &out, "ACK", cseq);
    sk_msg_add_header(&out, "User-Agent", sk_slice_cstr(d->ua->user_agent));
    sk_msg_finish(&out, SK_SLICE_NULL, SK_SLICE_NULL);
    rc = sk_buf_ok(&out) ? sk__ua_send(d->ua, &dst, out.p, out.len) : SK_ENOMEM;
    sk_buf_free(&out);
    return rc;
}
