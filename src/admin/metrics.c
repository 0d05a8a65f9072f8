/*
 * GET /metrics: the server's counters, gauges and latency histograms in
 * the Prometheus text exposition format 0.0.4 (one `# HELP` and `# TYPE`
 * per family, counters ending in _total, durations in seconds, histogram
 * buckets cumulative with a final le="+Inf" equal to _count).
 *
 * Everything comes from sk_server_get_stats() and the histograms the
 * server exposes; this file only formats. Names and labels are listed in
 * docs/api.md (and drawn by contrib/grafana/sipkit.json).
 */
#include "admin/admin_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void family(struct sk_buf *b, const char *name, const char *type, const char *help)
{
    sk_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(struct sk_buf *b, const char *name, const char *help,
                      const struct sk_histo *h)
{
    uint64_t cum = 0, count, sum;

    family(b, name, "histogram", help);
    if (h == NULL) {
        sk_buf_printf(b, "%s_bucket{le=\"+Inf\"} 0\n%s_sum 0\n%s_count 0\n", name, name, name);
        return;
    }
    /* Read count first: buckets observed after it only make +Inf larger,
     * and +Inf is printed as the larger of the two so it never falls
     * below a bucket (racy snapshot of relaxed counters). */
    count = atomic_load_explicit(&h->count, memory_order_relaxed);
    sum = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
    for (size_t i = 0; i < SK_HISTO_BUCKETS; i++) {
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        sk_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, (double)sk_histo_bounds_us[i] / 1e6,
                      (unsigned long long)cum);
    }
    cum += atomic_load_explicit(&h->bucket[SK_HISTO_BUCKETS], memory_order_relaxed);
    if (cum > count)
        count = cum;
    sk_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                  (unsigned long long)count, name, (double)sum / 1e6, name,
                  (unsigned long long)count);
}

/* Resident set size from /proc/self/status ("VmRSS:  1234 kB"), 0 when
 * unknown. */
static uint64_t rss_bytes(void)
{
    char line[256];
    uint64_t kb = 0;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtoull(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb * 1024u;
}

/* States each kind of transaction can be in while it is in the table
 * (RFC 3261 §17 figures 5-8, RFC 6026 Accepted). */
static bool kind_has_state(enum sk_txn_kind k, enum sk_txn_state s)
{
    switch (k) {
    case SK_TXN_INVITE_CLIENT:
        return s == SK_TXN_CALLING || s == SK_TXN_PROCEEDING || s == SK_TXN_COMPLETED ||
               s == SK_TXN_ACCEPTED;
    case SK_TXN_INVITE_SERVER:
        return s == SK_TXN_PROCEEDING || s == SK_TXN_COMPLETED || s == SK_TXN_CONFIRMED ||
               s == SK_TXN_ACCEPTED;
    case SK_TXN_NON_INVITE_CLIENT:
    case SK_TXN_NON_INVITE_SERVER:
        return s == SK_TXN_TRYING || s == SK_TXN_PROCEEDING || s == SK_TXN_COMPLETED;
    }
    return false;
}

static void lower(char *dst, size_t n, const char *src)
{
    size_t i = 0;

    for (; src[i] != '\0' && i + 1 < n; i++)
        dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + 32 : src[i]);
    dst[i] = '\0';
}

static void sip_counters(struct sk_buf *b, const struct sk_server_stats *st)
{
    family(b, "sipkit_sip_requests_total", "counter",
           "New SIP requests received, by method (retransmissions not counted).");
    for (unsigned m = 0; m < SK_METHOD__COUNT; m++) {
        const char *name = m == SK_METHOD_OTHER ? "other" : sk_method_name((enum sk_method)m);
        sk_buf_printf(b, "sipkit_sip_requests_total{method=\"%s\"} %llu\n", name,
                      (unsigned long long)st->requests[m]);
    }
    family(b, "sipkit_sip_responses_total", "counter",
           "SIP responses sent, the server's own and relayed ones, by class.");
    for (unsigned c = 0; c < SK_SERVER_CLASSES; c++)
        sk_buf_printf(b, "sipkit_sip_responses_total{class=\"%uxx\"} %llu\n", c + 1,
                      (unsigned long long)st->responses[c]);
    family(b, "sipkit_sip_rejected_total", "counter",
           "Requests refused with an error response or dropped before any handler.");
    sk_buf_printf(b, "sipkit_sip_rejected_total %llu\n", (unsigned long long)st->rejected);
    family(b, "sipkit_auth_failures_total", "counter",
           "Failed digest verifications, by cause (enum sk_auth_cause).");
    for (unsigned c = 1; c < SK_AUTH_CAUSE__COUNT; c++)
        sk_buf_printf(b, "sipkit_auth_failures_total{cause=\"%s\"} %llu\n",
                      sk_auth_cause_name((enum sk_auth_cause)c),
                      (unsigned long long)st->auth_failures[c]);
}

static void gauges(struct sk_buf *b, const struct sk_server_stats *st)
{
    family(b, "sipkit_transactions", "gauge", "SIP transactions alive, by kind and state.");
    for (unsigned k = 0; k < SK_TXN_KINDS; k++) {
        for (unsigned s = 0; s < SK_TXN_STATES; s++) {
            char state[16];
            if (!kind_has_state((enum sk_txn_kind)k, (enum sk_txn_state)s))
                continue;
            lower(state, sizeof(state), sk_txn_state_name((enum sk_txn_state)s));
            sk_buf_printf(b, "sipkit_transactions{kind=\"%s\",state=\"%s\"} %zu\n",
                          sk_txn_kind_name((enum sk_txn_kind)k), state, st->txns[k][s]);
        }
    }
    family(b, "sipkit_registrar_bindings", "gauge", "Location bindings held by the registrar.");
    sk_buf_printf(b, "sipkit_registrar_bindings %zu\n", st->bindings);
    family(b, "sipkit_subscriptions", "gauge", "Live subscriptions, by event package.");
    for (unsigned p = 1; p < SK_EV_PKG__COUNT; p++)
        sk_buf_printf(b, "sipkit_subscriptions{package=\"%s\"} %zu\n",
                      sk_ev_pkg_name((enum sk_ev_pkg)p), st->subscriptions[p]);
    family(b, "sipkit_publications", "gauge", "Live event publications (PUBLISH).");
    sk_buf_printf(b, "sipkit_publications %zu\n", st->publications);
    family(b, "sipkit_nat_keepalives_sent_total", "counter",
           "Keep-alives sent to UDP bindings behind NAT (OPTIONS or CRLF).");
    sk_buf_printf(b, "sipkit_nat_keepalives_sent_total %llu\n",
                  (unsigned long long)st->nat_keepalives_sent);
    family(b, "sipkit_nat_keepalives_answered_total", "counter",
           "OPTIONS keep-alives that got a response (any status).");
    sk_buf_printf(b, "sipkit_nat_keepalives_answered_total %llu\n",
                  (unsigned long long)st->nat_keepalives_answered);
    family(b, "sipkit_nat_bindings_dead_total", "counter",
           "UDP bindings behind NAT removed because their keep-alives went unanswered.");
    sk_buf_printf(b, "sipkit_nat_bindings_dead_total %llu\n",
                  (unsigned long long)st->nat_bindings_dead);
    family(b, "sipkit_connections", "gauge", "Open connections, by transport.");
    sk_buf_printf(b, "sipkit_connections{transport=\"tcp\"} %llu\n",
                  (unsigned long long)st->tp.tcp_open);
}

static void transport_counters(struct sk_buf *b, const struct sk_server_stats *st)
{
    family(b, "sipkit_messages_received_total", "counter",
           "SIP messages received, retransmissions included.");
    sk_buf_printf(b, "sipkit_messages_received_total %llu\n", (unsigned long long)st->tp.rx_msgs);
    family(b, "sipkit_messages_sent_total", "counter", "SIP messages sent.");
    sk_buf_printf(b, "sipkit_messages_sent_total %llu\n", (unsigned long long)st->tp.tx_msgs);
    family(b, "sipkit_messages_malformed_total", "counter",
           "Received messages that did not frame or parse.");
    sk_buf_printf(b, "sipkit_messages_malformed_total %llu\n", (unsigned long long)st->tp.rx_bad);
    family(b, "sipkit_tcp_connections_accepted_total", "counter", "TCP connections accepted.");
    sk_buf_printf(b, "sipkit_tcp_connections_accepted_total %llu\n",
                  (unsigned long long)st->tp.tcp_accepted);
    family(b, "sipkit_tcp_connections_refused_total", "counter",
           "TCP connections closed as soon as accepted: max_connections or max_per_address "
           "reached, or no descriptor left.");
    sk_buf_printf(b, "sipkit_tcp_connections_refused_total %llu\n",
                  (unsigned long long)st->tp.tcp_refused);
}

/* The guard (docs/security.md): what it dropped, the bans it decided. */
static void guard_counters(struct sk_buf *b, const struct sk_server_stats *st)
{
    family(b, "sipkit_guard_dropped_total", "counter",
           "Messages dropped unparsed and unanswered, by reason: the address is banned, or "
           "over the flood limit (security.rate_limit).");
    sk_buf_printf(b, "sipkit_guard_dropped_total{reason=\"banned\"} %llu\n",
                  (unsigned long long)st->dropped_banned);
    sk_buf_printf(b, "sipkit_guard_dropped_total{reason=\"rate_limit\"} %llu\n",
                  (unsigned long long)st->dropped_rate_limited);
    family(b, "sipkit_guard_bans_total", "counter", "Addresses banned by this process, by reason.");
    sk_buf_printf(b, "sipkit_guard_bans_total{reason=\"auth_failures\"} %llu\n",
                  (unsigned long long)st->bans_auth_failures);
    sk_buf_printf(b, "sipkit_guard_bans_total{reason=\"flood\"} %llu\n",
                  (unsigned long long)st->bans_flood);
    family(b, "sipkit_guard_bans_active", "gauge", "Bans in force now.");
    sk_buf_printf(b, "sipkit_guard_bans_active %zu\n", st->bans_active);
    family(b, "sipkit_auth_throttled_total", "counter",
           "Guesses of a user under the per-user slow-down answered without being checked.");
    sk_buf_printf(b, "sipkit_auth_throttled_total %llu\n", (unsigned long long)st->auth_throttled);
}

void sk_admin_metrics(struct sk_server *s, const char *version, struct sk_buf *out)
{
    struct sk_server_stats st;

    sk_server_get_stats(s, &st);
    family(out, "sipkit_build_info", "gauge", "Always 1; the version is a label.");
    sk_buf_printf(out, "sipkit_build_info{version=\"%s\"} 1\n", version);
    family(out, "sipkit_uptime_seconds", "gauge", "Seconds since the server started.");
    sk_buf_printf(out, "sipkit_uptime_seconds %llu\n", (unsigned long long)st.uptime_s);
    family(out, "sipkit_workers", "gauge", "Worker threads, one event loop each.");
    sk_buf_printf(out, "sipkit_workers %u\n", st.workers);
    family(out, "process_resident_memory_bytes", "gauge", "Resident memory size (VmRSS).");
    sk_buf_printf(out, "process_resident_memory_bytes %llu\n", (unsigned long long)rss_bytes());
    sip_counters(out, &st);
    gauges(out, &st);
    transport_counters(out, &st);
    guard_counters(out, &st);
    histogram(out, "sipkit_store_commit_seconds",
              "Duration of each group COMMIT of registrar bindings to SQLite.",
              sk_server_commit_times(s));
    histogram(out, "sipkit_event_loop_lag_seconds",
              "How late the worker event loops ran a timer due every 100 ms.",
              sk_server_loop_lag(s));
}
