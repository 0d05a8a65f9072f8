/*
 * Clients that are challenged and never come back.
 *
 * RFC 8760 §2.4 lets a server offer several digest algorithms, one
 * challenge each, and has the client use the first one it supports. Some
 * deployed clients instead stop at the first challenge they cannot answer,
 * or read only the first one, and then give up without a word: the user
 * sees "registration failed" and the server, unless it notices, logs
 * nothing. So when a challenge offering more than one algorithm gets no
 * answer with credentials from the same source and User-Agent within
 * WAIT_MS, one warning names the likely cause and the option that fixes
 * it, once per source and User-Agent.
 *
 * Memory: a fixed table of SLOTS entries inside struct sk__authwatch; the
 * oldest pending entry gives way to a new one, so a flood of challenges
 * costs no memory. Threads: one mutex; the workers record, the timer
 * thread reports.
 */
#include "server/internal.h"

#include <stdio.h>
#include <string.h>

#define SLOTS 64
/* RFC 3261 §17.1.1.2: 64*T1, the time a client transaction gives an answer. */
#define WAIT_MS 32000
/* Warnings at most this often, so many scanners cannot flood the log. */
#define WARN_GAP_MS 1000

enum slot_state { SLOT_FREE = 0, SLOT_PENDING, SLOT_ANSWERED, SLOT_WARNED };

struct slot {
    enum slot_state state;
    uint64_t since_ms;
    char src[SK_LOC_IP_MAX + 1];
    char ua[96];
    char offered[64];
};

struct sk__authwatch {
    pthread_mutex_t lock;
    uint64_t last_warn_ms;
    struct slot slots[SLOTS];
};

int sk__authwatch_new(struct sk__authwatch **out)
{
    struct sk__authwatch *w = sk_calloc(1, sizeof(*w));

    if (w == NULL)
        return SK_ENOMEM;
    pthread_mutex_init(&w->lock, NULL);
    *out = w;
    return 0;
}

void sk__authwatch_free(struct sk__authwatch *w)
{
    if (w == NULL)
        return;
    pthread_mutex_destroy(&w->lock);
    sk_free(w);
}

/* The request's source and User-Agent, as the table keeps them. */
static void key_of(const struct sk_msg *m, char *src, char *ua)
{
    const struct sk_hdr *h = sk_msg_find(m, SK_HDR_USER_AGENT);

    sk_slice_to_cstr(m->src_ip, src, SK_LOC_IP_MAX + 1);
    sk_slice_to_cstr(h != NULL ? h->value : SK_SLICE_NULL, ua, sizeof(((struct slot *)0)->ua));
    /* The UA string goes into a quoted log field. */
    for (char *p = ua; *p != '\0'; p++) {
        if (*p == '"' || (unsigned char)*p < 0x20)
            *p = '\'';
    }
}

static struct slot *find(struct sk__authwatch *w, const char *src, const char *ua)
{
    for (size_t i = 0; i < SLOTS; i++) {
        struct slot *sl = &w->slots[i];
        if (sl->state != SLOT_FREE && strcmp(sl->src, src) == 0 && strcmp(sl->ua, ua) == 0)
            return sl;
    }
    return NULL;
}

/* A free slot, else the oldest that is not a warning already given, else
 * the oldest of those (the table forgets, it never grows). */
static struct slot *take(struct sk__authwatch *w)
{
    struct slot *best = NULL, *warned = NULL;

    for (size_t i = 0; i < SLOTS; i++) {
        struct slot *sl = &w->slots[i];
        if (sl->state == SLOT_FREE)
            return sl;
        if (sl->state == SLOT_WARNED) {
            if (warned == NULL || sl->since_ms < warned->since_ms)
                warned = sl;
        } else if (best == NULL || sl->since_ms < best->since_ms) {
            best = sl;
        }
    }
    return best != NULL ? best : warned;
}

void sk__authwatch_challenged(struct sk__authwatch *w, const struct sk_msg *m,
                              const struct sk_auth_algos *offered, uint64_t now_ms)
{
    char src[SK_LOC_IP_MAX + 1], ua[sizeof(((struct slot *)0)->ua)];
    struct slot *sl;

    if (w == NULL || offered->n < 2)
        return;
    key_of(m, src, ua);
    pthread_mutex_lock(&w->lock);
    sl = find(w, src, ua);
    if (sl == NULL && (sl = take(w)) != NULL) {
        memcpy(sl->src, src, sizeof(src));
        memcpy(sl->ua, ua, sizeof(ua));
        sl->state = SLOT_FREE;
    }
    /* Pending since the first unanswered challenge; answered before: a
     * new round starts. */
    if (sl != NULL && sl->state != SLOT_WARNED && sl->state != SLOT_PENDING) {
        sl->state = SLOT_PENDING;
        sl->since_ms = now_ms;
        sk_auth_algos_format(offered, sl->offered, sizeof(sl->offered));
    }
    pthread_mutex_unlock(&w->lock);
}

void sk__authwatch_answered(struct sk__authwatch *w, const struct sk_msg *m)
{
    char src[SK_LOC_IP_MAX + 1], ua[sizeof(((struct slot *)0)->ua)];
    struct slot *sl;

    if (w == NULL)
        return;
    key_of(m, src, ua);
    pthread_mutex_lock(&w->lock);
    sl = find(w, src, ua);
    if (sl != NULL && sl->state == SLOT_PENDING)
        sl->state = SLOT_ANSWERED;
    pthread_mutex_unlock(&w->lock);
}

void sk__authwatch_tick(struct sk__authwatch *w, uint64_t now_ms)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < SLOTS; i++) {
        struct slot *sl = &w->slots[i];
        if (sl->state != SLOT_PENDING || now_ms - sl->since_ms < WAIT_MS ||
            now_ms - w->last_warn_ms < WARN_GAP_MS)
            continue;
        sl->state = SLOT_WARNED;
        w->last_warn_ms = now_ms;
        SK_LOG(SK_LOG_WARN, "auth",
               "event=auth_never_retried src=%s ua=\"%s\" offered=\"%s\" why=\"challenged with "
               "several digest algorithms, the client never sent credentials: it may stop at the "
               "first algorithm it does not know or read only the first challenge\" "
               "fix=\"put an algorithm it supports first in auth.algorithms "
               "(--auth-algorithms), e.g. MD5\"",
               sl->src, sl->ua, sl->offered);
    }
    pthread_mutex_unlock(&w->lock);
}
