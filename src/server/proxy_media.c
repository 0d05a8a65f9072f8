/*
 * The proxy's side of the media relay (media.c): which messages of a call
 * go to rtpengine, and the SDP they carry on.
 *
 *   - A dialog-creating INVITE decides for the whole call, by
 *     media.engage: when relayed, our Record-Route gets ";skm", so every
 *     later request of the dialog knows without state of ours.
 *   - An INVITE or UPDATE with SDP is an offer (RFC 3264 §4); the SDP of
 *     a reliable or provisional answer (183, 2xx) to an INVITE that had
 *     one is the answer; when the INVITE had none, the 2xx (or 183) makes
 *     the offer and the ACK carries the answer (RFC 3261 §13.2.1).
 *   - BYE, and a final failure of the INVITE that set up the call (which
 *     covers CANCEL: the caller then gets 487), delete the call.
 *
 * When rtpengine cannot be reached the message goes on with its SDP
 * untouched: the call is set up, and media flows wherever the parties'
 * own addresses allow (as without relay); the failure is logged.
 *
 * Nothing here waits for rtpengine: a message whose SDP goes to it is
 * held (a copy of its bytes, sk__proxy_media_hold) and its forwarding
 * resumes in the callback, on the media client thread (media.c), so a
 * slow or dead rtpengine holds up that call only, never a worker's loop.
 *
 * Memory: held copies belong to the caller's job until released;
 * rewritten messages go into the caller's buffers.
 */
#include "server/internal.h"
#include "server/media.h"
#include "server/proxy_int.h"

#include <string.h>

bool sk__proxy_media_dialog(const struct sk_server *s, const struct sk_msg *m,
                            const struct sk__route_pre *pre)
{
    const struct sk_uri *ours = sk__proxy_last_self(pre, m);
    struct sk_slice v;

    return s->media != NULL && ours != NULL && sk_uri_param(ours, SK__MEDIA_RR_PARAM, &v);
}

int sk__proxy_media_request(struct sk_server *s, const struct sk_msg *req, bool relayed,
                            sk__media_sdp_cb cb, void *arg)
{
    int err;

    if (!relayed)
        return 0;
    if (req->method_id == SK_METHOD_BYE) {
        sk__media_delete(s->media, req);
        return 0;
    }
    if ((req->method_id != SK_METHOD_INVITE && req->method_id != SK_METHOD_UPDATE) ||
        !sk__media_has_sdp(req))
        return 0;
    err = sk__media_sdp_async(s->media, "offer", req, false, cb, arg);
    if (err != 0) {
        SK_LOG(SK_LOG_WARN, "media", "event=offer_failed error=\"%s\"", sk_strerror(err));
        return 0;
    }
    return 1;
}

int sk__proxy_media_with_body(const struct sk_msg *m, struct sk_slice sdp, struct sk_buf *raw,
                              struct sk_msg *copy)
{
    struct sk_msg_edit e;
    int err;

    sk_msg_edit_init(&e, m);
    sk_msg_edit_set_body(&e, sdp);
    err = sk_msg_edit_write(&e, raw);
    if (err != 0)
        return err;
    err = sk_msg_parse(copy, raw->p, raw->len, SK_MSG_DATAGRAM, NULL);
    if (err == 0)
        sk_msg_set_source(copy, m->src_ip, m->src_port);
    return err;
}

int sk__proxy_media_response(struct sk_server *s, const struct sk_msg *resp, bool offered,
                             sk__media_sdp_cb cb, void *arg)
{
    int err;

    if (resp->cseq.method_id != SK_METHOD_INVITE && resp->cseq.method_id != SK_METHOD_UPDATE)
        return 0;
    if ((resp->status != 183 && resp->status / 100 != 2) || !sk__media_has_sdp(resp))
        return 0;
    /* An offer in the response: its offerer is the callee, the To party. */
    err = sk__media_sdp_async(s->media, offered ? "answer" : "offer", resp, !offered, cb, arg);
    if (err != 0) {
        SK_LOG(SK_LOG_WARN, "media", "event=%s_failed status=%u error=\"%s\"",
               offered ? "answer" : "offer", resp->status, sk_strerror(err));
        return 0;
    }
    return 1;
}

void sk__proxy_media_failed(struct sk_server *s, const struct sk_msg *req, unsigned status)
{
    /* Only the INVITE that set the call up ends it: a refused re-INVITE
     * leaves the session as it was (RFC 3261 §14.1). */
    if (status >= 300 && req->method_id == SK_METHOD_INVITE && req->to.tag.len == 0)
        sk__media_delete(s->media, req);
}

int sk__proxy_media_ack(struct sk_server *s, const struct sk_msg *ack, sk__media_sdp_cb cb,
                        void *arg)
{
    int err;

    if (!sk__media_has_sdp(ack))
        return 0;
    /* The answer to the callee's offer in its 2xx (RFC 3261 §13.2.1). */
    err = sk__media_sdp_async(s->media, "answer", ack, true, cb, arg);
    if (err != 0) {
        SK_LOG(SK_LOG_WARN, "media", "event=answer_failed method=ACK error=\"%s\"",
               sk_strerror(err));
        return 0;
    }
    return 1;
}

/* ---- a message waiting for rtpengine ------------------------------------------ */

int sk__proxy_media_hold(struct sk__media_held *h, const struct sk_msg *m)
{
    size_t iplen = m->src_ip.len < sizeof(h->src_ip) - 1 ? m->src_ip.len : sizeof(h->src_ip) - 1;

    h->raw = sk_malloc(m->raw.len);
    if (h->raw == NULL)
        return SK_ENOMEM;
    memcpy(h->raw, m->raw.p, m->raw.len);
    h->len = m->raw.len;
    memcpy(h->src_ip, m->src_ip.p, iplen);
    h->src_ip[iplen] = '\0';
    h->src_port = m->src_port;
    return 0;
}

int sk__proxy_media_reparse(const struct sk__media_held *h, struct sk_msg *m)
{
    int rc = sk_msg_parse(m, h->raw, h->len, SK_MSG_DATAGRAM, NULL);

    if (rc == 0)
        sk_msg_set_source(m, sk_slice_cstr(h->src_ip), h->src_port);
    return rc;
}

int sk__proxy_media_resume(const struct sk__media_held *h, int err, struct sk_slice sdp,
                           struct sk_msg *m, struct sk_buf *raw, struct sk_msg *copy,
                           const struct sk_msg **out)
{
    int rc = sk__proxy_media_reparse(h, m);

    if (rc != 0)
        return rc;
    *out = m;
    if (err != 0) {
        /* The message goes on with its own SDP (docs/nat.md). */
        SK_LOG(SK_LOG_WARN, "media", "event=sdp_not_relayed error=\"%s\"", sk_strerror(err));
        return 0;
    }
    if (sk__proxy_media_with_body(m, sdp, raw, copy) == 0)
        *out = copy;
    return 0;
}

void sk__proxy_media_release(struct sk__media_held *h)
{
    sk_free(h->raw);
    h->raw = NULL;
}
