/*
 * Answering requests (the UAS side of RFC 3261 §8.2) and the SDP a call
 * offers or answers.
 *
 * §8.2.6: a response copies Via, From, Call-ID and CSeq, and To with a tag
 * we add (every response but 100 carries one, §8.2.6.2); §12.1.1: a 1xx /
 * 2xx that creates a dialog copies Record-Route and carries our Contact;
 * §11.2 and §20.5: OPTIONS and 405 list what we allow. §13.3.1.4: the UAS
 * core, not the transaction, resends a 2xx to an INVITE, after T1 and then
 * at intervals doubling up to T2, until the ACK comes; after 64*T1 it gives
 * up and tells the application, which should end the session with BYE.
 * RFC 4566 / RFC 3264:
 * a minimal audio session (G.711 and telephone-event); sipkit sends no
 * media, the SDP is there so that real phones and proxies accept the call.
 *
 * Memory: responses are built in a local buffer and copied by the
 * transaction layer (sk_txn_respond); a 2xx to an INVITE is also copied
 * into the UA's list of responses waiting for their ACK, freed when the
 * ACK comes, at the give-up or with the UA.
 */
#include "ua/ua_int.h"

#include <sipkit/codes.h>

#include <string.h>

#define ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, NOTIFY"

static void drop_2xx(struct sk_ua *ua, size_t i)
{
    sk_free(ua->ok[i].data);
    sk_free(ua->ok[i].call_id);
    ua->ok[i] = ua->ok[--ua->nok];
}

static uint32_t ua_t1(const struct sk_ua *ua)
{
    return sk_txn_table_settings(ua->txns)->t1_ms;
}

/* Remember a 2xx to an INVITE (a new one for the same INVITE replaces the
 * old: the last one sent is the one to repeat). A failed allocation only
 * loses the resending, as a lost datagram would. */
static void track_2xx(struct sk_ua *ua, struct sk_txn *txn, const struct sk_msg *req,
                      const struct sk_buf *resp)
{
    uint64_t now = ua->cfg.clock(ua->cfg.clock_arg);
    struct sk__ua_2xx e, *grown;

    for (size_t i = 0; i < ua->nok; i++) {
        if (ua->ok[i].cseq == req->cseq.num &&
            sk_slice_eq(req->call_id, sk_slice_cstr(ua->ok[i].call_id))) {
            drop_2xx(ua, i);
            break;
        }
    }
    memset(&e, 0, sizeof(e));
    e.data = sk_strndup(resp->p, resp->len);
    e.len = resp->len;
    e.call_id = sk__ua_strdup(req->call_id);
    grown = sk_realloc(ua->ok, (ua->nok + 1) * sizeof(*grown));
    if (e.data == NULL || e.call_id == NULL || grown == NULL) {
        sk_free(e.data);
        sk_free(e.call_id);
        if (grown != NULL)
            ua->ok = grown;
        return;
    }
    ua->ok = grown;
    e.peer = *sk_txn_peer(txn);
    e.cseq = req->cseq.num;
    e.interval_ms = ua_t1(ua);
    e.next_ms = now + e.interval_ms;
    e.end_ms = now + 64 * (uint64_t)ua_t1(ua);
    ua->ok[ua->nok++] = e;
}

void sk__uas_acked(struct sk_ua *ua, const struct sk_msg *ack)
{
    /* §13.3.1.4 / §17.1.1.3: the ACK for a 2xx has the INVITE's Call-ID
     * and CSeq number. */
    for (size_t i = 0; i < ua->nok; i++) {
        if (ua->ok[i].cseq == ack->cseq.num &&
            sk_slice_eq(ack->call_id, sk_slice_cstr(ua->ok[i].call_id))) {
            drop_2xx(ua, i);
            return;
        }
    }
}

void sk__uas_tick(struct sk_ua *ua, uint64_t now)
{
    uint32_t t2 = sk_txn_table_settings(ua->txns)->t2_ms;
    size_t i = 0;

    while (i < ua->nok) {
        struct sk__ua_2xx *e = &ua->ok[i];
        if (now >= e->end_ms) {
            /* Give up: the callback may respond again (and so change the
             * list), so it gets a copy of the Call-ID and the scan starts
             * over. */
            char call_id[256];
            uint32_t cseq = e->cseq;
            size_t n = strlen(e->call_id);
            n = n < sizeof(call_id) - 1 ? n : sizeof(call_id) - 1;
            memcpy(call_id, e->call_id, n);
            call_id[n] = '\0';
            drop_2xx(ua, i);
            if (ua->cfg.on_no_ack != NULL)
                ua->cfg.on_no_ack(ua->cfg.no_ack_arg, sk_slice_make(call_id, n), cseq);
            i = 0;
            continue;
        }
        if (now >= e->next_ms) {
            e->interval_ms = e->interval_ms * 2 < t2 ? e->interval_ms * 2 : t2;
            e->next_ms = now + e->interval_ms;
            sk__ua_send(ua, &e->peer, e->data, e->len); /* a failure is a lost datagram */
        }
        i++;
    }
}

uint64_t sk__uas_next_due(const struct sk_ua *ua)
{
    uint64_t due = UINT64_MAX;

    for (size_t i = 0; i < ua->nok; i++) {
        uint64_t d = ua->ok[i].next_ms < ua->ok[i].end_ms ? ua->ok[i].next_ms : ua->ok[i].end_ms;
        if (d < due)
            due = d;
    }
    return due;
}

void sk__uas_free(struct sk_ua *ua)
{
    while (ua->nok > 0)
        drop_2xx(ua, ua->nok - 1);
    sk_free(ua->ok);
    ua->ok = NULL;
}

size_t sk_ua_awaiting_ack(const struct sk_ua *ua)
{
    return ua->nok;
}

int sk_ua_respond(struct sk_ua *ua, struct sk_txn *txn, unsigned status,
                  const struct sk_ua_dialog *d, const char *headers, const char *ctype,
                  struct sk_slice body)
{
    const struct sk_msg *req = sk_txn_request(txn);
    struct sk_buf out;
    char tag[17] = "";
    int rc;

    struct sk_slice to_tag = SK_SLICE_NULL;

    if (d != NULL) {
        to_tag = sk_slice_cstr(d->local_tag);
    } else if (status > 100) {
        sk_ua_token(tag);
        to_tag = sk_slice_cstr(tag);
    }
    sk_buf_init(&out);
    sk_msg_start_response(&out, req, status, sk_slice_cstr(sk_code_phrase(status)), to_tag);
    if (d != NULL && status > 100 && status < 300) {
        for (size_t i = 0; i < req->nhdrs; i++) {
            if (req->hdrs[i].id == SK_HDR_RECORD_ROUTE)
                sk_buf_append_slice(&out, req->hdrs[i].raw);
        }
        sk_msg_add_headerf(&out, "Contact", "<%s>", ua->contact);
    }
    if (req->method_id == SK_METHOD_OPTIONS || status == 405) {
        sk_msg_add_header(&out, "Allow", SK_SLICE_LIT(ALLOW));
        if (req->method_id == SK_METHOD_OPTIONS) {
            sk_msg_add_header(&out, "Accept", SK_SLICE_LIT("application/sdp, text/plain"));
            sk_msg_add_header(&out, "Supported", SK_SLICE_NULL);
        }
    }
    sk_msg_add_header(&out, "Server", sk_slice_cstr(ua->user_agent));
    if (headers != NULL)
        sk_buf_append_cstr(&out, headers);
    sk_msg_finish(&out, sk_slice_cstr(ctype != NULL ? ctype : ""), body);
    rc = sk_buf_ok(&out) ? sk_txn_respond(txn, out.p, out.len) : SK_ENOMEM;
    if (rc == 0 && req->method_id == SK_METHOD_INVITE && status >= 200 && status < 300)
        track_2xx(ua, txn, req, &out);
    sk_buf_free(&out);
    return rc;
}

int sk_ua_sdp(struct sk_buf *out, const char *local_ip, uint16_t port, uint64_t session_id)
{
    const char *fam = strchr(local_ip, ':') != NULL ? "IP6" : "IP4";

    /* RFC 4566 §5: v, o, s, c, t, m in this order; RFC 3264 §5: the
     * session version starts anywhere and grows with each new offer. */
    sk_buf_printf(out, "v=0\r\no=sipkit %llu %llu IN %s %s\r\ns=sipkit\r\n",
                  (unsigned long long)session_id, (unsigned long long)session_id, fam, local_ip);
    sk_buf_printf(out, "c=IN %s %s\r\nt=0 0\r\n", fam, local_ip);
    sk_buf_printf(out, "m=audio %u RTP/AVP 0 8 101\r\n", (unsigned)port);
    sk_buf_append_cstr(out, "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
                            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
                            "a=sendrecv\r\n");
    return sk_buf_ok(out) ? 0 : SK_ENOMEM;
}
