/*
 * sipkit base layer, containers: the keyed hash, the intrusive hash
 * table, the intrusive list and the growable array every module uses.
 * Nothing here knows about SIP.
 *
 * Memory: the table and list are intrusive. Their nodes (struct sk_hnode,
 * struct sk_dlist) are embedded in the owner's struct, so inserting
 * allocates nothing; the owner frees its own structs after unlinking them.
 * A table owns only its bucket array (sk_htab_free), an array its
 * element storage (sk_vec_free).
 *
 * Threads: none of these lock. A container is used by one thread at a
 * time (the owner's lock). sk_hash_set_key() must run before other
 * threads start.
 */
#ifndef SIPKIT_CONTAINERS_H
#define SIPKIT_CONTAINERS_H

#include <sipkit/base.h>

/* The struct of type `type` whose member `member` is at `ptr`. */
#define SK_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))
/* The same, or NULL when ptr is NULL (the end of a chain or list). */
#define SK_CONTAINER_OR_NULL(ptr, type, member)                                                    \
    ((ptr) != NULL ? SK_CONTAINER_OF(ptr, type, member) : NULL)

/* ---- keyed hash ------------------------------------------------------ */

/* SipHash-2-4 under a process-wide 128-bit key drawn from getrandom() on
 * first use, so peers cannot choose keys that all land in one chain.
 * Every table whose keys come from the network hashes with this. */
uint64_t sk_hash(const void *p, size_t len);
static inline uint64_t sk_hash_slice(struct sk_slice s)
{
    return sk_hash(s.p, s.len);
}
/* Fix the key (tests, reproducible runs). Call before any hashing. */
void sk_hash_set_key(const uint8_t key[16]);

/* Several fields hashed as one key: each field is followed by its length,
 * so ("ab", "c") and ("a", "bc") differ. */
struct sk_hasher {
    uint64_t v[4];
    uint64_t tail; /* bytes not yet compressed, little-endian */
    size_t len;    /* total bytes fed */
};
void sk_hasher_init(struct sk_hasher *h);
/* The same hash under a fixed, public key: equal in every process, for
 * identifiers that must outlive a restart (a reginfo contact id). Never
 * for a table whose keys a peer chooses. */
void sk_hasher_init_stable(struct sk_hasher *h);
void sk_hasher_bytes(struct sk_hasher *h, const void *p, size_t len);
/* The bytes of s, then its length. */
void sk_hasher_field(struct sk_hasher *h, struct sk_slice s);
void sk_hasher_cstr(struct sk_hasher *h, const char *s); /* NULL hashes as "" */
/* s folded to ASCII lower case, then its length (case-insensitive keys). */
void sk_hasher_field_lower(struct sk_hasher *h, struct sk_slice s);
void sk_hasher_u64(struct sk_hasher *h, uint64_t v);
uint64_t sk_hasher_end(const struct sk_hasher *h);

/* ---- intrusive list -------------------------------------------------- */

/* Circular and doubly linked: a head is an sk_dlist of its own that is
 * never an element. An unlinked node points at itself. */
struct sk_dlist {
    struct sk_dlist *prev;
    struct sk_dlist *next;
};

static inline void sk_dlist_init(struct sk_dlist *l)
{
    l->prev = l;
    l->next = l;
}
static inline bool sk_dlist_empty(const struct sk_dlist *head)
{
    return head->next == head;
}
/* Is node linked into some list? (false after init or remove) */
static inline bool sk_dlist_linked(const struct sk_dlist *n)
{
    return n->next != n;
}
static inline void sk_dlist_insert_before(struct sk_dlist *at, struct sk_dlist *n)
{
    n->prev = at->prev;
    n->next = at;
    at->prev->next = n;
    at->prev = n;
}
static inline void sk_dlist_push_back(struct sk_dlist *head, struct sk_dlist *n)
{
    sk_dlist_insert_before(head, n);
}
static inline void sk_dlist_push_front(struct sk_dlist *head, struct sk_dlist *n)
{
    sk_dlist_insert_before(head->next, n);
}
/* Unlink n (a no-op if it is not linked); n is left unlinked. */
static inline void sk_dlist_remove(struct sk_dlist *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    sk_dlist_init(n);
}
/* Put n where old is (old is left unlinked): for an owner that moved. */
static inline void sk_dlist_replace(struct sk_dlist *old, struct sk_dlist *n)
{
    if (!sk_dlist_linked(old)) {
        sk_dlist_init(n);
        return;
    }
    sk_dlist_insert_before(old, n);
    sk_dlist_remove(old);
}
/* The first element, or NULL when empty. */
static inline struct sk_dlist *sk_dlist_first(const struct sk_dlist *head)
{
    return head->next != head ? head->next : NULL;
}
/* The element after n, or NULL at the end. */
static inline struct sk_dlist *sk_dlist_next(const struct sk_dlist *head, const struct sk_dlist *n)
{
    return n->next != head ? n->next : NULL;
}

/* Walk a list; `tmp` keeps the walk valid when `pos` is removed. */
#define SK_DLIST_FOREACH_SAFE(pos, tmp, head)                                                      \
    for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                               \
         (pos) = (tmp), (tmp) = (pos)->next)

/* ---- intrusive hash table -------------------------------------------- */

/* Chained, power-of-two bucket array that doubles when entries outnumber
 * buckets. The caller computes the hash (sk_hash / sk_hasher) and compares
 * keys itself: lookups walk the nodes of one chain with the same hash. */
struct sk_hnode {
    struct sk_hnode *next;
    struct sk_hnode **pprev; /* the pointer that points at this node */
    uint64_t hash;
};

struct sk_htab {
    struct sk_hnode **b;
    size_t nb; /* 0 until the first insert, then a power of two */
    size_t count;
};

#define SK_HTAB_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void sk_htab_init(struct sk_htab *t);
/* Frees the bucket array; the owner frees the entries (walk them first). */
void sk_htab_free(struct sk_htab *t);
/* Make room for n entries before the table grows (at least the first
 * bucket array): after it, inserts cannot fail. */
int sk_htab_reserve(struct sk_htab *t, size_t n);
/* Link n under hash. Only SK_ENOMEM when the first bucket array cannot
 * be allocated; a failed growth leaves chains longer, never loses n. */
int sk_htab_insert(struct sk_htab *t, struct sk_hnode *n, uint64_t hash);
void sk_htab_remove(struct sk_htab *t, struct sk_hnode *n);
/* Put n where old is, same hash (old is left unlinked). */
void sk_htab_replace(struct sk_hnode *old, struct sk_hnode *n);
/* The first node with this hash, then the next one with the same hash. */
struct sk_hnode *sk_htab_first(const struct sk_htab *t, uint64_t hash);
struct sk_hnode *sk_htab_next(const struct sk_hnode *n);
static inline size_t sk_htab_count(const struct sk_htab *t)
{
    return t->count;
}

/* Visit every node; the node returned may be removed before the next call. */
struct sk_htab_iter {
    const struct sk_htab *t;
    size_t b;
    struct sk_hnode *next;
};
void sk_htab_iter_init(struct sk_htab_iter *it, const struct sk_htab *t);
struct sk_hnode *sk_htab_iter_next(struct sk_htab_iter *it);

/* ---- growable array -------------------------------------------------- */

/* Elements of one size, contiguous, doubling. */
struct sk_vec {
    void *p;
    size_t len;
    size_t cap;
    size_t elsize;
};

static inline void sk_vec_init(struct sk_vec *v, size_t elsize)
{
    v->p = NULL;
    v->len = 0;
    v->cap = 0;
    v->elsize = elsize;
}
void sk_vec_free(struct sk_vec *v);
int sk_vec_reserve(struct sk_vec *v, size_t extra);
/* Room for one more element at the end (len grows by one), zeroed; NULL
 * on allocation failure. */
void *sk_vec_push(struct sk_vec *v);
static inline void *sk_vec_at(const struct sk_vec *v, size_t i)
{
    return (char *)v->p + i * v->elsize;
}
/* Remove element i by moving the last one into its place. */
void sk_vec_swap_remove(struct sk_vec *v, size_t i);

#endif
