/*
 * Digest arithmetic: the algorithm table, HA1, userhash and the
 * request-digest, all through OpenSSL EVP.
 *
 * RFC 7616 §3.4.1 (response with qop), §3.4.2 (A1, the -sess variant),
 * §3.4.3 (A2, auth-int), §3.4.4 (userhash); RFC 2069 §2.1.1 (no qop);
 * RFC 8760 §2 (SHA-256 and SHA-512/256 in SIP, hex digests of 64 digits).
 *
 * Memory: no heap memory of ours; one EVP_MD_CTX per computation. The
 * fetched EVP_MD objects are process-wide, fetched once and kept.
 */
#include "auth/auth_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

struct algo_info {
    const char *name;
    enum sk_auth_hash hash;
    bool sess;
};

static const struct algo_info algos[SK_ALGO__COUNT] = {
    [SK_ALGO_MD5] = {"MD5", SK_HASH_MD5, false},
    [SK_ALGO_MD5_SESS] = {"MD5-sess", SK_HASH_MD5, true},
    [SK_ALGO_SHA256] = {"SHA-256", SK_HASH_SHA256, false},
    [SK_ALGO_SHA256_SESS] = {"SHA-256-sess", SK_HASH_SHA256, true},
    [SK_ALGO_SHA512_256] = {"SHA-512-256", SK_HASH_SHA512_256, false},
    [SK_ALGO_SHA512_256_SESS] = {"SHA-512-256-sess", SK_HASH_SHA512_256, true},
};

/* OpenSSL names of the digests. */
static const char *const md_names[SK_HASH__COUNT] = {"MD5", "SHA2-256", "SHA2-512/256"};
static const char *const hash_names[SK_HASH__COUNT] = {"MD5", "SHA-256", "SHA-512-256"};
static EVP_MD *mds[SK_HASH__COUNT];
static pthread_once_t mds_once = PTHREAD_ONCE_INIT;

static void fetch_mds(void)
{
    /* Explicit fetches once: EVP_md5() & co. would look the implementation
     * up again on every EVP_DigestInit_ex2() call. */
    for (int i = 0; i < SK_HASH__COUNT; i++)
        mds[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
}

const EVP_MD *sk__md(enum sk_auth_hash h)
{
    if ((unsigned)h >= SK_HASH__COUNT)
        return NULL;
    pthread_once(&mds_once, fetch_mds);
    return mds[h];
}

const char *sk_auth_algo_name(enum sk_auth_algo a)
{
    return (unsigned)a < SK_ALGO__COUNT ? algos[a].name : "?";
}

int sk_auth_algo_parse(struct sk_slice s, enum sk_auth_algo *out)
{
    for (int i = 0; i < SK_ALGO__COUNT; i++) {
        if (sk_slice_caseeq_cstr(s, algos[i].name)) {
            *out = (enum sk_auth_algo)i;
            return 0;
        }
    }
    return SK_ENOTFOUND;
}

int sk_auth_algos_parse(const char *s, bool allow_sess, struct sk_auth_algos *out)
{
    struct sk_auth_algos l = {0};
    const char *p = s != NULL ? s : "";

    for (;;) {
        enum sk_auth_algo a;
        size_t n;
        p += strspn(p, " \t,");
        n = strcspn(p, " \t,");
        if (n == 0)
            break;
        if (sk_auth_algo_parse(sk_slice_make(p, n), &a) != 0 ||
            (sk_auth_algo_is_sess(a) && !allow_sess) ||
            (sk_auth_algos_set(&l) & SK_ALGO_BIT(a)) != 0)
            return SK_EINVAL;
        l.list[l.n++] = (uint8_t)a;
        p += n;
    }
    if (l.n == 0)
        return SK_EINVAL;
    *out = l;
    return 0;
}

uint32_t sk_auth_algos_set(const struct sk_auth_algos *l)
{
    uint32_t set = 0;

    for (size_t i = 0; i < l->n && i < SK_ALGO__COUNT; i++)
        set |= SK_ALGO_BIT(l->list[i]);
    return set;
}

void sk_auth_algos_format(const struct sk_auth_algos *l, char *out, size_t outsz)
{
    size_t used = 0;

    if (outsz == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < l->n && i < SK_ALGO__COUNT; i++) {
        int w = snprintf(out + used, outsz - used, "%s%s", i > 0 ? " " : "",
                         sk_auth_algo_name(l->list[i]));
        if (w < 0 || (size_t)w >= outsz - used)
            return;
        used += (size_t)w;
    }
}

enum sk_auth_hash sk_auth_algo_hash(enum sk_auth_algo a)
{
    return (unsigned)a < SK_ALGO__COUNT ? algos[a].hash : SK_HASH_MD5;
}

bool sk_auth_algo_is_sess(enum sk_auth_algo a)
{
    return (unsigned)a < SK_ALGO__COUNT && algos[a].sess;
}

size_t sk_auth_hash_hexlen(enum sk_auth_hash h)
{
    return h == SK_HASH_MD5 ? 32 : 64;
}

const char *sk_auth_hash_name(enum sk_auth_hash h)
{
    return (unsigned)h < SK_HASH__COUNT ? hash_names[h] : "?";
}

void sk__hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int sk__hash_parts(EVP_MD_CTX *ctx, enum sk_auth_hash h, const struct sk_slice *parts, size_t n,
                   char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const EVP_MD *type = sk__md(h);

    if (type == NULL || EVP_DigestInit_ex2(ctx, type, NULL) != 1)
        return SK_EIO;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && EVP_DigestUpdate(ctx, ":", 1) != 1)
            return SK_EIO;
        if (parts[i].len > 0 && EVP_DigestUpdate(ctx, parts[i].p, parts[i].len) != 1)
            return SK_EIO;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen * 2 != sk_auth_hash_hexlen(h))
        return SK_EIO;
    sk__hex(md, mdlen, hex);
    return 0;
}

static int hash_with_new_ctx(enum sk_auth_hash h, const struct sk_slice *parts, size_t n, char *hex)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc;

    if (ctx == NULL)
        return SK_ENOMEM;
    rc = sk__hash_parts(ctx, h, parts, n, hex);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int sk_auth_ha1(enum sk_auth_hash h, struct sk_slice user, struct sk_slice realm,
                struct sk_slice password, char *out)
{
    struct sk_slice parts[3] = {user, realm, password};

    return hash_with_new_ctx(h, parts, 3, out);
}

int sk_auth_userhash(enum sk_auth_hash h, struct sk_slice user, struct sk_slice realm, char *out)
{
    struct sk_slice parts[2] = {user, realm};

    return hash_with_new_ctx(h, parts, 2, out);
}

static int compute(EVP_MD_CTX *ctx, const struct sk_auth_calc *c, char *out)
{
    enum sk_auth_hash h = sk_auth_algo_hash(c->algo);
    char ha1[SK_AUTH_HEX_MAX + 1], ha2[SK_AUTH_HEX_MAX + 1], hbody[SK_AUTH_HEX_MAX + 1];
    struct sk_slice a1 = c->ha1;
    int rc;

    if ((unsigned)c->algo >= SK_ALGO__COUNT)
        return SK_EINVAL;
    if (algos[c->algo].sess) {
        /* RFC 7616 §3.4.2: A1 = H(user:realm:password) ":" nonce ":" cnonce. */
        struct sk_slice p[3] = {c->ha1, c->nonce, c->cnonce};
        rc = sk__hash_parts(ctx, h, p, 3, ha1);
        if (rc != 0)
            return rc;
        a1 = sk_slice_make(ha1, sk_auth_hash_hexlen(h));
    }
    if (sk_slice_eq(c->qop, SK_SLICE_LIT("auth-int"))) {
        /* RFC 7616 §3.4.3: A2 = Method ":" request-uri ":" H(entity-body). */
        struct sk_slice pb[1] = {c->body};
        rc = sk__hash_parts(ctx, h, pb, 1, hbody);
        if (rc != 0)
            return rc;
        struct sk_slice p[3] = {c->method, c->uri, sk_slice_cstr(hbody)};
        rc = sk__hash_parts(ctx, h, p, 3, ha2);
    } else if (c->qop.len == 0 || sk_slice_eq(c->qop, SK_SLICE_LIT("auth"))) {
        struct sk_slice p[2] = {c->method, c->uri};
        rc = sk__hash_parts(ctx, h, p, 2, ha2);
    } else {
        return SK_EINVAL;
    }
    if (rc != 0)
        return rc;
    struct sk_slice hb = sk_slice_make(ha2, sk_auth_hash_hexlen(h));
    if (c->qop.len == 0) {
        /* RFC 2069 §2.1.1: request-digest = H(HA1 ":" nonce ":" HA2). */
        struct sk_slice p[3] = {a1, c->nonce, hb};
        return sk__hash_parts(ctx, h, p, 3, out);
    }
    /* RFC 7616 §3.4.1: H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2). */
    struct sk_slice p[6] = {a1, c->nonce, c->nc, c->cnonce, c->qop, hb};
    return sk__hash_parts(ctx, h, p, 6, out);
}

int sk_auth_compute(const struct sk_auth_calc *c, char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc;

    if (ctx == NULL)
        return SK_ENOMEM;
    rc = compute(ctx, c, out);
    EVP_MD_CTX_free(ctx);
    return rc;
}

size_t sk__unescape(struct sk_slice in, char *out)
{
    size_t n = 0;

    for (size_t i = 0; i < in.len; i++) {
        if (in.p[i] == '\\' && i + 1 < in.len)
            i++;
        out[n++] = in.p[i];
    }
    return n;
}

void sk__buf_quoted(struct sk_buf *b, struct sk_slice s)
{
    size_t start = 0;

    sk_buf_append(b, "\"", 1);
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] == '"' || s.p[i] == '\\') {
            sk_buf_append(b, s.p + start, i - start);
            sk_buf_append(b, "\\", 1);
            start = i;
        }
    }
    sk_buf_append(b, s.p + start, s.len - start);
    sk_buf_append(b, "\"", 1);
}

int sk__random(void *p, size_t n)
{
    return RAND_bytes(p, (int)n) == 1 ? 0 : SK_EIO;
}
