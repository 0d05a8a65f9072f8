/*
 * Building messages: requests, responses to a parsed request (RFC 3261
 * §8.2.6), header lines, and the top Via as passed on with received and
 * rport (§18.2.1, RFC 3581 §4).
 *
 * Memory: everything is appended to a caller-owned struct sk_buf; a
 * failed allocation marks the buffer (check sk_buf_ok() at the end).
 */
#include <sipkit/msg.h>

#include <string.h>

void sk_msg_start_request(struct sk_buf *out, struct sk_slice method, struct sk_slice ruri)
{
    sk_buf_append_slice(out, method);
    sk_buf_append(out, " ", 1);
    sk_buf_append_slice(out, ruri);
    sk_buf_append_cstr(out, " SIP/2.0\r\n");
}

void sk_msg_add_header(struct sk_buf *out, const char *name, struct sk_slice value)
{
    sk_buf_append_cstr(out, name);
    sk_buf_append(out, ": ", 2);
    sk_buf_append_slice(out, value);
    sk_buf_append(out, "\r\n", 2);
}

void sk_msg_add_headerf(struct sk_buf *out, const char *name, const char *fmt, ...)
{
    va_list ap;

    sk_buf_append_cstr(out, name);
    sk_buf_append(out, ": ", 2);
    va_start(ap, fmt);
    sk_buf_vprintf(out, fmt, ap);
    va_end(ap);
    sk_buf_append(out, "\r\n", 2);
}

void sk_msg_finish(struct sk_buf *out, struct sk_slice ctype, struct sk_slice body)
{
    if (ctype.len > 0)
        sk_msg_add_header(out, "Content-Type", ctype);
    sk_buf_append_cstr(out, "Content-Length: ");
    sk_buf_append_u64(out, body.len);
    sk_buf_append(out, "\r\n\r\n", 4);
    sk_buf_append_slice(out, body);
}

/* Where the first Via value ends inside the first Via header's value. */
static struct sk_slice top_via_rest(const struct sk_msg *m)
{
    const struct sk_hdr *h = sk_msg_find(m, SK_HDR_VIA);
    struct sk_slice rest = SK_SLICE_NULL;

    if (h != NULL && m->via.raw.p != NULL) {
        const char *end = h->value.p + h->value.len;
        const char *after = m->via.raw.p + m->via.raw.len;
        rest = sk_slice_make(after, (size_t)(end - after));
    }
    return rest;
}

void sk_msg_write_top_via(const struct sk_msg *m, struct sk_buf *out)
{
    const struct sk_via *v = &m->via;
    bool add_received;

    sk_buf_append_slice(out, v->raw);
    if (m->src_ip.len == 0)
        return;
    /* §18.2.1: add received when sent-by's host differs from the packet's
     * source; RFC 3581 §4: always when rport was asked for. The existing
     * parameters are kept; a stale received or rport value would be
     * replaced by a proxy that rewrites the whole value. */
    add_received = v->has_rport || !sk_slice_caseeq(v->host, m->src_ip);
    if (add_received && v->received.len == 0) {
        sk_buf_append_cstr(out, ";received=");
        sk_buf_append_slice(out, m->src_ip);
    }
    if (v->has_rport && v->rport == 0) {
        /* The value-less "rport" is in raw; RFC 3581 wants it filled in, so
         * a second rport with the value would be ambiguous. Writers that
         * need exact placement use the parsed params instead. */
        sk_buf_append_cstr(out, ";rport=");
        sk_buf_append_u64(out, m->src_port);
    }
}

/* Write the Via header lines of m with the first value rewritten. */
static void write_vias(struct sk_buf *out, const struct sk_msg *m)
{
    bool first = true;

    for (size_t i = 0; i < m->nhdrs; i++) {
        const struct sk_hdr *h = &m->hdrs[i];
        if (h->id != SK_HDR_VIA)
            continue;
        if (!first || m->src_ip.len == 0) {
            sk_buf_append_slice(out, h->raw);
            continue;
        }
        first = false;
        sk_buf_append_slice(out, h->name);
        sk_buf_append(out, ": ", 2);
        sk_msg_write_top_via(m, out);
        sk_buf_append_slice(out, top_via_rest(m));
        sk_buf_append(out, "\r\n", 2);
    }
}

void sk_msg_start_response(struct sk_buf *out, const struct sk_msg *req, unsigned status,
                           struct sk_slice reason, struct sk_slice to_tag)
{
    const struct sk_hdr *h;

    sk_buf_append_cstr(out, "SIP/2.0 ");
    sk_buf_append_u64(out, status);
    sk_buf_append(out, " ", 1);
    sk_buf_append_slice(out, reason);
    sk_buf_append(out, "\r\n", 2);
    write_vias(out, req);
    if ((h = sk_msg_find(req, SK_HDR_FROM)) != NULL)
        sk_buf_append_slice(out, h->raw);
    if ((h = sk_msg_find(req, SK_HDR_TO)) != NULL) {
        /* §8.2.6.2: the UAS adds a To tag unless the request had one. */
        if (to_tag.len > 0 && req->to.tag.len == 0) {
            sk_buf_append_slice(out, h->name);
            sk_buf_append(out, ": ", 2);
            sk_buf_append_slice(out, h->value);
            sk_buf_append_cstr(out, ";tag=");
            sk_buf_append_slice(out, to_tag);
            sk_buf_append(out, "\r\n", 2);
        } else {
            sk_buf_append_slice(out, h->raw);
        }
    }
    if ((h = sk_msg_find(req, SK_HDR_CALL_ID)) != NULL)
        sk_buf_append_slice(out, h->raw);
    if ((h = sk_msg_find(req, SK_HDR_CSEQ)) != NULL)
        sk_buf_append_slice(out, h->raw);
}
