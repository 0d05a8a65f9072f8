/*
 * Our side of a forwarded request: the address of ours a destination
 * should see (in our Via and Record-Route) and its text, where a URI
 * sends us, and the unique part of the branch in our Via. Split from
 * proxy_run.c, which runs the forks that use them.
 *
 * Threads: any; the text of our addresses is formatted once, under the
 * proxy's lock, and read without it afterwards. The branch counter is
 * atomic and its seed drawn once per process.
 * Memory: the formatted addresses belong to the proxy (sk__proxy_free).
 */
#include "server/internal.h"
#include "server/proxy_int.h"
#include "server/proxy_state.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- addresses ------------------------------------------------------------ */

static bool is_loopback(const struct sk_addr *a)
{
    if (a->sa.sa_family == AF_INET)
        return (ntohl(a->in.sin_addr.s_addr) >> 24) == 127;
    if (a->sa.sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr);
    return false;
}

/* The kind of listener that serves transport t: UDP and TCP share one. */
static enum sk_transport listener_of(enum sk_transport t)
{
    return t == SK_TP_TCP ? SK_TP_UDP : t;
}

/* kind: a listener_of() value, or -1 for any. */
static long self_index_kind(const struct sk_server *s, const struct sk_addr *dst, int kind)
{
    long any = -1;

    for (size_t i = 0; i < s->nself; i++) {
        const struct sk_addr *a = &s->self[i];
        if (a->sa.sa_family != dst->sa.sa_family ||
            (kind >= 0 && listener_of(a->tp) != (enum sk_transport)kind))
            continue;
        if (is_loopback(a) == is_loopback(dst))
            return (long)i;
        if (any < 0)
            any = (long)i;
    }
    return any;
}

/* The index in s->self of the address dst should see, or -1: of a
 * listener of dst's transport (our Via and Record-Route then name the
 * port that speaks TLS, or WebSocket), else of a UDP and TCP one, else
 * any. */
static long self_index(const struct sk_server *s, const struct sk_addr *dst)
{
    long i = self_index_kind(s, dst, (int)listener_of(dst->tp));

    if (i < 0)
        i = self_index_kind(s, dst, SK_TP_UDP);
    return i >= 0 ? i : self_index_kind(s, dst, -1);
}

int sk__proxy_self_for(const struct sk_server *s, const struct sk_addr *dst, struct sk_addr *out)
{
    long i = self_index(s, dst);

    if (i < 0)
        return SK_ENOTFOUND;
    *out = s->self[i];
    return 0;
}

/* Our addresses as text, formatted on first use: inet_ntop and a printf
 * for every forwarded request showed in the profile. */
static int hosts_prepare(const struct sk_server *s)
{
    struct sk__proxy *p = s->proxy;
    int err = 0;

    if (atomic_load_explicit(&p->hosts_ready, memory_order_acquire))
        return 0;
    pthread_mutex_lock(&p->lock);
    if (!atomic_load_explicit(&p->hosts_ready, memory_order_relaxed)) {
        p->hosts = sk_calloc(s->nself > 0 ? s->nself : 1, sizeof(*p->hosts));
        if (p->hosts == NULL) {
            err = SK_ENOMEM;
        } else {
            for (size_t i = 0; i < s->nself; i++)
                sk_addr_format(&s->self[i], p->hosts[i], sizeof(p->hosts[i]));
            atomic_store_explicit(&p->hosts_ready, true, memory_order_release);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return err;
}

const char *sk__proxy_self_text(const struct sk_server *s, const struct sk_addr *dst)
{
    long i = self_index(s, dst);

    if (i < 0 || hosts_prepare(s) != 0)
        return NULL;
    return s->proxy->hosts[i];
}

int sk__proxy_resolve(struct sk_slice text, enum sk_transport def, struct sk_addr *out)
{
    struct sk_uri u;

    if (sk_uri_parse(text, &u) != 0 || (u.scheme != SK_URI_SIP && u.scheme != SK_URI_SIPS))
        return SK_EPARSE;
    if (u.host_type != SK_HOST_IPV4 && u.host_type != SK_HOST_IPV6)
        return SK_ENOTFOUND;
    if (sk_addr_parse(u.host, u.has_port ? u.port : (u.scheme == SK_URI_SIPS ? 5061 : 5060), out) !=
        0)
        return SK_EPARSE;
    out->tp = sk__uri_transport(&u, def);
    out->conn_id = 0;
    return 0;
}

/* §16.6 step 8 / §8.1.1.7: the unique part of a branch. A random value
 * drawn once per process and a counter make it unique across space and
 * time without a getrandom() call per forwarded request (two per call
 * showed in the profile); a branch is an identifier, not a secret. */
static uint64_t branch_seed;
static _Atomic uint64_t branch_counter;
static pthread_once_t branch_once = PTHREAD_ONCE_INIT;

static void branch_seed_init(void)
{
    uint64_t s;

    if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s))
        s = (uint64_t)time(NULL) * 6364136223846793005u ^ (uint64_t)getpid();
    branch_seed = s;
}

void sk__proxy_make_branch(char *out)
{
    static const char hex[] = "0123456789abcdef";
    static const char magic[] = "z9hG4bK";
    uint64_t c = atomic_fetch_add_explicit(&branch_counter, 1, memory_order_relaxed);
    uint64_t s;
    size_t n = sizeof(magic) - 1;

    pthread_once(&branch_once, branch_seed_init);
    s = branch_seed;
    memcpy(out, magic, n);
    for (int i = 0; i < 16; i++, s >>= 4)
        out[n++] = hex[s & 15];
    for (int i = 0; i < 16; i++, c >>= 4)
        out[n++] = hex[c & 15];
    out[n] = '\0';
}
