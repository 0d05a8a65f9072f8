/*
 * Media relay through rtpengine. sipkit relays no RTP itself: for a call
 * whose media must be relayed (media.engage: always, or when a side is
 * behind NAT) it asks an rtpengine instance, over rtpengine's ng control
 * protocol, to stand between the two parties, and replaces each SDP body
 * with the one rtpengine returns (its own address and ports):
 *
 *   offer   an INVITE's (or re-INVITE's) SDP; or the SDP of the 183/200
 *           when the INVITE had none (the callee is then the offerer);
 *   answer  the SDP of the 183/200 answering an offer;
 *   delete  on BYE, and on a failed or cancelled INVITE.
 *
 * A request is "COOKIE SP DICT" in one UDP datagram, DICT a bencoded
 * dictionary (bencode.c) with "command", "call-id", "from-tag", "to-tag"
 * and "sdp"; the reply is the same cookie and a dictionary whose "result"
 * is "ok" (with "sdp"), "pong" or "error" (with "error-reason"). A
 * retransmission carries the same cookie, so rtpengine answers it from
 * its cache instead of acting twice.
 *
 * Instances do not share calls, so every command of one call must reach
 * the instance that took its offer: the instances are tried in an order
 * drawn from the Call-ID, the same for every message of the call. An
 * instance that does not answer (timeout, ICMP unreachable) is tried last
 * for the next FAIL_HOLD_MS, so that a dead instance costs one timeout,
 * not one per call; the next in the order takes its calls (failover).
 *
 * Each command blocks the calling thread: one connected UDP socket, at
 * most two sends (one retransmission) of media.timeout ms each per
 * instance.
 *
 * Memory: the reply buffer is allocated per command and freed before
 * returning; SDP comes back in the caller's buffer.
 */
#include "server/media.h"

#include "media/bencode.h"

#include <sipkit/containers.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_INSTANCES   8
#define NG_DEFAULT_PORT 2223
#define FAIL_HOLD_MS    10000
#define REPLY_MAX       65536
#define REPLY_NODES     256

enum engage { ENGAGE_NEVER, ENGAGE_NAT, ENGAGE_ALWAYS };

/* The reply's nodes (valid during the call) or NULL, on the client
 * thread. */
typedef void (*job_cb)(void *arg, int err, const struct sk__benc_node *n);

struct sk__media {
    enum engage engage;
    unsigned timeout_ms;
    size_t n;
    struct sk_addr inst[MAX_INSTANCES];
    _Atomic uint64_t down_until[MAX_INSTANCES]; /* ms, sk_now_ms() */
    uint64_t cookie_seed;
    _Atomic uint64_t cookie_counter;
    /* The client thread (started when there is an instance). */
    pthread_t thread;
    bool started;
    int wake;              /* eventfd: commands queued, or stop */
    int fd[MAX_INSTANCES]; /* connected to inst[i] */
    pthread_mutex_t lock;  /* queue, stopping */
    struct sk_dlist queue; /* submitted, not yet taken by the thread */
    bool stopping;
    struct sk_dlist flight;      /* client thread only: sent, waiting */
    char *reply;                 /* client thread only: REPLY_MAX bytes */
    struct sk__benc_node *nodes; /* client thread only: REPLY_NODES */
};

static int parse_engage(const char *v, enum engage *out)
{
    if (strcmp(v, "always") == 0)
        *out = ENGAGE_ALWAYS;
    else if (strcmp(v, "nat") == 0)
        *out = ENGAGE_NAT;
    else if (strcmp(v, "never") == 0)
        *out = ENGAGE_NEVER;
    else
        return SK_EINVAL;
    return 0;
}

/* The instances of media.rtpengine, space- or comma-separated. */
static int parse_instances(const char *v, struct sk_addr *out, size_t *n, char *err, size_t errsz)
{
    const char *p = v;

    *n = 0;
    while (*p != '\0') {
        size_t len;
        p += strspn(p, " \t,");
        len = strcspn(p, " \t,");
        if (len == 0)
            break;
        if (*n == MAX_INSTANCES) {
            snprintf(err, errsz, "media rtpengine: at most %d instances", MAX_INSTANCES);
            return SK_EINVAL;
        }
        if (sk_addr_parse(sk_slice_make(p, len), NG_DEFAULT_PORT, &out[*n]) != 0) {
            snprintf(err, errsz, "media rtpengine: '%.*s' is not ADDR:PORT", (int)len, p);
            return SK_EINVAL;
        }
        out[*n].tp = SK_TP_UDP;
        (*n)++;
        p += len;
    }
    return 0;
}

int sk__media_check_config(const struct sk_server_config *c, char *err, size_t errsz)
{
    struct sk_addr a[MAX_INSTANCES];
    enum engage e;
    size_t n;

    if (parse_engage(c->media_engage, &e) != 0) {
        snprintf(err, errsz, "media engage: '%s' is not always, nat or never", c->media_engage);
        return SK_EINVAL;
    }
    return parse_instances(c->media_rtpengine, a, &n, err, errsz);
}

static int client_start(struct sk__media *md);
static void client_stop(struct sk__media *md);

int sk__media_new(struct sk__media **out, const struct sk_server_config *c)
{
    struct sk__media *md = sk_calloc(1, sizeof(*md));
    char err[128];

    if (md == NULL)
        return SK_ENOMEM;
    if (parse_engage(c->media_engage, &md->engage) != 0 ||
        parse_instances(c->media_rtpengine, md->inst, &md->n, err, sizeof(err)) != 0) {
        sk_free(md);
        return SK_EINVAL;
    }
    md->timeout_ms = c->media_timeout > 0 ? c->media_timeout : 1000;
    if (getrandom(&md->cookie_seed, sizeof(md->cookie_seed), 0) != sizeof(md->cookie_seed))
        md->cookie_seed = sk_now_ms() * 0x9e3779b97f4a7c15u ^ (uint64_t)getpid();
    md->wake = -1;
    if (md->n > 0) {
        int rc = client_start(md);
        if (rc != 0) {
            sk__media_free(md);
            return rc;
        }
    }
    *out = md;
    return 0;
}

void sk__media_stop(struct sk__media *md)
{
    if (md != NULL)
        client_stop(md);
}

void sk__media_free(struct sk__media *md)
{
    if (md == NULL)
        return;
    client_stop(md);
    if (md->wake >= 0) {
        close(md->wake);
        for (size_t i = 0; i < md->n; i++) {
            if (md->fd[i] >= 0)
                close(md->fd[i]);
        }
        pthread_mutex_destroy(&md->lock);
    }
    sk_free(md->reply);
    sk_free(md->nodes);
    sk_free(md);
}

bool sk__media_engage(const struct sk__media *md, bool natted)
{
    if (md == NULL || md->n == 0)
        return false;
    return md->engage == ENGAGE_ALWAYS || (md->engage == ENGAGE_NAT && natted);
}

bool sk__media_has_sdp(const struct sk_msg *m)
{
    struct sk_ctype ct;

    return m->body.len > 0 && sk_msg_ctype(m, &ct) == 1 &&
           sk_slice_caseeq_cstr(ct.type, "application") && sk_slice_caseeq_cstr(ct.subtype, "sdp");
}

/* ---- the ng client thread ---------------------------------------------------- */

/* One command in flight: its datagram, where it stands in the call's
 * order of instances, and what to do with the reply. */
struct job {
    struct sk_dlist link;
    char cookie[17];
    struct sk_buf req;
    size_t start;   /* first instance of the call's order */
    unsigned tried; /* instances tried, bit per index */
    int round;      /* 0: live instances, 1: the others */
    long only;      /* >= 0: that instance alone (ping) */
    size_t cur;     /* the instance it was sent to */
    int attempt;    /* sends to cur so far */
    uint64_t deadline;
    const char *cmd; /* static string, for the log */
    job_cb cb;
    void *arg;
};

static void make_cookie(struct sk__media *md, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t v = md->cookie_seed ^ (atomic_fetch_add(&md->cookie_counter, 1) * 0x9e3779b97f4a7c15u);

    for (int i = 0; i < 16; i++, v >>= 4)
        out[i] = hex[v & 15];
    out[16] = '\0';
}

static uint64_t hash_slice(struct sk_slice s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */

    for (size_t i = 0; i < s.len; i++)
        h = (h ^ (unsigned char)s.p[i]) * 1099511628211u;
    return h;
}

/* Client thread. Finish j: off the flight list, its callback, freed. */
static void job_done(struct sk__media *md, struct job *j, int err, const struct sk__benc_node *n)
{
    (void)md;
    sk_dlist_remove(&j->link);
    j->cb(j->arg, err, n);
    sk_buf_free(&j->req);
    sk_free(j);
}

/* Client thread. Send j to the next instance of its call's order, live
 * ones first (each instance once); SK_ETIMEDOUT when none is left. */
static int job_next(struct sk__media *md, struct job *j)
{
    for (; j->round < 2; j->round++) {
        for (size_t k = 0; k < md->n; k++) {
            size_t i = (j->start + k) % md->n;
            uint64_t now = sk_now_ms();
            bool live = atomic_load(&md->down_until[i]) <= now;
            if (live != (j->round == 0) || (j->tried & (1u << i)) ||
                (j->only >= 0 && i != (size_t)j->only))
                continue;
            j->tried |= 1u << i;
            if (send(md->fd[i], j->req.p, j->req.len, 0) < 0) {
                /* ICMP unreachable from an earlier send: not there. */
                atomic_store(&md->down_until[i], now + FAIL_HOLD_MS);
                continue;
            }
            j->cur = i;
            j->attempt = 1;
            j->deadline = now + md->timeout_ms;
            return 0;
        }
    }
    return SK_ETIMEDOUT;
}

/* Client thread: instance cur of j did not answer. */
static void job_failover(struct sk__media *md, struct job *j)
{
    atomic_store(&md->down_until[j->cur], sk_now_ms() + FAIL_HOLD_MS);
    SK_LOG(SK_LOG_WARN, "media", "event=rtpengine_unreachable instance=%zu command=%s", j->cur,
           j->cmd);
    if (job_next(md, j) != 0)
        job_done(md, j, SK_ETIMEDOUT, NULL);
}

/* Client thread: the reply on instance i's socket. */
static void on_reply(struct sk__media *md, size_t i)
{
    ssize_t n = recv(md->fd[i], md->reply, REPLY_MAX, MSG_DONTWAIT);
    struct sk_dlist *l, *tmp;
    size_t count;

    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        /* Refused (ICMP): every command waiting on it moves on. */
        SK_DLIST_FOREACH_SAFE(l, tmp, &md->flight)
        {
            struct job *j = SK_CONTAINER_OF(l, struct job, link);
            if (j->cur == i)
                job_failover(md, j);
        }
        return;
    }
    /* "COOKIE SP DICT"; a late reply to a command already done is not ours. */
    if (n <= 17 || md->reply[16] != ' ')
        return;
    SK_DLIST_FOREACH_SAFE(l, tmp, &md->flight)
    {
        struct job *j = SK_CONTAINER_OF(l, struct job, link);
        if (j->cur != i || memcmp(md->reply, j->cookie, 16) != 0)
            continue;
        atomic_store(&md->down_until[i], 0);
        if (sk__benc_decode(sk_slice_make(md->reply + 17, (size_t)n - 17), md->nodes, REPLY_NODES,
                            &count) != 0 ||
            md->nodes[0].type != SK__BENC_DICT) {
            SK_LOG(SK_LOG_WARN, "media", "event=rtpengine_bad_reply instance=%zu", i);
            job_done(md, j, SK_EIO, NULL);
        } else {
            job_done(md, j, 0, md->nodes);
        }
        return;
    }
}

/* Client thread: timeouts; returns the ms until the next deadline (-1
 * none). */
static int on_time(struct sk__media *md)
{
    uint64_t now = sk_now_ms(), next = UINT64_MAX;
    struct sk_dlist *l, *tmp;

    SK_DLIST_FOREACH_SAFE(l, tmp, &md->flight)
    {
        struct job *j = SK_CONTAINER_OF(l, struct job, link);
        if (j->deadline > now)
            continue;
        /* One retransmission, same cookie: rtpengine answers it from its
         * cache if the first got through. */
        if (j->attempt == 1 && send(md->fd[j->cur], j->req.p, j->req.len, 0) >= 0) {
            j->attempt = 2;
            j->deadline = now + md->timeout_ms;
            continue;
        }
        job_failover(md, j);
    }
    SK_DLIST_FOREACH_SAFE(l, tmp, &md->flight)
    {
        struct job *j = SK_CONTAINER_OF(l, struct job, link);
        if (j->deadline < next)
            next = j->deadline;
    }
    if (next == UINT64_MAX)
        return -1;
    return next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
}

/* Client thread: take the submitted commands and send them. */
static bool take_queue(struct sk__media *md)
{
    struct sk_dlist q, *l;
    bool stop;

    sk_dlist_init(&q);
    pthread_mutex_lock(&md->lock);
    while ((l = sk_dlist_first(&md->queue)) != NULL) {
        sk_dlist_remove(l);
        sk_dlist_push_back(&q, l);
    }
    stop = md->stopping;
    pthread_mutex_unlock(&md->lock);
    while ((l = sk_dlist_first(&q)) != NULL) {
        struct job *j = SK_CONTAINER_OF(l, struct job, link);
        sk_dlist_remove(l);
        sk_dlist_push_back(&md->flight, l);
        if (job_next(md, j) != 0)
            job_done(md, j, SK_ETIMEDOUT, NULL);
    }
    return stop;
}

static void *client_main(void *arg)
{
    struct sk__media *md = arg;
    struct pollfd p[MAX_INSTANCES + 1];
    int wait = -1;

    for (;;) {
        uint64_t one;
        p[0] = (struct pollfd){md->wake, POLLIN, 0};
        for (size_t i = 0; i < md->n; i++)
            p[i + 1] = (struct pollfd){md->fd[i], POLLIN, 0};
        if (poll(p, md->n + 1, wait) < 0 && errno != EINTR)
            break;
        if (p[0].revents & POLLIN) {
            if (read(md->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
                break;
            if (take_queue(md))
                break;
        }
        for (size_t i = 0; i < md->n; i++) {
            if (p[i + 1].revents & (POLLIN | POLLERR))
                on_reply(md, i);
        }
        wait = on_time(md);
    }
    /* Stopping: what is still waiting ends as if no instance answered. */
    take_queue(md);
    struct sk_dlist *l;
    while ((l = sk_dlist_first(&md->flight)) != NULL)
        job_done(md, SK_CONTAINER_OF(l, struct job, link), SK_ETIMEDOUT, NULL);
    return NULL;
}

static int client_start(struct sk__media *md)
{
    pthread_mutex_init(&md->lock, NULL);
    sk_dlist_init(&md->queue);
    sk_dlist_init(&md->flight);
    for (size_t i = 0; i < MAX_INSTANCES; i++)
        md->fd[i] = -1;
    md->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    md->reply = sk_malloc(REPLY_MAX);
    md->nodes = sk_calloc(REPLY_NODES, sizeof(*md->nodes));
    if (md->wake < 0 || md->reply == NULL || md->nodes == NULL)
        return SK_ENOMEM;
    /* A connected socket per instance: its ICMP unreachable comes back
     * as an error on it, so a missing instance fails over at once. */
    for (size_t i = 0; i < md->n; i++) {
        const struct sk_addr *a = &md->inst[i];
        md->fd[i] = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (md->fd[i] < 0)
            return -errno;
        if (connect(md->fd[i], &a->sa, sk_addr_len(a)) != 0)
            atomic_store(&md->down_until[i], UINT64_MAX); /* no route: never tried first */
    }
    if (pthread_create(&md->thread, NULL, client_main, md) != 0)
        return SK_ENOMEM;
    md->started = true;
    return 0;
}

static void client_stop(struct sk__media *md)
{
    uint64_t one = 1;

    if (md->started) {
        pthread_mutex_lock(&md->lock);
        md->stopping = true;
        pthread_mutex_unlock(&md->lock);
        if (write(md->wake, &one, sizeof(one)) < 0) {
            /* The counter is full: the thread is awake anyway. */
        }
        pthread_join(md->thread, NULL);
        md->started = false;
    }
}

/* Queue a command (items: the dictionary's items after "command") for
 * the client thread, which calls cb once: with the reply's nodes, or an
 * error (SK_ETIMEDOUT: no instance answered; SK_EIO: a bad reply).
 * Returns 0, or an error and cb is not called. */
static int submit(struct sk__media *md, const char *cmd, struct sk_slice call_id, long only,
                  const struct sk_buf *items, job_cb cb, void *arg)
{
    struct job *j;
    uint64_t one = 1;
    int err = 0;

    if (md == NULL || !md->started)
        return SK_ESTATE;
    j = sk_calloc(1, sizeof(*j));
    if (j == NULL)
        return SK_ENOMEM;
    make_cookie(md, j->cookie);
    sk_buf_init(&j->req);
    sk_buf_append_cstr(&j->req, j->cookie);
    sk_buf_append(&j->req, " ", 1);
    sk__benc_open(&j->req, 'd');
    sk__benc_cstr(&j->req, "command");
    sk__benc_cstr(&j->req, cmd);
    sk_buf_append(&j->req, items->p, items->len);
    sk__benc_end(&j->req);
    if (!sk_buf_ok(&j->req) || j->req.len > REPLY_MAX) {
        sk_buf_free(&j->req);
        sk_free(j);
        return SK_ENOMEM;
    }
    j->start = (size_t)(hash_slice(call_id) % md->n);
    j->only = only;
    j->cmd = cmd;
    j->cb = cb;
    j->arg = arg;
    pthread_mutex_lock(&md->lock);
    if (md->stopping)
        err = SK_ESTATE;
    else
        sk_dlist_push_back(&md->queue, &j->link);
    pthread_mutex_unlock(&md->lock);
    if (err != 0) {
        sk_buf_free(&j->req);
        sk_free(j);
        return err;
    }
    if (write(md->wake, &one, sizeof(one)) < 0) {
        /* The counter is full: the thread is awake anyway. */
    }
    return 0;
}

/* A command whose caller waits for it (ping at start-up, tools, tests;
 * never an event loop). */
struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int err;
    bool (*take)(struct waiter *w, const struct sk__benc_node *n);
    struct sk_buf *out;
    const char *want;
};

static void wake_waiter(void *arg, int err, const struct sk__benc_node *n)
{
    struct waiter *w = arg;

    pthread_mutex_lock(&w->lock);
    w->err = err == 0 && !w->take(w, n) ? SK_EIO : err;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static int wait_for(struct sk__media *md, const char *cmd, struct sk_slice call_id, long only,
                    const struct sk_buf *items, struct waiter *w)
{
    int err;

    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->done = false;
    err = submit(md, cmd, call_id, only, items, wake_waiter, w);
    pthread_mutex_lock(&w->lock);
    while (err == 0 && !w->done)
        pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    return err != 0 ? err : w->err;
}

static void add_str(struct sk_buf *b, const char *key, struct sk_slice v)
{
    sk__benc_cstr(b, key);
    sk__benc_str(b, v);
}

static bool result_is(const struct sk__benc_node *n, const char *want, struct sk_slice *reason)
{
    struct sk_slice r;

    if (!sk__benc_dict_str(n, 0, "result", &r))
        r = SK_SLICE_NULL;
    if (sk_slice_eq(r, sk_slice_cstr(want)))
        return true;
    if (!sk__benc_dict_str(n, 0, "error-reason", reason))
        *reason = r;
    return false;
}

/* The items of an offer or answer for m. */
static int sdp_items(const struct sk_msg *m, bool offer_from_to, struct sk_buf *items)
{
    struct sk_slice from = offer_from_to ? m->to.tag : m->from.tag;
    struct sk_slice to = offer_from_to ? m->from.tag : m->to.tag;

    add_str(items, "call-id", m->call_id);
    add_str(items, "from-tag", from);
    if (to.len > 0)
        add_str(items, "to-tag", to);
    add_str(items, "sdp", m->body);
    /* Where the SIP message came from: rtpengine may use it for a party
     * whose SDP names a private address; it latches on the RTP source
     * anyway (symmetric RTP), which is what crosses a NAT. */
    if (m->src_ip.len > 0) {
        sk__benc_cstr(items, "received-from");
        sk__benc_open(items, 'l');
        sk__benc_cstr(items, memchr(m->src_ip.p, ':', m->src_ip.len) ? "IP6" : "IP4");
        sk__benc_str(items, m->src_ip);
        sk__benc_end(items);
    }
    /* RFC 4566 §5.2: the origin names the session's owner; its address
     * and the connection line become rtpengine's. Candidates of the
     * parties' own ICE would bypass the relay. */
    sk__benc_cstr(items, "replace");
    sk__benc_open(items, 'l');
    sk__benc_cstr(items, "origin");
    sk__benc_cstr(items, "session-connection");
    sk__benc_end(items);
    add_str(items, "ICE", SK_SLICE_LIT("remove"));
    return sk_buf_ok(items) ? 0 : SK_ENOMEM;
}

/* The SDP of an "ok" reply, or SK_EIO (logged). */
static int reply_sdp(const struct sk__benc_node *n, const char *cmd, struct sk_slice *sdp)
{
    struct sk_slice why;

    if (!result_is(n, "ok", &why)) {
        SK_LOG(SK_LOG_WARN, "media", "event=rtpengine_refused command=%s reason=\"%.*s\"", cmd,
               (int)why.len, why.p);
        return SK_EIO;
    }
    return sk__benc_dict_str(n, 0, "sdp", sdp) ? 0 : SK_EIO;
}

/* A command in flight for its caller; call_id for the log. */
struct sdp_job {
    const char *cmd;
    sk__media_sdp_cb cb;
    void *arg;
    size_t call_id_len;
    char call_id[];
};

static struct sdp_job *sdp_job_new(const char *cmd, struct sk_slice call_id)
{
    struct sdp_job *sj = sk_malloc(sizeof(*sj) + call_id.len + 1);

    if (sj != NULL) {
        sj->cmd = cmd;
        sj->cb = NULL;
        sj->arg = NULL;
        sj->call_id_len = call_id.len;
        memcpy(sj->call_id, call_id.p, call_id.len);
        sj->call_id[call_id.len] = '\0';
    }
    return sj;
}

static void sdp_done(void *arg, int err, const struct sk__benc_node *n)
{
    struct sdp_job *sj = arg;
    struct sk_slice sdp = SK_SLICE_NULL;

    if (err == 0)
        err = reply_sdp(n, sj->cmd, &sdp);
    if (err == 0)
        SK_LOG(SK_LOG_DEBUG, "media", "event=%s call_id=\"%s\"", sj->cmd, sj->call_id);
    sj->cb(sj->arg, err, sdp);
    sk_free(sj);
}

int sk__media_sdp_async(struct sk__media *md, const char *cmd, const struct sk_msg *m,
                        bool offer_from_to, sk__media_sdp_cb cb, void *arg)
{
    struct sdp_job *sj = sdp_job_new(cmd, m->call_id);
    struct sk_buf items;
    int err;

    if (sj == NULL)
        return SK_ENOMEM;
    sj->cb = cb;
    sj->arg = arg;
    sk_buf_init(&items);
    err = sdp_items(m, offer_from_to, &items);
    if (err == 0)
        err = submit(md, cmd, m->call_id, -1, &items, sdp_done, sj);
    sk_buf_free(&items);
    if (err != 0)
        sk_free(sj);
    return err;
}

static bool take_sdp(struct waiter *w, const struct sk__benc_node *n)
{
    struct sk_slice sdp;

    if (reply_sdp(n, w->want, &sdp) != 0)
        return false;
    sk_buf_append_slice(w->out, sdp);
    return sk_buf_ok(w->out);
}

int sk__media_sdp(struct sk__media *md, const char *cmd, const struct sk_msg *m, bool offer_from_to,
                  struct sk_buf *sdp)
{
    struct waiter w = {.take = take_sdp, .out = sdp, .want = cmd};
    struct sk_buf items;
    int err;

    sk_buf_init(&items);
    err = sdp_items(m, offer_from_to, &items);
    if (err == 0)
        err = wait_for(md, cmd, m->call_id, -1, &items, &w);
    sk_buf_free(&items);
    return err;
}

static void delete_done(void *arg, int err, const struct sk__benc_node *n)
{
    struct sdp_job *sj = arg;
    struct sk_slice why;

    if (err == 0 && !result_is(n, "ok", &why))
        SK_LOG(SK_LOG_DEBUG, "media", "event=delete_refused reason=\"%.*s\"", (int)why.len, why.p);
    else if (err != 0)
        SK_LOG(SK_LOG_WARN, "media", "event=delete_failed error=\"%s\"", sk_strerror(err));
    else
        SK_LOG(SK_LOG_DEBUG, "media", "event=delete call_id=\"%s\"", sj->call_id);
    sk_free(sj);
}

void sk__media_delete(struct sk__media *md, const struct sk_msg *m)
{
    struct sdp_job *sj = sdp_job_new("delete", m->call_id);
    struct sk_buf items;
    int err = SK_ENOMEM;

    sk_buf_init(&items);
    add_str(&items, "call-id", m->call_id);
    if (sj != NULL && sk_buf_ok(&items))
        err = submit(md, "delete", m->call_id, -1, &items, delete_done, sj);
    if (err != 0) {
        SK_LOG(SK_LOG_WARN, "media", "event=delete_failed error=\"%s\"", sk_strerror(err));
        sk_free(sj);
    }
    sk_buf_free(&items);
}

static bool take_pong(struct waiter *w, const struct sk__benc_node *n)
{
    struct sk_slice why;

    (void)w;
    return result_is(n, "pong", &why);
}

int sk__media_ping(struct sk__media *md)
{
    struct sk_buf none;
    int ok = 0;

    sk_buf_init(&none);
    sk_buf_append(&none, "", 0);
    for (size_t i = 0; md != NULL && i < md->n; i++) {
        struct waiter w = {.take = take_pong};
        if (wait_for(md, "ping", SK_SLICE_LIT("ping"), (long)i, &none, &w) == 0)
            ok++;
        else
            SK_LOG(SK_LOG_WARN, "media", "event=rtpengine_no_pong instance=%zu", i);
    }
    sk_buf_free(&none);
    return ok;
}
