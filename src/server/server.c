/*
 * The server's lifecycle: data directory, transports, the transaction
 * table (one for all workers, see txn.h on threads), the addresses that
 * mean "us" (for loop detection, RFC 3261 §16.3 step 4), start with one
 * `event=listening` log line per socket, reload of the reloadable options
 * (SIGHUP) and a bounded drain on stop (SIGTERM): new requests get 503
 * while the transactions still open finish (sk_txn_table_count).
 *
 * Timers: one timer thread ticks the shared transaction table when
 * sk_txn_table_next_due() says so, sleeping at most TICK_MAX_MS so timers
 * armed meanwhile by the workers fire within that slack (RFC 3261 timers
 * are T1 = 500 ms and up; the 100 Trying delay is 200 ms). A dedicated
 * thread keeps the workers' loops free of timer coordination: any thread
 * may tick (txn.h). The same thread purges expired bindings every second.
 *
 * Memory: struct sk_server owns its transport, transaction table, store,
 * location service, auth state, merge table and address list;
 * sk_server_free() releases them.
 */
#include "server/guard.h"
#include "server/internal.h"
#include "server/media.h"
#include "server/nat.h"
#include "server/proxy_int.h"

#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* mkdir -p, then prove the directory is writable by creating a file. */
static int prepare_data_dir(const char *dir)
{
    char path[SK_SERVER_PATH_MAX + 32];
    size_t n = strlen(dir);
    int fd;

    if (n == 0 || n >= SK_SERVER_PATH_MAX)
        return SK_EINVAL;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -errno;
        path[i] = c;
    }
    snprintf(path, sizeof(path), "%s/.sipkit-write-test", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    close(fd);
    unlink(path);
    return 0;
}

static int add_self(struct sk_server *s, const struct sk_addr *a)
{
    struct sk_addr *p = sk_realloc(s->self, (s->nself + 1) * sizeof(*p));

    if (p == NULL)
        return SK_ENOMEM;
    s->self = p;
    s->self[s->nself++] = *a;
    return 0;
}

/* Every bound address; a wildcard stands for each interface address of
 * its family, with the listener's port. */
static int collect_self(struct sk_server *s)
{
    struct ifaddrs *ifs = NULL;
    int err = 0;

    for (unsigned i = 0; err == 0 && i < s->cfg.nlisteners; i++) {
        struct sk_addr b;
        if (sk_tp_listener_addr(s->tp, i, &b) != 0)
            continue;
        if (!sk_addr_is_any(&b)) {
            err = add_self(s, &b);
            continue;
        }
        if (ifs == NULL && getifaddrs(&ifs) != 0)
            return 0; /* loop detection then covers explicit addresses only */
        for (struct ifaddrs *f = ifs; err == 0 && f != NULL; f = f->ifa_next) {
            struct sk_addr a;
            if (f->ifa_addr == NULL || f->ifa_addr->sa_family != b.sa.sa_family)
                continue;
            memset(&a, 0, sizeof(a));
            memcpy(&a.ss, f->ifa_addr, b.sa.sa_family == AF_INET6 ? sizeof(a.in6) : sizeof(a.in));
            sk_addr_set_port(&a, sk_addr_port(&b));
            a.tp = b.tp; /* a TLS listener's addresses are TLS ones */
            err = add_self(s, &a);
        }
    }
    if (ifs != NULL)
        freeifaddrs(ifs);
    return err;
}

/* [cluster] node_address names this node in Path headers (cluster.c):
 * it must be an address of ours, or the requests other nodes send there
 * would not be taken as ours and would be forwarded in a loop. */
static int check_node_address(const struct sk_server *s)
{
    struct sk_addr a;

    if (s->cfg.cluster_node_address[0] == '\0')
        return 0;
    if (sk_addr_parse(sk_slice_cstr(s->cfg.cluster_node_address), 5060, &a) != 0)
        return SK_EINVAL;
    for (size_t i = 0; i < s->nself; i++) {
        if (sk_addr_equal(&a, &s->self[i]))
            return 0;
    }
    SK_LOG(SK_LOG_ERROR, "server",
           "event=config_invalid key=cluster.node_address value=%s "
           "error=\"not an address this node listens on\"",
           s->cfg.cluster_node_address);
    return SK_EINVAL;
}

#define TICK_MAX_MS 20
/* Descriptors kept out of the TCP connection budget: the SQLite store
 * (database, WAL and shared-memory files per connection), log and trace
 * files, and room for the odd file the libraries open. */
#define FD_RESERVE 64

/* Wait on the timer thread's condition variable for at most ms. Its clock
 * is CLOCK_MONOTONIC (server_new), so a step of the wall clock (NTP, an
 * operator's `date -s`) neither stalls every timer (a step back) nor
 * spins the thread (a step forward). */
static void timer_wait(struct sk_server *s, uint64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->timer_cond, &s->timer_lock, &ts);
}

/* The guard's delayed answers leave as the transaction layer's would. */
static int guard_send(void *arg, const struct sk_addr *dst, const char *data, size_t len)
{
    return sk__send_to(arg, dst, data, len);
}

static void *timer_main(void *arg)
{
    struct sk_server *s = arg;
    uint64_t next_purge = 0;

    pthread_mutex_lock(&s->timer_lock);
    while (!s->timer_stop) {
        uint64_t now = sk_now_ms(), due, wait;

        pthread_mutex_unlock(&s->timer_lock);
        sk_txn_table_tick(s->txns, now);
        sk__guard_tick(s->guard, now, s->store, guard_send, s);
        if (now >= next_purge) {
            next_purge = now + 1000;
            sk__server_purge(s);
            sk__authwatch_tick(s->authwatch, now);
            sk__events_tick(s);
            sk__proxy_tick(s);
            sk__nat_keepalive_tick(s, now);
        }
        due = sk_txn_table_next_due(s->txns);
        now = sk_now_ms();
        wait = due <= now ? 0 : due - now;
        if (wait > TICK_MAX_MS)
            wait = TICK_MAX_MS;
        pthread_mutex_lock(&s->timer_lock);
        if (wait > 0 && !s->timer_stop)
            timer_wait(s, wait);
    }
    pthread_mutex_unlock(&s->timer_lock);
    return NULL;
}

static void stop_timer(struct sk_server *s)
{
    if (!s->timer_started)
        return;
    pthread_mutex_lock(&s->timer_lock);
    s->timer_stop = true;
    pthread_cond_signal(&s->timer_cond);
    pthread_mutex_unlock(&s->timer_lock);
    pthread_join(s->timer, NULL);
    s->timer_started = false;
}

static void runtime_of(const struct sk_server_config *c, struct sk_tp_runtime *rt)
{
    rt->tcp_idle_timeout_s = c->tcp_idle_timeout;
    rt->tcp_max_connections = c->tcp_max_connections;
    rt->tcp_max_per_address = c->tcp_max_per_address;
    rt->tcp_message_timeout_s = c->tcp_message_timeout;
    rt->tcp_max_buffer = c->tcp_max_buffer;
    rt->ws_ping_interval_s = c->ws_ping_interval;
    rt->trace = c->trace;
}

/* The store: [store] url when set (PostgreSQL shared by several
 * servers, or sqlite:DIR), else SQLite in data_dir. */
static int open_store(struct sk_server *s)
{
    struct sk_store_options so;
    const char *url = s->cfg.store_url[0] != '\0' ? s->cfg.store_url : s->cfg.data_dir;
    int err;

    sk_store_options_init(&so);
    so.durability = strcmp(s->cfg.durability, "power") == 0 ? SK_STORE_POWER : SK_STORE_CRASH;
    if (s->cfg.store_password_file[0] != '\0')
        so.password_file = s->cfg.store_password_file;
    err = sk_store_open_url(&s->store, url, &so);
    if (err != 0) {
        /* The URL carries no password (refused at open), so it may be logged. */
        SK_LOG(SK_LOG_ERROR, "server", "event=store_failed store=\"%s\" error=\"%s\"", url,
               sk_strerror(err));
        return err;
    }
    SK_LOG(SK_LOG_INFO, "server", "event=store_opened backend=%s", sk_store_backend(s->store));
    return 0;
}

/* The state behind the pipeline: transaction table, merge table, store,
 * location service and digest auth for the served domain. */
static int open_state(struct sk_server *s)
{
    struct sk_txn_hooks hooks;
    struct sk_auth_config ac;
    struct sk_location_options lo = {0};
    unsigned char secret[SK_AUTH_SECRET_LEN];
    int err;

    if ((err = sk__guard_new(&s->guard, &s->cfg)) != 0 ||
        (err = sk__rechallenge_new(&s->rechallenge)) != 0)
        return err;
    sk__pipeline_hooks(s, &hooks);
    if ((err = sk_txn_table_new(&s->txns, NULL, &hooks)) != 0)
        return err;
    if ((err = sk__merge_new(&s->merge)) != 0)
        return err;
    if ((err = open_store(s)) != 0)
        return err;
    lo.max_per_aor = s->cfg.max_contacts;
    lo.on_change = sk__events_reg_changed; /* the "reg" event package */
    lo.change_arg = s;
    if ((err = sk_location_open(&s->loc, s->store, &lo)) != 0) {
        SK_LOG(SK_LOG_ERROR, "server", "event=location_failed error=\"%s\"", sk_strerror(err));
        return err;
    }
    SK_LOG(SK_LOG_INFO, "server", "event=location_loaded bindings=%zu", sk_location_count(s->loc));
    if ((err = sk__events_new(s)) != 0)
        return err;
    sk_location_purge(s->loc, sk_wall_s());
    sk_auth_config_init(&ac);
    ac.realm = s->cfg.domain;
    ac.data_dir = s->cfg.data_dir;
    if (sk_store_dir(s->store) == NULL) {
        /* A shared store: every server on it mints and checks nonces
         * with the same secret. */
        if ((err = sk_store_secret(s->store, secret, sizeof(secret))) != 0) {
            SK_LOG(SK_LOG_ERROR, "server", "event=secret_failed error=\"%s\"", sk_strerror(err));
            return err;
        }
        ac.secret = secret;
        ac.nc_shared = sk_store_auth_nc;
        ac.nc_shared_arg = s->store;
    }
    ac.lookup = sk_store_auth_lookup;
    ac.lookup_arg = s->store;
    sk_auth_algos_parse(s->cfg.auth_algorithms, false, &ac.algorithms); /* checked by finish */
    /* RFC 7616 §3.3 lets the server offer auth, auth-int or both. Phones
     * answer with auth; a qop list trips some parsers (sipvicious 0.3.3
     * crashes on it), so auth-int is opt-in. */
    ac.offer_auth_int = s->cfg.auth_int;
    if ((err = sk__authwatch_new(&s->authwatch)) != 0)
        return err;
    err = sk_auth_new(&s->auth, &ac);
    OPENSSL_cleanse(secret, sizeof(secret));
    if (err != 0) {
        SK_LOG(SK_LOG_ERROR, "server", "event=auth_failed error=\"%s\"", sk_strerror(err));
        return err;
    }
    if ((err = sk__proxy_new(&s->proxy)) != 0)
        return err;
    if ((err = sk__media_new(&s->media, &s->cfg)) != 0)
        return err;
    if ((err = sk__natping_new(&s->natping)) != 0)
        return err;
    if (s->cfg.media_rtpengine[0] != '\0') {
        /* Not fatal: an instance may start after us; calls fail over. */
        int up = sk__media_ping(s->media);
        SK_LOG(up > 0 ? SK_LOG_INFO : SK_LOG_WARN, "media", "event=rtpengine engage=%s answered=%d",
               s->cfg.media_engage, up);
    }
    return 0;
}

static void close_state(struct sk_server *s)
{
    sk_store_feed_stop(s->store); /* other servers' changes reach events: stop first */
    sk_auth_free(s->auth);
    sk__authwatch_free(s->authwatch);
    sk__events_free(s);
    sk_location_close(s->loc);
    sk_store_close(s->store);
    sk__merge_free(s->merge);
    sk__guard_free(s->guard);
    sk__rechallenge_free(s->rechallenge);
    sk__media_free(s->media);
    sk__natping_free(s->natping);
}

void sk__server_purge(struct sk_server *s)
{
    int n = sk_location_purge(s->loc, sk_wall_s());

    if (n > 0)
        SK_LOG(SK_LOG_DEBUG, "registrar", "event=purged bindings=%d", n);
    else if (n < 0)
        SK_LOG(SK_LOG_ERROR, "registrar", "event=purge_failed error=\"%s\"", sk_strerror(n));
}

int sk_server_new(struct sk_server **out, const struct sk_server_config *cfg,
                  sk_tp_trace_cb on_trace, void *trace_arg)
{
    struct sk_tp_config tc;
    struct sk_tls_config tls;
    struct sk_server *s;
    pthread_condattr_t ca;
    int err;

    err = prepare_data_dir(cfg->data_dir);
    if (err != 0) {
        SK_LOG(SK_LOG_ERROR, "server", "event=data_dir_failed dir=\"%s\" error=\"%s\"",
               cfg->data_dir, sk_strerror(err));
        return err;
    }
    s = sk_calloc(1, sizeof(*s));
    if (s == NULL)
        return SK_ENOMEM;
    s->cfg = *cfg;
    s->started_ms = sk_now_ms();
    pthread_mutex_init(&s->timer_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->timer_cond, &ca);
    pthread_condattr_destroy(&ca);
    if ((err = open_state(s)) != 0)
        goto fail;
    memset(&tc, 0, sizeof(tc));
    /* Always: a sips: target needs TLS out even without a TLS listener. */
    sk_server_config_tls(&s->cfg, &tls);
    tc.tls = &tls;
    tc.listeners = s->cfg.listeners;
    tc.nlisteners = s->cfg.nlisteners;
    tc.workers = s->cfg.workers;
    tc.limits.max_size = s->cfg.max_message_size;
    tc.ws_origins = s->cfg.ws_origins;
    tc.fd_reserve = FD_RESERVE;
    runtime_of(&s->cfg, &tc.runtime);
    tc.on_recv = sk__pipeline_recv;
    tc.recv_arg = s;
    tc.on_closed = sk__nat_flow_closed;
    tc.closed_arg = s;
    tc.on_idle = sk__nat_flow_idle;
    tc.idle_arg = s;
    tc.on_trace = on_trace;
    tc.trace_arg = trace_arg;
    err = sk_tp_new(&s->tp, &tc);
    if (err != 0)
        goto fail;
    if ((err = collect_self(s)) != 0 || (err = check_node_address(s)) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    sk_server_free(s);
    return err;
}

int sk_server_start(struct sk_server *s)
{
    char a[SK_ADDR_STRLEN];
    int err = sk_tp_start(s->tp);

    if (err != 0) {
        SK_LOG(SK_LOG_ERROR, "server", "event=start_failed error=\"%s\"", sk_strerror(err));
        return err;
    }
    for (unsigned i = 0; i < s->cfg.nlisteners; i++) {
        struct sk_addr b;
        if (sk_tp_listener_addr(s->tp, i, &b) != 0)
            continue;
        sk_addr_format(&b, a, sizeof(a));
        if (s->cfg.listeners[i].tls || s->cfg.listeners[i].ws) {
            SK_LOG(SK_LOG_INFO, "server", "event=listening transport=%s addr=%s",
                   sk_transport_name(sk_listener_transport(&s->cfg.listeners[i])), a);
            continue;
        }
        SK_LOG(SK_LOG_INFO, "server", "event=listening transport=udp addr=%s", a);
        SK_LOG(SK_LOG_INFO, "server", "event=listening transport=tcp addr=%s", a);
    }
    if (pthread_create(&s->timer, NULL, timer_main, s) != 0) {
        SK_LOG(SK_LOG_ERROR, "server", "event=start_failed error=\"timer thread\"");
        return SK_ENOMEM;
    }
    s->timer_started = true;
    SK_LOG(SK_LOG_INFO, "server", "event=started workers=%u domain=%s data_dir=\"%s\"",
           sk_tp_worker_count(s->tp), s->cfg.domain, s->cfg.data_dir);
    return 0;
}

/* [tls]: certificates are read again even when their paths are the same
 * (a renewed certificate replaces the file); new connections use them. */
static void reload_tls(struct sk_server *s, const struct sk_server_config *cfg)
{
    struct sk_server_config next = s->cfg;
    struct sk_tls_config tls;

    memcpy(next.tls_cert, cfg->tls_cert, sizeof(next.tls_cert));
    memcpy(next.tls_key, cfg->tls_key, sizeof(next.tls_key));
    memcpy(next.tls_ca, cfg->tls_ca, sizeof(next.tls_ca));
    memcpy(next.tls_verify_client, cfg->tls_verify_client, sizeof(next.tls_verify_client));
    memcpy(next.tls_min_version, cfg->tls_min_version, sizeof(next.tls_min_version));
    memcpy(next.tls_ciphers, cfg->tls_ciphers, sizeof(next.tls_ciphers));
    sk_server_config_tls(&next, &tls);
    if (sk_tp_tls_reload(s->tp, &tls) == 0) {
        memcpy(s->cfg.tls_cert, next.tls_cert, sizeof(next.tls_cert));
        memcpy(s->cfg.tls_key, next.tls_key, sizeof(next.tls_key));
        memcpy(s->cfg.tls_ca, next.tls_ca, sizeof(next.tls_ca));
        memcpy(s->cfg.tls_verify_client, next.tls_verify_client, sizeof(next.tls_verify_client));
        memcpy(s->cfg.tls_min_version, next.tls_min_version, sizeof(next.tls_min_version));
        memcpy(s->cfg.tls_ciphers, next.tls_ciphers, sizeof(next.tls_ciphers));
    }
}

void sk_server_reload(struct sk_server *s, const struct sk_server_config *cfg)
{
    size_t n;
    const struct sk_option *opts = sk_server_options(&n);
    struct sk_tp_runtime rt;

    /* Options that need a restart keep their old value; say which. */
    for (size_t i = 0; i < n; i++) {
        const struct sk_option *o = &opts[i];
        const char *oldv = (const char *)&s->cfg + o->offset;
        const char *newv = (const char *)cfg + o->offset;
        bool changed;
        if (o->reloadable)
            continue;
        if (o->type == SK_OPT_LISTEN)
            changed = s->cfg.nlisteners != cfg->nlisteners ||
                      memcmp(s->cfg.listeners, cfg->listeners,
                             cfg->nlisteners * sizeof(cfg->listeners[0])) != 0;
        else if (o->type == SK_OPT_STRING)
            changed = strcmp(oldv, newv) != 0;
        else
            changed = memcmp(oldv, newv, sizeof(unsigned)) != 0;
        if (changed)
            SK_LOG(SK_LOG_WARN, "server", "event=reload_skipped option=%s reason=\"needs restart\"",
                   o->name);
    }
    s->cfg.log_level = cfg->log_level;
    s->cfg.trace = cfg->trace;
    s->cfg.tcp_idle_timeout = cfg->tcp_idle_timeout;
    s->cfg.tcp_max_connections = cfg->tcp_max_connections;
    s->cfg.tcp_max_per_address = cfg->tcp_max_per_address;
    s->cfg.tcp_message_timeout = cfg->tcp_message_timeout;
    s->cfg.tcp_max_buffer = cfg->tcp_max_buffer;
    s->cfg.ws_ping_interval = cfg->ws_ping_interval;
    runtime_of(&s->cfg, &rt);
    sk_tp_set_runtime(s->tp, &rt);
    reload_tls(s, cfg);
    SK_LOG(SK_LOG_INFO, "server", "event=reloaded log_level=%s trace=%s tcp_idle_timeout=%u",
           sk_log_level_name((enum sk_log_level)s->cfg.log_level), s->cfg.trace ? "on" : "off",
           s->cfg.tcp_idle_timeout);
}

void sk_server_stop(struct sk_server *s)
{
    struct sk_tp_stats st;

    if (s == NULL || s->tp == NULL)
        return;
    SK_LOG(SK_LOG_INFO, "server", "event=draining timeout_s=%u transactions=%zu",
           s->cfg.drain_timeout, sk_txn_table_count(s->txns));
    /* New requests get 503 from now on; retransmissions and ACKs still
     * reach their transactions, which the timer thread runs to the end. */
    atomic_store(&s->draining, true);
    uint64_t until = sk_now_ms() + (uint64_t)s->cfg.drain_timeout * 1000;
    while (s->timer_started && sk_txn_table_count(s->txns) > 0 && sk_now_ms() < until) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    SK_LOG(SK_LOG_INFO, "server", "event=drained transactions_left=%zu",
           sk_txn_table_count(s->txns));
    sk_tp_stop(s->tp, 1000);
    stop_timer(s);
    sk_tp_get_stats(s->tp, &st);
    SK_LOG(SK_LOG_INFO, "server",
           "event=stopped rx=%llu tx=%llu bad=%llu tcp_accepted=%llu tcp_refused=%llu",
           (unsigned long long)st.rx_msgs, (unsigned long long)st.tx_msgs,
           (unsigned long long)st.rx_bad, (unsigned long long)st.tcp_accepted,
           (unsigned long long)st.tcp_refused);
}

void sk_server_free(struct sk_server *s)
{
    if (s == NULL)
        return;
    stop_timer(s);
    /* Messages waiting for rtpengine go on (unrelayed) while the proxy,
     * the transactions and the transport are still there. */
    sk__media_stop(s->media);
    /* REGISTERs waiting for their COMMIT are answered while the transport,
     * the transactions and the events layer are still there. */
    sk_store_flush(s->store);
    sk_tp_free(s->tp);
    sk__proxy_free(s->proxy); /* drops its transaction references first */
    sk_txn_table_free(s->txns);
    close_state(s);
    pthread_mutex_destroy(&s->timer_lock);
    pthread_cond_destroy(&s->timer_cond);
    sk_free(s->self);
    sk_free(s);
}

int sk_server_listener_addr(const struct sk_server *s, unsigned i, struct sk_addr *out)
{
    return sk_tp_listener_addr(s->tp, i, out);
}
