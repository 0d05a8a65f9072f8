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

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_INSTANCES   8
#define NG_DEFAULT_PORT 2223
#define FAIL_HOLD_MS    10000
#define REPLY_MAX       65536
#define REPLY_NODES     256

enum engage { ENGAGE_NEVER, ENGAGE_NAT, ENGAGE_ALWAYS };

struct sk__media {
    enum engage engage;
    unsigned timeout_ms;
    size_t n;
    struct sk_addr inst[MAX_INSTANCES];
    _Atomic uint64_t down_until[MAX_INSTANCES]; /* ms, sk_now_ms() */
    uint64_t cookie_seed;
    _Atomic uint64_t cookie_counter;
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
    *out = md;
    return 0;
}

void sk__media_free(struct sk__media *md)
{
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

/* ---- one command ----------------------------------------------------------- */

static void make_cookie(struct sk__media *md, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t v = md->cookie_seed ^ (atomic_fetch_add(&md->cookie_counter, 1) * 0x9e3779b97f4a7c15u);

    for (int i = 0; i < 16; i++, v >>= 4)
        out[i] = hex[v & 15];
    out[16] = '\0';
}

/* Send req to instance i and wait for the reply with its cookie: 0 with
 * the reply's dictionary (after the cookie) in *dict, SK_ETIMEDOUT. */
static int exchange(struct sk__media *md, size_t i, const struct sk_buf *req, size_t cookie_len,
                    char *reply, struct sk_slice *dict)
{
    const struct sk_addr *a = &md->inst[i];
    int fd = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int err = SK_ETIMEDOUT;

    if (fd < 0)
        return -errno;
    if (connect(fd, &a->sa, sk_addr_len(a)) != 0) {
        close(fd);
        return SK_ETIMEDOUT;
    }
    for (int attempt = 0; attempt < 2 && err == SK_ETIMEDOUT; attempt++) {
        uint64_t deadline = sk_now_ms() + md->timeout_ms;
        if (send(fd, req->p, req->len, 0) < 0)
            break; /* ICMP unreachable from the previous send */
        for (;;) {
            uint64_t now = sk_now_ms();
            struct pollfd pfd = {fd, POLLIN, 0};
            ssize_t n;
            if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
                break;
            n = recv(fd, reply, REPLY_MAX, 0);
            if (n < 0) {
                attempt = 2; /* refused: the instance is not there */
                break;
            }
            /* A late reply to another command is not ours. */
            if ((size_t)n > cookie_len && memcmp(reply, req->p, cookie_len + 1) == 0) {
                *dict = sk_slice_make(reply + cookie_len + 1, (size_t)n - cookie_len - 1);
                err = 0;
                break;
            }
        }
    }
    close(fd);
    return err;
}

static uint64_t hash_slice(struct sk_slice s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */

    for (size_t i = 0; i < s.len; i++)
        h = (h ^ (unsigned char)s.p[i]) * 1099511628211u;
    return h;
}

/* Run one command (items: the dictionary's items after "command"),
 * trying the instances in the call's order, live ones first (only >= 0:
 * that instance alone). Each command has its own cookie: rtpengine
 * answers a cookie it has seen from its cache. On 0 the
 * reply's nodes are in n (strings point into *reply, which the caller
 * frees). */
static int command(struct sk__media *md, const char *cmd, struct sk_slice call_id, long only,
                   const struct sk_buf *items, char **reply, struct sk__benc_node *n)
{
    char cookie[17];
    struct sk_buf req;
    size_t start = (size_t)(hash_slice(call_id) % md->n), count;
    unsigned tried = 0;
    int err = SK_ETIMEDOUT;

    *reply = sk_malloc(REPLY_MAX);
    if (*reply == NULL)
        return SK_ENOMEM;
    make_cookie(md, cookie);
    sk_buf_init(&req);
    sk_buf_append_cstr(&req, cookie);
    sk_buf_append(&req, " ", 1);
    sk__benc_open(&req, 'd');
    sk__benc_cstr(&req, "command");
    sk__benc_cstr(&req, cmd);
    sk_buf_append(&req, items->p, items->len);
    sk__benc_end(&req);
    if (!sk_buf_ok(&req) || req.len > REPLY_MAX) {
        sk_buf_free(&req);
        return SK_ENOMEM;
    }
    /* Two rounds: the instances believed live, then the others (each
     * instance once). */
    for (int round = 0; round < 2 && err != 0; round++) {
        for (size_t k = 0; k < md->n && err != 0; k++) {
            size_t i = (start + k) % md->n;
            uint64_t now = sk_now_ms();
            struct sk_slice dict;
            bool live = atomic_load(&md->down_until[i]) <= now;
            if (live != (round == 0) || (tried & (1u << i)) || (only >= 0 && i != (size_t)only))
                continue;
            tried |= 1u << i;
            int e = exchange(md, i, &req, 16, *reply, &dict);
            if (e != 0) {
                atomic_store(&md->down_until[i], now + FAIL_HOLD_MS);
                SK_LOG(SK_LOG_WARN, "media", "event=rtpengine_unreachable instance=%zu command=%s",
                       i, cmd);
                continue;
            }
            atomic_store(&md->down_until[i], 0);
            if (sk__benc_decode(dict, n, REPLY_NODES, &count) != 0 || n[0].type != SK__BENC_DICT) {
                SK_LOG(SK_LOG_WARN, "media", "event=rtpengine_bad_reply instance=%zu", i);
                err = SK_EIO;
                break;
            }
            err = 0;
        }
    }
    sk_buf_free(&req);
    return err;
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

int sk__media_sdp(struct sk__media *md, const char *cmd, const struct sk_msg *m, bool offer_from_to,
                  struct sk_buf *sdp)
{
    struct sk__benc_node n[REPLY_NODES];
    struct sk_slice from = offer_from_to ? m->to.tag : m->from.tag;
    struct sk_slice to = offer_from_to ? m->from.tag : m->to.tag;
    struct sk_slice out, why;
    struct sk_buf items;
    char *reply = NULL;
    int err;

    sk_buf_init(&items);
    add_str(&items, "call-id", m->call_id);
    add_str(&items, "from-tag", from);
    if (to.len > 0)
        add_str(&items, "to-tag", to);
    add_str(&items, "sdp", m->body);
    /* Where the SIP message came from: rtpengine may use it for a party
     * whose SDP names a private address; it latches on the RTP source
     * anyway (symmetric RTP), which is what crosses a NAT. */
    if (m->src_ip.len > 0) {
        sk__benc_cstr(&items, "received-from");
        sk__benc_open(&items, 'l');
        sk__benc_cstr(&items, memchr(m->src_ip.p, ':', m->src_ip.len) ? "IP6" : "IP4");
        sk__benc_str(&items, m->src_ip);
        sk__benc_end(&items);
    }
    /* RFC 4566 §5.2: the origin names the session's owner; its address
     * and the connection line become rtpengine's. Candidates of the
     * parties' own ICE would bypass the relay. */
    sk__benc_cstr(&items, "replace");
    sk__benc_open(&items, 'l');
    sk__benc_cstr(&items, "origin");
    sk__benc_cstr(&items, "session-connection");
    sk__benc_end(&items);
    add_str(&items, "ICE", SK_SLICE_LIT("remove"));
    if (!sk_buf_ok(&items)) {
        sk_buf_free(&items);
        return SK_ENOMEM;
    }
    err = command(md, cmd, m->call_id, -1, &items, &reply, n);
    sk_buf_free(&items);
    if (err == 0 && !result_is(n, "ok", &why)) {
        SK_LOG(SK_LOG_WARN, "media", "event=rtpengine_refused command=%s reason=\"%.*s\"", cmd,
               (int)why.len, why.p);
        err = SK_EIO;
    }
    if (err == 0 && !sk__benc_dict_str(n, 0, "sdp", &out))
        err = SK_EIO;
    if (err == 0) {
        sk_buf_append_slice(sdp, out);
        err = sk_buf_ok(sdp) ? 0 : SK_ENOMEM;
    }
    if (err == 0)
        SK_LOG(SK_LOG_DEBUG, "media", "event=%s call_id=\"%.*s\"", cmd, (int)m->call_id.len,
               m->call_id.p);
    sk_free(reply);
    return err;
}

void sk__media_delete(struct sk__media *md, const struct sk_msg *m)
{
    struct sk__benc_node n[REPLY_NODES];
    struct sk_buf items;
    struct sk_slice why;
    char *reply = NULL;
    int err;

    sk_buf_init(&items);
    add_str(&items, "call-id", m->call_id);
    err = sk_buf_ok(&items) ? command(md, "delete", m->call_id, -1, &items, &reply, n) : SK_ENOMEM;
    if (err == 0 && !result_is(n, "ok", &why))
        SK_LOG(SK_LOG_DEBUG, "media", "event=delete_refused reason=\"%.*s\"", (int)why.len, why.p);
    else if (err != 0)
        SK_LOG(SK_LOG_WARN, "media", "event=delete_failed error=\"%s\"", sk_strerror(err));
    else
        SK_LOG(SK_LOG_DEBUG, "media", "event=delete call_id=\"%.*s\"", (int)m->call_id.len,
               m->call_id.p);
    sk_buf_free(&items);
    sk_free(reply);
}

int sk__media_ping(struct sk__media *md)
{
    struct sk__benc_node n[REPLY_NODES];
    struct sk_buf none;
    struct sk_slice why;
    int ok = 0;

    sk_buf_init(&none);
    sk_buf_append(&none, "", 0);
    for (size_t i = 0; md != NULL && i < md->n; i++) {
        char *reply = NULL;
        if (command(md, "ping", SK_SLICE_LIT("ping"), (long)i, &none, &reply, n) == 0 &&
            result_is(n, "pong", &why))
            ok++;
        else
            SK_LOG(SK_LOG_WARN, "media", "event=rtpengine_no_pong instance=%zu", i);
        sk_free(reply);
    }
    sk_buf_free(&none);
    return ok;
}
