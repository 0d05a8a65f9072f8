/*
 * The proxy's view of its users' calls, for the dialog event package (RFC
 * 4235): each INVITE it forwards, each response it passes up, each final
 * answer and each BYE it relays becomes a state change of a dialog, seen
 * once from the caller's side and once from the callee's, for whichever of
 * them is a user of our domain (sk__events_dialog_changed()).
 *
 * The callee's dialog is known by its To tag, which only a response
 * carries: its view starts at the first provisional with a tag (early, per
 * RFC 4235 §3.7.1 a recipient dialog need not be seen trying).
 *
 * Memory: everything is read from the messages during the call.
 */
#include "server/internal.h"
#include "server/proxy_int.h"

#include <stdio.h>
#include <string.h>

struct side {
    char aor[SK_LOC_AOR_MAX + 1];
    char local_tag[128];
    char remote_tag[128];
    char local_uri[512];
    char remote_uri[512];
};

static void copy_slice(char *dst, size_t dstsz, struct sk_slice s)
{
    sk_slice_to_cstr(s, dst, dstsz);
}

/* The AOR of u when it names a user of our domain. */
static bool our_aor(const struct sk_server *s, const struct sk_uri *u, char *out, size_t outsz)
{
    return sk__aor_key(u, out, outsz) == 0 && sk__is_our_domain(s, u->host);
}

static void emit(struct sk_server *s, const char *call_id, const struct side *v, bool initiator,
                 enum sk_dlg_state st, unsigned code, const char *event)
{
    struct sk_dlg_event e = {
        .aor = v->aor,
        .call_id = call_id,
        .local_tag = v->local_tag,
        .remote_tag = v->remote_tag,
        .initiator = initiator,
        .state = st,
        .code = code,
        .event = event,
        .local_uri = v->local_uri,
        .remote_uri = v->remote_uri,
        .now_ms = sk_now_ms(),
    };
    sk__events_dialog_changed(s, &e);
}

/* The callee of an INVITE: its Request-URI as it reached us, else To. */
static const struct sk_uri *callee_uri(const struct sk_msg *inv)
{
    return inv->ruri.user.len > 0 ? &inv->ruri : &inv->to.uri;
}

void sk__proxy_dialog_invite(struct sk_server *s, const struct sk_msg *inv,
                             const struct sk_msg *resp, unsigned code, enum sk_dlg_state st,
                             const char *event)
{
    char call_id[256];
    struct side v;
    struct sk_slice to_tag = resp != NULL ? resp->to.tag : SK_SLICE_NULL;

    if (inv->method_id != SK_METHOD_INVITE || inv->to.tag.len != 0)
        return; /* re-INVITEs change no dialog state */
    copy_slice(call_id, sizeof(call_id), inv->call_id);
    memset(&v, 0, sizeof(v));
    if (our_aor(s, &inv->from.uri, v.aor, sizeof(v.aor))) {
        copy_slice(v.local_tag, sizeof(v.local_tag), inv->from.tag);
        copy_slice(v.remote_tag, sizeof(v.remote_tag), to_tag);
        copy_slice(v.local_uri, sizeof(v.local_uri), inv->from.uri.raw);
        copy_slice(v.remote_uri, sizeof(v.remote_uri), callee_uri(inv)->raw);
        emit(s, call_id, &v, true, st, code, event);
    }
    memset(&v, 0, sizeof(v));
    if (to_tag.len > 0 && our_aor(s, callee_uri(inv), v.aor, sizeof(v.aor))) {
        copy_slice(v.local_tag, sizeof(v.local_tag), to_tag);
        copy_slice(v.remote_tag, sizeof(v.remote_tag), inv->from.tag);
        copy_slice(v.local_uri, sizeof(v.local_uri), callee_uri(inv)->raw);
        copy_slice(v.remote_uri, sizeof(v.remote_uri), inv->from.uri.raw);
        emit(s, call_id, &v, false, st, code, event);
    }
}

void sk__proxy_dialog_response(struct sk_server *s, const struct sk_msg *inv,
                               const struct sk_msg *resp, bool cancelled)
{
    unsigned code = resp->status;

    if (code < 200)
        sk__proxy_dialog_invite(s, inv, resp, code,
                                resp->to.tag.len > 0 ? SK_DLG_EARLY : SK_DLG_PROCEEDING, NULL);
    else if (code < 300)
        sk__proxy_dialog_invite(s, inv, resp, code, SK_DLG_CONFIRMED, NULL);
    else
        sk__proxy_dialog_invite(s, inv, resp, code, SK_DLG_TERMINATED,
                                cancelled || code == 487 ? "cancelled"
                                : code == 408            ? "timeout"
                                                         : "rejected");
}

/* A BYE ends the dialog for both sides: the sender's is a local-bye. */
void sk__proxy_dialog_bye(struct sk_server *s, const struct sk_msg *bye)
{
    char call_id[256];
    struct side v;

    if (bye->method_id != SK_METHOD_BYE)
        return;
    copy_slice(call_id, sizeof(call_id), bye->call_id);
    memset(&v, 0, sizeof(v));
    if (our_aor(s, &bye->from.uri, v.aor, sizeof(v.aor))) {
        copy_slice(v.local_tag, sizeof(v.local_tag), bye->from.tag);
        copy_slice(v.remote_tag, sizeof(v.remote_tag), bye->to.tag);
        emit(s, call_id, &v, false, SK_DLG_TERMINATED, 0, "local-bye");
    }
    memset(&v, 0, sizeof(v));
    if (our_aor(s, &bye->to.uri, v.aor, sizeof(v.aor))) {
        copy_slice(v.local_tag, sizeof(v.local_tag), bye->to.tag);
        copy_slice(v.remote_tag, sizeof(v.remote_tag), bye->from.tag);
        emit(s, call_id, &v, false, SK_DLG_TERMINATED, 0, "remote-bye");
    }
}
