/*
 * The nonces of recent challenges, so that a retransmitted request gets
 * the very challenge it got before.
 *
 * Challenges are sent without a transaction (auth.c), so nothing absorbs a
 * retransmission: it is challenged again. A client transaction takes any
 * final response to its request (RFC 3261 §17.1.2.2), but a peer without a
 * full transaction layer (SIPp) compares the bytes and takes a second 401
 * with another nonce for an unexpected message. So the nonce of each
 * challenge is remembered for 64*T1 under a hash of what identifies the
 * request (Call-ID, From tag, branch, CSeq, source), and the To tag being
 * derived from the same fields, the answer to the retransmission is the
 * same message.
 *
 * Memory: a fixed, direct-mapped table: a new challenge overwrites the
 * slot it hashes to, so a flood only cycles it (and a flooded client gets
 * a fresh nonce, which is still a valid challenge). Threads: one lock per
 * group of slots.
 */
#include "server/internal.h"

#include <sipkit/containers.h>

#include <string.h>

#define SLOTS    4096
#define LOCKS    16
#define REMEMBER 32000 /* 64*T1 with T1 = 500 ms: a client's retransmissions */

struct slot {
    uint64_t key;
    uint64_t at_ms;
    char nonce[SK_AUTH_NONCE_MAX + 1];
};

struct sk__rechallenge {
    pthread_mutex_t lock[LOCKS];
    struct slot s[SLOTS];
};

int sk__rechallenge_new(struct sk__rechallenge **out)
{
    struct sk__rechallenge *c = sk_calloc(1, sizeof(*c));

    if (c == NULL)
        return SK_ENOMEM;
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_init(&c->lock[i], NULL);
    *out = c;
    return 0;
}

void sk__rechallenge_free(struct sk__rechallenge *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&c->lock[i]);
    sk_free(c);
}

static uint64_t key_of(const struct sk_msg *m)
{
    const struct sk_slice parts[] = {m->call_id, m->from.tag, m->via.branch, m->cseq.method,
                                     m->src_ip};
    struct sk_hasher hs;

    sk_hasher_init(&hs);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        sk_hasher_field(&hs, parts[i]);
    sk_hasher_u64(&hs, m->cseq.num);
    sk_hasher_u64(&hs, m->src_port);
    return sk_hasher_end(&hs) | 1; /* 0 marks a free slot */
}

bool sk__rechallenge_get(struct sk__rechallenge *c, const struct sk_msg *m, uint64_t now_ms,
                         char *nonce)
{
    uint64_t k = key_of(m);
    size_t i = (size_t)(k % SLOTS);
    bool hit;

    pthread_mutex_lock(&c->lock[i % LOCKS]);
    hit = c->s[i].key == k && now_ms - c->s[i].at_ms < REMEMBER;
    if (hit)
        memcpy(nonce, c->s[i].nonce, sizeof(c->s[i].nonce));
    pthread_mutex_unlock(&c->lock[i % LOCKS]);
    return hit;
}

void sk__rechallenge_put(struct sk__rechallenge *c, const struct sk_msg *m, uint64_t now_ms,
                         const char *nonce)
{
    uint64_t k = key_of(m);
    size_t i = (size_t)(k % SLOTS), n = strlen(nonce);

    if (n > SK_AUTH_NONCE_MAX)
        return;
    pthread_mutex_lock(&c->lock[i % LOCKS]);
    c->s[i].key = k;
    c->s[i].at_ms = now_ms;
    memcpy(c->s[i].nonce, nonce, n + 1);
    pthread_mutex_unlock(&c->lock[i % LOCKS]);
}
