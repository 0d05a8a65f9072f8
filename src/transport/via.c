/*
 * The transport's use of the top Via: the way back for responses (RFC 3261
 * §18.2.2 and RFC 3581 §5 read the top Via of the request), and the Via
 * rewrite when a request moves from UDP to TCP (§18.1.1). (The `received`
 * and `rport` values themselves, §18.2.1 / RFC 3581 §4, are written by the
 * message layer from the source the transport records with
 * sk_msg_set_source().)
 *
 * Memory: works on caller-owned values; the rewrite parses into a
 * temporary message freed before it returns.
 */
#include "transport/internal.h"

#include <string.h>

void sk_tp_response_dest(const struct sk_rx *rx, struct sk_dest *out)
{
    const struct sk_via *v = &rx->msg->via;
    struct sk_addr maddr;

    memset(out, 0, sizeof(*out));
    out->transport = rx->transport;
    out->listener = (int)rx->listener;
    out->addr = rx->peer;
    if (sk_transport_reliable(rx->transport)) {
        /* §18.2.2: on the connection the request came on while it is open;
         * otherwise a new connection to the same address (never for
         * WebSocket: RFC 7118 §5, the client's connection or none). */
        out->conn_id = rx->conn_id;
        return;
    }
    /* §18.2.2 would send to maddr, an address the request names and
     * nobody checks: anyone could have our responses sent anywhere. Only
     * the source itself is taken (as multicast is not served). */
    if (v->maddr.len > 0 && sk_addr_parse(v->maddr, v->has_port ? v->port : 5060, &maddr) == 0 &&
        sk_addr_same_host(&maddr, &rx->peer)) {
        out->addr = maddr;
        return;
    }
    /* RFC 3581 §5: with rport, back to the source address and port. Without
     * it, §18.2.2: to the received address and the sent-by port. */
    if (!v->has_rport)
        sk_addr_set_port(&out->addr, v->has_port ? v->port : 5060);
}

int sk__via_to_tcp(const char *data, size_t len, struct sk_buf *out)
{
    struct sk_msg m;
    struct sk_msg_limits lim = {.max_size = len + 1};
    struct sk_slice t;
    int err;

    sk_msg_init(&m);
    err = sk_msg_parse(&m, data, len, SK_MSG_DATAGRAM, &lim);
    t = m.via.transport;
    if (err == 0 && (t.p < data || t.p + t.len > data + len))
        err = SK_EPARSE; /* never: the view points into data */
    if (err == 0) {
        /* §18.1.1: "the value in the top Via MUST be changed". Only the
         * transport token changes; the branch and all else stay. */
        size_t at = (size_t)(t.p - data);
        sk_buf_reset(out);
        sk_buf_append(out, data, at);
        if (sk_slice_caseeq_cstr(t, "UDP"))
            sk_buf_append_cstr(out, "TCP");
        else
            sk_buf_append_slice(out, t);
        sk_buf_append(out, t.p + t.len, len - at - t.len);
        if (!sk_buf_ok(out))
            err = SK_ENOMEM;
    }
    sk_msg_free(&m);
    return err;
}
