/*
 * The intrusive hash table: chains of nodes embedded in their owners, a
 * power-of-two bucket array that doubles when entries outnumber buckets.
 * Each node keeps its full hash, so growing never rehashes keys and a
 * lookup compares keys only for nodes whose hash matches. Each node also
 * keeps the address of the pointer to it, so removal needs no walk.
 *
 * Memory: the table owns its bucket array only.
 */
#include <sipkit/containers.h>

#define FIRST_BUCKETS 16u
#define MAX_BUCKETS   ((size_t)1 << 26)

void sk_htab_init(struct sk_htab *t)
{
    t->b = NULL;
    t->nb = 0;
    t->count = 0;
}

void sk_htab_free(struct sk_htab *t)
{
    sk_free(t->b);
    sk_htab_init(t);
}

static void link_at(struct sk_hnode **head, struct sk_hnode *n)
{
    n->next = *head;
    if (*head != NULL)
        (*head)->pprev = &n->next;
    *head = n;
    n->pprev = head;
}

/* Move every node to an array of n buckets. */
static int resize(struct sk_htab *t, size_t n)
{
    struct sk_hnode **nb = sk_calloc(n, sizeof(*nb));

    if (nb == NULL)
        return SK_ENOMEM;
    for (size_t i = 0; i < t->nb; i++) {
        struct sk_hnode *x = t->b[i];
        while (x != NULL) {
            struct sk_hnode *next = x->next;
            link_at(&nb[x->hash & (n - 1)], x);
            x = next;
        }
    }
    sk_free(t->b);
    t->b = nb;
    t->nb = n;
    return 0;
}

int sk_htab_reserve(struct sk_htab *t, size_t n)
{
    size_t nb = FIRST_BUCKETS;

    while (nb < n && nb < MAX_BUCKETS)
        nb *= 2;
    return nb > t->nb ? resize(t, nb) : 0;
}

int sk_htab_insert(struct sk_htab *t, struct sk_hnode *n, uint64_t hash)
{
    if (t->nb == 0) {
        if (resize(t, FIRST_BUCKETS) != 0)
            return SK_ENOMEM;
    } else if (t->count >= t->nb && t->nb < MAX_BUCKETS) {
        (void)resize(t, t->nb * 2); /* on failure the chains just stay longer */
    }
    n->hash = hash;
    link_at(&t->b[hash & (t->nb - 1)], n);
    t->count++;
    return 0;
}

void sk_htab_remove(struct sk_htab *t, struct sk_hnode *n)
{
    *n->pprev = n->next;
    if (n->next != NULL)
        n->next->pprev = n->pprev;
    n->next = NULL;
    n->pprev = NULL;
    t->count--;
}

void sk_htab_replace(struct sk_hnode *old, struct sk_hnode *n)
{
    *n = *old;
    *n->pprev = n;
    if (n->next != NULL)
        n->next->pprev = &n->next;
    old->next = NULL;
    old->pprev = NULL;
}

struct sk_hnode *sk_htab_first(const struct sk_htab *t, uint64_t hash)
{
    struct sk_hnode *x;

    if (t->nb == 0)
        return NULL;
    for (x = t->b[hash & (t->nb - 1)]; x != NULL && x->hash != hash; x = x->next)
        ;
    return x;
}

struct sk_hnode *sk_htab_next(const struct sk_hnode *n)
{
    struct sk_hnode *x;

    for (x = n->next; x != NULL && x->hash != n->hash; x = x->next)
        ;
    return x;
}

void sk_htab_iter_init(struct sk_htab_iter *it, const struct sk_htab *t)
{
    it->t = t;
    it->b = 0;
    it->next = NULL;
}

struct sk_hnode *sk_htab_iter_next(struct sk_htab_iter *it)
{
    struct sk_hnode *x = it->next;

    while (x == NULL && it->b < it->t->nb)
        x = it->t->b[it->b++];
    if (x != NULL)
        it->next = x->next;
    return x;
}
