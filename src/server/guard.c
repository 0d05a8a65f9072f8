/*
 * The guard: bans, the per-address flood limit, the per-user slow-down
 * and log summaries (see guard.h for the behaviour and options).
 *
 * Tables: addresses and users live in fixed arrays split into shards,
 * each with its own mutex; a key hashes to one bucket of WAYS entries
 * (the layout of the nonce-count table in auth/nonce.c). A new key takes
 * a free entry of its bucket or evicts the least recently seen one,
 * banned entries last, so an attacker with many addresses can push out
 * counters but does not grow memory. IPv4 addresses are kept as
 * IPv4-mapped IPv6 so one key type serves both.
 *
 * Time: now_ms comes from the caller (sk_now_ms(), monotonic); bans are
 * written to the store with wall-clock ends.
 *
 * Memory: the guard owns its tables and the delayed answers (one heap
 * block each, at most DELAY_MAX of them).
 */
#include "server/guard.h"

#include <sipkit/containers.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SHARDS         64
#define WAYS           8
#define ADDR_SLOTS     16384 /* all shards together */
#define USER_SLOTS     8192
#define USER_KEY_MAX   64
#define DELAY_MAX      1024
#define SYNC_MS        2000
#define SWEEP_MS       1000
#define USER_DELAY_MS0 250 /* first step of the per-user delay */

enum drop_why { DROP_NONE = 0, DROP_BANNED, DROP_RATE };

struct aentry {
    unsigned char ip[16];
    bool used;
    uint64_t seen_ms;
    /* failed authentications in the current window */
    uint64_t fail_start_ms;
    uint32_t fails;
    /* messages in the current rate window; windows over the limit in a row */
    uint64_t rate_start_ms;
    uint32_t rate_count;
    uint32_t over;
    /* ban: until (0 = none), level (bans so far), written to the store */
    uint64_t ban_until_ms;
    uint64_t ban_ended_ms;
    uint32_t level;
    bool persisted;
    bool flood;
    /* log summary: the interval's first failure was logged; later ones
     * are counted here with the last user and cause */
    uint64_t log_start_ms;
    uint32_t log_quiet;
    char last_user[USER_KEY_MAX];
    const char *last_cause;
    uint32_t dropped;
    enum drop_why drop_why;
};

struct uentry {
    char user[USER_KEY_MAX];
    bool used;
    uint64_t seen_ms;
    uint64_t fail_start_ms;
    uint32_t fails;
    uint64_t next_check_ms;
};

struct shard {
    pthread_mutex_t lock;
    struct aentry a[ADDR_SLOTS / SHARDS];
    struct uentry u[USER_SLOTS / SHARDS];
};

struct delayed {
    uint64_t due_ms;
    struct sk_addr dst;
    size_t len;
    char *data;
};

struct sk__guard {
    struct sk_server_config cfg; /* the [security] values are read from here */
    struct sk__cidr trusted[SK__GUARD_MAX_TRUSTED];
    size_t ntrusted;
    struct shard shards[SHARDS];
    pthread_mutex_t dlock;
    struct delayed q[DELAY_MAX];
    size_t nq;
    uint64_t dropped_delayed;
    uint64_t next_sweep_ms, next_sync_ms;
    /* For the metrics (sk__guard_counts): relaxed, only ever growing. */
    _Atomic uint64_t n_dropped[2]; /* banned, over the rate limit */
    _Atomic uint64_t n_bans[2];    /* for auth failures, for flooding */
};

/* Addresses are chosen by peers: the process's keyed hash, so no one can
 * aim every entry at one slot. */
static uint64_t hash_bytes(const void *p, size_t n)
{
    return sk_hash(p, n);
}

static bool trusted_ip(const struct sk__guard *g, const unsigned char *ip)
{
    return sk__cidrs_match(g->trusted, g->ntrusted, ip);
}

bool sk__guard_trusted(const struct sk__guard *g, const struct sk_addr *src)
{
    unsigned char ip[16];

    sk__ip_key(src, ip);
    return trusted_ip(g, ip);
}

int sk__guard_check_config(const struct sk_server_config *cfg, char *err, size_t errsz)
{
    struct sk__cidr c[SK__GUARD_MAX_TRUSTED];
    size_t n;

    return sk__cidrs_parse(cfg->sec_trusted, c, &n, err, errsz);
}

/* ---- setup ------------------------------------------------------------------ */

int sk__guard_new(struct sk__guard **out, const struct sk_server_config *cfg)
{
    struct sk__guard *g = sk_calloc(1, sizeof(*g));
    char err[128];

    if (g == NULL)
        return SK_ENOMEM;
    g->cfg = *cfg;
    if (sk__cidrs_parse(cfg->sec_trusted, g->trusted, &g->ntrusted, err, sizeof(err)) != 0) {
        SK_LOG(SK_LOG_ERROR, "guard", "event=config_failed error=\"%s\"", err);
        sk_free(g);
        return SK_EINVAL;
    }
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&g->shards[i].lock, NULL);
    pthread_mutex_init(&g->dlock, NULL);
    *out = g;
    return 0;
}

void sk__guard_free(struct sk__guard *g)
{
    if (g == NULL)
        return;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_destroy(&g->shards[i].lock);
    for (size_t i = 0; i < g->nq; i++)
        sk_free(g->q[i].data);
    pthread_mutex_destroy(&g->dlock);
    sk_free(g);
}

/* ---- the address table ------------------------------------------------------ */

static void summarise(struct sk__guard *g, struct aentry *e, uint64_t now, bool force);

static bool banned(const struct aentry *e, uint64_t now)
{
    return e->ban_until_ms > now;
}

/* Entry for ip in its shard (locked by the caller); create evicts. */
static struct aentry *addr_find(struct shard *sh, const unsigned char *ip, uint64_t h, bool create,
                                uint64_t now)
{
    const size_t n = ADDR_SLOTS / SHARDS;
    size_t base = (size_t)(h / SHARDS) % (n / WAYS) * WAYS;
    struct aentry *victim = NULL;

    for (size_t w = 0; w < WAYS; w++) {
        struct aentry *e = &sh->a[base + w];
        if (e->used && memcmp(e->ip, ip, 16) == 0)
            return e;
        if (!create)
            continue;
        if (!e->used) {
            if (victim == NULL || victim->used)
                victim = e;
        } else if (victim == NULL || (victim->used && (banned(victim, now) > banned(e, now) ||
                                                       (banned(victim, now) == banned(e, now) &&
                                                        e->seen_ms < victim->seen_ms)))) {
            victim = e;
        }
    }
    if (victim == NULL)
        return NULL;
    memset(victim, 0, sizeof(*victim));
    memcpy(victim->ip, ip, 16);
    victim->used = true;
    victim->seen_ms = now;
    return victim;
}

static struct shard *shard_of(struct sk__guard *g, uint64_t h)
{
    return &g->shards[h % SHARDS];
}

static uint64_t ban_ms(const struct sk__guard *g, uint32_t level)
{
    uint64_t t = (uint64_t)g->cfg.sec_ban_time * 1000;
    uint64_t max = (uint64_t)g->cfg.sec_ban_time_max * 1000;

    for (uint32_t i = 1; i < level && t < max; i++)
        t *= 2; /* doubling on each repeat */
    return t > max ? max : t;
}

/* Ban e now (shard locked). One line fail2ban can match on src=. */
static void ban(struct sk__guard *g, struct aentry *e, uint64_t now, bool flood)
{
    char ip[64];
    uint64_t t;

    /* A ban long over starts the doubling again. */
    if (e->ban_ended_ms != 0 && now - e->ban_ended_ms > (uint64_t)g->cfg.sec_ban_time_max * 1000)
        e->level = 0;
    e->level++;
    t = ban_ms(g, e->level);
    e->ban_until_ms = now + t;
    e->ban_ended_ms = e->ban_until_ms;
    e->persisted = false;
    e->flood = flood;
    atomic_fetch_add_explicit(&g->n_bans[flood], 1, memory_order_relaxed);
    e->fails = 0;
    e->over = 0;
    sk__ip_text(e->ip, ip, sizeof(ip));
    SK_LOG(SK_LOG_WARN, "guard",
           "event=ban src=%s reason=%s ban_s=%llu level=%u failures=%u window_s=%u", ip,
           flood ? "flood" : "auth_failures", (unsigned long long)(t / 1000), e->level,
           flood ? 0 : g->cfg.sec_auth_fail_limit,
           flood ? g->cfg.sec_rate_window : g->cfg.sec_auth_fail_window);
}

/* Count one message in the rate window (shard locked). false: over. */
static bool rate_ok(struct sk__guard *g, struct aentry *e, uint64_t now)
{
    uint64_t win = (uint64_t)g->cfg.sec_rate_window * 1000;
    uint64_t limit = (uint64_t)g->cfg.sec_rate_limit * g->cfg.sec_rate_window;

    if (g->cfg.sec_rate_limit == 0)
        return true;
    if (now - e->rate_start_ms >= win) {
        /* The window that ended: over the limit, or a quiet one. */
        if (e->rate_count > limit && now - e->rate_start_ms < 2 * win)
            e->over++;
        else
            e->over = 0;
        e->rate_start_ms = now;
        e->rate_count = 0;
    }
    e->rate_count++;
    if (e->rate_count <= limit)
        return true;
    if (e->rate_count == limit + 1 && g->cfg.sec_rate_ban_windows > 0 &&
        e->over + 1 >= g->cfg.sec_rate_ban_windows && g->cfg.sec_ban_time > 0)
        ban(g, e, now, true);
    return false;
}

bool sk__guard_admit(struct sk__guard *g, const struct sk_addr *src, uint64_t now)
{
    unsigned char ip[16];
    uint64_t h;
    struct shard *sh;
    struct aentry *e;
    bool ok;

    sk__ip_key(src, ip);
    if (trusted_ip(g, ip))
        return true;
    h = hash_bytes(ip, 16);
    sh = shard_of(g, h);
    pthread_mutex_lock(&sh->lock);
    e = addr_find(sh, ip, h, true, now);
    if (e == NULL) {
        pthread_mutex_unlock(&sh->lock);
        return true;
    }
    e->seen_ms = now;
    if (banned(e, now)) {
        ok = false;
        e->drop_why = DROP_BANNED;
    } else {
        ok = rate_ok(g, e, now);
        if (!ok)
            e->drop_why = banned(e, now) ? DROP_BANNED : DROP_RATE;
    }
    if (!ok) {
        e->dropped++;
        atomic_fetch_add_explicit(&g->n_dropped[e->drop_why == DROP_RATE], 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&sh->lock);
    return ok;
}

size_t sk__guard_ban_count(struct sk__guard *g, uint64_t now)
{
    size_t n = 0;

    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &g->shards[i];
        pthread_mutex_lock(&sh->lock);
        for (size_t j = 0; j < ADDR_SLOTS / SHARDS; j++)
            n += sh->a[j].used && banned(&sh->a[j], now);
        pthread_mutex_unlock(&sh->lock);
    }
    return n;
}

void sk__guard_counts(struct sk__guard *g, uint64_t now_ms, struct sk__guard_counts *out)
{
    out->dropped_banned = atomic_load_explicit(&g->n_dropped[0], memory_order_relaxed);
    out->dropped_rate = atomic_load_explicit(&g->n_dropped[1], memory_order_relaxed);
    out->bans_auth = atomic_load_explicit(&g->n_bans[0], memory_order_relaxed);
    out->bans_flood = atomic_load_explicit(&g->n_bans[1], memory_order_relaxed);
    out->bans_active = sk__guard_ban_count(g, now_ms);
}

/* ---- users ------------------------------------------------------------------ */

static struct uentry *user_find(struct shard *sh, const char *user, uint64_t h, bool create,
                                uint64_t now)
{
    const size_t n = USER_SLOTS / SHARDS;
    size_t base = (size_t)(h / SHARDS) % (n / WAYS) * WAYS;
    struct uentry *victim = NULL;

    for (size_t w = 0; w < WAYS; w++) {
        struct uentry *e = &sh->u[base + w];
        if (e->used && strcmp(e->user, user) == 0)
            return e;
        if (!create)
            continue;
        if (victim == NULL || (victim->used && (!e->used || e->seen_ms < victim->seen_ms)))
            victim = e;
    }
    if (victim == NULL)
        return NULL;
    memset(victim, 0, sizeof(*victim));
    snprintf(victim->user, sizeof(victim->user), "%s", user);
    victim->used = true;
    victim->seen_ms = now;
    return victim;
}

/* The delay after f failures: USER_DELAY_MS0, doubling per further
 * failure, at most user_delay_max ms. */
static uint32_t user_delay(const struct sk__guard *g, uint32_t fails)
{
    uint64_t d = USER_DELAY_MS0;

    if (g->cfg.sec_user_delay_after == 0 || fails < g->cfg.sec_user_delay_after)
        return 0;
    for (uint32_t i = g->cfg.sec_user_delay_after; i < fails && d < g->cfg.sec_user_delay_max; i++)
        d *= 2;
    return (uint32_t)(d > g->cfg.sec_user_delay_max ? g->cfg.sec_user_delay_max : d);
}

static void window_roll(uint64_t *start, uint32_t *count, uint64_t now, uint64_t win)
{
    if (now - *start >= win) {
        *start = now;
        *count = 0;
    }
}

uint32_t sk__guard_user_gate(struct sk__guard *g, const struct sk_addr *src, const char *user,
                             uint64_t now, bool *check)
{
    char key[USER_KEY_MAX];
    uint64_t h;
    struct shard *sh;
    struct uentry *e;
    uint32_t d = 0;

    *check = true;
    if (g->cfg.sec_user_delay_after == 0 || sk__guard_trusted(g, src))
        return 0;
    snprintf(key, sizeof(key), "%s", user);
    h = hash_bytes(key, strlen(key));
    sh = shard_of(g, h);
    pthread_mutex_lock(&sh->lock);
    e = user_find(sh, key, h, false, now);
    if (e != NULL) {
        window_roll(&e->fail_start_ms, &e->fails, now,
                    (uint64_t)g->cfg.sec_auth_fail_window * 1000);
        d = user_delay(g, e->fails);
        if (d > 0) {
            /* One look at the credentials per delay: the others are
             * answered as failures without being checked. */
            if (now < e->next_check_ms)
                *check = false;
            else
                e->next_check_ms = now + d;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    return d;
}

void sk__guard_auth_ok(struct sk__guard *g, const char *user)
{
    char key[USER_KEY_MAX];
    uint64_t h;
    struct shard *sh;
    struct uentry *e;

    snprintf(key, sizeof(key), "%s", user);
    h = hash_bytes(key, strlen(key));
    sh = shard_of(g, h);
    pthread_mutex_lock(&sh->lock);
    e = user_find(sh, key, h, false, 0);
    if (e != NULL)
        e->used = false;
    pthread_mutex_unlock(&sh->lock);
}

static void user_failed(struct sk__guard *g, const char *user, uint64_t now)
{
    char key[USER_KEY_MAX];
    uint64_t h;
    struct shard *sh;
    struct uentry *e;

    if (g->cfg.sec_user_delay_after == 0)
        return;
    snprintf(key, sizeof(key), "%s", user);
    h = hash_bytes(key, strlen(key));
    sh = shard_of(g, h);
    pthread_mutex_lock(&sh->lock);
    e = user_find(sh, key, h, true, now);
    if (e != NULL) {
        e->seen_ms = now;
        window_roll(&e->fail_start_ms, &e->fails, now,
                    (uint64_t)g->cfg.sec_auth_fail_window * 1000);
        e->fails++;
    }
    pthread_mutex_unlock(&sh->lock);
}

bool sk__guard_auth_failed(struct sk__guard *g, const struct sk_addr *src, const char *user,
                           const char *cause, uint64_t now)
{
    unsigned char ip[16];
    uint64_t h;
    struct shard *sh;
    struct aentry *e;
    bool log_it = true;

    sk__ip_key(src, ip);
    if (trusted_ip(g, ip))
        return true;
    user_failed(g, user, now);
    h = hash_bytes(ip, 16);
    sh = shard_of(g, h);
    pthread_mutex_lock(&sh->lock);
    e = addr_find(sh, ip, h, true, now);
    if (e != NULL) {
        e->seen_ms = now;
        window_roll(&e->fail_start_ms, &e->fails, now,
                    (uint64_t)g->cfg.sec_auth_fail_window * 1000);
        e->fails++;
        if (g->cfg.sec_auth_fail_limit > 0 && g->cfg.sec_ban_time > 0 &&
            e->fails >= g->cfg.sec_auth_fail_limit && !banned(e, now))
            ban(g, e, now, false);
        /* Identical failures (same user, same cause) are logged once per
         * interval and summed; a different one is logged at once. */
        bool same = e->last_cause != NULL && strcmp(e->last_cause, cause) == 0 &&
                    strncmp(e->last_user, user, sizeof(e->last_user) - 1) == 0;
        if (same && e->log_start_ms != 0 &&
            now - e->log_start_ms < (uint64_t)g->cfg.sec_summary_interval * 1000) {
            log_it = false;
            e->log_quiet++;
        } else {
            summarise(g, e, now, true);
            e->log_start_ms = now;
            snprintf(e->last_user, sizeof(e->last_user), "%s", user);
            e->last_cause = cause;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    return log_it;
}

/* ---- delayed answers -------------------------------------------------------- */

int sk__guard_delay(struct sk__guard *g, const struct sk_addr *dst, const char *data, size_t len,
                    uint64_t due)
{
    char *copy;
    int rc = 0;

    pthread_mutex_lock(&g->dlock);
    if (g->nq == DELAY_MAX || (copy = sk_malloc(len)) == NULL) {
        g->dropped_delayed++;
        rc = SK_EAGAIN;
    } else {
        memcpy(copy, data, len);
        g->q[g->nq].due_ms = due;
        g->q[g->nq].dst = *dst;
        g->q[g->nq].len = len;
        g->q[g->nq].data = copy;
        g->nq++;
    }
    pthread_mutex_unlock(&g->dlock);
    return rc;
}

uint64_t sk__guard_next_due(struct sk__guard *g)
{
    uint64_t due = UINT64_MAX;

    pthread_mutex_lock(&g->dlock);
    for (size_t i = 0; i < g->nq; i++) {
        if (g->q[i].due_ms < due)
            due = g->q[i].due_ms;
    }
    pthread_mutex_unlock(&g->dlock);
    return due;
}

static void send_due(struct sk__guard *g, uint64_t now, sk__guard_send_cb send, void *arg)
{
    for (;;) {
        struct delayed d = {0};
        pthread_mutex_lock(&g->dlock);
        for (size_t i = 0; i < g->nq; i++) {
            if (g->q[i].due_ms <= now) {
                d = g->q[i];
                g->q[i] = g->q[--g->nq];
                break;
            }
        }
        pthread_mutex_unlock(&g->dlock);
        if (d.data == NULL)
            return;
        send(arg, &d.dst, d.data, d.len);
        sk_free(d.data);
    }
}

/* ---- summaries and the store --------------------------------------------------- */

struct pending {
    unsigned char ip[16];
    uint64_t until_ms;
    uint32_t level;
    bool flood;
};

/* Log what an entry counted silently (shard locked): once its interval
 * is over, or at once (force) when another failure takes its place. */
static void summarise(struct sk__guard *g, struct aentry *e, uint64_t now, bool force)
{
    char ip[64];
    uint64_t iv = (uint64_t)g->cfg.sec_summary_interval * 1000;

    if (e->log_quiet > 0 && (force || now - e->log_start_ms >= iv)) {
        sk__ip_text(e->ip, ip, sizeof(ip));
        SK_LOG(SK_LOG_INFO, "guard",
               "event=auth_failed_summary src=%s count=%u interval_s=%u last_user=\"%s\" "
               "last_cause=%s",
               ip, e->log_quiet, g->cfg.sec_summary_interval, e->last_user,
               e->last_cause != NULL ? e->last_cause : "?");
        e->log_quiet = 0;
        e->log_start_ms = 0;
    }
    if (e->dropped > 0) {
        sk__ip_text(e->ip, ip, sizeof(ip));
        SK_LOG(SK_LOG_INFO, "guard", "event=dropped_summary src=%s count=%u reason=%s", ip,
               e->dropped, e->drop_why == DROP_BANNED ? "banned" : "rate_limit");
        e->dropped = 0;
    }
}

/* Once a second: summaries; collect bans not yet in the store. */
static size_t sweep(struct sk__guard *g, uint64_t now, struct pending *p, size_t max)
{
    size_t n = 0;

    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &g->shards[i];
        pthread_mutex_lock(&sh->lock);
        for (size_t j = 0; j < ADDR_SLOTS / SHARDS; j++) {
            struct aentry *e = &sh->a[j];
            if (!e->used)
                continue;
            summarise(g, e, now, false);
            if (banned(e, now) && !e->persisted && n < max) {
                memcpy(p[n].ip, e->ip, 16);
                p[n].until_ms = e->ban_until_ms;
                p[n].level = e->level;
                p[n].flood = e->flood;
                n++;
            }
        }
        pthread_mutex_unlock(&sh->lock);
    }
    return n;
}

static void mark_persisted(struct sk__guard *g, const struct pending *p)
{
    uint64_t h = hash_bytes(p->ip, 16);
    struct shard *sh = shard_of(g, h);
    struct aentry *e;

    pthread_mutex_lock(&sh->lock);
    e = addr_find(sh, p->ip, h, false, 0);
    if (e != NULL && e->ban_until_ms == p->until_ms)
        e->persisted = true;
    pthread_mutex_unlock(&sh->lock);
}

struct sync_ctx {
    struct sk__guard *g;
    uint64_t now_ms;
    int64_t wall;
    unsigned char (*seen)[16];
    size_t nseen, cap;
};

/* A ban in the store: make sure it holds here (a restart, another node). */
static int on_stored_ban(void *arg, const struct sk_store_ban *b)
{
    struct sync_ctx *x = arg;
    unsigned char ip[16];
    uint64_t h;
    struct shard *sh;
    struct aentry *e;

    if (sk__ip_parse(b->addr, ip) != 0)
        return 0;
    if (x->nseen < x->cap)
        memcpy(x->seen[x->nseen++], ip, 16);
    h = hash_bytes(ip, 16);
    sh = shard_of(x->g, h);
    pthread_mutex_lock(&sh->lock);
    e = addr_find(sh, ip, h, true, x->now_ms);
    if (e != NULL && !banned(e, x->now_ms)) {
        e->ban_until_ms = x->now_ms + (uint64_t)(b->until - x->wall) * 1000;
        e->ban_ended_ms = e->ban_until_ms;
        e->level = b->level;
        e->flood = strcmp(b->reason, "flood") == 0;
        e->persisted = true;
        e->seen_ms = x->now_ms;
    }
    pthread_mutex_unlock(&sh->lock);
    return 0;
}

static bool was_seen(const struct sync_ctx *x, const unsigned char *ip)
{
    for (size_t i = 0; i < x->nseen; i++) {
        if (memcmp(x->seen[i], ip, 16) == 0)
            return true;
    }
    return false;
}

/* Bans written earlier and gone from the store were lifted by an admin. */
static void lift_deleted(struct sk__guard *g, const struct sync_ctx *x)
{
    char ip[64];

    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &g->shards[i];
        pthread_mutex_lock(&sh->lock);
        for (size_t j = 0; j < ADDR_SLOTS / SHARDS; j++) {
            struct aentry *e = &sh->a[j];
            if (!e->used || !banned(e, x->now_ms) || !e->persisted || was_seen(x, e->ip))
                continue;
            e->ban_until_ms = 0;
            e->fails = 0;
            e->over = 0;
            e->level = 0;
            sk__ip_text(e->ip, ip, sizeof(ip));
            SK_LOG(SK_LOG_WARN, "guard", "event=unban src=%s by=store", ip);
        }
        pthread_mutex_unlock(&sh->lock);
    }
}

static void sync_store(struct sk__guard *g, uint64_t now, struct sk_store *store)
{
    struct pending p[64];
    struct sync_ctx x = {.g = g, .now_ms = now, .wall = sk_wall_s(), .cap = 4096};
    size_t n = sweep(g, now, p, 64);
    char ip[64];

    for (size_t i = 0; i < n && store != NULL; i++) {
        struct sk_store_ban b;
        memset(&b, 0, sizeof(b));
        sk__ip_text(p[i].ip, ip, sizeof(ip));
        snprintf(b.addr, sizeof(b.addr), "%s", ip);
        b.until = x.wall + (int64_t)((p[i].until_ms - now + 999) / 1000);
        b.level = p[i].level;
        snprintf(b.reason, sizeof(b.reason), "%s", p[i].flood ? "flood" : "auth_failures");
        b.created = x.wall;
        if (sk_store_ban_put(store, &b) == 0)
            mark_persisted(g, &p[i]);
        else
            SK_LOG(SK_LOG_ERROR, "guard", "event=ban_store_failed src=%s", ip);
    }
    if (store == NULL || now < g->next_sync_ms)
        return;
    g->next_sync_ms = now + SYNC_MS;
    x.seen = sk_malloc(x.cap * sizeof(*x.seen));
    if (x.seen == NULL)
        return;
    sk_store_ban_purge(store, x.wall);
    if (sk_store_ban_list(store, x.wall, on_stored_ban, &x) == 0)
        lift_deleted(g, &x);
    sk_free(x.seen);
}

void sk__guard_tick(struct sk__guard *g, uint64_t now, struct sk_store *store,
                    sk__guard_send_cb send, void *send_arg)
{
    send_due(g, now, send, send_arg);
    if (now < g->next_sweep_ms)
        return;
    g->next_sweep_ms = now + SWEEP_MS;
    sync_store(g, now, store);
    if (g->dropped_delayed > 0) {
        pthread_mutex_lock(&g->dlock);
        uint64_t n = g->dropped_delayed;
        g->dropped_delayed = 0;
        pthread_mutex_unlock(&g->dlock);
        SK_LOG(SK_LOG_INFO, "guard", "event=delayed_dropped_summary count=%llu",
               (unsigned long long)n);
    }
}
