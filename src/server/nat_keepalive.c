/*
 * Keep-alives to UAs behind NAT over UDP. A NAT forgets a UDP mapping that
 * carries nothing for its timeout (often 30 s to a few minutes, shorter
 * than a registration); after that, calls to the binding's flow are
 * dropped by the NAT. Every nat.keepalive_interval seconds the timer thread
 * sends a keep-alive to each UDP binding whose Contact is not where its
 * REGISTER came from: the datagram from our side renews the mapping as a
 * reply would. By nat.keepalive_method, either an OPTIONS (the default,
 * nat_ping.c), whose answer shows the binding alive and whose silence,
 * nat.keepalive_failures rounds in a row, removes it; or a double CRLF
 * (the RFC 5626 §4.4.1 keep-alive, which SIP parsers skip between
 * messages, RFC 3261 §7.5), which nothing answers. Bindings on TCP keep
 * their connection, which the client keeps alive (pings answered in the
 * transport).
 *
 * A binding whose flow is a TCP connection that closed is removed when
 * nothing else reaches it (RFC 5626 §5.5: the flow is gone, and so is the
 * way to the UA): an Outbound flow (+sip.instance), or a UA behind NAT,
 * whose Contact cannot be connected to. The UA registers again over a new
 * connection. A UA that is where its Contact says keeps its binding: a new
 * connection reaches it. Nor does the server close such a connection for
 * being idle (tcp.idle_timeout) while it carries a live binding
 * (sk__nat_flow_idle).
 *
 * Memory: nothing is kept between rounds; the walk reads the location
 * service under its own locks. The bindings of a closed flow are found
 * through the location service's index of AORs by connection
 * (sk_location_conn_closed), so a close costs the bindings of that
 * connection, not a walk of every binding.
 */
#include "server/internal.h"
#include "server/nat.h"
#include "server/proxy_int.h"

#include <string.h>

struct round {
    struct sk_server *s;
    bool options;
    uint32_t number;
    unsigned sent, failed, dead;
};

/* The binding answered no keep-alive for nat.keepalive_failures rounds:
 * removed as a closed flow is (RFC 5626 §5.5), without waiting for the
 * disk (the timer thread must not). */
static void removed(void *arg, int result, size_t n)
{
    (void)arg;
    (void)n;
    if (result != 0)
        SK_LOG(SK_LOG_WARN, "nat", "event=binding_dead_not_removed error=\"%s\"",
               sk_strerror(result));
}

/* The update that removes binding b alone (its Contact with expires 0),
 * with a CSeq one above b's (§10.3 step 7), so that a REGISTER that came
 * meanwhile, with a higher CSeq, wins. u points into c. */
static void removal_of(const struct sk_binding *b, int64_t now, struct sk_location_contact *c,
                       struct sk_location_update *u)
{
    *c = (struct sk_location_contact){.uri = sk_slice_cstr(b->contact),
                                      .expires = 0,
                                      .q = -1,
                                      .instance = sk_slice_cstr(b->instance),
                                      .reg_id = b->reg_id};
    *u = (struct sk_location_update){.aor = sk_slice_cstr(b->aor),
                                     .call_id = sk_slice_cstr(b->call_id),
                                     .cseq = b->cseq + 1,
                                     .contacts = c,
                                     .ncontacts = 1,
                                     .transport = b->transport,
                                     .src_ip = sk_slice_cstr(b->src_ip),
                                     .src_port = b->src_port,
                                     .now = now};
}

static void drop_dead(struct round *r, const struct sk_binding *b)
{
    struct sk_location_contact c;
    struct sk_location_update u;

    removal_of(b, sk_wall_s(), &c, &u);
    /* A REGISTER that came meanwhile has a higher CSeq: it wins (SK_ESTATE
     * here, the binding stays). */
    int err = sk_location_update_async(r->s->loc, &u, NULL, 0, removed, NULL);

    r->dead++;
    atomic_fetch_add_explicit(&r->s->n_ka_dead, 1, memory_order_relaxed);
    SK_LOG(SK_LOG_INFO, "nat",
           "event=binding_dead aor=\"%s\" contact=\"%s\" src=%s:%u unanswered=%u removed=%s",
           b->aor, b->contact, b->src_ip, b->src_port, r->s->cfg.nat_keepalive_failures,
           err == 0 ? "true" : "false");
}

static int send_options(struct round *r, const struct sk_binding *b, const struct sk_dest *d)
{
    const char *host = sk__proxy_self_text(r->s, &d->addr);
    struct sk_buf out;
    uint64_t id;
    int err;

    if (sk__natping_check(r->s->natping, b, r->s->cfg.nat_keepalive_failures, &id) ==
        SK__NATPING_DEAD) {
        drop_dead(r, b);
        return 1;
    }
    if (host == NULL)
        return SK_ENOTFOUND;
    sk_buf_init(&out);
    err = sk__natping_write(r->s, b, id, r->number, host, &out);
    if (err == 0)
        err = sk_tp_send(r->s->tp, d, out.p, out.len);
    sk_buf_free(&out);
    return err;
}

static int keepalive_one(void *arg, const struct sk_binding *b)
{
    struct round *r = arg;
    struct sk_dest d;
    int err;

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
    if (r->options)
        err = send_options(r, b, &d);
    else
        err = sk_tp_send(r->s->tp, &d, "\r\n\r\n", 4);
    if (err == 0) {
        r->sent++;
        atomic_fetch_add_explicit(&r->s->n_ka_sent, 1, memory_order_relaxed);
    } else if (err < 0) {
        r->failed++;
    }
    return 0;
}

bool sk__nat_keepalive_options(const struct sk_server_config *c)
{
    return strcmp(c->nat_keepalive_method, "options") == 0;
}

void sk__nat_keepalive_tick(struct sk_server *s, uint64_t now_ms)
{
    struct round r = {.s = s, .options = sk__nat_keepalive_options(&s->cfg)};
    unsigned every = s->cfg.nat_keepalive_interval;

    if (every == 0 || now_ms < s->nat_next_keepalive)
        return;
    s->nat_next_keepalive = now_ms + every * 1000ull;
    if (r.options)
        r.number = sk__natping_round_begin(s->natping);
    sk_location_foreach(s->loc, SK_SLICE_NULL, sk_wall_s(), keepalive_one, &r);
    if (r.options)
        sk__natping_round_end(s->natping);
    if (r.sent > 0 || r.failed > 0 || r.dead > 0)
        SK_LOG(SK_LOG_DEBUG, "nat", "event=keepalives method=%s sent=%u failed=%u dead=%u",
               r.options ? "options" : "crlf", r.sent, r.failed, r.dead);
}

void sk__nat_keepalive_response(struct sk_server *s, const struct sk_msg *resp,
                                const struct sk_addr *from)
{
    int r = sk__natping_response(s->natping, resp);

    if (r < 0) {
        sk__proxy_stray_response(s, resp, from);
        return;
    }
    if (r == 1)
        atomic_fetch_add_explicit(&s->n_ka_answered, 1, memory_order_relaxed);
}

/* A binding registered over the connection (same peer: ids restart with
 * the process, as closed_one says) stops the walk. */
static int live_one(void *arg, const struct sk_binding *b)
{
    const struct sk_addr *peer = arg;
    struct sk_addr src;

    return sk_addr_parse(sk_slice_cstr(b->src_ip), b->src_port, &src) == 0 &&
           sk_addr_equal(&src, peer);
}

bool sk__nat_flow_idle(void *arg, uint64_t conn_id, const struct sk_addr *peer)
{
    struct sk_server *s = arg;
    struct sk_addr p = *peer;

    /* RFC 5626 §5.3, RFC 3261 §18: the connection of a registered UA is
     * its flow, which the UA keeps alive (§4.4.1 pings, or just its
     * REGISTER refreshes); closing it for silence would cut the way to a
     * UA behind NAT, and with it the binding (sk__nat_flow_closed).
     * Connections that carry no registration still close when idle. */
    if (s->loc == NULL || atomic_load(&s->draining))
        return false;
    return sk_location_conn_foreach(s->loc, conn_id, sk_wall_s(), live_one, &p) > 0;
}

struct closed_walk {
    struct sk_server *s;
    uint64_t conn_id;
    struct sk_addr peer;
    int64_t now;
};

static int closed_one(void *arg, const struct sk_binding *b)
{
    struct closed_walk *w = arg;
    struct sk_addr src;

    /* Connection ids restart with the process: the address must match
     * too, or a stored binding from before a restart could be taken.
     * TLS flows are not judged here (a TLS phone is reached at its
     * Contact over a new connection). */
    if (b->transport != SK_TP_TCP ||
        sk_addr_parse(sk_slice_cstr(b->src_ip), b->src_port, &src) != 0 ||
        !sk_addr_equal(&src, &w->peer))
        return 0;
    src.tp = SK_TP_TCP;
    if (b->instance[0] == '\0' && !sk__nat_flow_needed(sk_slice_cstr(b->contact), &src))
        return 0;
    struct sk_location_contact c;
    struct sk_location_update u;

    removal_of(b, w->now, &c, &u);
    u.conn_id = w->conn_id;
    /* No lock is held during the walk's callbacks (store.h). */
    int err = sk_location_update(w->s->loc, &u, NULL, 0, NULL);
    SK_LOG(err == 0 ? SK_LOG_INFO : SK_LOG_WARN, "nat",
           "event=flow_closed aor=\"%s\" contact=\"%s\" src=%s:%u instance=\"%s\" conn=%llu "
           "removed=%s",
           b->aor, b->contact, b->src_ip, b->src_port, b->instance, (unsigned long long)w->conn_id,
           err == 0 ? "true" : "false");
    return 0;
}

void sk__nat_flow_closed(void *arg, uint64_t conn_id, const struct sk_addr *peer)
{
    struct sk_server *s = arg;
    struct closed_walk w = {.s = s, .conn_id = conn_id, .peer = *peer, .now = sk_wall_s()};

    /* Stopping closes every connection: the bindings stay, as they do
     * across a restart. */
    if (s->loc == NULL || atomic_load(&s->draining))
        return;
    /* Only the AORs registered over this connection are looked at. */
    sk_location_conn_closed(s->loc, conn_id, w.now, closed_one, &w);
}
