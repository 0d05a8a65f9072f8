/*
 * Messages the transaction layer writes itself: the ACK for a non-2xx final
 * response (RFC 3261 §17.1.1.3), CANCEL (§9.1), 100 Trying and the local
 * 408 / 503 responses (§8.2.6, §8.1.3.1), and branch values (§8.1.1.7).
 *
 * Memory: everything is written into a caller-owned struct sk_buf; the
 * source messages are only read.
 */
#include "txn_int.h"

#include <string.h>
#include <sys/random.h>

#define MAGIC "z9hG4bK"

bool sk__branch_is_3261(struct sk_slice branch)
{
    return branch.len > sizeof(MAGIC) - 1 && memcmp(branch.p, MAGIC, sizeof(MAGIC) - 1) == 0;
}

unsigned sk__response_status(const char *data, size_t len)
{
    static const char prefix[] = "SIP/2.0 ";
    const size_t plen = sizeof(prefix) - 1;
    unsigned status = 0;

    /* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2). */
    if (len < plen + 4 || memcmp(data, prefix, plen) != 0 || data[plen + 3] != ' ')
        return 0;
    for (size_t i = plen; i < plen + 3; i++) {
        if (data[i] < '0' || data[i] > '9')
            return 0;
        status = status * 10 + (unsigned)(data[i] - '0');
    }
    return status >= 100 && status <= 699 ? status : 0;
}

static void add_value(struct sk_buf *out, const struct sk_msg *m, enum sk_hdr_id id)
{
    const struct sk_hdr *h = sk_msg_find(m, id);

    if (h != NULL)
        sk_msg_add_header(out, sk_hdr_name(id), h->value);
}

/* Route header fields, byte for byte and in order. */
static void add_routes(struct sk_buf *out, const struct sk_msg *m)
{
    for (size_t i = 0; i < m->nhdrs; i++) {
        if (m->hdrs[i].id == SK_HDR_ROUTE)
            sk_buf_append_slice(out, m->hdrs[i].raw);
    }
}

/* Start line, the single Via, Route, Max-Forwards, From and Call-ID shared
 * by the ACK and the CANCEL. */
static void start_hop_request(struct sk_buf *out, const struct sk_msg *req, const char *method)
{
    sk_msg_start_request(out, sk_slice_cstr(method), req->ruri_raw);
    sk_msg_add_header(out, "Via", req->via.raw);
    add_routes(out, req);
    sk_msg_add_header(out, "Max-Forwards", SK_SLICE_LIT("70"));
    add_value(out, req, SK_HDR_FROM);
    add_value(out, req, SK_HDR_CALL_ID);
}

int sk__build_ack(const struct sk_msg *req, const struct sk_msg *resp, struct sk_buf *out)
{
    /* §17.1.1.3: Request-URI, Call-ID, From and the CSeq number of the
     * INVITE; To of the response (it carries the UAS's tag); one Via, equal
     * to the INVITE's top Via; the INVITE's Route header fields. */
    sk_buf_reset(out);
    start_hop_request(out, req, "ACK");
    add_value(out, resp, SK_HDR_TO);
    sk_msg_add_headerf(out, "CSeq", "%lu ACK", (unsigned long)req->cseq.num);
    sk_msg_finish(out, SK_SLICE_NULL, SK_SLICE_NULL);
    return sk_buf_ok(out) ? 0 : SK_ENOMEM;
}

int sk_txn_build_cancel(const struct sk_msg *req, struct sk_buf *out)
{
    if (req == NULL || !req->is_request || req->via.raw.len == 0)
        return SK_EINVAL;
    /* §9.1: same Request-URI, Call-ID, To, From and CSeq number, method
     * CANCEL; a single Via equal to the request's top Via (so the CANCEL
     * shares its branch and follows it hop by hop); its Route headers. */
    sk_buf_reset(out);
    start_hop_request(out, req, "CANCEL");
    add_value(out, req, SK_HDR_TO);
    sk_msg_add_headerf(out, "CSeq", "%lu CANCEL", (unsigned long)req->cseq.num);
    sk_msg_finish(out, SK_SLICE_NULL, SK_SLICE_NULL);
    return sk_buf_ok(out) ? 0 : SK_ENOMEM;
}

int sk__build_response(const struct sk_msg *req, unsigned status, const char *reason,
                       struct sk_slice to_tag, struct sk_buf *out)
{
    sk_buf_reset(out);
    sk_msg_start_response(out, req, status, sk_slice_cstr(reason), to_tag);
    /* §8.2.6.1: a 100 (Trying) copies the request's Timestamp. */
    if (status == 100)
        add_value(out, req, SK_HDR_TIMESTAMP);
    sk_msg_finish(out, SK_SLICE_NULL, SK_SLICE_NULL);
    return sk_buf_ok(out) ? 0 : SK_ENOMEM;
}

void sk_txn_make_branch(char out[SK_TXN_BRANCH_LEN + 1])
{
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.";
    static atomic_uint_fast64_t counter;
    const size_t nrand = SK_TXN_BRANCH_LEN - (sizeof(MAGIC) - 1);
    unsigned char rnd[SK_TXN_BRANCH_LEN];
    size_t got = 0;

    while (got < nrand) {
        ssize_t n = getrandom(rnd + got, nrand - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < nrand) {
        /* No entropy source: still unique within this process (§8.1.1.7
         * asks for uniqueness across space and time, not secrecy). */
        uint64_t x = atomic_fetch_add(&counter, 1) ^ (sk_now_ms() << 20);
        for (size_t i = 0; i < nrand; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            rnd[i] = (unsigned char)(x >> 56);
        }
    }
    memcpy(out, MAGIC, sizeof(MAGIC) - 1);
    for (size_t i = 0; i < nrand; i++)
        out[sizeof(MAGIC) - 1 + i] = alphabet[rnd[i] & 63];
    out[SK_TXN_BRANCH_LEN] = '\0';
}
