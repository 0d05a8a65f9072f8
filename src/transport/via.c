/*
 * The way back for responses: RFC 3261 §18.2.2 and RFC 3581 §5 read the
 * top Via of the request. (The `received` and `rport` values themselves,
 * §18.2.1 / RFC 3581 §4, are written by the message layer from the source
 * the transport records with sk_msg_set_source().)
 *
 * Memory: works on caller-owned values only.
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
    if (rx->transport == SK_TP_TCP) {
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
