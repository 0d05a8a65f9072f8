/*
 * Digest authentication, client side: answer 401/407 challenges.
 *
 * RFC 3261 §22.2-22.3 (UAC behaviour, one credentials header per realm),
 * RFC 8760 §2.4 (several challenges per realm, in preference order: use
 * the first whose algorithm is supported), RFC 7616 §3.4 (credentials,
 * cnonce, nc counting up with each request sent with one nonce, userhash),
 * §3.3 (stale=true: the nonce expired, retry with the new one without
 * asking the user again).
 *
 * Memory: struct sk_auth_client owns copies of the username, password and
 * one struct realm_state per realm (a short list: a request meets one or
 * two realms). The password is wiped when freed. The HA1 per realm is
 * computed once per challenge.
 */
#include "auth/auth_int.h"

#include <string.h>

#include <openssl/crypto.h>

#define CNONCE_BIN 12

struct realm_state {
    struct realm_state *next;
    enum sk_auth_kind kind;
    enum sk_auth_algo algo;
    char *realm;
    char *nonce;
    char *opaque;    /* NULL when the challenge had none */
    const char *qop; /* "auth", "auth-int" or "" (RFC 2069) */
    bool userhash;
    bool from_stale; /* this nonce came from a stale=true challenge */
    uint32_t nc;     /* requests sent with this nonce */
    char ha1[SK_AUTH_HEX_MAX + 1];
};

struct sk_auth_client {
    char *user;
    char *password;
    size_t password_len;
    uint32_t algorithms;
    char cnonce[64];
    struct realm_state *realms;
};

int sk_auth_client_new(struct sk_auth_client **out, struct sk_slice user, struct sk_slice password)
{
    struct sk_auth_client *c;

    if (user.len == 0 || user.len > SK_AUTH_NAME_MAX)
        return SK_EINVAL;
    c = sk_calloc(1, sizeof(*c));
    if (c == NULL)
        return SK_ENOMEM;
    c->user = sk_strndup(user.p, user.len);
    c->password = sk_strndup(password.len ? password.p : "", password.len);
    c->password_len = password.len;
    c->algorithms = (1u << SK_ALGO__COUNT) - 1;
    if (c->user == NULL || c->password == NULL) {
        sk_auth_client_free(c);
        return SK_ENOMEM;
    }
    *out = c;
    return 0;
}

static void state_free(struct realm_state *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s->ha1, sizeof(s->ha1));
    sk_free(s->realm);
    sk_free(s->nonce);
    sk_free(s->opaque);
    sk_free(s);
}

void sk_auth_client_free(struct sk_auth_client *c)
{
    if (c == NULL)
        return;
    while (c->realms != NULL) {
        struct realm_state *next = c->realms->next;
        state_free(c->realms);
        c->realms = next;
    }
    if (c->password != NULL)
        OPENSSL_cleanse(c->password, c->password_len);
    sk_free(c->password);
    sk_free(c->user);
    sk_free(c);
}

void sk_auth_client_set_algorithms(struct sk_auth_client *c, uint32_t algorithms)
{
    c->algorithms = algorithms & ((1u << SK_ALGO__COUNT) - 1);
}

int sk_auth_client_set_cnonce(struct sk_auth_client *c, struct sk_slice cnonce)
{
    if (cnonce.len >= sizeof(c->cnonce))
        return SK_EINVAL;
    sk_slice_to_cstr(cnonce, c->cnonce, sizeof(c->cnonce));
    return 0;
}

static struct realm_state *find_realm(struct sk_auth_client *c, struct sk_slice realm)
{
    for (struct realm_state *s = c->realms; s != NULL; s = s->next) {
        if (sk_slice_eq(sk_slice_cstr(s->realm), realm))
            return s;
    }
    return NULL;
}

/* A heap copy of a parameter with its quoted-pair escapes removed. */
static char *dup_field(const struct sk_digest_hdr *h, enum sk_digest_field f)
{
    struct sk_slice v = h->f[f];
    char *p = sk_malloc(v.len + 1);

    if (p == NULL)
        return NULL;
    size_t n = (h->escaped & (1u << f)) ? sk__unescape(v, p) : v.len;
    if (!(h->escaped & (1u << f)) && v.len > 0)
        memcpy(p, v.p, v.len);
    p[n] = '\0';
    return p;
}

/* Choose the qop from a challenge's list: auth when offered, auth-int when
 * only that is, "" when the challenge has no qop (RFC 2069); NULL when the
 * list names nothing we know. */
static const char *choose_qop(const struct sk_digest_hdr *h)
{
    struct sk_slice list = h->f[SK_DIG_QOP];
    bool auth_int = false;
    size_t start = 0;

    if (!(h->present & (1u << SK_DIG_QOP)))
        return "";
    /* qop-options = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT */
    for (size_t i = 0; i <= list.len; i++) {
        if (i < list.len && list.p[i] != ',')
            continue;
        struct sk_slice item = sk_slice_trim(sk_slice_make(list.p + start, i - start));
        start = i + 1;
        if (sk_slice_eq(item, SK_SLICE_LIT("auth")))
            return "auth";
        if (sk_slice_eq(item, SK_SLICE_LIT("auth-int")))
            auth_int = true;
    }
    return auth_int ? "auth-int" : NULL;
}

/* Whether challenge h is usable; sets *algo and *qop. */
static bool usable(const struct sk_auth_client *c, const struct sk_digest_hdr *h,
                   enum sk_auth_algo *algo, const char **qop)
{
    if (!sk_slice_caseeq_cstr(h->scheme, "Digest") || !(h->present & (1u << SK_DIG_REALM)) ||
        !(h->present & (1u << SK_DIG_NONCE)) || h->duplicated != 0)
        return false;
    *algo = SK_ALGO_MD5;
    if ((h->present & (1u << SK_DIG_ALGORITHM)) &&
        sk_auth_algo_parse(h->f[SK_DIG_ALGORITHM], algo) != 0)
        return false;
    if (!(c->algorithms & SK_ALGO_BIT(*algo)))
        return false;
    *qop = choose_qop(h);
    /* -sess needs a cnonce, which only a qop exchange carries. */
    return *qop != NULL && !(sk_auth_algo_is_sess(*algo) && (*qop)[0] == '\0');
}

/* Replace (or fill) s with challenge h. */
static int adopt(struct sk_auth_client *c, struct realm_state *s, const struct sk_digest_hdr *h,
                 enum sk_auth_kind kind, enum sk_auth_algo algo, const char *qop)
{
    char *nonce = dup_field(h, SK_DIG_NONCE);
    char *opaque = (h->present & (1u << SK_DIG_OPAQUE)) ? dup_field(h, SK_DIG_OPAQUE) : NULL;

    if (nonce == NULL || ((h->present & (1u << SK_DIG_OPAQUE)) && opaque == NULL)) {
        sk_free(nonce);
        sk_free(opaque);
        return SK_ENOMEM;
    }
    sk_free(s->nonce);
    sk_free(s->opaque);
    s->nonce = nonce;
    s->opaque = opaque;
    s->kind = kind;
    s->algo = algo;
    s->qop = qop;
    s->nc = 0;
    s->from_stale =
        (h->present & (1u << SK_DIG_STALE)) && sk_slice_caseeq_cstr(h->f[SK_DIG_STALE], "true");
    s->userhash = (h->present & (1u << SK_DIG_USERHASH)) &&
                  sk_slice_caseeq_cstr(h->f[SK_DIG_USERHASH], "true");
    return sk_auth_ha1(sk_auth_algo_hash(algo), sk_slice_cstr(c->user), sk_slice_cstr(s->realm),
                       sk_slice_make(c->password, c->password_len), s->ha1);
}

/* Apply the chosen challenge for one realm. Returns 0, SK_EAUTH (our
 * credentials were refused) or an error. */
static int apply(struct sk_auth_client *c, const struct sk_digest_hdr *h, enum sk_auth_kind kind,
                 enum sk_auth_algo algo, const char *qop)
{
    bool stale =
        (h->present & (1u << SK_DIG_STALE)) && sk_slice_caseeq_cstr(h->f[SK_DIG_STALE], "true");
    char *realm = dup_field(h, SK_DIG_REALM);
    struct realm_state *s;

    if (realm == NULL)
        return SK_ENOMEM;
    s = find_realm(c, sk_slice_cstr(realm));
    if (s != NULL) {
        sk_free(realm);
        if (s->nc > 0 && !stale)
            return SK_EAUTH; /* sent with this nonce and refused: wrong credentials */
        if (s->nc == 1 && stale && s->from_stale)
            return SK_EAUTH; /* stale again right after a stale retry: give up */
        return adopt(c, s, h, kind, algo, qop);
    }
    s = sk_calloc(1, sizeof(*s));
    if (s == NULL) {
        sk_free(realm);
        return SK_ENOMEM;
    }
    s->realm = realm;
    int rc = adopt(c, s, h, kind, algo, qop);
    if (rc != 0) {
        state_free(s);
        return rc;
    }
    s->next = c->realms;
    c->realms = s;
    return 0;
}

int sk_auth_client_challenge(struct sk_auth_client *c, enum sk_auth_kind kind,
                             const struct sk_digest_hdr *ch, size_t n)
{
    bool any = false;

    for (size_t i = 0; i < n; i++) {
        enum sk_auth_algo algo;
        const char *qop;
        bool seen = false;

        if (!usable(c, &ch[i], &algo, &qop))
            continue;
        /* RFC 8760 §2.4: the first usable challenge of a realm wins. */
        for (size_t j = 0; j < i && !seen; j++) {
            enum sk_auth_algo a2;
            const char *q2;
            seen = usable(c, &ch[j], &a2, &q2) &&
                   sk_slice_eq(ch[j].f[SK_DIG_REALM], ch[i].f[SK_DIG_REALM]);
        }
        if (seen)
            continue;
        int rc = apply(c, &ch[i], kind, algo, qop);
        if (rc != 0)
            return rc;
        any = true;
    }
    return any ? 0 : SK_EAUTH;
}

static int next_cnonce(struct sk_auth_client *c, char *out)
{
    unsigned char bin[CNONCE_BIN];

    if (c->cnonce[0] != '\0') {
        memcpy(out, c->cnonce, strlen(c->cnonce) + 1);
        return 0;
    }
    if (sk__random(bin, sizeof(bin)) != 0)
        return SK_EIO;
    sk__b64url_encode(bin, sizeof(bin), out);
    return 0;
}

static int write_value(struct sk_auth_client *c, struct realm_state *s, struct sk_slice method,
                       struct sk_slice uri, struct sk_slice body, struct sk_buf *out)
{
    enum sk_auth_hash hash = sk_auth_algo_hash(s->algo);
    char response[SK_AUTH_HEX_MAX + 1], uh[SK_AUTH_HEX_MAX + 1], cnonce[64], nc[9];
    bool qop = s->qop[0] != '\0';
    int rc;

    if (qop) {
        rc = next_cnonce(c, cnonce);
        if (rc != 0)
            return rc;
        if (s->nc == UINT32_MAX)
            return SK_ESTATE;
        s->nc++;
        for (int i = 0; i < 8; i++)
            nc[i] = "0123456789abcdef"[(s->nc >> (28 - 4 * i)) & 15];
        nc[8] = '\0';
    } else {
        s->nc++;
        cnonce[0] = nc[0] = '\0';
    }
    struct sk_auth_calc calc = {
        .algo = s->algo,
        .ha1 = sk_slice_cstr(s->ha1),
        .nonce = sk_slice_cstr(s->nonce),
        .nc = sk_slice_cstr(nc),
        .cnonce = sk_slice_cstr(cnonce),
        .qop = sk_slice_cstr(s->qop),
        .method = method,
        .uri = uri,
        .body = body,
    };
    rc = sk_auth_compute(&calc, response);
    if (rc == 0 && s->userhash)
        rc = sk_auth_userhash(hash, sk_slice_cstr(c->user), sk_slice_cstr(s->realm), uh);
    if (rc != 0)
        return rc;
    sk_buf_append_cstr(out, "Digest username=");
    sk__buf_quoted(out, s->userhash ? sk_slice_cstr(uh) : sk_slice_cstr(c->user));
    sk_buf_append_cstr(out, ", realm=");
    sk__buf_quoted(out, sk_slice_cstr(s->realm));
    sk_buf_append_cstr(out, ", nonce=");
    sk__buf_quoted(out, sk_slice_cstr(s->nonce));
    sk_buf_append_cstr(out, ", uri=");
    sk__buf_quoted(out, uri);
    sk_buf_printf(out, ", response=\"%s\", algorithm=%s", response, sk_auth_algo_name(s->algo));
    if (qop) {
        sk_buf_append_cstr(out, ", cnonce=");
        sk__buf_quoted(out, sk_slice_cstr(cnonce));
        sk_buf_printf(out, ", qop=%s, nc=%s", s->qop, nc);
    }
    if (s->opaque != NULL) {
        sk_buf_append_cstr(out, ", opaque=");
        sk__buf_quoted(out, sk_slice_cstr(s->opaque));
    }
    if (s->userhash)
        sk_buf_append_cstr(out, ", userhash=true");
    return sk_buf_ok(out) ? 0 : SK_ENOMEM;
}

int sk_auth_client_value(struct sk_auth_client *c, struct sk_slice realm, struct sk_slice method,
                         struct sk_slice uri, struct sk_slice body, struct sk_buf *out)
{
    struct realm_state *s = find_realm(c, realm);

    if (s == NULL)
        return SK_ENOTFOUND;
    return write_value(c, s, method, uri, body, out);
}

int sk_auth_client_authorize(struct sk_auth_client *c, struct sk_slice method, struct sk_slice uri,
                             struct sk_slice body, struct sk_buf *out)
{
    for (struct realm_state *s = c->realms; s != NULL; s = s->next) {
        sk_buf_append_cstr(out,
                           s->kind == SK_AUTH_PROXY ? "Proxy-Authorization: " : "Authorization: ");
        int rc = write_value(c, s, method, uri, body, out);
        if (rc != 0)
            return rc;
        sk_buf_append_cstr(out, "\r\n");
    }
    return sk_buf_ok(out) ? 0 : SK_ENOMEM;
}
