/*
 * OPTIONS keep-alives to UDP bindings behind NAT: a keep-alive that gets
 * an answer, so that a NAT that dropped the binding's mapping (rebooted,
 * timed out, the phone gone) is noticed. Every round (nat.keepalive_interval)
 * each NATed UDP binding gets one out-of-dialog OPTIONS (RFC 3261 §11) at
 * its flow; any response, whatever its status (a 404, 405 or 481 proves
 * the phone and the mapping as well as a 200), marks it answered. A
 * binding whose last nat.keepalive_failures OPTIONS in a row went
 * unanswered is removed (like a closed flow, RFC 5626 §5.5), so calls to
 * it get 480 at once (or go to the AOR's other bindings) instead of
 * being lost in the NAT until the registration expires. A REGISTER
 * refreshing the binding proves it alive too and clears its count.
 *
 * The OPTIONS are sent without a client transaction (no retransmission,
 * no timers: one datagram per binding and round, a lost one is one
 * failure of several): the response finds no transaction and reaches
 * sk__natping_response() from the stray-response hook, which knows it by
 * its branch, "z9hG4bK" "skka" then the binding's id (a keyed hash of
 * the binding, so not guessable from outside) and the round, in hex.
 *
 * Threads: sk__natping_round_* from the timer thread; the response hook
 * from the workers. One mutex guards the table.
 * Memory: one heap entry per NATed UDP binding, freed in the round after
 * its binding is gone.
 */
#include "server/internal.h"
#include "server/nat.h"

#include <sipkit/containers.h>

#include <stdio.h>
#include <string.h>

#define BRANCH_MAGIC "z9hG4bKskka"
#define MAGIC_LEN    (sizeof(BRANCH_MAGIC) - 1)

struct ping {
    struct sk_hnode hnode; /* by id */
    uint64_t id;
    uint32_t seen;      /* the round that last walked its binding */
    uint32_t sent;      /* the round of its outstanding OPTIONS; 0: none */
    bool answered;      /* that OPTIONS got a response */
    unsigned failures;  /* unanswered in a row */
    int64_t updated_at; /* the binding's, to notice a new REGISTER */
};

struct sk__natping {
    pthread_mutex_t lock;
    struct sk_htab t;
    uint32_t round;
};

int sk__natping_new(struct sk__natping **out)
{
    struct sk__natping *p = sk_calloc(1, sizeof(*p));

    if (p == NULL)
        return SK_ENOMEM;
    pthread_mutex_init(&p->lock, NULL);
    sk_htab_init(&p->t);
    *out = p;
    return 0;
}

/* Free the entries whose binding the round did not walk (all of them
 * when all is set). Lock held or single-threaded. */
static void sweep(struct sk__natping *p, bool all)
{
    struct sk_htab_iter it;
    struct sk_hnode *n;

    sk_htab_iter_init(&it, &p->t);
    while ((n = sk_htab_iter_next(&it)) != NULL) {
        struct ping *e = SK_CONTAINER_OF(n, struct ping, hnode);
        if (all || e->seen != p->round) {
            sk_htab_remove(&p->t, n);
            sk_free(e);
        }
    }
}

void sk__natping_free(struct sk__natping *p)
{
    if (p == NULL)
        return;
    sweep(p, true);
    sk_htab_free(&p->t);
    pthread_mutex_destroy(&p->lock);
    sk_free(p);
}

static struct ping *find(struct sk__natping *p, uint64_t id)
{
    for (struct sk_hnode *n = sk_htab_first(&p->t, id); n != NULL; n = sk_htab_next(n)) {
        struct ping *e = SK_CONTAINER_OF(n, struct ping, hnode);
        if (e->id == id)
            return e;
    }
    return NULL;
}

/* A binding's identity: what tells it from another one, where it is. */
static uint64_t binding_id(const struct sk_binding *b)
{
    struct sk_hasher h;

    sk_hasher_init(&h);
    sk_hasher_cstr(&h, b->aor);
    sk_hasher_cstr(&h, b->contact);
    sk_hasher_cstr(&h, b->instance);
    sk_hasher_u64(&h, b->reg_id);
    sk_hasher_cstr(&h, b->src_ip);
    sk_hasher_u64(&h, b->src_port);
    return sk_hasher_end(&h);
}

uint32_t sk__natping_round_begin(struct sk__natping *p)
{
    pthread_mutex_lock(&p->lock);
    if (++p->round == 0)
        p->round = 1; /* 0 means "none sent" */
    uint32_t r = p->round;
    pthread_mutex_unlock(&p->lock);
    return r;
}

void sk__natping_round_end(struct sk__natping *p)
{
    pthread_mutex_lock(&p->lock);
    sweep(p, false);
    pthread_mutex_unlock(&p->lock);
}

int sk__natping_check(struct sk__natping *p, const struct sk_binding *b, unsigned max_failures,
                      uint64_t *id)
{
    struct ping *e;
    int verdict = SK__NATPING_SEND;

    *id = binding_id(b);
    pthread_mutex_lock(&p->lock);
    e = find(p, *id);
    if (e == NULL && (e = sk_calloc(1, sizeof(*e))) != NULL) {
        e->id = *id;
        e->updated_at = b->updated_at;
        if (sk_htab_insert(&p->t, &e->hnode, *id) != 0) {
            sk_free(e);
            e = NULL;
        }
    }
    if (e == NULL) {
        pthread_mutex_unlock(&p->lock);
        return SK__NATPING_SEND; /* no memory to count: ping, never drop */
    }
    if (e->updated_at != b->updated_at) {
        /* Registered again since: the flow worked then. */
        e->updated_at = b->updated_at;
        e->failures = 0;
    } else if (e->sent != 0) {
        e->failures = e->answered ? 0 : e->failures + 1;
    }
    e->seen = p->round;
    if (max_failures > 0 && e->failures >= max_failures) {
        verdict = SK__NATPING_DEAD;
        e->sent = 0;
        e->failures = 0;
    } else {
        e->sent = p->round;
        e->answered = false;
    }
    pthread_mutex_unlock(&p->lock);
    return verdict;
}

int sk__natping_write(const struct sk_server *s, const struct sk_binding *b, uint64_t id,
                      uint32_t round, const char *host, struct sk_buf *out)
{
    /* RFC 3261 §8.1.1: Request-URI the Contact the UA registered, To the
     * same, a From tag and Call-ID of the binding; no Contact (§11.1 only
     * asks for what a request needs). */
    sk_buf_printf(out,
                  "OPTIONS %s SIP/2.0\r\n"
                  "Via: SIP/2.0/UDP %s;branch=" BRANCH_MAGIC "%016llx%08x;rport\r\n"
                  "Max-Forwards: 70\r\n"
                  "From: <sip:keepalive@%s>;tag=%016llx\r\n"
                  "To: <%s>\r\n"
                  "Call-ID: skka-%016llx@%s\r\n"
                  "CSeq: %u OPTIONS\r\n"
                  "Content-Length: 0\r\n\r\n",
                  b->contact, host, (unsigned long long)id, round, s->cfg.domain,
                  (unsigned long long)id, b->contact, (unsigned long long)id, s->cfg.domain, round);
    return sk_buf_ok(out) ? 0 : SK_ENOMEM;
}

static bool hex_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

int sk__natping_response(struct sk__natping *p, const struct sk_msg *resp)
{
    struct sk_slice br = resp->via.branch;
    uint64_t id, round;
    struct ping *e;
    int ret = 0;

    if (p == NULL || br.len != MAGIC_LEN + 24 || memcmp(br.p, BRANCH_MAGIC, MAGIC_LEN) != 0 ||
        resp->cseq.method_id != SK_METHOD_OPTIONS)
        return -1;
    if (!hex_u64(br.p + MAGIC_LEN, 16, &id) || !hex_u64(br.p + MAGIC_LEN + 16, 8, &round))
        return 0; /* our prefix, not our making: dropped */
    pthread_mutex_lock(&p->lock);
    e = find(p, id);
    /* A late answer to an earlier round proves nothing about this one. */
    if (e != NULL && e->sent == (uint32_t)round && !e->answered) {
        e->answered = true;
        ret = 1;
    }
    pthread_mutex_unlock(&p->lock);
    SK_LOG(SK_LOG_DEBUG, "nat", "event=keepalive_answered status=%u counted=%s", resp->status,
           ret == 1 ? "true" : "false");
    return ret;
}
