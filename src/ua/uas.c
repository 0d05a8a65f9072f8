/*
 * Answering requests (the UAS side of RFC 3261 §8.2) and the SDP a call
 * offers or answers.
 *
 * §8.2.6: a response copies Via, From, Call-ID and CSeq, and To with a tag
 * we add (every response but 100 carries one, §8.2.6.2); §12.1.1: a 1xx /
 * 2xx that creates a dialog copies Record-Route and carries our Contact;
 * §11.2 and §20.5: OPTIONS and 405 list what we allow. RFC 4566 / RFC 3264:
 * a minimal audio session (G.711 and telephone-event); sipkit sends no
 * media, the SDP is there so that real phones and proxies accept the call.
 *
 * Memory: responses are built in a local buffer and copied by the
 * transaction layer (sk_txn_respond).
 */
#include "ua/ua_int.h"

#include <sipkit/codes.h>

#include <string.h>

#define ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, NOTIFY"

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
