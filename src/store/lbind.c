/*
 * Binding blocks of the location service (location.c): one heap block per
 * binding, its numbers followed by five strings packed and
 * NUL-terminated, with 16-bit lengths instead of pointers. A registrar
 * holds one per registered phone, so the fixed part is kept to about 55
 * bytes (test_location.c bounds a binding's whole cost). The User-Agent
 * string is interned: phones of one model send the same one, so each
 * distinct value is kept once, with a reference count, in a process-wide
 * table under its own lock (bindings are freed on several threads: the
 * shard's, and the store's writer thread for snapshots).
 *
 * Memory: a block is owned by whoever holds the list it is on (an AOR
 * entry, or a pending write's snapshot) and freed with sk__lbind_free()
 * or sk__lbind_free_list(); each block holds one reference on its
 * User-Agent entry, and the last reference frees the entry (and the
 * table's buckets once it is empty).
 */
#include "store/store_int.h"

#include <sipkit/containers.h>

#include <stddef.h>
#include <string.h>

/* ---- interned User-Agent strings --------------------------------------- */

struct sk__ua {
    struct sk_hnode hnode;
    size_t refs; /* under ua_lock */
    uint16_t len;
    char s[];
};

static pthread_mutex_t ua_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sk_htab ua_tab; /* zero: empty */

/* A reference on the entry for s (n bytes), made when missing; NULL for
 * the empty string or when out of memory (the value is informational). */
static struct sk__ua *ua_get(const char *s, size_t n)
{
    uint64_t h;
    struct sk__ua *u = NULL;

    if (n == 0)
        return NULL;
    h = sk_hash(s, n); /* keyed: User-Agent comes from the wire */
    pthread_mutex_lock(&ua_lock);
    for (struct sk_hnode *x = sk_htab_first(&ua_tab, h); x != NULL; x = sk_htab_next(x)) {
        struct sk__ua *c = SK_CONTAINER_OF(x, struct sk__ua, hnode);
        if (c->len == n && memcmp(c->s, s, n) == 0) {
            u = c;
            break;
        }
    }
    if (u == NULL && (u = sk_malloc(sizeof(*u) + n + 1)) != NULL) {
        u->refs = 0;
        u->len = (uint16_t)n;
        memcpy(u->s, s, n);
        u->s[n] = '\0';
        if (sk_htab_insert(&ua_tab, &u->hnode, h) != 0) {
            sk_free(u);
            u = NULL;
        }
    }
    if (u != NULL)
        u->refs++;
    pthread_mutex_unlock(&ua_lock);
    return u;
}

static void ua_ref(struct sk__ua *u)
{
    if (u == NULL)
        return;
    pthread_mutex_lock(&ua_lock);
    u->refs++;
    pthread_mutex_unlock(&ua_lock);
}

static void ua_unref(struct sk__ua *u)
{
    if (u == NULL)
        return;
    pthread_mutex_lock(&ua_lock);
    if (--u->refs == 0) {
        sk_htab_remove(&ua_tab, &u->hnode);
        sk_free(u);
        if (ua_tab.count == 0)
            sk_htab_free(&ua_tab); /* nothing stays allocated between uses */
    }
    pthread_mutex_unlock(&ua_lock);
}

/* ---- binding blocks ------------------------------------------------------ */

/* Strings longer than a length field holds never come from an update
 * (check_update() refuses them); a hand-edited database gets them cut. */
static size_t packed_len(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    return n > UINT16_MAX ? UINT16_MAX : n;
}

static size_t block_size(const struct sk__lbind *b)
{
    size_t n = offsetof(struct sk__lbind, data);

    for (int i = 0; i < SK__LS_UA; i++)
        n += (size_t)b->len[i] + 1;
    return n;
}

/* Seconds since the epoch in 32 bits: before 1970 is 0, after 2106 the
 * last second (a binding's expiry is at most a few days ahead). */
static uint32_t secs32(int64_t t)
{
    return t < 0 ? 0 : t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

struct sk__lbind *sk__lbind_new(const struct sk__lrow *r)
{
    const char *src[SK__LS_UA] = {r->contact, r->call_id, r->path, r->src_ip, r->instance};
    size_t total = 0;
    struct sk__lbind b0, *b;
    char *p;

    memset(&b0, 0, sizeof(b0));
    for (int i = 0; i < SK__LS_UA; i++) {
        b0.len[i] = (uint16_t)packed_len(src[i]);
        total += (size_t)b0.len[i] + 1;
    }
    /* The strings start right after the header, in its tail padding. */
    b = sk_malloc(offsetof(struct sk__lbind, data) + total);
    if (b == NULL)
        return NULL;
    memcpy(b, &b0, offsetof(struct sk__lbind, data));
    b->expires_at = secs32(r->expires_at);
    b->updated_at = secs32(r->updated_at);
    b->conn_id = r->conn_id;
    b->cseq = r->cseq;
    b->reg_id = r->reg_id;
    b->q = (int16_t)(r->q < -1 ? -1 : r->q > 1000 ? 1000 : r->q);
    b->src_port = r->src_port;
    b->tp = (uint8_t)r->tp;
    b->ua = ua_get(r->ua != NULL ? r->ua : "", packed_len(r->ua));
    p = b->data;
    for (int i = 0; i < SK__LS_UA; i++) {
        if (b->len[i] > 0)
            memcpy(p, src[i], b->len[i]);
        p[b->len[i]] = '\0';
        p += b->len[i] + 1;
    }
    return b;
}

struct sk__lbind *sk__lbind_clone(const struct sk__lbind *b)
{
    size_t n = block_size(b);
    struct sk__lbind *c = sk_malloc(n);

    if (c != NULL) {
        memcpy(c, b, n);
        c->next = NULL;
        ua_ref(c->ua);
    }
    return c;
}

const char *sk__lbind_str(const struct sk__lbind *b, enum sk__lstr i)
{
    const char *p = b->data;

    if (i == SK__LS_UA)
        return b->ua != NULL ? b->ua->s : "";
    for (int k = 0; k < (int)i; k++)
        p += b->len[k] + 1;
    return p;
}

void sk__lbind_row(const struct sk__lbind *b, struct sk__lrow *r)
{
    const char **dst[SK__LS_UA] = {&r->contact, &r->call_id, &r->path, &r->src_ip, &r->instance};
    const char *p = b->data;

    memset(r, 0, sizeof(*r));
    for (int i = 0; i < SK__LS_UA; i++) {
        *dst[i] = p;
        p += b->len[i] + 1;
    }
    r->ua = sk__lbind_str(b, SK__LS_UA);
    r->expires_at = b->expires_at;
    r->updated_at = b->updated_at;
    r->q = b->q;
    r->cseq = b->cseq;
    r->reg_id = b->reg_id;
    r->src_port = b->src_port;
    r->tp = (enum sk_transport)b->tp;
    r->conn_id = b->conn_id;
}

void sk__lbind_free(struct sk__lbind *b)
{
    if (b == NULL)
        return;
    ua_unref(b->ua);
    sk_free(b);
}

void sk__lbind_free_list(struct sk__lbind *b)
{
    while (b != NULL) {
        struct sk__lbind *next = b->next;
        sk__lbind_free(b);
        b = next;
    }
}
