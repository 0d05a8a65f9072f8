/* Unit tests for the auth layer: published vectors, server verification
 * causes, nonces, replay, client and server agreement. */
#include "support.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sipkit/auth.h>
#include <sipkit/msg.h>

/* ---- published vectors --------------------------------------------------- */

#define MAX_COLS 32

static int column(char **names, int n, const char *want)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], want) == 0)
            return i;
    }
    fail_msg("vectors.tsv has no column %s", want);
    return -1;
}

/* Split a TSV line in place. */
static int split(char *line, char **cols)
{
    int n = 0;
    cols[n++] = line;
    for (char *p = line; *p != '\0' && n < MAX_COLS; p++) {
        if (*p == '\t') {
            *p = '\0';
            cols[n++] = p + 1;
        }
    }
    return n;
}

static void rfc_vectors_reproduce(void **state)
{
    char *text = sk_test_read_file(sk_test_data("digest/vectors.tsv"), NULL);
    char *head[MAX_COLS], *row[MAX_COLS], *save = NULL;
    int verified = 0, expected_failures = 0;
    (void)state;
    assert_non_null(text);
    char *line = strtok_r(text, "\n", &save);
    int ncol = split(line, head);
    int c_algo = column(head, ncol, "algorithm"), c_user = column(head, ncol, "username");
    int c_realm = column(head, ncol, "realm"), c_pw = column(head, ncol, "password");
    int c_method = column(head, ncol, "method"), c_uri = column(head, ncol, "uri");
    int c_nonce = column(head, ncol, "nonce"), c_nc = column(head, ncol, "nc");
    int c_cnonce = column(head, ncol, "cnonce"), c_qop = column(head, ncol, "qop");
    int c_resp = column(head, ncol, "expected_response");
    int c_uh = column(head, ncol, "expected_userhash");
    int c_ha1 = column(head, ncol, "computed_ha1"), c_ok = column(head, ncol, "verified");

    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char ha1[SK_AUTH_HEX_MAX + 1], resp[SK_AUTH_HEX_MAX + 1], uh[SK_AUTH_HEX_MAX + 1];
        enum sk_auth_algo algo;
        assert_true(split(line, row) >= ncol - 1);
        assert_int_equal(sk_auth_algo_parse(S(row[c_algo]), &algo), 0);
        enum sk_auth_hash hash = sk_auth_algo_hash(algo);
        assert_int_equal(sk_auth_ha1(hash, S(row[c_user]), S(row[c_realm]), S(row[c_pw]), ha1), 0);
        assert_string_equal(ha1, row[c_ha1]);
        struct sk_auth_calc calc = {
            .algo = algo,
            .ha1 = S(ha1),
            .nonce = S(row[c_nonce]),
            .nc = S(row[c_nc]),
            .cnonce = S(row[c_cnonce]),
            .qop = S(row[c_qop]),
            .method = S(row[c_method]),
            .uri = S(row[c_uri]),
        };
        assert_int_equal(sk_auth_compute(&calc, resp), 0);
        assert_int_equal(sk_auth_userhash(hash, S(row[c_user]), S(row[c_realm]), uh), 0);
        if (strcmp(row[c_ok], "yes") == 0) {
            assert_string_equal(resp, row[c_resp]);
            if (row[c_uh][0] != '\0')
                assert_string_equal(uh, row[c_uh]);
            verified++;
        } else {
            /* RFC 7616 §3.9.2 as printed: Errata 4897, must NOT match. */
            assert_string_not_equal(resp, row[c_resp]);
            assert_string_not_equal(uh, row[c_uh]);
            expected_failures++;
        }
    }
    assert_int_equal(verified, 4);
    assert_int_equal(expected_failures, 1);
    free(text);
}

static void qop_auth_int_and_sess_arithmetic(void **state)
{
    /* Expected values computed apart with Python hashlib (RFC 2617 §3.2.2.2-3). */
    char ha1[SK_AUTH_HEX_MAX + 1], r1[SK_AUTH_HEX_MAX + 1], r2[SK_AUTH_HEX_MAX + 1];
    (void)state;
    assert_int_equal(
        sk_auth_ha1(SK_HASH_MD5, S("Mufasa"), S("testrealm@host.com"), S("Circle Of Life"), ha1),
        0);
    struct sk_auth_calc c = {
        .algo = SK_ALGO_MD5,
        .ha1 = S(ha1),
        .nonce = S("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
        .nc = S("00000001"),
        .cnonce = S("0a4f113b"),
        .qop = S("auth-int"),
        .method = S("GET"),
        .uri = S("/dir/index.html"),
        .body = S(""),
    };
    assert_int_equal(sk_auth_compute(&c, r1), 0);
    /* H(A2) for auth-int with an empty body = MD5("GET:/dir/index.html:" MD5("")). */
    assert_string_equal(r1, "5e6610ecf9ba3017a4870ad48e3ad30b");
    c.body = S("x");
    assert_int_equal(sk_auth_compute(&c, r2), 0);
    assert_string_not_equal(r1, r2);
    c.qop = S("auth");
    c.algo = SK_ALGO_MD5_SESS;
    assert_int_equal(sk_auth_compute(&c, r1), 0);
    assert_string_equal(r1, "8e3825c57e897f5a0dec6c2d4e5059d0");
    c.qop = S("bogus");
    assert_int_equal(sk_auth_compute(&c, r1), SK_EINVAL);
}

/* ---- server and client ---------------------------------------------------- */

struct user {
    const char *name, *realm, *password;
};

static const struct user users[] = {
    {"alice", "example.com", "correct horse"},
    {"bob", "example.com", "b\"ob's"},
    {"carol", "other.org", "carol pw"},
};

static int lookups;

static int lookup(void *arg, struct sk_auth_lookup *q)
{
    (void)arg;
    lookups++;
    if (sk_slice_eq(q->username, S("unreachable")))
        return SK_EUNAVAIL; /* as a store whose database is down */
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        const struct user *u = &users[i];
        char uh[SK_AUTH_HEX_MAX + 1];
        if (!sk_slice_eq(q->realm, S(u->realm)))
            continue;
        if (q->is_userhash) {
            assert_int_equal(sk_auth_userhash(q->hash, S(u->name), S(u->realm), uh), 0);
            if (!sk_slice_eq(q->username, S(uh)))
                continue;
        } else if (!sk_slice_eq(q->username, S(u->name))) {
            continue;
        }
        snprintf(q->user, sizeof(q->user), "%s", u->name);
        return sk_auth_ha1(q->hash, S(u->name), S(u->realm), S(u->password), q->ha1);
    }
    return SK_ENOTFOUND;
}

static int64_t clock_now = 1700000000000; /* ms */

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return clock_now;
}

static void base_config(struct sk_auth_config *cfg)
{
    sk_auth_config_init(cfg);
    cfg->realm = "example.com";
    cfg->lookup = lookup;
    cfg->clock = fake_clock;
}

/* Challenges as header lines, parsed: slices point into *buf. */
static size_t parse_challenges(struct sk_buf *buf, const char *prefix, struct sk_digest_hdr *out,
                               size_t max)
{
    size_t n = 0, plen = strlen(prefix);
    char *p = buf->p;
    while (p != NULL && *p != '\0' && n < max) {
        char *eol = strstr(p, "\r\n");
        assert_non_null(eol);
        assert_memory_equal(p, prefix, plen);
        assert_int_equal(
            sk_digest_hdr_parse(sk_slice_make(p + plen, (size_t)(eol - p - plen)), &out[n]), 0);
        n++;
        p = eol + 2;
    }
    return n;
}

struct exchange {
    struct sk_auth *srv;
    struct sk_auth_client *cli;
    struct sk_buf chal, cred;
    struct sk_digest_hdr ch[8], h;
    size_t nch;
};

static void exchange_start(struct exchange *x, const struct sk_auth_config *cfg, const char *user,
                           const char *password)
{
    memset(x, 0, sizeof(*x));
    sk_buf_init(&x->chal);
    sk_buf_init(&x->cred);
    assert_int_equal(sk_auth_new(&x->srv, cfg), 0);
    assert_int_equal(sk_auth_client_new(&x->cli, S(user), S(password)), 0);
}

/* Server challenges (401), client reads it. Returns the client's verdict. */
static int exchange_challenge(struct exchange *x, bool stale)
{
    sk_buf_reset(&x->chal);
    assert_int_equal(sk_auth_challenge(x->srv, SK_AUTH_WWW, SK_SLICE_NULL, stale, &x->chal), 0);
    x->nch = parse_challenges(&x->chal, "WWW-Authenticate: ", x->ch, 8);
    return sk_auth_client_challenge(x->cli, SK_AUTH_WWW, x->ch, x->nch);
}

/* Client writes credentials for a request; they are parsed into x->h. */
static void exchange_credentials(struct exchange *x, const char *method, const char *uri,
                                 const char *body)
{
    sk_buf_reset(&x->cred);
    assert_int_equal(
        sk_auth_client_value(x->cli, S("example.com"), S(method), S(uri), S(body), &x->cred), 0);
    assert_int_equal(sk_digest_hdr_parse(sk_buf_slice(&x->cred), &x->h), 0);
}

static enum sk_auth_cause exchange_verify(struct exchange *x, const char *method, const char *uri,
                                          const char *body, struct sk_auth_result *res)
{
    struct sk_auth_request req = {.method = S(method), .uri = S(uri), .body = S(body)};
    int rc = sk_auth_verify(x->srv, &x->h, &req, res);
    assert_int_equal(rc, res->cause == SK_AUTH_OK ? 0 : SK_EAUTH);
    assert_int_equal(res->decision, sk_auth_cause_decision(res->cause));
    return res->cause;
}

static void exchange_end(struct exchange *x)
{
    sk_auth_free(x->srv);
    sk_auth_client_free(x->cli);
    sk_buf_free(&x->chal);
    sk_buf_free(&x->cred);
}

static void client_and_server_agree_for_every_algorithm(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth_result res;
    struct exchange x;
    (void)state;
    sk_test_alloc_hook();
    for (int algo = 0; algo < SK_ALGO__COUNT; algo++) {
        for (int with_int = 0; with_int < 2; with_int++) {
            base_config(&cfg);
            cfg.algorithms = (struct sk_auth_algos){1, {(uint8_t)algo}};
            exchange_start(&x, &cfg, "bob", "b\"ob's");
            assert_int_equal(exchange_challenge(&x, false), 0);
            assert_int_equal(x.nch, 1);
            assert_slice_equal(x.ch[0].f[SK_DIG_ALGORITHM], sk_auth_algo_name(algo));
            const char *body = with_int ? "v=0\r\n" : "";
            if (with_int) {
                /* A challenge offering only auth-int makes the client use it. */
                x.ch[0].f[SK_DIG_QOP] = S("auth-int");
                sk_auth_client_free(x.cli);
                assert_int_equal(sk_auth_client_new(&x.cli, S("bob"), S("b\"ob's")), 0);
                assert_int_equal(sk_auth_client_challenge(x.cli, SK_AUTH_WWW, x.ch, 1), 0);
            }
            for (unsigned i = 1; i <= 3; i++) {
                char nc[16];
                exchange_credentials(&x, "INVITE", "sip:bob@example.com", body);
                snprintf(nc, sizeof(nc), "%08x", i);
                assert_slice_equal(x.h.f[SK_DIG_NC], nc);
                assert_slice_equal(x.h.f[SK_DIG_QOP], with_int ? "auth-int" : "auth");
                assert_int_equal(exchange_verify(&x, "INVITE", "sip:bob@example.com", body, &res),
                                 SK_AUTH_OK);
                assert_int_equal(res.algo, algo);
                assert_string_equal(res.user, "bob");
            }
            if (with_int) {
                assert_int_equal(
                    exchange_verify(&x, "INVITE", "sip:bob@example.com", "v=1\r\n", &res),
                    SK_AUTH_WRONG_PASSWORD);
            }
            exchange_end(&x);
        }
    }
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

static void challenge_lines_in_configured_order(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth *a;
    struct sk_buf b;
    struct sk_digest_hdr ch[8];
    (void)state;
    base_config(&cfg);
    assert_int_equal(
        sk_auth_algos_parse("sha-512-256, SHA-256 SHA-256-sess,MD5", true, &cfg.algorithms), 0);
    assert_int_equal(sk_auth_new(&a, &cfg), 0);
    sk_buf_init(&b);
    assert_int_equal(sk_auth_challenge(a, SK_AUTH_PROXY, SK_SLICE_NULL, true, &b), 0);
    assert_int_equal(parse_challenges(&b, "Proxy-Authenticate: ", ch, 8), 4);
    assert_slice_equal(ch[0].f[SK_DIG_ALGORITHM], "SHA-512-256");
    assert_slice_equal(ch[1].f[SK_DIG_ALGORITHM], "SHA-256");
    assert_slice_equal(ch[2].f[SK_DIG_ALGORITHM], "SHA-256-sess");
    assert_slice_equal(ch[3].f[SK_DIG_ALGORITHM], "MD5");
    for (int i = 0; i < 4; i++) {
        assert_slice_equal(ch[i].f[SK_DIG_REALM], "example.com");
        assert_slice_equal(ch[i].f[SK_DIG_QOP], "auth,auth-int");
        assert_slice_equal(ch[i].f[SK_DIG_STALE], "true");
        assert_true(sk_slice_eq(ch[i].f[SK_DIG_NONCE], ch[0].f[SK_DIG_NONCE]));
        assert_int_equal(ch[i].f[SK_DIG_NONCE].len, 43);
        assert_int_equal(ch[i].f[SK_DIG_OPAQUE].len, 16);
    }
    const char *want = "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"";
    assert_memory_equal(b.p, want, strlen(want));
    sk_buf_free(&b);
    sk_auth_free(a);
}

/* Build credentials for one request with the default server. */
static void setup_exchange(struct exchange *x, struct sk_auth_config *cfg, const char *user,
                           const char *password)
{
    exchange_start(x, cfg, user, password);
    assert_int_equal(exchange_challenge(x, false), 0);
    exchange_credentials(x, "REGISTER", "sip:example.com", "");
}

static void failure_causes(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth_result res;
    struct exchange x;
    (void)state;
    sk_test_alloc_hook();
    base_config(&cfg);

    setup_exchange(&x, &cfg, "alice", "wrong horse");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_WRONG_PASSWORD);
    assert_int_equal(res.decision, SK_AUTH_CHALLENGE);
    assert_string_equal(res.user, "alice");
    exchange_end(&x);

    setup_exchange(&x, &cfg, "mallory", "x");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_UNKNOWN_USER);
    exchange_end(&x);

    /* A store that cannot answer is neither "unknown user" nor a 500. */
    setup_exchange(&x, &cfg, "unreachable", "x");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_STORE_DOWN);
    assert_int_equal(res.decision, SK_AUTH_UNAVAILABLE);
    assert_string_equal(sk_auth_cause_name(res.cause), "store_unavailable");
    exchange_end(&x);

    setup_exchange(&x, &cfg, "alice", "correct horse");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:evil.com", "", &res),
                     SK_AUTH_URI_MISMATCH);
    assert_int_equal(res.decision, SK_AUTH_FORBIDDEN);
    assert_int_equal(exchange_verify(&x, "INVITE", "sip:example.com", "", &res),
                     SK_AUTH_WRONG_PASSWORD); /* the method is in A2 */
    struct sk_auth_request other = {
        .method = S("REGISTER"), .uri = S("sip:example.com"), .realm = S("other.org")};
    assert_int_equal(sk_auth_verify(x.srv, &x.h, &other, &res), SK_EAUTH);
    assert_int_equal(res.cause, SK_AUTH_REALM_MISMATCH);
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res), SK_AUTH_OK);
    exchange_end(&x);

    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

/* Parse a hand-written credentials value and verify it. */
static enum sk_auth_cause verify_text(struct sk_auth *a, const char *text)
{
    struct sk_digest_hdr h;
    struct sk_auth_result res;
    struct sk_auth_request req = {.method = S("REGISTER"), .uri = S("sip:example.com")};
    if (sk_digest_hdr_parse(S(text), &h) != 0)
        return SK_AUTH_MALFORMED;
    sk_auth_verify(a, &h, &req, &res);
    return res.cause;
}

static void malformed_missing_duplicate(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth *a;
    char nonce[SK_AUTH_NONCE_MAX + 1], text[512];
    (void)state;
    base_config(&cfg);
    cfg.algorithms = (struct sk_auth_algos){1, {SK_ALGO_SHA256}};
    assert_int_equal(sk_auth_new(&a, &cfg), 0);
    assert_int_equal(sk_auth_nonce_make(a, SK_SLICE_NULL, nonce), 0);
    assert_int_equal(verify_text(a, "Basic YWxpY2U6eA=="), SK_AUTH_MALFORMED);
    assert_int_equal(verify_text(a, "Digest username=\"alice\", realm=\"example.com\""),
                     SK_AUTH_MISSING_PARAM);
    snprintf(text, sizeof(text),
             "Digest username=\"alice\", realm=\"example.com\", nonce=\"%s\", "
             "uri=\"sip:example.com\", response=\"%064d\", algorithm=SHA-256, qop=auth, "
             "nc=00000001, cnonce=\"c\", nc=00000002",
             nonce, 0);
    assert_int_equal(verify_text(a, text), SK_AUTH_DUPLICATE_PARAM);
    assert_int_equal(sk_auth_cause_decision(SK_AUTH_DUPLICATE_PARAM), SK_AUTH_FORBIDDEN);
    snprintf(text, sizeof(text),
             "Digest username=\"alice\", realm=\"example.com\", nonce=\"%s\", "
             "uri=\"sip:example.com\", response=\"%064d\", algorithm=SHA-256, qop=auth, "
             "cnonce=\"c\"",
             nonce, 0);
    assert_int_equal(verify_text(a, text), SK_AUTH_MISSING_PARAM); /* qop without nc */
    snprintf(text, sizeof(text),
             "Digest username=\"alice\", realm=\"example.com\", nonce=\"%s\", "
             "uri=\"sip:example.com\", response=\"%032d\", qop=auth, nc=00000001, cnonce=\"c\"",
             nonce, 0);
    assert_int_equal(verify_text(a, text), SK_AUTH_BAD_ALGORITHM); /* MD5 implied, not offered */
    snprintf(text, sizeof(text),
             "Digest username=\"alice\", realm=\"example.com\", nonce=\"%s\", "
             "uri=\"sip:example.com\", response=\"%064d\", algorithm=SHA-1",
             nonce, 0);
    assert_int_equal(verify_text(a, text), SK_AUTH_BAD_ALGORITHM);
    snprintf(text, sizeof(text),
             "Digest username=\"alice\", realm=\"example.com\", nonce=\"%s\", "
             "uri=\"sip:example.com\", response=\"%064d\", algorithm=SHA-256",
             nonce, 0);
    assert_int_equal(verify_text(a, text), SK_AUTH_BAD_QOP); /* RFC 2069 off by default */
    snprintf(text, sizeof(text),
             "Digest username=\"alice\", realm=\"example.com\", nonce=\"%s\", "
             "uri=\"sip:example.com\", response=\"%064d\", algorithm=SHA-256, qop=auth-conf, "
             "nc=00000001, cnonce=\"c\"",
             nonce, 0);
    assert_int_equal(verify_text(a, text), SK_AUTH_BAD_QOP);
    snprintf(text, sizeof(text),
             "Digest username=\"alice\", realm=\"example.com\", nonce=\"%s\", "
             "uri=\"sip:example.com\", response=\"%064d\", algorithm=SHA-256, qop=auth, "
             "nc=0000001, cnonce=\"c\"",
             nonce, 0);
    assert_int_equal(verify_text(a, text), SK_AUTH_MALFORMED); /* nc is 8LHEX */
    sk_auth_free(a);
}

static void forged_nonces(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth_result res;
    struct sk_auth *other;
    struct exchange x;
    char nonce[SK_AUTH_NONCE_MAX + 1];
    (void)state;
    base_config(&cfg);
    setup_exchange(&x, &cfg, "alice", "correct horse");
    /* A nonce from another server (another secret). */
    assert_int_equal(sk_auth_new(&other, &cfg), 0);
    assert_int_equal(sk_auth_nonce_make(other, SK_SLICE_NULL, nonce), 0);
    x.h.f[SK_DIG_NONCE] = S(nonce);
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_FORGED_NONCE);
    /* Ours, one character changed (the timestamp: extending its life). */
    assert_int_equal(sk_auth_nonce_make(x.srv, SK_SLICE_NULL, nonce), 0);
    nonce[5] = nonce[5] == 'A' ? 'B' : 'A';
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_FORGED_NONCE);
    /* Not base64url at all, and a nonce issued for another realm. */
    x.h.f[SK_DIG_NONCE] = S("dcd98b7102dd2f0e8b11d0f600bfb0c093");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_FORGED_NONCE);
    assert_int_equal(sk_auth_nonce_make(x.srv, S("other.org"), nonce), 0);
    x.h.f[SK_DIG_NONCE] = S(nonce);
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_FORGED_NONCE);
    assert_int_equal(res.decision, SK_AUTH_CHALLENGE);
    sk_auth_free(other);
    exchange_end(&x);
}

/* Decode base64url (no padding) for the privacy test; -1 on a bad char. */
static int b64url_bin(const char *in, unsigned char *out, size_t outsz)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;

    for (; *in != '\0'; in++) {
        const char *c = strchr(al, *in);
        if (c == NULL)
            return -1;
        acc = (acc << 6) | (unsigned)(c - al);
        bits += 6;
        if (bits >= 8 && o < outsz) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return (int)o;
}

/* RFC 7616 §5.10: a nonce is opaque. Two nonces issued in the same
 * millisecond, one after the other, must not show the clock or an issue
 * counter: no octet of the would-be stamp appears in clear, and the two
 * differ in about half their bits (a counter would differ in one or two). */
static void nonces_hide_clock_and_counter(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth *a;
    char n1[SK_AUTH_NONCE_MAX + 1], n2[SK_AUTH_NONCE_MAX + 1];
    unsigned char b1[64], b2[64], stamp[8];
    uint64_t st = (uint64_t)1700000000000 << 20;
    int diff = 0;
    (void)state;
    clock_now = 1700000000000;
    base_config(&cfg);
    assert_int_equal(sk_auth_new(&a, &cfg), 0);
    assert_int_equal(sk_auth_nonce_make(a, SK_SLICE_NULL, n1), 0);
    assert_int_equal(sk_auth_nonce_make(a, SK_SLICE_NULL, n2), 0);
    assert_int_equal(b64url_bin(n1, b1, sizeof(b1)), 32);
    assert_int_equal(b64url_bin(n2, b2, sizeof(b2)), 32);
    for (int i = 7; i >= 0; i--, st >>= 8)
        stamp[i] = (unsigned char)st;
    /* The milliseconds sit in the first 5 octets of a clear stamp. */
    assert_false(memcmp(b1, stamp, 5) == 0);
    assert_false(memcmp(b2, stamp, 5) == 0);
    for (int i = 0; i < 16; i++)
        diff += __builtin_popcount((unsigned)(b1[i] ^ b2[i]));
    assert_true(diff > 32);
    sk_auth_free(a);
}

static void stale_and_expired(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth_result res;
    struct exchange x;
    (void)state;
    clock_now = 1700000000000;
    base_config(&cfg);
    cfg.nonce_lifetime_s = 60;
    setup_exchange(&x, &cfg, "alice", "correct horse");
    clock_now += 60000;
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res), SK_AUTH_OK);
    clock_now += 1;
    exchange_credentials(&x, "REGISTER", "sip:example.com", "");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_STALE_NONCE);
    assert_true(res.stale);
    assert_int_equal(res.decision, SK_AUTH_CHALLENGE);
    /* Expired and wrong: the password is what's wrong, not the age. */
    x.h.f[SK_DIG_RESPONSE] = S("00000000000000000000000000000000");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_WRONG_PASSWORD);
    assert_false(res.stale);
    /* The client takes the stale challenge once and succeeds with it. */
    assert_int_equal(exchange_challenge(&x, true), 0);
    exchange_credentials(&x, "REGISTER", "sip:example.com", "");
    assert_slice_equal(x.h.f[SK_DIG_NC], "00000001");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res), SK_AUTH_OK);
    exchange_end(&x);
    clock_now = 1700000000000;
}

static void replayed_nonce_counts(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth_result res;
    struct exchange x;
    struct sk_buf keep[3];
    struct sk_digest_hdr h[3];
    (void)state;
    base_config(&cfg);
    exchange_start(&x, &cfg, "alice", "correct horse");
    assert_int_equal(exchange_challenge(&x, false), 0);
    for (int i = 0; i < 3; i++) {
        sk_buf_init(&keep[i]);
        assert_int_equal(sk_auth_client_value(x.cli, S("example.com"), S("REGISTER"),
                                              S("sip:example.com"), S(""), &keep[i]),
                         0);
        assert_int_equal(sk_digest_hdr_parse(sk_buf_slice(&keep[i]), &h[i]), 0);
    }
    /* Out of order (UDP) is fine once each: 3, 1, 2; then every replay fails. */
    int order[3] = {2, 0, 1};
    for (int i = 0; i < 3; i++) {
        x.h = h[order[i]];
        assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res), SK_AUTH_OK);
    }
    for (int i = 0; i < 3; i++) {
        x.h = h[i];
        assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                         SK_AUTH_REPLAYED_NC);
        assert_int_equal(res.decision, SK_AUTH_CHALLENGE);
    }
    for (int i = 0; i < 3; i++)
        sk_buf_free(&keep[i]);
    exchange_end(&x);
}

/* A tiny table under pressure: an evicted nonce is re-challenged (stale),
 * never trusted, and memory does not grow. */
static void nonce_table_is_bounded(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth_result res;
    struct exchange x;
    (void)state;
    clock_now = 1700000000000;
    base_config(&cfg);
    cfg.nc_slots = 1; /* 4 entries per shard */
    setup_exchange(&x, &cfg, "alice", "correct horse");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res), SK_AUTH_OK);
    struct sk_buf first;
    sk_buf_init(&first);
    sk_buf_append_slice(&first, sk_buf_slice(&x.cred));
    clock_now += 1000;
    /* 64 shards x 4 ways: 2000 newer nonces evict the first one. */
    sk_test_alloc_hook();
    for (int i = 0; i < 2000; i++) {
        struct sk_auth_client *c;
        assert_int_equal(sk_auth_client_new(&c, S("alice"), S("correct horse")), 0);
        assert_int_equal(sk_auth_client_challenge(c, SK_AUTH_WWW, x.ch, 0), SK_EAUTH);
        sk_buf_reset(&x.chal);
        assert_int_equal(sk_auth_challenge(x.srv, SK_AUTH_WWW, SK_SLICE_NULL, false, &x.chal), 0);
        x.nch = parse_challenges(&x.chal, "WWW-Authenticate: ", x.ch, 8);
        assert_int_equal(sk_auth_client_challenge(c, SK_AUTH_WWW, x.ch, x.nch), 0);
        sk_buf_reset(&x.cred);
        assert_int_equal(sk_auth_client_value(c, S("example.com"), S("REGISTER"),
                                              S("sip:example.com"), S(""), &x.cred),
                         0);
        assert_int_equal(sk_digest_hdr_parse(sk_buf_slice(&x.cred), &x.h), 0);
        assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res), SK_AUTH_OK);
        sk_auth_client_free(c);
    }
    assert_int_equal(sk_test_alloc_live(), 0); /* no growth per nonce */
    sk_test_alloc_unhook();
    assert_int_equal(sk_digest_hdr_parse(sk_buf_slice(&first), &x.h), 0);
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_STALE_NONCE);
    sk_buf_free(&first);
    exchange_end(&x);
}

static void client_gives_up_when_refused(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth_result res;
    struct exchange x;
    (void)state;
    base_config(&cfg);
    setup_exchange(&x, &cfg, "alice", "wrong");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_WRONG_PASSWORD);
    /* A second plain challenge after sending credentials: refused. */
    assert_int_equal(exchange_challenge(&x, false), SK_EAUTH);
    exchange_end(&x);

    /* Stale twice in a row right after a stale retry: give up too. */
    setup_exchange(&x, &cfg, "alice", "correct horse");
    assert_int_equal(exchange_challenge(&x, true), 0);
    exchange_credentials(&x, "REGISTER", "sip:example.com", "");
    assert_int_equal(exchange_challenge(&x, true), SK_EAUTH);
    exchange_end(&x);

    /* Nothing supported: only SHA-512-256 offered, client allows MD5. */
    cfg.algorithms = (struct sk_auth_algos){1, {SK_ALGO_SHA512_256}};
    exchange_start(&x, &cfg, "alice", "correct horse");
    sk_auth_client_set_algorithms(x.cli, SK_ALGO_BIT(SK_ALGO_MD5));
    assert_int_equal(exchange_challenge(&x, false), SK_EAUTH);
    struct sk_buf out;
    sk_buf_init(&out);
    assert_int_equal(
        sk_auth_client_value(x.cli, S("example.com"), S("REGISTER"), S("sip:x"), S(""), &out),
        SK_ENOTFOUND);
    sk_buf_free(&out);
    exchange_end(&x);
}

static void client_picks_first_supported_and_writes_lines(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth_result res;
    struct exchange x;
    struct sk_buf lines;
    (void)state;
    base_config(&cfg);
    assert_int_equal(sk_auth_algos_parse("SHA-512-256 SHA-256 MD5", false, &cfg.algorithms), 0);
    exchange_start(&x, &cfg, "alice", "correct horse");
    sk_auth_client_set_algorithms(x.cli, SK_ALGO_BIT(SK_ALGO_SHA256) | SK_ALGO_BIT(SK_ALGO_MD5));
    assert_int_equal(exchange_challenge(&x, false), 0);
    assert_int_equal(x.nch, 3);
    assert_int_equal(sk_auth_client_set_cnonce(x.cli, S("fixed-cnonce")), 0);
    sk_buf_init(&lines);
    assert_int_equal(
        sk_auth_client_authorize(x.cli, S("REGISTER"), S("sip:example.com"), S(""), &lines), 0);
    const char *want = "Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"";
    assert_memory_equal(lines.p, want, strlen(want));
    assert_int_equal(memcmp(lines.p + lines.len - 2, "\r\n", 2), 0);
    assert_int_equal(sk_digest_hdr_parse(sk_slice_make(lines.p + 15, lines.len - 17), &x.h), 0);
    assert_slice_equal(x.h.f[SK_DIG_ALGORITHM], "SHA-256");
    assert_slice_equal(x.h.f[SK_DIG_CNONCE], "fixed-cnonce");
    assert_true(sk_slice_eq(x.h.f[SK_DIG_OPAQUE], x.ch[0].f[SK_DIG_OPAQUE]));
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res), SK_AUTH_OK);
    /* A wrong opaque is refused. */
    x.h.f[SK_DIG_OPAQUE] = S("AAAAAAAAAAAAAAAA");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_OPAQUE_MISMATCH);
    sk_buf_free(&lines);
    exchange_end(&x);
}

static void userhash_and_rfc2069(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth_result res;
    struct exchange x;
    char uh[SK_AUTH_HEX_MAX + 1];
    (void)state;
    base_config(&cfg);
    cfg.userhash = true;
    setup_exchange(&x, &cfg, "alice", "correct horse");
    assert_slice_equal(x.h.f[SK_DIG_USERHASH], "true");
    /* The client answers the first challenge it supports: MD5 by default. */
    assert_int_equal(sk_auth_userhash(SK_HASH_MD5, S("alice"), S("example.com"), uh), 0);
    assert_slice_equal(x.h.f[SK_DIG_USERNAME], uh);
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res), SK_AUTH_OK);
    assert_string_equal(res.user, "alice");
    exchange_end(&x);

    /* RFC 2069: allowed only when configured. */
    base_config(&cfg);
    cfg.allow_rfc2069 = true;
    exchange_start(&x, &cfg, "alice", "correct horse");
    sk_buf_reset(&x.chal);
    assert_int_equal(sk_auth_challenge(x.srv, SK_AUTH_WWW, SK_SLICE_NULL, false, &x.chal), 0);
    x.nch = parse_challenges(&x.chal, "WWW-Authenticate: ", x.ch, 8);
    for (size_t i = 0; i < x.nch; i++) {
        x.ch[i].present &= ~(1u << SK_DIG_QOP);
        x.ch[i].f[SK_DIG_QOP] = SK_SLICE_NULL;
    }
    assert_int_equal(sk_auth_client_challenge(x.cli, SK_AUTH_WWW, x.ch, x.nch), 0);
    exchange_credentials(&x, "REGISTER", "sip:example.com", "");
    assert_false(x.h.present & (1u << SK_DIG_QOP));
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res), SK_AUTH_OK);
    exchange_end(&x);
}

static void secret_survives_restart(void **state)
{
    char dir[] = "/tmp/sk-auth-XXXXXX", path[256];
    struct sk_auth_config cfg;
    struct sk_auth_result res;
    struct exchange x;
    struct stat st;
    (void)state;
    assert_non_null(mkdtemp(dir));
    base_config(&cfg);
    cfg.data_dir = dir;
    setup_exchange(&x, &cfg, "alice", "correct horse");
    snprintf(path, sizeof(path), "%s/auth.secret", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);
    /* "Restart": the new server recognises the old nonce (same secret) but
     * lost its nonce-counts, so it asks again with stale=true, which the
     * client follows without prompting; a fresh nonce then passes. */
    sk_auth_free(x.srv);
    clock_now += 1;
    assert_int_equal(sk_auth_new(&x.srv, &cfg), 0);
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res),
                     SK_AUTH_STALE_NONCE);
    assert_true(res.stale);
    assert_int_equal(exchange_challenge(&x, true), 0);
    exchange_credentials(&x, "REGISTER", "sip:example.com", "");
    assert_int_equal(exchange_verify(&x, "REGISTER", "sip:example.com", "", &res), SK_AUTH_OK);
    /* Without the secret file the old nonce would look forged. */
    exchange_end(&x);
    cfg.data_dir = "/nonexistent/dir";
    struct sk_auth *a = NULL;
    assert_int_equal(sk_auth_new(&a, &cfg), -ENOENT);
    assert_null(a);
    unlink(path);
    rmdir(dir);
}

struct worker {
    struct sk_auth *srv;
    int ok;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct sk_auth_client *c;
    struct sk_buf chal, cred;
    struct sk_digest_hdr ch[4], h;
    struct sk_auth_result res;
    struct sk_auth_request req = {.method = S("REGISTER"), .uri = S("sip:example.com")};

    sk_buf_init(&chal);
    sk_buf_init(&cred);
    for (int round = 0; round < 50; round++) {
        if (sk_auth_client_new(&c, S("alice"), S("correct horse")) != 0)
            break;
        sk_buf_reset(&chal);
        sk_auth_challenge(w->srv, SK_AUTH_WWW, SK_SLICE_NULL, false, &chal);
        size_t n = 0;
        for (char *p = chal.p; *p != '\0' && n < 4; n++) {
            char *eol = strstr(p, "\r\n");
            sk_digest_hdr_parse(sk_slice_make(p + 18, (size_t)(eol - p - 18)), &ch[n]);
            p = eol + 2;
        }
        sk_auth_client_challenge(c, SK_AUTH_WWW, ch, n);
        for (int i = 0; i < 10; i++) {
            sk_buf_reset(&cred);
            sk_auth_client_value(c, S("example.com"), S("REGISTER"), S("sip:example.com"), S(""),
                                 &cred);
            sk_digest_hdr_parse(sk_buf_slice(&cred), &h);
            if (sk_auth_verify(w->srv, &h, &req, &res) == 0)
                w->ok++;
            if (sk_auth_verify(w->srv, &h, &req, &res) == 0)
                w->ok += 1000; /* a replay must never pass */
        }
        sk_auth_client_free(c);
    }
    sk_buf_free(&chal);
    sk_buf_free(&cred);
    return NULL;
}

static void concurrent_verification(void **state)
{
    struct sk_auth_config cfg;
    struct sk_auth *a;
    pthread_t t[4];
    struct worker w[4];
    (void)state;
    base_config(&cfg);
    cfg.clock = NULL; /* the real clock; fake_clock's variable is not shared safely */
    assert_int_equal(sk_auth_new(&a, &cfg), 0);
    for (int i = 0; i < 4; i++) {
        w[i].srv = a;
        w[i].ok = 0;
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    /* Join every thread before any assertion can unwind this test. */
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        assert_int_equal(w[i].ok, 500);
    sk_auth_free(a);
}

static void cause_texts(void **state)
{
    (void)state;
    for (int c = 0; c < SK_AUTH_CAUSE__COUNT; c++) {
        assert_true(strlen(sk_auth_cause_text(c)) > 10);
        assert_string_not_equal(sk_auth_cause_name(c), "?");
    }
    assert_string_equal(sk_auth_cause_name(SK_AUTH_REPLAYED_NC), "replayed_nc");
    assert_int_equal(sk_auth_cause_decision(SK_AUTH_OK), SK_AUTH_ACCEPT);
    assert_int_equal(sk_auth_cause_decision(SK_AUTH_STALE_NONCE), SK_AUTH_CHALLENGE);
    assert_int_equal(sk_auth_cause_decision(SK_AUTH_INTERNAL), SK_AUTH_SERVER_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc_vectors_reproduce),
        cmocka_unit_test(qop_auth_int_and_sess_arithmetic),
        cmocka_unit_test(client_and_server_agree_for_every_algorithm),
        cmocka_unit_test(challenge_lines_in_configured_order),
        cmocka_unit_test(failure_causes),
        cmocka_unit_test(malformed_missing_duplicate),
        cmocka_unit_test(forged_nonces),
        cmocka_unit_test(nonces_hide_clock_and_counter),
        cmocka_unit_test(stale_and_expired),
        cmocka_unit_test(replayed_nonce_counts),
        cmocka_unit_test(nonce_table_is_bounded),
        cmocka_unit_test(client_gives_up_when_refused),
        cmocka_unit_test(client_picks_first_supported_and_writes_lines),
        cmocka_unit_test(userhash_and_rfc2069),
        cmocka_unit_test(secret_survives_restart),
        cmocka_unit_test(concurrent_verification),
        cmocka_unit_test(cause_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
