/*
 * Nonce machinery: the persisted server secret, HMAC, the block cipher
 * that hides a nonce's stamp, base64url, and the bounded nonce-count
 * table that refuses replays.
 *
 * RFC 7616 §3.3 and §5.4-5.5 suggest a nonce of a timestamp and a keyed
 * hash so that it can be validated without per-request state; the server
 * secret lives in DATA_DIR/auth.secret so that nonces survive a restart.
 * RFC 7616 §3.4 (nc) and §5.5: the server remembers which nonce-count
 * values it has seen so a replayed request is refused. The table here has
 * a fixed number of entries split into shards, each with its own mutex.
 * Each entry keeps the highest nc and a 64-bit window below it (as IPsec's
 * anti-replay window, RFC 4303 §3.4.3), so requests sent with one nonce
 * and delivered out of order (UDP) still pass once each. An entry whose
 * nonce has expired is free; when a bucket is full of live nonces the
 * oldest is evicted and its stamp raises the shard's watermark: a nonce
 * not found in the table but stamped at or before the watermark may have
 * been seen, so it is answered with a fresh challenge (stale) rather than
 * trusted. Stamps (milliseconds and an issue counter) order every nonce
 * this process made, so a burst of new nonces is never mistaken for old
 * ones. The watermark starts at the table's creation: after a restart,
 * nonces from before it are re-challenged too (the table was lost; the
 * persisted secret still recognises them, hence stale, not forged).
 * Memory stays at slots * sizeof(entry) whatever the load.
 *
 * Memory: the table and MAC template are owned by struct sk_auth.
 */
#include "auth/auth_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

/* ---- HMAC ---------------------------------------------------------------- */

struct sk__mac {
    EVP_MAC *mac;
    EVP_MAC_CTX *tmpl; /* keyed once; duplicated per computation */
};

int sk__mac_new(struct sk__mac **out, const unsigned char *key, size_t keylen)
{
    struct sk__mac *m = sk_calloc(1, sizeof(*m));
    char digest[] = "SHA2-256";
    OSSL_PARAM params[2];

    if (m == NULL)
        return SK_ENOMEM;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (m->mac == NULL || (m->tmpl = EVP_MAC_CTX_new(m->mac)) == NULL ||
        EVP_MAC_init(m->tmpl, key, keylen, params) != 1) {
        sk__mac_free(m);
        return SK_EIO;
    }
    *out = m;
    return 0;
}

void sk__mac_free(struct sk__mac *m)
{
    if (m == NULL)
        return;
    EVP_MAC_CTX_free(m->tmpl);
    EVP_MAC_free(m->mac);
    sk_free(m);
}

int sk__mac_compute(struct sk__mac *m, const struct sk_slice *parts, size_t n, unsigned char *out)
{
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(m->tmpl);
    size_t outl = 0;
    int rc = SK_EIO;

    if (c == NULL)
        return SK_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len > 0 &&
            EVP_MAC_update(c, (const unsigned char *)parts[i].p, parts[i].len) != 1)
            goto done;
    }
    if (EVP_MAC_final(c, out, &outl, 32) == 1 && outl == 32)
        rc = 0;
done:
    EVP_MAC_CTX_free(c);
    return rc;
}

/* ---- the nonce block cipher ---------------------------------------------- */

/* One block, no padding: each nonce's plaintext is unique (its stamp), so
 * a single-block permutation hides it without an IV. */
int sk__block_crypt(const unsigned char *key, const unsigned char *in, unsigned char *out,
                    bool encrypt)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int outl = 0, rc = SK_EIO;

    if (c == NULL)
        return SK_ENOMEM;
    if (EVP_CipherInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL, encrypt ? 1 : 0) == 1 &&
        EVP_CIPHER_CTX_set_padding(c, 0) == 1 && EVP_CipherUpdate(c, out, &outl, in, 16) == 1 &&
        outl == 16)
        rc = 0;
    EVP_CIPHER_CTX_free(c);
    return rc;
}

/* ---- the secret file ------------------------------------------------------- */

static int read_exact(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : SK_EIO;
        got += (size_t)r;
    }
    return 0;
}

static int write_exact(int fd, const unsigned char *p, size_t n)
{
    size_t put = 0;

    while (put < n) {
        ssize_t r = write(fd, p + put, n - put);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : SK_EIO;
        put += (size_t)r;
    }
    return 0;
}

static int load_existing(const char *path, unsigned char *secret)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -errno;
    rc = read_exact(fd, secret, SK__SECRET_LEN);
    close(fd);
    return rc;
}

/* Write a new secret to a temporary file and link it into place, so two
 * processes starting together end up with the same secret (the loser of
 * link() reads the winner's). */
static int create_secret(const char *dir, const char *path, unsigned char *secret)
{
    char tmp[4096];
    int fd, rc;

    if (snprintf(tmp, sizeof(tmp), "%s/.auth.secret.%ld", dir, (long)getpid()) >= (int)sizeof(tmp))
        return SK_EINVAL;
    rc = sk__random(secret, SK__SECRET_LEN);
    if (rc != 0)
        return rc;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    rc = write_exact(fd, secret, SK__SECRET_LEN);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && link(tmp, path) != 0)
        rc = errno == EEXIST ? load_existing(path, secret) : -errno;
    unlink(tmp);
    return rc;
}

int sk__secret_load(const char *dir, unsigned char *secret)
{
    char path[4096];
    int rc;

    if (snprintf(path, sizeof(path), "%s/auth.secret", dir) >= (int)sizeof(path))
        return SK_EINVAL;
    rc = load_existing(path, secret);
    if (rc == -ENOENT)
        rc = create_secret(dir, path, secret);
    return rc;
}

/* ---- base64url (RFC 4648 §5), no padding ------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t sk__b64url_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;

    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long sk__b64url_decode(struct sk_slice in, unsigned char *out, size_t outsz)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    if (in.len % 4 == 1)
        return -1;
    for (size_t i = 0; i < in.len; i++) {
        int v = b64_value(in.p[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == outsz)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return -1; /* non-canonical trailing bits */
    return (long)o;
}

/* ---- nonce-count table ---------------------------------------------------- */

#define NC_SHARDS 64
#define NC_WAYS   4 /* entries probed per lookup */

struct nc_entry {
    unsigned char nonce[SK__NONCE_BIN];
    uint64_t stamp;  /* issue stamp; 0 = free */
    uint32_t max;    /* highest nc seen */
    uint64_t window; /* bit i: nc == max - i seen */
};

struct nc_shard {
    pthread_mutex_t lock;
    uint64_t watermark; /* newest stamp of an entry evicted before expiry */
    struct nc_entry *e;
    size_t n;
};

struct sk__nctab {
    struct nc_shard shards[NC_SHARDS];
};

int sk__nctab_new(struct sk__nctab **out, size_t slots, uint64_t start_stamp)
{
    struct sk__nctab *t = sk_calloc(1, sizeof(*t));
    size_t per = slots / NC_SHARDS;

    if (t == NULL)
        return SK_ENOMEM;
    if (per < NC_WAYS)
        per = NC_WAYS;
    for (int i = 0; i < NC_SHARDS; i++) {
        struct nc_shard *s = &t->shards[i];
        pthread_mutex_init(&s->lock, NULL);
        s->n = per;
        s->watermark = start_stamp;
        s->e = sk_calloc(per, sizeof(*s->e));
        if (s->e == NULL) {
            sk__nctab_free(t);
            return SK_ENOMEM;
        }
    }
    *out = t;
    return 0;
}

void sk__nctab_free(struct sk__nctab *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < NC_SHARDS; i++) {
        pthread_mutex_destroy(&t->shards[i].lock);
        sk_free(t->shards[i].e);
    }
    sk_free(t);
}

/* The MAC part of the nonce is uniformly random to anyone without the
 * secret: its bytes make the hash. */
static uint64_t nonce_hash(const unsigned char *nonce)
{
    uint64_t h;

    memcpy(&h, nonce + 16, sizeof(h));
    return h;
}

/* Record nc in a live entry's window. */
static enum sk__nc_verdict window_use(struct nc_entry *e, uint32_t nc)
{
    if (nc > e->max) {
        uint32_t shift = nc - e->max;
        e->window = shift >= 64 ? 0 : e->window << shift;
        e->window |= 1;
        e->max = nc;
        return SK__NC_OK;
    }
    uint32_t back = e->max - nc;
    if (back >= 64 || (e->window >> back) & 1)
        return SK__NC_REPLAY;
    e->window |= (uint64_t)1 << back;
    return SK__NC_OK;
}

static struct nc_entry *find_slot(struct nc_shard *s, size_t base, const unsigned char *nonce,
                                  int64_t now_ms, int64_t lifetime_ms, bool *found)
{
    struct nc_entry *free_e = NULL, *oldest = NULL;

    *found = false;
    for (size_t w = 0; w < NC_WAYS; w++) {
        struct nc_entry *e = &s->e[(base + w) % s->n];
        bool live = e->stamp != 0 && now_ms - SK__STAMP_MS(e->stamp) <= lifetime_ms;
        if (live && CRYPTO_memcmp(e->nonce, nonce, SK__NONCE_BIN) == 0) {
            *found = true;
            return e;
        }
        if (!live) {
            if (free_e == NULL)
                free_e = e;
        } else if (oldest == NULL || e->stamp < oldest->stamp) {
            oldest = e;
        }
    }
    if (free_e != NULL)
        return free_e;
    /* Every way holds a live nonce: evict the oldest, remember its age. */
    if (oldest->stamp > s->watermark)
        s->watermark = oldest->stamp;
    return oldest;
}

enum sk__nc_verdict sk__nctab_use(struct sk__nctab *t, const unsigned char *nonce, uint64_t stamp,
                                  uint32_t nc, int64_t now_ms, int64_t lifetime_ms)
{
    uint64_t h = nonce_hash(nonce);
    struct nc_shard *s = &t->shards[h % NC_SHARDS];
    enum sk__nc_verdict v = SK__NC_OK;
    struct nc_entry *e;
    bool found;

    if (nc == 0)
        return SK__NC_REPLAY; /* nc counts from 1 (RFC 7616 §3.4) */
    pthread_mutex_lock(&s->lock);
    e = find_slot(s, (size_t)(h / NC_SHARDS) % s->n, nonce, now_ms, lifetime_ms, &found);
    if (found) {
        v = window_use(e, nc);
    } else if (stamp <= s->watermark) {
        v = SK__NC_EVICTED; /* may have been seen: do not trust it */
    } else {
        memcpy(e->nonce, nonce, SK__NONCE_BIN);
        e->stamp = stamp;
        e->max = nc;
        e->window = 1;
    }
    pthread_mutex_unlock(&s->lock);
    return v;
}
