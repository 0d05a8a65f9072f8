/*
 * What the proxy tells the "dialog" event package (RFC 4235): each INVITE
 * dialog of one of our users as the proxy sees it pass, from that user's
 * point of view. The caller is the From of an initial INVITE when it names
 * our domain, the callee the user of its Request-URI (before forwarding,
 * when it is ours); each gets its own event.
 *
 *   - INVITE forwarded: "trying" for both (§3.7.1). The callee's tag is not
 *     known yet; the tracker gives it to this dialog with the first
 *     response that carries one.
 *   - A branch response is the callee's view: 1xx "early" with a To tag,
 *     "proceeding" without one; 2xx "confirmed"; 3xx-6xx "terminated"
 *     (487 "cancelled", 408 "timeout", else "rejected"). CANCEL and Timer C
 *     end in such responses (the 487s, or the 408 the transaction layer
 *     makes up).
 *   - What goes upstream is the caller's view: a forwarded 1xx or 2xx, and
 *     the final non-2xx the fork chose.
 *   - A BYE we relay (Record-Route brings it through us) ends the dialog
 *     for both ends: "local-bye" for its sender, "remote-bye" for the
 *     other; only dialogs already tracked change.
 *
 * Memory: each event's strings are NUL-terminated copies in a struct
 * sk__dlg_view on the stack (some 3 KB); the events layer copies what it
 * keeps.
 */
#include "server/internal.h"
#include "server/proxy_int.h"

#include <string.h>

static int cstr(char *dst, size_t dstsz, struct sk_slice s)
{
    if (s.len >= dstsz)
        return SK_ETOOBIG;
    if (s.len > 0)
        memcpy(dst, s.p, s.len);
    dst[s.len] = '\0';
    return 0;
}

int sk__proxy_dialog_aor(const struct sk_server *s, const struct sk_uri *u, char *out, size_t outsz)
{
    struct sk_uri k = *u;

    if ((u->scheme != SK_URI_SIP && u->scheme != SK_URI_SIPS) || u->user.len == 0 ||
        !sk__is_our_host(s, u))
        return SK_ENOTFOUND;
    /* A URI naming us by address means the user of our domain, as the
     * routing does (§16.5). */
    k.host = sk_slice_cstr(s->cfg.domain);
    k.host_type = SK_HOST_NAME;
    return sk__aor_key(&k, out, outsz);
}

/* Fill v for the user that URI u names, seen from that user: local is its
 * own side (tag and URI), remote the peer's. Returns 0, SK_ENOTFOUND (not
 * our user) or SK_ETOOBIG. */
static int view_init(const struct sk_server *s, struct sk__dlg_view *v, const struct sk_uri *u,
                     const struct sk_msg *m, struct sk_slice local_tag, struct sk_slice remote_tag,
                     struct sk_slice local_uri, struct sk_slice remote_uri)
{
    int err = sk__proxy_dialog_aor(s, u, v->aor, sizeof(v->aor));

    if (err != 0)
        return err;
    if (cstr(v->call_id, sizeof(v->call_id), m->call_id) != 0 ||
        cstr(v->local_tag, sizeof(v->local_tag), local_tag) != 0 ||
        cstr(v->remote_tag, sizeof(v->remote_tag), remote_tag) != 0 ||
        cstr(v->local_uri, sizeof(v->local_uri), local_uri) != 0 ||
        cstr(v->remote_uri, sizeof(v->remote_uri), remote_uri) != 0)
        return SK_ETOOBIG;
    memset(&v->e, 0, sizeof(v->e));
    v->e.aor = v->aor;
    v->e.call_id = v->call_id;
    v->e.local_tag = v->local_tag;
    v->e.remote_tag = v->remote_tag;
    v->e.local_uri = v->local_uri;
    v->e.remote_uri = v->remote_uri;
    v->e.now_ms = sk_now_ms();
    return 0;
}

int sk__proxy_dialog_caller(const struct sk_server *s, const struct sk_msg *req,
                            const struct sk_msg *resp, struct sk__dlg_view *v)
{
    int err =
        view_init(s, v, &req->from.uri, req, req->from.tag,
                  resp != NULL ? resp->to.tag : SK_SLICE_NULL, req->from.uri.raw, req->to.uri.raw);

    if (err == 0)
        v->e.initiator = true;
    return err;
}

int sk__proxy_dialog_callee(const struct sk_server *s, const struct sk_msg *req,
                            const struct sk_msg *resp, struct sk__dlg_view *v)
{
    int err = view_init(s, v, &req->ruri, req, resp != NULL ? resp->to.tag : SK_SLICE_NULL,
                        req->from.tag, req->to.uri.raw, req->from.uri.raw);

    if (err == 0)
        v->e.initiator = false;
    return err;
}

void sk__proxy_dialog_state(unsigned status, bool to_tag, struct sk_dlg_event *e)
{
    e->code = status;
    e->event = NULL;
    if (status == 0) {
        e->state = SK_DLG_TRYING;
    } else if (status < 200) {
        /* §3.7.1: a provisional response with a To tag makes the dialog
         * early; without one the INVITE is only proceeding. */
        e->state = to_tag ? SK_DLG_EARLY : SK_DLG_PROCEEDING;
    } else if (status < 300) {
        e->state = SK_DLG_CONFIRMED;
    } else {
        e->state = SK_DLG_TERMINATED;
        e->event = status == 487 ? "cancelled" : status == 408 ? "timeout" : "rejected";
    }
}

/* ---- the proxy's hooks ----------------------------------------------------------- */

static bool initial_invite(const struct sk_msg *req)
{
    return req->method_id == SK_METHOD_INVITE && req->to.tag.len == 0;
}

static void emit(struct sk_server *s, const struct sk__dlg_view *v)
{
    if (s->events != NULL)
        sk__events_dialog_changed(s, &v->e);
}

/* §15.1: a BYE relayed through us ends the dialog at both ends. */
static void bye(struct sk_server *s, const struct sk_msg *req)
{
    struct sk__dlg_view v;

    if (req->from.tag.len == 0 || req->to.tag.len == 0)
        return;
    /* The sender's side: its tag is the From tag, the peer's the To tag. */
    if (view_init(s, &v, &req->from.uri, req, req->from.tag, req->to.tag, req->from.uri.raw,
                  req->to.uri.raw) == 0) {
        v.e.state = SK_DLG_TERMINATED;
        v.e.event = "local-bye";
        v.e.known_only = true;
        emit(s, &v);
    }
    if (view_init(s, &v, &req->to.uri, req, req->to.tag, req->from.tag, req->to.uri.raw,
                  req->from.uri.raw) == 0) {
        v.e.state = SK_DLG_TERMINATED;
        v.e.event = "remote-bye";
        v.e.known_only = true;
        emit(s, &v);
    }
}

void sk__proxy_dialog_request(struct sk_server *s, const struct sk_msg *req)
{
    struct sk__dlg_view v;

    if (req->method_id == SK_METHOD_BYE) {
        bye(s, req);
        return;
    }
    if (!initial_invite(req))
        return;
    if (sk__proxy_dialog_caller(s, req, NULL, &v) == 0) {
        sk__proxy_dialog_state(0, false, &v.e);
        emit(s, &v);
    }
    if (sk__proxy_dialog_callee(s, req, NULL, &v) == 0) {
        sk__proxy_dialog_state(0, false, &v.e);
        emit(s, &v);
    }
}

void sk__proxy_dialog_branch(struct sk_server *s, const struct sk_msg *req,
                             const struct sk_msg *resp)
{
    struct sk__dlg_view v;

    if (!initial_invite(req) || resp->status <= 100)
        return;
    if (sk__proxy_dialog_callee(s, req, resp, &v) != 0)
        return;
    sk__proxy_dialog_state(resp->status, resp->to.tag.len > 0, &v.e);
    emit(s, &v);
}

void sk__proxy_dialog_upstream(struct sk_server *s, const struct sk_msg *req, unsigned status,
                               const struct sk_msg *resp)
{
    struct sk__dlg_view v;

    if (!initial_invite(req) || status <= 100)
        return;
    if (sk__proxy_dialog_caller(s, req, resp, &v) == 0) {
        sk__proxy_dialog_state(status, resp != NULL && resp->to.tag.len > 0, &v.e);
        emit(s, &v);
    }
    /* A final answer made without any branch response (no branch could be
     * sent) leaves the callee's "trying" dialog to end here. */
    if (status >= 300 && sk__proxy_dialog_callee(s, req, NULL, &v) == 0) {
        sk__proxy_dialog_state(status, false, &v.e);
        v.e.known_only = true;
        emit(s, &v);
    }
}
