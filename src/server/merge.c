/*
 * Merged requests, RFC 3261 §8.2.2.2: a request without a To tag whose
 * From tag, Call-ID and CSeq equal those of an ongoing transaction that it
 * does not match (another branch) reached us twice over different paths
 * (a forking proxy upstream); the UAS answers the second copy with 482.
 *
 * A direct-mapped table of recent requests: slot = hash of (From tag,
 * Call-ID, CSeq number and method), holding the full key hash, a hash of
 * the branch and sent-by, and when the entry stops counting as ongoing
 * (64*T1, the longest a non-INVITE server transaction lives). A collision
 * only overwrites an older entry: we may then miss a merge (the check is a
 * SHOULD), never invent one, since both 64-bit hashes must agree. Slots are
 * guarded by striped locks.
 *
 * Memory: one fixed allocation; no allocation per request.
 */
#include "server/internal.h"

#include <sipkit/containers.h>

#define SLOTS   16384u
#define STRIPES 64u

struct slot {
    uint64_t key;
    uint64_t branch;
    uint64_t until_ms;
};

struct sk__merge {
    pthread_mutex_t locks[STRIPES];
    struct slot slots[SLOTS];
};

int sk__merge_new(struct sk__merge **out)
{
    struct sk__merge *m = sk_calloc(1, sizeof(*m));

    if (m == NULL)
        return SK_ENOMEM;
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_init(&m->locks[i], NULL);
    *out = m;
    return 0;
}

void sk__merge_free(struct sk__merge *m)
{
    if (m == NULL)
        return;
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&m->locks[i]);
    sk_free(m);
}

bool sk__merge_check(struct sk__merge *m, const struct sk_msg *req, uint64_t now_ms,
                     uint64_t lifetime_ms)
{
    struct sk_hasher h;
    uint64_t key, br;
    struct slot *sl;
    bool merged = false;

    /* Keyed: a peer must not be able to make its request's fingerprint
     * equal another's, which would make ours look merged (§8.2.2.2). */
    sk_hasher_init(&h);
    sk_hasher_field(&h, req->from.tag);
    sk_hasher_field(&h, req->call_id);
    sk_hasher_u64(&h, req->cseq.num);
    sk_hasher_field(&h, req->cseq.method);
    key = sk_hasher_end(&h);
    if (key == 0)
        key = 1; /* 0 marks an empty slot */
    sk_hasher_init(&h);
    sk_hasher_field(&h, req->via.branch);
    sk_hasher_field(&h, req->via.host);
    sk_hasher_u64(&h, req->via.port);
    br = sk_hasher_end(&h);
    sl = &m->slots[key % SLOTS];
    pthread_mutex_lock(&m->locks[(key % SLOTS) % STRIPES]);
    if (sl->key == key && sl->until_ms > now_ms && sl->branch != br) {
        merged = true;
    } else if (sl->key != key || sl->until_ms <= now_ms) {
        sl->key = key;
        sl->branch = br;
        sl->until_ms = now_ms + lifetime_ms;
    }
    pthread_mutex_unlock(&m->locks[(key % SLOTS) % STRIPES]);
    return merged;
}
