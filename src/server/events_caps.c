/*
 * Caps on subscriptions: how many one watcher (an authenticated user of
 * ours) and one source address may hold at once.
 *
 * RFC 6665 §5.2 asks a notifier to guard against subscriptions used to
 * amplify traffic or exhaust state; without a cap one account created
 * 25,000 subscriptions in 46 s, each a stored row and a NOTIFY on every
 * change. A watcher past events.max_subs_per_user, or an address past
 * events.max_subs_per_address, is refused with 403 and a reason phrase
 * naming the cap; refreshes and ends of existing subscriptions are never
 * refused.
 *
 * Memory: one counter per watcher and per address that holds at least one
 * subscription (a heap block with its key, in a keyed intrusive table), so
 * the memory follows what is stored, never the request rate. Threads: all
 * calls are made with the events lock held.
 */
#include "server/events_int.h"

#include <sipkit/containers.h>

#include <string.h>

struct counter {
    struct sk_hnode node;
    uint32_t n;
    char key[]; /* NUL-terminated */
};

static struct counter *find(const struct sk_htab *t, const char *key, uint64_t h)
{
    for (struct sk_hnode *n = sk_htab_first(t, h); n != NULL; n = sk_htab_next(n)) {
        struct counter *c = SK_CONTAINER_OF(n, struct counter, node);
        if (strcmp(c->key, key) == 0)
            return c;
    }
    return NULL;
}

static uint32_t count_of(const struct sk_htab *t, const char *key)
{
    const struct counter *c = find(t, key, sk_hash(key, strlen(key)));

    return c != NULL ? c->n : 0;
}

/* Add delta (+1 or -1) to key's counter; a counter that reaches 0 goes. */
static void bump(struct sk_htab *t, const char *key, int delta)
{
    uint64_t h = sk_hash(key, strlen(key));
    struct counter *c = find(t, key, h);

    if (c == NULL && delta > 0) {
        size_t len = strlen(key);
        c = sk_calloc(1, sizeof(*c) + len + 1);
        if (c == NULL)
            return; /* uncounted: the cap is a defence, not a promise */
        memcpy(c->key, key, len + 1);
        if (sk_htab_insert(t, &c->node, h) != 0) {
            sk_free(c);
            return;
        }
    }
    if (c == NULL)
        return;
    if (delta < 0 && c->n <= 1) {
        sk_htab_remove(t, &c->node);
        sk_free(c);
        return;
    }
    c->n = (uint32_t)((int64_t)c->n + delta);
}

void sk__evcaps_added(struct sk__events *ev, const struct esub *e)
{
    bump(&ev->subs_by_watcher, e->sub.watcher, 1);
    bump(&ev->subs_by_addr, e->sub.src_ip, 1);
}

void sk__evcaps_removed(struct sk__events *ev, const struct esub *e)
{
    bump(&ev->subs_by_watcher, e->sub.watcher, -1);
    bump(&ev->subs_by_addr, e->sub.src_ip, -1);
}

const char *sk__evcaps_refuse(const struct sk__events *ev, const char *watcher, const char *src_ip)
{
    const struct sk_server_config *c = &ev->s->cfg;

    if (count_of(&ev->subs_by_watcher, watcher) >= c->max_subs_per_user)
        return "Forbidden (Too Many Subscriptions For User)";
    if (count_of(&ev->subs_by_addr, src_ip) >= c->max_subs_per_address)
        return "Forbidden (Too Many Subscriptions From Address)";
    return NULL;
}

static void free_all(struct sk_htab *t)
{
    struct sk_htab_iter it;
    struct sk_hnode *n;

    sk_htab_iter_init(&it, t);
    while ((n = sk_htab_iter_next(&it)) != NULL) {
        sk_htab_remove(t, n);
        sk_free(SK_CONTAINER_OF(n, struct counter, node));
    }
    sk_htab_free(t);
}

void sk__evcaps_free(struct sk__events *ev)
{
    free_all(&ev->subs_by_watcher);
    free_all(&ev->subs_by_addr);
}
