/*
 * What the server tells an operator (include/sipkit/server.h, read by the
 * admin layer): counters kept on the hot path and gauges computed on
 * demand.
 *
 * Counters are relaxed atomic increments on fields of struct sk_server: no
 * lock per request, and no ordering needed because a scrape only wants
 * each value to grow. Gauges (transactions by state, bindings,
 * subscriptions) walk their tables shard by shard when asked, which is
 * cheap at a scrape every few seconds and costs the hot path nothing.
 */
#include "server/guard.h"
#include "server/internal.h"

#include <string.h>

void sk__count_request(struct sk_server *s, enum sk_method m)
{
    if ((unsigned)m >= SK_METHOD__COUNT)
        m = SK_METHOD_OTHER;
    atomic_fetch_add_explicit(&s->n_requests[m], 1, memory_order_relaxed);
}

/* "SIP/2.0 NNN ...": the class is the first digit of the status (RFC
 * 3261 §7.2); anything else sent is a request and not counted here. */
void sk__count_sent(struct sk_server *s, const char *data, size_t len)
{
    unsigned cls;

    if (len < 9 || memcmp(data, "SIP/2.0 ", 8) != 0)
        return;
    if (data[8] < '1' || data[8] > '6')
        return;
    cls = (unsigned)(data[8] - '1');
    atomic_fetch_add_explicit(&s->n_responses[cls], 1, memory_order_relaxed);
}

void sk__count_rejected(struct sk_server *s)
{
    atomic_fetch_add_explicit(&s->rejected, 1, memory_order_relaxed);
}

void sk_server_get_stats(struct sk_server *s, struct sk_server_stats *out)
{
    struct sk__guard_counts g;

    memset(out, 0, sizeof(*out));
    out->uptime_s = (sk_now_ms() - s->started_ms) / 1000u;
    out->workers = sk_tp_worker_count(s->tp);
    for (unsigned i = 0; i < SK_METHOD__COUNT; i++)
        out->requests[i] = atomic_load_explicit(&s->n_requests[i], memory_order_relaxed);
    for (unsigned i = 0; i < SK_SERVER_CLASSES; i++)
        out->responses[i] = atomic_load_explicit(&s->n_responses[i], memory_order_relaxed);
    for (unsigned i = 0; i < SK_AUTH_CAUSE__COUNT; i++)
        out->auth_failures[i] = atomic_load_explicit(&s->n_auth_failures[i], memory_order_relaxed);
    out->auth_throttled = atomic_load_explicit(&s->n_auth_throttled, memory_order_relaxed);
    out->rejected = atomic_load_explicit(&s->rejected, memory_order_relaxed);
    sk__guard_counts(s->guard, sk_now_ms(), &g);
    out->dropped_banned = g.dropped_banned;
    out->dropped_rate_limited = g.dropped_rate;
    out->bans_auth_failures = g.bans_auth;
    out->bans_flood = g.bans_flood;
    out->bans_active = g.bans_active;
    sk_txn_table_census(s->txns, out->txns);
    out->bindings = sk_location_count(s->loc);
    sk__events_counts(s, out->subscriptions, &out->publications);
    out->nat_keepalives_sent = atomic_load_explicit(&s->n_ka_sent, memory_order_relaxed);
    out->nat_keepalives_answered = atomic_load_explicit(&s->n_ka_answered, memory_order_relaxed);
    out->nat_bindings_dead = atomic_load_explicit(&s->n_ka_dead, memory_order_relaxed);
    sk_tp_get_stats(s->tp, &out->tp);
}

const struct sk_histo *sk_server_commit_times(const struct sk_server *s)
{
    return sk_location_commit_times(s->loc);
}

const struct sk_histo *sk_server_loop_lag(const struct sk_server *s)
{
    return sk_tp_loop_lag(s->tp);
}

const struct sk_server_config *sk_server_current_config(const struct sk_server *s)
{
    return &s->cfg;
}

struct sk_store *sk_server_store(struct sk_server *s)
{
    return s->store;
}

struct sk_location *sk_server_location(struct sk_server *s)
{
    return s->loc;
}
