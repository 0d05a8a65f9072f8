/*
 * Digest authentication, server side: challenges and verification.
 *
 * RFC 3261 §22.2-22.3 (401 with WWW-Authenticate, 407 with
 * Proxy-Authenticate), RFC 8760 §2.4 (one challenge per algorithm,
 * preferred first), RFC 7616 §3.3 (challenge parameters, stale, userhash),
 * §3.4 (credentials), §3.4.6 (the uri parameter must name the request's
 * target), §5.5 (replay protection with nc), RFC 2069 (no qop; only when
 * the configuration allows it).
 *
 * Nonce: base64url of 32 octets: a block E (16) = AES-128(k_enc, issue
 * stamp (8, big-endian: milliseconds since the epoch << 20 | a
 * process-wide issue counter) | random (8)), then
 * HMAC-SHA-256(secret, E | realm) cut to 16. A nonce therefore carries its
 * realm and age for the server alone: the block is encrypted so that a
 * client reads neither our clock nor how many challenges we issued (RFC
 * 7616 §5.10 asks nonces to be opaque); the MAC means it cannot be made
 * or altered without the secret. k_enc is derived from the secret, so a
 * restart with the same data directory still recognises old nonces.
 * opaque is HMAC(secret, "opaque" | realm), also stateless.
 *
 * Memory: struct sk_auth owns a copy of the configuration strings, the MAC
 * template and the nonce-count table. Verification allocates only an EVP
 * context (and a scratch copy when credentials carry escaped quotes).
 */
#include "auth/auth_int.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#define DEFAULT_LIFETIME 300
#define DEFAULT_NC_SLOTS 65536
#define OPAQUE_BIN       12

struct sk_auth {
    struct sk_auth_config cfg;
    char *realm;
    char opaque[24]; /* for the configured realm */
    struct sk__mac *mac;
    unsigned char enc_key[SK__NONCE_KEY_LEN]; /* nonce block cipher key */
    struct sk__nctab *nc;
    atomic_uint_fast64_t issued; /* the counter part of nonce stamps */
    uint64_t salt;               /* random, drawn at start: see sk_auth_nonce_make() */
};

/* ---- causes ----------------------------------------------------------------- */

struct cause_info {
    const char *name;
    const char *text;
    enum sk_auth_decision decision;
};

/* Most failures get a new challenge: the client may hold other credentials,
 * or a newer nonce fixes it. A request that can never succeed as written
 * (malformed, wrong target) gets 403. Unknown user and wrong password are
 * answered alike so the response does not reveal which names exist. */
static const struct cause_info causes[SK_AUTH_CAUSE__COUNT] = {
    [SK_AUTH_OK] = {"ok", "credentials accepted", SK_AUTH_ACCEPT},
    [SK_AUTH_MALFORMED] = {"malformed", "the credentials header is malformed or not Digest",
                           SK_AUTH_FORBIDDEN},
    [SK_AUTH_MISSING_PARAM] = {"missing_param", "a required Digest parameter is missing",
                               SK_AUTH_FORBIDDEN},
    [SK_AUTH_DUPLICATE_PARAM] = {"duplicate_param", "a Digest parameter is given twice",
                                 SK_AUTH_FORBIDDEN},
    [SK_AUTH_REALM_MISMATCH] = {"realm_mismatch", "the credentials are for another realm than ours",
                                SK_AUTH_CHALLENGE},
    [SK_AUTH_BAD_ALGORITHM] = {"unsupported_algorithm",
                               "the algorithm is unknown or was not offered", SK_AUTH_CHALLENGE},
    [SK_AUTH_BAD_QOP] = {"unsupported_qop", "the qop is unknown, was not offered, or is missing",
                         SK_AUTH_CHALLENGE},
    [SK_AUTH_URI_MISMATCH] = {"uri_mismatch", "the digest uri does not match the Request-URI",
                              SK_AUTH_FORBIDDEN},
    [SK_AUTH_FORGED_NONCE] = {"forged_nonce", "the nonce was not issued by this server",
                              SK_AUTH_CHALLENGE},
    [SK_AUTH_OPAQUE_MISMATCH] = {"opaque_mismatch", "the opaque value differs from the one we sent",
                                 SK_AUTH_CHALLENGE},
    [SK_AUTH_UNKNOWN_USER] = {"unknown_user", "no such user in this realm", SK_AUTH_CHALLENGE},
    [SK_AUTH_WRONG_PASSWORD] = {"wrong_password", "the response does not match: wrong password",
                                SK_AUTH_CHALLENGE},
    [SK_AUTH_STALE_NONCE] = {"stale_nonce",
                             "the nonce has expired (the response was otherwise correct)",
                             SK_AUTH_CHALLENGE},
    [SK_AUTH_REPLAYED_NC] = {"replayed_nc",
                             "the nonce-count was already used with this nonce (replay)",
                             SK_AUTH_CHALLENGE},
    [SK_AUTH_INTERNAL] = {"internal", "the credential store or crypto library failed",
                          SK_AUTH_SERVER_ERROR},
    [SK_AUTH_STORE_DOWN] = {"store_unavailable",
                            "the credential store is unreachable for now (the user may exist)",
                            SK_AUTH_UNAVAILABLE},
};

const char *sk_auth_cause_name(enum sk_auth_cause c)
{
    return (unsigned)c < SK_AUTH_CAUSE__COUNT ? causes[c].name : "?";
}

const char *sk_auth_cause_text(enum sk_auth_cause c)
{
    return (unsigned)c < SK_AUTH_CAUSE__COUNT ? causes[c].text : "unknown cause";
}

enum sk_auth_decision sk_auth_cause_decision(enum sk_auth_cause c)
{
    return (unsigned)c < SK_AUTH_CAUSE__COUNT ? causes[c].decision : SK_AUTH_FORBIDDEN;
}

/* ---- setup ------------------------------------------------------------------ */

void sk_auth_config_init(struct sk_auth_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    sk_auth_algos_parse(SK_AUTH_ALGOS_DEFAULT, false, &cfg->algorithms);
    cfg->nonce_lifetime_s = DEFAULT_LIFETIME;
    cfg->offer_auth_int = true;
    cfg->nc_slots = DEFAULT_NC_SLOTS;
}

static int64_t now_ms(const struct sk_auth *a)
{
    struct timespec ts;

    if (a->cfg.clock != NULL)
        return a->cfg.clock(a->cfg.clock_arg);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A stamp later than every nonce this process issued so far. */
static uint64_t next_stamp(struct sk_auth *a, uint64_t *count)
{
    int64_t ms = now_ms(a);
    uint64_t n = atomic_fetch_add(&a->issued, 1);

    *count = n;
    if (ms < 1)
        ms = 1;
    return (uint64_t)ms << SK__STAMP_SHIFT | (n & ((1u << SK__STAMP_SHIFT) - 1));
}

static int make_opaque(struct sk_auth *a, struct sk_slice realm, char *out)
{
    unsigned char mac[32];
    struct sk_slice parts[2] = {SK_SLICE_LIT("opaque:"), realm};
    int rc = sk__mac_compute(a->mac, parts, 2, mac);

    if (rc == 0)
        sk__b64url_encode(mac, OPAQUE_BIN, out);
    return rc;
}

/* The secret given, the data directory's file, or one for this process. */
static int load_secret(const struct sk_auth_config *cfg, unsigned char *secret)
{
    if (cfg->secret != NULL) {
        memcpy(secret, cfg->secret, SK__SECRET_LEN);
        return 0;
    }
    if (cfg->data_dir != NULL)
        return sk__secret_load(cfg->data_dir, secret);
    return sk__random(secret, SK__SECRET_LEN);
}

/* A key of its own for the nonce cipher, derived from the secret (never
 * the MAC key itself: one key, one purpose). */
static int derive_enc_key(struct sk_auth *a)
{
    unsigned char k[32];
    struct sk_slice parts[1] = {SK_SLICE_LIT("nonce-block-key")};
    int rc = sk__mac_compute(a->mac, parts, 1, k);

    if (rc == 0)
        memcpy(a->enc_key, k, sizeof(a->enc_key));
    OPENSSL_cleanse(k, sizeof(k));
    return rc;
}

int sk_auth_new(struct sk_auth **out, const struct sk_auth_config *cfg)
{
    unsigned char secret[SK__SECRET_LEN];
    struct sk_auth *a;
    int rc;

    if (cfg == NULL || cfg->realm == NULL || cfg->realm[0] == '\0' || cfg->lookup == NULL ||
        strlen(cfg->realm) > SK_AUTH_NAME_MAX || cfg->algorithms.n > SK_ALGO__COUNT)
        return SK_EINVAL;
    for (size_t i = 0; i < cfg->algorithms.n; i++) {
        if (cfg->algorithms.list[i] >= SK_ALGO__COUNT)
            return SK_EINVAL;
    }
    a = sk_calloc(1, sizeof(*a));
    if (a == NULL)
        return SK_ENOMEM;
    a->cfg = *cfg;
    if (a->cfg.algorithms.n == 0)
        sk_auth_algos_parse(SK_AUTH_ALGOS_DEFAULT, false, &a->cfg.algorithms);
    if (a->cfg.nonce_lifetime_s == 0)
        a->cfg.nonce_lifetime_s = DEFAULT_LIFETIME;
    if (a->cfg.nc_slots == 0)
        a->cfg.nc_slots = DEFAULT_NC_SLOTS;
    a->cfg.data_dir = NULL; /* not kept: only read here */
    a->cfg.secret = NULL;
    a->realm = sk_strndup(cfg->realm, strlen(cfg->realm));
    a->cfg.realm = a->realm;
    rc = a->realm == NULL ? SK_ENOMEM : 0;
    if (rc == 0)
        rc = load_secret(cfg, secret);
    if (rc == 0)
        rc = sk__mac_new(&a->mac, secret, sizeof(secret));
    OPENSSL_cleanse(secret, sizeof(secret));
    if (rc == 0)
        rc = derive_enc_key(a);
    if (rc == 0)
        rc = sk__random(&a->salt, sizeof(a->salt));
    if (rc == 0)
        /* Everything stamped before this millisecond came from an earlier
         * process whose nonce-counts are lost. */
        rc = sk__nctab_new(&a->nc, a->cfg.nc_slots, ((uint64_t)now_ms(a) << SK__STAMP_SHIFT) - 1);
    if (rc == 0)
        rc = make_opaque(a, sk_slice_cstr(a->realm), a->opaque);
    if (rc != 0) {
        sk_auth_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void sk_auth_free(struct sk_auth *a)
{
    if (a == NULL)
        return;
    sk__mac_free(a->mac);
    OPENSSL_cleanse(a->enc_key, sizeof(a->enc_key));
    sk__nctab_free(a->nc);
    sk_free(a->realm);
    sk_free(a);
}

const struct sk_auth_algos *sk_auth_algorithms(const struct sk_auth *a)
{
    return &a->cfg.algorithms;
}

static struct sk_slice pick_realm(const struct sk_auth *a, struct sk_slice realm)
{
    return realm.len > 0 ? realm : sk_slice_cstr(a->realm);
}

/* ---- nonces ----------------------------------------------------------------- */

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int nonce_mac(struct sk_auth *a, const unsigned char *bin, struct sk_slice realm,
                     unsigned char *mac)
{
    struct sk_slice parts[2] = {sk_slice_make((const char *)bin, 16), realm};

    return sk__mac_compute(a->mac, parts, 2, mac);
}

int sk_auth_nonce_make(struct sk_auth *a, struct sk_slice realm, char *out)
{
    unsigned char plain[16], bin[SK__NONCE_BIN], mac[32];
    int rc;

    uint64_t count;

    put_be64(plain, next_stamp(a, &count));
    /* The second half only makes each plaintext unique beyond this
     * process (another process with the same secret, a clock stepped
     * back): a salt drawn at start plus the issue count does that without
     * a random draw per challenge. The block cipher hides both. */
    put_be64(plain + 8, a->salt + count);
    rc = sk__block_crypt(a->enc_key, plain, bin, true);
    if (rc == 0)
        rc = nonce_mac(a, bin, pick_realm(a, realm), mac);
    if (rc != 0)
        return rc;
    memcpy(bin + 16, mac, 16);
    sk__b64url_encode(bin, sizeof(bin), out);
    return 0;
}

/* Decode and authenticate a nonce. Returns 0 with bin and *stamp set, or -1. */
static int nonce_check(struct sk_auth *a, struct sk_slice nonce, struct sk_slice realm,
                       unsigned char *bin, uint64_t *stamp)
{
    unsigned char mac[32], plain[16];

    if (sk__b64url_decode(nonce, bin, SK__NONCE_BIN) != SK__NONCE_BIN)
        return -1;
    if (nonce_mac(a, bin, realm, mac) != 0 || CRYPTO_memcmp(mac, bin + 16, 16) != 0)
        return -1;
    if (sk__block_crypt(a->enc_key, bin, plain, false) != 0)
        return -1;
    *stamp = get_be64(plain);
    return *stamp == 0 ? -1 : 0;
}

/* ---- challenges --------------------------------------------------------------- */

int sk_auth_challenge(struct sk_auth *a, enum sk_auth_kind kind, struct sk_slice realm, bool stale,
                      struct sk_buf *out)
{
    return sk_auth_challenge_algos(a, kind, realm, stale, NULL, out);
}

int sk_auth_challenge_algos(struct sk_auth *a, enum sk_auth_kind kind, struct sk_slice realm,
                            bool stale, const struct sk_auth_algos *list, struct sk_buf *out)
{
    return sk_auth_challenge_nonce(a, kind, realm, stale, list, NULL, out);
}

int sk_auth_challenge_nonce(struct sk_auth *a, enum sk_auth_kind kind, struct sk_slice realm,
                            bool stale, const struct sk_auth_algos *list, const char *given,
                            struct sk_buf *out)
{
    char nonce[SK_AUTH_NONCE_MAX + 1], opaque_buf[24];
    const char *opaque = a->opaque;
    int rc = 0;

    realm = pick_realm(a, realm);
    if (given != NULL && strlen(given) <= SK_AUTH_NONCE_MAX)
        memcpy(nonce, given, strlen(given) + 1);
    else
        rc = sk_auth_nonce_make(a, realm, nonce);
    if (rc == 0 && !sk_slice_eq(realm, sk_slice_cstr(a->realm))) {
        rc = make_opaque(a, realm, opaque_buf);
        opaque = opaque_buf;
    }
    if (rc != 0)
        return rc;
    if (list == NULL || list->n == 0)
        list = &a->cfg.algorithms;
    /* RFC 8760 §2.4: one challenge per algorithm, the preferred first. */
    for (size_t i = 0; i < list->n && i < SK_ALGO__COUNT; i++) {
        enum sk_auth_algo algo = list->list[i];
        sk_buf_append_cstr(out, kind == SK_AUTH_PROXY ? "Proxy-Authenticate: Digest realm="
                                                      : "WWW-Authenticate: Digest realm=");
        sk__buf_quoted(out, realm);
        sk_buf_printf(out, ", nonce=\"%s\", opaque=\"%s\", algorithm=%s, qop=\"%s\"", nonce, opaque,
                      sk_auth_algo_name(algo), a->cfg.offer_auth_int ? "auth,auth-int" : "auth");
        if (stale)
            sk_buf_append_cstr(out, ", stale=true");
        if (a->cfg.userhash)
            sk_buf_append_cstr(out, ", userhash=true");
        sk_buf_append_cstr(out, "\r\n");
    }
    return sk_buf_ok(out) ? 0 : SK_ENOMEM;
}

/* ---- verification ------------------------------------------------------------- */

/* The credential fields verification reads, unescaped. */
struct creds {
    struct sk_slice user, realm, nonce, uri, response, cnonce, qop, nc, opaque;
    enum sk_auth_algo algo;
    uint32_t ncv;
    bool userhash;
};

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* nc-value = 8LHEX (RFC 7616 §3.4); upper case is tolerated. */
static int parse_nc(struct sk_slice s, uint32_t *out)
{
    uint32_t v = 0;

    if (s.len != 8)
        return -1;
    for (size_t i = 0; i < 8; i++) {
        char c = s.p[i];
        if (!is_hex(c))
            return -1;
        v = v << 4 | (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    *out = v;
    return 0;
}

/* A field's value with quoted-pair escapes removed (into scratch when the
 * parser flagged any). */
static struct sk_slice field(const struct sk_digest_hdr *h, enum sk_digest_field f, char *scratch,
                             size_t *used)
{
    struct sk_slice v = h->f[f];

    if (!(h->escaped & (1u << f)) || scratch == NULL)
        return v;
    size_t n = sk__unescape(v, scratch + *used);
    v = sk_slice_make(scratch + *used, n);
    *used += n;
    return v;
}

static enum sk_auth_cause read_creds(struct sk_auth *a, const struct sk_digest_hdr *h,
                                     char *scratch, struct creds *c)
{
    const uint32_t required = 1u << SK_DIG_USERNAME | 1u << SK_DIG_REALM | 1u << SK_DIG_NONCE |
                              1u << SK_DIG_URI | 1u << SK_DIG_RESPONSE;
    size_t used = 0;

    if (!sk_slice_caseeq_cstr(h->scheme, "Digest"))
        return SK_AUTH_MALFORMED;
    if (h->duplicated != 0)
        return SK_AUTH_DUPLICATE_PARAM;
    if ((h->present & required) != required)
        return SK_AUTH_MISSING_PARAM;
    c->user = field(h, SK_DIG_USERNAME, scratch, &used);
    c->realm = field(h, SK_DIG_REALM, scratch, &used);
    c->nonce = field(h, SK_DIG_NONCE, scratch, &used);
    c->uri = field(h, SK_DIG_URI, scratch, &used);
    c->cnonce = field(h, SK_DIG_CNONCE, scratch, &used);
    c->opaque = field(h, SK_DIG_OPAQUE, scratch, &used);
    c->response = h->f[SK_DIG_RESPONSE];
    c->qop = h->f[SK_DIG_QOP];
    c->nc = h->f[SK_DIG_NC];
    c->userhash = (h->present & (1u << SK_DIG_USERHASH)) &&
                  sk_slice_caseeq_cstr(h->f[SK_DIG_USERHASH], "true");
    if (c->user.len == 0 || c->user.len > SK_AUTH_NAME_MAX)
        return SK_AUTH_MALFORMED;

    /* RFC 7616 §3.4: without an algorithm parameter, MD5 is meant. */
    c->algo = SK_ALGO_MD5;
    if ((h->present & (1u << SK_DIG_ALGORITHM)) &&
        sk_auth_algo_parse(h->f[SK_DIG_ALGORITHM], &c->algo) != 0)
        return SK_AUTH_BAD_ALGORITHM;
    if (h->present & (1u << SK_DIG_QOP)) {
        bool auth = sk_slice_eq(c->qop, SK_SLICE_LIT("auth"));
        bool auth_int = sk_slice_eq(c->qop, SK_SLICE_LIT("auth-int"));
        if (!auth && !(auth_int && a->cfg.offer_auth_int))
            return SK_AUTH_BAD_QOP;
        /* RFC 7616 §3.4: with qop, cnonce and nc are mandatory. */
        if (!(h->present & (1u << SK_DIG_CNONCE)) || !(h->present & (1u << SK_DIG_NC)))
            return SK_AUTH_MISSING_PARAM;
        if (c->cnonce.len == 0 || parse_nc(c->nc, &c->ncv) != 0 || c->ncv == 0)
            return SK_AUTH_MALFORMED;
    } else {
        if (!a->cfg.allow_rfc2069)
            return SK_AUTH_BAD_QOP;
        /* The -sess A1 needs a cnonce, which only exists with qop. */
        if (sk_auth_algo_is_sess(c->algo))
            return SK_AUTH_BAD_QOP;
        c->cnonce = SK_SLICE_NULL;
        c->nc = SK_SLICE_NULL;
    }
    if (c->response.len != sk_auth_hash_hexlen(sk_auth_algo_hash(c->algo)))
        return SK_AUTH_WRONG_PASSWORD;
    return SK_AUTH_OK;
}

static enum sk_auth_cause check_user(struct sk_auth *a, const struct creds *c,
                                     const struct sk_auth_request *req, struct sk_auth_lookup *q,
                                     struct sk_auth_result *res)
{
    enum sk_auth_hash hash = sk_auth_algo_hash(c->algo);
    char expect[SK_AUTH_HEX_MAX + 1], got[SK_AUTH_HEX_MAX + 1];
    int rc;

    if (c->userhash && !a->cfg.userhash)
        return SK_AUTH_UNKNOWN_USER; /* we never offered it: the name cannot be resolved */
    q->username = c->user;
    q->realm = c->realm;
    q->hash = hash;
    q->is_userhash = c->userhash;
    q->ha1[0] = '\0';
    q->user[0] = '\0';
    q->algorithms.n = 0;
    rc = a->cfg.lookup(a->cfg.lookup_arg, q);
    if (rc == SK_ENOTFOUND)
        return SK_AUTH_UNKNOWN_USER;
    if (rc == SK_EUNAVAIL)
        return SK_AUTH_STORE_DOWN; /* neither a guess nor our bug: try again later */
    if (rc != 0)
        return SK_AUTH_INTERNAL;
    /* A user who requires particular algorithms accepts no other, whatever
     * the server offers to everyone else (no downgrade to MD5). */
    if (!(sk_auth_algos_set(q->algorithms.n > 0 ? &q->algorithms : &a->cfg.algorithms) &
          SK_ALGO_BIT(c->algo)))
        return SK_AUTH_BAD_ALGORITHM;
    if (strlen(q->ha1) != sk_auth_hash_hexlen(hash))
        return SK_AUTH_INTERNAL;
    if (c->userhash)
        sk_slice_to_cstr(sk_slice_cstr(q->user), res->user, sizeof(res->user));

    struct sk_auth_calc calc = {
        .algo = c->algo,
        .ha1 = sk_slice_cstr(q->ha1),
        .nonce = c->nonce,
        .nc = c->nc,
        .cnonce = c->cnonce,
        .qop = c->qop,
        .method = req->method,
        .uri = c->uri,
        .body = req->body,
    };
    if (sk_auth_compute(&calc, expect) != 0)
        return SK_AUTH_INTERNAL;
    /* LHEX per the grammar; upper case compared as lower. */
    for (size_t i = 0; i < c->response.len; i++) {
        char ch = c->response.p[i];
        got[i] = (ch >= 'A' && ch <= 'F') ? (char)(ch | 0x20) : ch;
    }
    if (CRYPTO_memcmp(expect, got, c->response.len) != 0)
        return SK_AUTH_WRONG_PASSWORD;
    return SK_AUTH_OK;
}

/* Servers sharing the secret share the replay check too (config's
 * nc_shared): a (nonce, nc) used on another server is a replay here. */
static enum sk_auth_cause shared_nc_check(struct sk_auth *a, const struct creds *c, uint64_t stamp,
                                          int64_t lifetime_ms)
{
    int64_t expires_s = (SK__STAMP_MS(stamp) + lifetime_ms) / 1000 + 1;

    if (a->cfg.nc_shared == NULL)
        return SK_AUTH_OK;
    if (a->cfg.nc_shared(a->cfg.nc_shared_arg, c->nonce, c->ncv, expires_s) == SK_EEXIST)
        return SK_AUTH_REPLAYED_NC;
    return SK_AUTH_OK;
}

static enum sk_auth_cause verify(struct sk_auth *a, const struct sk_digest_hdr *h,
                                 const struct sk_auth_request *req, char *scratch,
                                 struct sk_auth_result *res)
{
    struct sk_slice realm = pick_realm(a, req->realm);
    unsigned char bin[SK__NONCE_BIN];
    struct sk_auth_lookup q;
    struct creds c;
    enum sk_auth_cause cause;
    uint64_t stamp;
    int64_t now, lifetime_ms = (int64_t)a->cfg.nonce_lifetime_s * 1000;

    memset(&c, 0, sizeof(c));
    cause = read_creds(a, h, scratch, &c);
    if (cause != SK_AUTH_OK)
        return cause;
    res->algo = c.algo;
    if (!c.userhash)
        sk_slice_to_cstr(c.user, res->user, sizeof(res->user));
    if (!sk_slice_eq(c.realm, realm))
        return SK_AUTH_REALM_MISMATCH;
    /* RFC 7616 §3.4.6 / RFC 3261 §22.4: the uri names this request. */
    if (!sk_slice_eq(c.uri, req->uri))
        return SK_AUTH_URI_MISMATCH;
    if (nonce_check(a, c.nonce, realm, bin, &stamp) != 0)
        return SK_AUTH_FORGED_NONCE;
    if (h->present & (1u << SK_DIG_OPAQUE)) {
        char other[24];
        const char *want = a->opaque;
        if (!sk_slice_eq(realm, sk_slice_cstr(a->realm))) {
            if (make_opaque(a, realm, other) != 0)
                return SK_AUTH_INTERNAL;
            want = other;
        }
        if (!sk_slice_eq(c.opaque, sk_slice_cstr(want)))
            return SK_AUTH_OPAQUE_MISMATCH;
    }
    cause = check_user(a, &c, req, &q, res);
    OPENSSL_cleanse(q.ha1, sizeof(q.ha1));
    if (cause != SK_AUTH_OK)
        return cause;
    /* Only a correct response learns that its nonce is merely old
     * (RFC 7616 §3.3, stale). */
    now = now_ms(a);
    if (now - SK__STAMP_MS(stamp) > lifetime_ms)
        return SK_AUTH_STALE_NONCE;
    if (c.qop.len == 0)
        return SK_AUTH_OK; /* RFC 2069: no nc to track */
    switch (sk__nctab_use(a->nc, bin, stamp, c.ncv, now, lifetime_ms)) {
    case SK__NC_OK:
        return shared_nc_check(a, &c, stamp, lifetime_ms);
    case SK__NC_REPLAY:
        return SK_AUTH_REPLAYED_NC;
    case SK__NC_EVICTED:
        return SK_AUTH_STALE_NONCE;
    }
    return SK_AUTH_INTERNAL;
}

int sk_auth_verify(struct sk_auth *a, const struct sk_digest_hdr *h,
                   const struct sk_auth_request *req, struct sk_auth_result *res)
{
    char *scratch = NULL;
    enum sk_auth_cause cause;

    memset(res, 0, sizeof(*res));
    if (h->escaped != 0) {
        scratch = sk_malloc(h->raw.len + 1);
        if (scratch == NULL) {
            res->cause = SK_AUTH_INTERNAL;
            res->decision = SK_AUTH_SERVER_ERROR;
            return SK_EAUTH;
        }
    }
    cause = verify(a, h, req, scratch, res);
    sk_free(scratch);
    res->cause = cause;
    res->decision = sk_auth_cause_decision(cause);
    res->stale = cause == SK_AUTH_STALE_NONCE;
    return cause == SK_AUTH_OK ? 0 : SK_EAUTH;
}

int sk_auth_mac(struct sk_auth *a, const char *label, const struct sk_slice *parts, size_t n,
                unsigned char *out)
{
    struct sk_slice all[SK_AUTH_MAC_PARTS + 1];

    if (n > SK_AUTH_MAC_PARTS || label == NULL)
        return SK_EINVAL;
    /* The NUL ends the label: "ab" + "c" and "a" + "bc" differ. Nonces
     * start with binary stamp bytes and opaque with "opaque:", never with
     * a label and its NUL. */
    all[0] = sk_slice_make(label, strlen(label) + 1);
    for (size_t i = 0; i < n; i++)
        all[i + 1] = parts[i];
    return sk__mac_compute(a->mac, all, n + 1, out);
}
