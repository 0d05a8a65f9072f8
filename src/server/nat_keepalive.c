/*
 * Keep-alives to UAs behind NAT over UDP. A NAT forgets a UDP mapping that
 * carries nothing for its timeout (often 30 s to a few minutes, shorter
 * than a registration); after that, calls to the binding's flow are
 * dropped by the NAT. Every nat.keepalive_interval seconds the timer thread
 * sends a double CRLF (the RFC 5626 §4.4.1 keep-alive, which SIP parsers
 * skip between messages, RFC 3261 §7.5) to each UDP binding whose Contact
 * is not where its REGISTER came from: the datagram from our side renews
 * the mapping as a reply would. Bindings on TCP keep their connection,
 * which the client keeps alive (pings answered in the transport).
 *
 * Memory: nothing is kept between rounds; the walk reads the location
 * service under its own locks.
 */
#include "server/internal.h"
#include "server/nat.h"

#include <string.h>

struct round {
    struct sk_server *s;
    unsigned sent, failed;
};

static int keepalive_one(void *arg, const struct sk_binding *b)
{
    struct round *r = arg;
    struct sk_dest d;

    if (b->transport != SK_TP_UDP)
        return 0;
    memset(&d, 0, sizeof(d));
    if (sk_addr_parse(sk_slice_cstr(b->src_ip), b->src_port, &d.addr) != 0)
        return 0;
    d.addr.tp = SK_TP_UDP;
    if (!sk__nat_flow_needed(sk_slice_cstr(b->contact), &d.addr))
        return 0;
    d.transport = SK_TP_UDP;
    d.listener = -1;
    if (sk_tp_send(r->s->tp, &d, "\r\n\r\n", 4) == 0)
        r->sent++;
    else
        r->failed++;
    return 0;
}

void sk__nat_keepalive_tick(struct sk_server *s, uint64_t now_ms)
{
    struct round r = {.s = s};
    unsigned every = s->cfg.nat_keepalive_interval;

    if (every == 0 || now_ms < s->nat_next_keepalive)
        return;
    s->nat_next_keepalive = now_ms + every * 1000ull;
    sk_location_foreach(s->loc, SK_SLICE_NULL, sk_wall_s(), keepalive_one, &r);
    if (r.sent > 0 || r.failed > 0)
        SK_LOG(SK_LOG_DEBUG, "nat", "event=keepalives sent=%u failed=%u", r.sent, r.failed);
}
