/* Unit tests for the Digest challenge / credentials parser (msg/digest_hdr.c). */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <sipkit/msg.h>

#define BIT(f) (1u << (f))

static void parses_rfc7616_credentials(void **state)
{
    struct sk_digest_hdr h;
    (void)state;
    assert_int_equal(sk_digest_hdr_parse(
                         S("Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
                           "uri=\"/dir/index.html\", algorithm=SHA-256, "
                           "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, "
                           "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
                           "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856"
                           "cb6c1\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""),
                         &h),
                     0);
    assert_slice_equal(h.scheme, "Digest");
    assert_slice_equal(h.f[SK_DIG_USERNAME], "Mufasa");
    assert_slice_equal(h.f[SK_DIG_REALM], "http-auth@example.org");
    assert_slice_equal(h.f[SK_DIG_URI], "/dir/index.html");
    assert_slice_equal(h.f[SK_DIG_ALGORITHM], "SHA-256");
    assert_slice_equal(h.f[SK_DIG_NC], "00000001");
    assert_slice_equal(h.f[SK_DIG_QOP], "auth");
    assert_slice_equal(h.f[SK_DIG_CNONCE], "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
    assert_slice_equal(h.f[SK_DIG_OPAQUE], "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
    assert_int_equal(h.present, BIT(SK_DIG_USERNAME) | BIT(SK_DIG_REALM) | BIT(SK_DIG_URI) |
                                    BIT(SK_DIG_ALGORITHM) | BIT(SK_DIG_NONCE) | BIT(SK_DIG_NC) |
                                    BIT(SK_DIG_CNONCE) | BIT(SK_DIG_QOP) | BIT(SK_DIG_RESPONSE) |
                                    BIT(SK_DIG_OPAQUE));
    assert_int_equal(h.duplicated, 0);
    assert_int_equal(h.escaped, 0);
}

static void parses_challenge_with_stale_and_domain(void **state)
{
    struct sk_digest_hdr h;
    (void)state;
    assert_int_equal(
        sk_digest_hdr_parse(S("  digest realm=\"atlanta.example.com\",qop=\"auth,auth-int\""
                              " , nonce=\"abc\", stale=TRUE, domain=\"sip:a sip:b\","
                              " algorithm=MD5 "),
                            &h),
        0);
    assert_slice_equal(h.scheme, "digest");
    assert_slice_equal(h.f[SK_DIG_QOP], "auth,auth-int");
    assert_slice_equal(h.f[SK_DIG_STALE], "TRUE");
    assert_slice_equal(h.f[SK_DIG_DOMAIN], "sip:a sip:b");
    assert_slice_equal(h.f[SK_DIG_ALGORITHM], "MD5");
    assert_slice_equal(h.raw, "digest realm=\"atlanta.example.com\",qop=\"auth,auth-int\" , "
                              "nonce=\"abc\", stale=TRUE, domain=\"sip:a sip:b\", algorithm=MD5");
}

/* RFC 3665 §2.1 F3: no comma after realm, an empty opaque, folded lines. */
static void rfc3665_f3_is_accepted(void **state)
{
    size_t len;
    char *msg = sk_test_read_file(
        sk_test_data("rfc3665/2.01_sip-client-new-registration/F03_REGISTER.txt"), &len);
    struct sk_digest_hdr h;
    (void)state;
    assert_non_null(msg);
    char *start = strstr(msg, "Authorization:");
    assert_non_null(start);
    start += strlen("Authorization:");
    char *end = strstr(start, "\r\nContent-Length");
    assert_non_null(end);
    assert_int_equal(sk_digest_hdr_parse(sk_slice_make(start, (size_t)(end - start)), &h), 0);
    assert_slice_equal(h.f[SK_DIG_USERNAME], "bob");
    assert_slice_equal(h.f[SK_DIG_REALM], "atlanta.example.com");
    assert_slice_equal(h.f[SK_DIG_NONCE], "ea9c8e88df84f1cec4341ae6cbe5a359");
    assert_slice_equal(h.f[SK_DIG_OPAQUE], "");
    assert_true(h.present & BIT(SK_DIG_OPAQUE));
    assert_slice_equal(h.f[SK_DIG_URI], "sips:ss2.biloxi.example.com");
    assert_slice_equal(h.f[SK_DIG_RESPONSE], "dfe56131d1958046689d83306477ecc");
    free(msg);
}

static void escapes_duplicates_unknown(void **state)
{
    struct sk_digest_hdr h;
    (void)state;
    assert_int_equal(sk_digest_hdr_parse(S("Digest username=\"a\\\"b\", x-ext = \"q,\\\\\" , "
                                           "realm = r1, Realm=\"r2\", foo=bar"),
                                         &h),
                     0);
    assert_slice_equal(h.f[SK_DIG_USERNAME], "a\\\"b");
    assert_int_equal(h.escaped, BIT(SK_DIG_USERNAME));
    assert_slice_equal(h.f[SK_DIG_REALM], "r1");
    assert_int_equal(h.duplicated, BIT(SK_DIG_REALM));
    assert_int_equal(h.present, BIT(SK_DIG_USERNAME) | BIT(SK_DIG_REALM));
    assert_slice_equal(h.params, "username=\"a\\\"b\", x-ext = \"q,\\\\\" , "
                                 "realm = r1, Realm=\"r2\", foo=bar");
}

static void other_schemes(void **state)
{
    struct sk_digest_hdr h;
    (void)state;
    assert_int_equal(sk_digest_hdr_parse(S("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), &h), 0);
    assert_slice_equal(h.scheme, "Basic");
    assert_slice_equal(h.params, "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    assert_int_equal(h.present, 0);
    assert_int_equal(sk_digest_hdr_parse(S("Digest"), &h), 0);
    assert_int_equal(h.present, 0);
    assert_int_equal(sk_digest_hdr_parse(S("Digest ,, realm=\"x\",,"), &h), 0);
    assert_slice_equal(h.f[SK_DIG_REALM], "x");
}

static void malformed_inputs(void **state)
{
    static const char *const bad[] = {
        "",
        "   ",
        "Digest realm=\"unterminated",
        "Digest realm=\"ends in backslash\\",
        "Digest realm=",
        "Digest realm= , nonce=\"x\"",
        "Digest realm",
        "Digest realm \"x\"",
        "Digest realm=\"x\"nonce=\"y\"",
        "Digest =\"x\"",
        "Digest realm=a\"b\"",
        "\"Digest\" realm=x",
        "Digest realm=\"bad\\\rescape\"",
        "Digest realm=\"ctl\x01\"",
        "Digest, realm=x",
        "Digest realm=x nonce",
    };
    struct sk_digest_hdr h;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&h, 0x5a, sizeof(h));
        int rc = sk_digest_hdr_parse(S(bad[i]), &h);
        if (rc != SK_EPARSE)
            print_error("accepted: %s\n", bad[i]);
        assert_int_equal(rc, SK_EPARSE);
    }
    /* A NULL slice with a length is refused, an empty one is malformed. */
    assert_int_equal(sk_digest_hdr_parse(sk_slice_make(NULL, 3), &h), SK_EPARSE);
    assert_int_equal(sk_digest_hdr_parse(SK_SLICE_NULL, &h), SK_EPARSE);
}

static void no_allocation(void **state)
{
    struct sk_digest_hdr h;
    (void)state;
    sk_test_alloc_hook();
    assert_int_equal(sk_digest_hdr_parse(S("Digest realm=\"a\", nonce=b, qop=\"auth\""), &h), 0);
    assert_int_equal(sk_test_alloc_count(), 0);
    sk_test_alloc_unhook();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_rfc7616_credentials),
        cmocka_unit_test(parses_challenge_with_stale_and_domain),
        cmocka_unit_test(rfc3665_f3_is_accepted),
        cmocka_unit_test(escapes_duplicates_unknown),
        cmocka_unit_test(other_schemes),
        cmocka_unit_test(malformed_inputs),
        cmocka_unit_test(no_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
