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

/* Where the value-less "rport" parameter of the top Via ends in raw, or
 * NULL when there is none. */
static const char *bare_rport_end(const struct sk_via *v)
{
    struct sk_slice cur = v->params;
    struct sk_param prm;

    while (sk_param_next(&cur, &prm) == 1) {
        if (sk_slice_caseeq_cstr(prm.name, "rport") && prm.value.len == 0)
            return prm.name.p + prm.name.len;
    }
    return NULL;
}

/* Is sent-by's host the source address? An IPv6 reference is written in
 * brackets in a Via and without them as a source address. */
static bool same_host(struct sk_slice host, struct sk_slice ip)
{
    if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']')
        host = sk_slice_make(host.p + 1, host.len - 2);
    return sk_slice_caseeq(host, ip);
}

void sk_msg_write_top_via(const struct sk_msg *m, struct sk_buf *out)
{
    const struct sk_via *v = &m->via;
    const char *rport_end = NULL;

    if (m->src_ip.len == 0) {
        sk_buf_append_slice(out, v->raw);
        return;
    }
    /* RFC 3581 §4: a value-less rport is filled in with the source port,
     * where it stands. */
    if (v->has_rport && v->rport == 0)
        rport_end = bare_rport_end(v);
    if (rport_end != NULL) {
        sk_buf_append(out, v->raw.p, (size_t)(rport_end - v->raw.p));
        sk_buf_append(out, "=", 1);
        sk_buf_append_u64(out, m->src_port);
        sk_buf_append(out, rport_end, (size_t)(v->raw.p + v->raw.len - rport_end));
    } else {
        sk_buf_append_slice(out, v->raw);
    }
    /* §18.2.1: received is added when sent-by's host differs from the
     * packet's source address; RFC 3581 §4: always when rport was asked
     * for. An existing received is left as it is. */
    if ((v->has_rport || !same_host(v->host, m->src_ip)) && v->received.len == 0) {
        sk_buf_append_cstr(out, ";received=");
        sk_buf_append_slice(out, m->src_ip);
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
