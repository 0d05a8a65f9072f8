/* Unit tests for the digest algorithm lists: parsing, the default order
 * offered to every client, and users who require algorithms of their own
 * (offered alone, and no other accepted). */
#include "support.h"

#include <stdio.h>
#include <string.h>

#include <sipkit/auth.h>
#include <sipkit/msg.h>

static void parse_and_format(void **state)
{
    struct sk_auth_algos l;
    char text[64];
    (void)state;

    assert_int_equal(sk_auth_algos_parse(" sha-256,md5 ", false, &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.list[0], SK_ALGO_SHA256);
    assert_int_equal(l.list[1], SK_ALGO_MD5);
    assert_int_equal(sk_auth_algos_set(&l), SK_ALGO_BIT(SK_ALGO_SHA256) | SK_ALGO_BIT(SK_ALGO_MD5));
    sk_auth_algos_format(&l, text, sizeof(text));
    assert_string_equal(text, "SHA-256 MD5");

    l.n = 7; /* must stay untouched on failure */
    assert_int_equal(sk_auth_algos_parse("", false, &l), SK_EINVAL);
    assert_int_equal(sk_auth_algos_parse(" , ", false, &l), SK_EINVAL);
    assert_int_equal(sk_auth_algos_parse("MD5 SHA-1", false, &l), SK_EINVAL);
    assert_int_equal(sk_auth_algos_parse("MD5 md5", false, &l), SK_EINVAL);
    assert_int_equal(sk_auth_algos_parse("MD5-sess", false, &l), SK_EINVAL);
    assert_int_equal(sk_auth_algos_parse(NULL, false, &l), SK_EINVAL);
    assert_int_equal(l.n, 7);
    assert_int_equal(sk_auth_algos_parse("MD5-sess", true, &l), 0);
    assert_int_equal(l.list[0], SK_ALGO_MD5_SESS);

    /* A buffer too small is cut, never overrun. */
    assert_int_equal(sk_auth_algos_parse("SHA-512-256 SHA-256 MD5", false, &l), 0);
    sk_auth_algos_format(&l, text, 8);
    assert_true(strlen(text) < 8);
    l.n = 0;
    sk_auth_algos_format(&l, text, sizeof(text));
    assert_string_equal(text, "");
}

/* dave requires SHA-256; erin SHA-512-256 (which the server does not
 * offer to others); alice uses the server's list. */
struct user {
    const char *name, *algos;
};
static const struct user users[] = {{"alice", ""}, {"dave", "SHA-256"}, {"erin", "SHA-512-256"}};

static int lookup(void *arg, struct sk_auth_lookup *q)
{
    (void)arg;
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        if (!sk_slice_eq(q->username, S(users[i].name)))
            continue;
        if (users[i].algos[0] != '\0')
            assert_int_equal(sk_auth_algos_parse(users[i].algos, false, &q->algorithms), 0);
        snprintf(q->user, sizeof(q->user), "%s", users[i].name);
        return sk_auth_ha1(q->hash, S(users[i].name), q->realm, S("pw"), q->ha1);
    }
    return SK_ENOTFOUND;
}

/* A server offering list, or the default list when list is NULL. */
static struct sk_auth *server_offering(const char *list)
{
    struct sk_auth_config cfg;
    struct sk_auth *a;

    sk_auth_config_init(&cfg);
    cfg.realm = "example.com";
    cfg.lookup = lookup;
    if (list != NULL)
        assert_int_equal(sk_auth_algos_parse(list, false, &cfg.algorithms), 0);
    assert_int_equal(sk_auth_new(&a, &cfg), 0);
    return a;
}

static struct sk_auth *server(void)
{
    return server_offering(NULL);
}

/* The challenge lines' algorithms, in order, space separated. */
static void challenge_algos(struct sk_auth *a, const struct sk_auth_algos *list, char *out,
                            size_t outsz)
{
    struct sk_buf b;
    const char *p;

    sk_buf_init(&b);
    assert_int_equal(sk_auth_challenge_algos(a, SK_AUTH_WWW, SK_SLICE_NULL, false, list, &b), 0);
    sk_buf_append(&b, "", 1);
    out[0] = '\0';
    for (p = b.p; (p = strstr(p, "algorithm=")) != NULL; p += 10) {
        size_t n = strcspn(p + 10, ", \r");
        snprintf(out + strlen(out), outsz - strlen(out), "%s%.*s", out[0] ? " " : "", (int)n,
                 p + 10);
    }
    sk_buf_free(&b);
}

static void default_offers_md5_first(void **state)
{
    struct sk_auth *a = server();
    char got[64];
    (void)state;

    /* MD5 alone: sipsak and SIPp read only the first challenge, and
     * baresip 1.0 and twinkle 1.10 give up on a 401 naming any algorithm
     * they do not know (docs/configuration.md). */
    challenge_algos(a, NULL, got, sizeof(got));
    assert_string_equal(got, "MD5");
    sk_auth_algos_format(sk_auth_algorithms(a), got, sizeof(got));
    assert_string_equal(got, SK_AUTH_ALGOS_DEFAULT);
    sk_auth_free(a);
}

/* Credentials of user in algo, answering a challenge of a, verified. */
static enum sk_auth_cause answer(struct sk_auth *a, const char *user, enum sk_auth_algo algo)
{
    struct sk_auth_algos one = {1, {(uint8_t)algo}};
    struct sk_auth_client *cli;
    struct sk_digest_hdr ch, h;
    struct sk_auth_result res;
    struct sk_auth_request req = {.method = S("REGISTER"), .uri = S("sip:example.com")};
    struct sk_buf chal, cred;
    enum sk_auth_cause cause;

    sk_buf_init(&chal);
    sk_buf_init(&cred);
    assert_int_equal(sk_auth_challenge_algos(a, SK_AUTH_WWW, SK_SLICE_NULL, false, &one, &chal), 0);
    /* "WWW-Authenticate: " ... CRLF */
    assert_int_equal(sk_digest_hdr_parse(sk_slice_make(chal.p + 18, chal.len - 20), &ch), 0);
    assert_int_equal(sk_auth_client_new(&cli, S(user), S("pw")), 0);
    assert_int_equal(sk_auth_client_challenge(cli, SK_AUTH_WWW, &ch, 1), 0);
    assert_int_equal(sk_auth_client_value(cli, S("example.com"), req.method, req.uri, S(""), &cred),
                     0);
    assert_int_equal(sk_digest_hdr_parse(sk_buf_slice(&cred), &h), 0);
    sk_auth_verify(a, &h, &req, &res);
    cause = res.cause;
    sk_auth_client_free(cli);
    sk_buf_free(&chal);
    sk_buf_free(&cred);
    return cause;
}

static void users_own_lists_are_enforced(void **state)
{
    struct sk_auth *a = server_offering("MD5 SHA-256");
    struct sk_auth_algos dave;
    char got[64];
    (void)state;

    /* The challenge for dave offers his list only. */
    assert_int_equal(sk_auth_algos_parse("SHA-256", false, &dave), 0);
    challenge_algos(a, &dave, got, sizeof(got));
    assert_string_equal(got, "SHA-256");

    /* Everyone else: the server's list. */
    assert_int_equal(answer(a, "alice", SK_ALGO_MD5), SK_AUTH_OK);
    assert_int_equal(answer(a, "alice", SK_ALGO_SHA256), SK_AUTH_OK);
    assert_int_equal(answer(a, "alice", SK_ALGO_SHA512_256), SK_AUTH_BAD_ALGORITHM);
    /* dave: no downgrade to MD5, though the server offers it to others. */
    assert_int_equal(answer(a, "dave", SK_ALGO_MD5), SK_AUTH_BAD_ALGORITHM);
    assert_int_equal(answer(a, "dave", SK_ALGO_SHA256), SK_AUTH_OK);
    /* erin may use what the server offers nobody else. */
    assert_int_equal(answer(a, "erin", SK_ALGO_SHA512_256), SK_AUTH_OK);
    assert_int_equal(answer(a, "erin", SK_ALGO_SHA256), SK_AUTH_BAD_ALGORITHM);
    /* Unknown users learn nothing new. */
    assert_int_equal(answer(a, "mallory", SK_ALGO_MD5), SK_AUTH_UNKNOWN_USER);
    assert_int_equal(sk_auth_cause_decision(SK_AUTH_BAD_ALGORITHM),
                     sk_auth_cause_decision(SK_AUTH_UNKNOWN_USER));
    sk_auth_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_format),
        cmocka_unit_test(default_offers_md5_first),
        cmocka_unit_test(users_own_lists_are_enforced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
