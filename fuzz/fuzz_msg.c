/*
 * libFuzzer target for the message parser. Every input is parsed as a
 * datagram and as a stream frame; a parsed message is then checked in
 * full, walked through every typed iterator, written back (parse, print,
 * parse must agree) and answered (a response built for any respondable
 * request must itself parse).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/msg.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_lists(const struct sk_msg *m)
{
    struct sk_hdr_iter it;
    struct sk_via via;
    struct sk_contact c;
    struct sk_nameaddr na;
    struct sk_slice tok;
    struct sk_event ev;
    struct sk_substate ss;
    struct sk_ctype ct;
    uint64_t n;

    sk_hdr_iter_init(&it, m, SK_HDR_VIA);
    while (sk_msg_via_next(&it, &via) == 1)
        ;
    sk_hdr_iter_init(&it, m, SK_HDR_CONTACT);
    while (sk_msg_contact_next(&it, &c) == 1)
        ;
    sk_hdr_iter_init(&it, m, SK_HDR_RECORD_ROUTE);
    while (sk_msg_nameaddr_next(&it, &na) == 1)
        ;
    sk_hdr_iter_init(&it, m, SK_HDR_SUPPORTED);
    while (sk_msg_token_next(&it, &tok) == 1)
        ;
    (void)sk_msg_event(m, &ev);
    (void)sk_msg_substate(m, &ss);
    (void)sk_msg_ctype(m, &ct);
    (void)sk_msg_get_uint(m, SK_HDR_EXPIRES, UINT32_MAX, &n);
}

static void must_reparse(const struct sk_msg *m)
{
    struct sk_buf out;
    struct sk_msg again;

    sk_buf_init(&out);
    sk_msg_init(&again);
    if (sk_msg_write(m, &out) != 0)
        abort();
    if (out.len != m->raw.len || memcmp(out.p, m->raw.p, out.len) != 0)
        abort(); /* an unedited message is written byte for byte */
    /* Through the editor with no change: parses again to the same thing. */
    struct sk_msg_edit e;
    sk_buf_reset(&out);
    sk_msg_edit_init(&e, m);
    if (sk_msg_edit_write(&e, &out) != 0)
        abort();
    if (sk_msg_parse(&again, out.p, out.len, SK_MSG_DATAGRAM, NULL) != 0 ||
        again.nhdrs != m->nhdrs || again.body.len != m->body.len ||
        again.is_request != m->is_request || again.cseq.num != m->cseq.num)
        abort();
    sk_buf_free(&out);
    sk_msg_free(&again);
}

static void must_answer(struct sk_msg *m)
{
    struct sk_buf out;
    struct sk_msg resp;

    if (!m->is_request || !m->respondable)
        return;
    sk_buf_init(&out);
    sk_msg_init(&resp);
    sk_msg_set_source(m, SK_SLICE_LIT("192.0.2.1"), 5060);
    sk_msg_start_response(&out, m, 400, SK_SLICE_LIT("Bad Request"), SK_SLICE_LIT("f00"));
    sk_msg_finish(&out, SK_SLICE_NULL, SK_SLICE_NULL);
    if (!sk_buf_ok(&out))
        abort();
    /* An invalid request (a malformed CSeq among them) is answered with its
     * headers echoed as received (§8.2.6.2), so that answer need not parse;
     * it must still be a 400 we built. A valid request's answer must. */
    if (sk_msg_parse(&resp, out.p, out.len, SK_MSG_STREAM, NULL) != 0) {
        if (m->cause == SK_CAUSE_NONE || out.len < 12 || memcmp(out.p, "SIP/2.0 400 ", 12) != 0)
            abort();
        sk_buf_free(&out);
        sk_msg_free(&resp);
        return;
    }
    if (resp.status != 400 || !sk_slice_eq(resp.call_id, m->call_id) ||
        resp.cseq.num != m->cseq.num)
        abort();
    sk_buf_free(&out);
    sk_msg_free(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct sk_msg m;
    size_t skip, len;
    char why[128];

    sk_msg_init(&m);
    int r = sk_msg_parse(&m, buf, size, SK_MSG_DATAGRAM, NULL);
    if (r == 0) {
        walk_lists(&m);
        must_reparse(&m);
        must_answer(&m);
        (void)sk_msg_check(&m);
    } else {
        (void)sk_msg_error(&m, why, sizeof(why));
        must_answer(&m);
    }
    if (sk_msg_frame(buf, size, NULL, &skip, &len) == 0) {
        if (skip + len > size)
            abort();
        if (sk_msg_parse(&m, buf + skip, len, SK_MSG_STREAM, NULL) == 0)
            walk_lists(&m);
    }
    sk_msg_free(&m);
    return 0;
}
