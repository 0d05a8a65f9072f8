/*
 * The top Via of a received request and the way back for its responses.
 *
 * RFC 3261 §18.2.1: when the sent-by host is a name, or an address other
 * than the packet's source, the server adds `received` with the source
 * address. RFC 3581 §4: when the request carries `rport` without a value,
 * the server fills in the source port and adds `received` in any case.
 * RFC 3261 §18.2.2 and RFC 3581 §5 then say where responses go.
 *
 * Memory: the edited request is written into a caller-owned buffer (the
 * worker's scratch buffer) and re-parsed from there; nothing else is kept.
 */
#include "transport/internal.h"

#include <stdio.h>
#include <string.h>

struct splice {
    size_t at, cut; /* offset in the message and bytes replaced there */
    const char *text;
    size_t len;
};

static void apply(const struct sk_msg *m, struct splice *sp, size_t n, struct sk_buf *out)
{
    size_t pos = 0;

    if (n == 2 && sp[1].at < sp[0].at) {
        struct splice t = sp[0];
        sp[0] = sp[1];
        sp[1] = t;
    }
    sk_buf_reset(out);
    sk_buf_reserve(out, m->raw.len + 128);
    for (size_t i = 0; i < n; i++) {
        sk_buf_append(out, m->raw.p + pos, sp[i].at - pos);
        sk_buf_append(out, sp[i].text, sp[i].len);
        pos = sp[i].at + sp[i].cut;
    }
    sk_buf_append(out, m->raw.p + pos, m->raw.len - pos);
}

static size_t offset_of(const struct sk_msg *m, const char *p)
{
    return (size_t)(p - m->raw.p);
}

/* Whether the sent-by host is the address the packet came from. */
static bool sent_by_matches(const struct sk_via *v, const struct sk_addr *peer)
{
    struct sk_addr a;

    if (v->host_type != SK_HOST_IPV4 && v->host_type != SK_HOST_IPV6)
        return false;
    if (sk_addr_parse(v->host, 0, &a) != 0)
        return false;
    return sk_addr_same_host(&a, peer);
}

int sk__via_stamp(const struct sk_msg *m, const struct sk_addr *peer, struct sk_buf *out)
{
    const struct sk_via *v = &m->via;
    struct splice sp[2];
    size_t n = 0;
    char recv_text[SK_ADDR_STRLEN + 16], ip[SK_ADDR_STRLEN], port_text[8];
    int len;

    if (v->raw.p == NULL || v->raw.p < m->raw.p || v->raw.p + v->raw.len > m->raw.p + m->raw.len)
        return 0;
    if (v->has_rport && v->rport == 0) {
        struct sk_slice cur = v->params;
        struct sk_param prm;
        while (sk_param_next(&cur, &prm) == 1) {
            if (!sk_slice_caseeq_cstr(prm.name, "rport"))
                continue;
            const char *end = prm.name.p + prm.name.len;
            bool has_eq = end < m->raw.p + m->raw.len && *end == '=';
            len = snprintf(port_text, sizeof(port_text), "%s%u", has_eq ? "" : "=",
                           (unsigned)sk_addr_port(peer));
            sp[n++] =
                (struct splice){offset_of(m, end + (has_eq ? 1 : 0)), 0, port_text, (size_t)len};
            break;
        }
    }
    if (n == 0 && sent_by_matches(v, peer) && v->received.len == 0)
        return 0;
    /* §25.1: via-received is a bare IPv4address / IPv6address. */
    sk_addr_format_host(peer, false, ip, sizeof(ip));
    if (v->received.len > 0) {
        if (sk_slice_eq(v->received, sk_slice_cstr(ip)) && n == 0)
            return 0;
        sp[n++] = (struct splice){offset_of(m, v->received.p), v->received.len, ip, strlen(ip)};
    } else {
        len = snprintf(recv_text, sizeof(recv_text), ";received=%s", ip);
        sp[n++] = (struct splice){offset_of(m, v->raw.p + v->raw.len), 0, recv_text, (size_t)len};
    }
    apply(m, sp, n, out);
    return sk_buf_ok(out) ? 1 : SK_ENOMEM;
}

void sk_tp_response_dest(const struct sk_rx *rx, struct sk_dest *out)
{
    const struct sk_via *v = &rx->msg->via;
    struct sk_addr maddr;

    memset(out, 0, sizeof(*out));
    out->transport = rx->transport;
    out->listener = (int)rx->listener;
    out->addr = rx->peer;
    if (rx->transport == SK_TRANSPORT_TCP) {
        /* §18.2.2: on the connection the request came on while it is open;
         * otherwise a new connection to the same address. */
        out->conn_id = rx->conn_id;
        return;
    }
    if (v->maddr.len > 0 && sk_addr_parse(v->maddr, v->has_port ? v->port : 5060, &maddr) == 0) {
        out->addr = maddr;
        return;
    }
    /* RFC 3581 §5: with rport, back to the source address and port. Without
     * it, §18.2.2: to the received address and the sent-by port. */
    if (!v->has_rport)
        sk_addr_set_port(&out->addr, v->has_port ? v->port : 5060);
}
