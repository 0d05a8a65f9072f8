/* Bencode (src/media/bencode.c), the encoding of rtpengine's ng control
 * protocol: what the encoder writes the decoder reads back, a reply's
 * dictionary is looked up by key, and malformed or hostile input (lengths
 * past the end, overflowing integers, non-canonical numbers, deep nesting,
 * trailing bytes) is refused without reading out of bounds. */
#include "support.h"

#include "media/bencode.h"

#include <string.h>

static void round_trip(void **state)
{
    struct sk_buf b;
    struct sk__benc_node n[32];
    size_t count;
    struct sk_slice v;
    long i;

    (void)state;
    sk_buf_init(&b);
    sk__benc_open(&b, 'd');
    sk__benc_cstr(&b, "command");
    sk__benc_cstr(&b, "offer");
    sk__benc_cstr(&b, "sdp");
    sk__benc_str(&b, S("v=0\r\no=- 1 1 IN IP4 203.0.113.10\r\n"));
    sk__benc_cstr(&b, "flags");
    sk__benc_open(&b, 'l');
    sk__benc_cstr(&b, "trust-address");
    sk__benc_end(&b);
    sk__benc_cstr(&b, "n");
    sk__benc_int(&b, -42);
    sk__benc_cstr(&b, "big");
    sk__benc_int(&b, INT64_MIN);
    sk__benc_end(&b);
    assert_true(sk_buf_ok(&b));
    assert_int_equal(sk__benc_decode(sk_buf_slice(&b), n, 32, &count), 0);
    assert_int_equal(count, 12);
    assert_int_equal(n[0].type, SK__BENC_DICT);
    assert_int_equal(n[0].next, 12);
    assert_true(sk__benc_dict_str(n, 0, "command", &v));
    assert_int_equal(v.len, 5);
    assert_memory_equal(v.p, "offer", 5);
    assert_true(sk__benc_dict_str(n, 0, "sdp", &v));
    assert_int_equal(v.len, 34);
    i = sk__benc_dict_get(n, 0, "flags");
    assert_true(i > 0);
    assert_int_equal(n[i].type, SK__BENC_LIST);
    assert_int_equal(n[i + 1].type, SK__BENC_STR);
    i = sk__benc_dict_get(n, 0, "n");
    assert_int_equal(n[i].num, -42);
    i = sk__benc_dict_get(n, 0, "big");
    assert_true(n[i].num == INT64_MIN);
    assert_int_equal(sk__benc_dict_get(n, 0, "missing"), -1);
    assert_false(sk__benc_dict_str(n, 0, "n", &v));     /* an integer, not a string */
    assert_int_equal(sk__benc_dict_get(n, i, "x"), -1); /* not a dictionary */
    sk_buf_free(&b);
}

static void reply_lookup(void **state)
{
    static const char r[] = "d6:result2:ok3:sdp3:v=04:warn5:hello5:emptyl0:ee";
    struct sk__benc_node n[16];
    size_t count;
    struct sk_slice v;

    (void)state;
    assert_int_equal(sk__benc_decode(S(r), n, 16, &count), 0);
    assert_true(sk__benc_dict_str(n, 0, "result", &v));
    assert_int_equal(v.len, 2);
    assert_true(sk__benc_dict_str(n, 0, "sdp", &v));
    assert_memory_equal(v.p, "v=0", 3);
    assert_true(sk__benc_dict_str(n, 0, "warn", &v));
    assert_memory_equal(v.p, "hello", 5);
    assert_false(sk__benc_dict_str(n, 0, "empty", &v)); /* a list */
    assert_int_equal(n[sk__benc_dict_get(n, 0, "empty") + 1].str.len, 0);
}

static void malformed_refused(void **state)
{
    static const char *const bad[] = {
        "",
        "i",
        "ie",
        "i-0e",
        "i01e",
        "i-e",
        "i9223372036854775808e",
        "i-9223372036854775809e",
        "i99999999999999999999999e",
        "5:abc",
        "18446744073709551616:x",
        "01:a",
        ":",
        "l",
        "d3:key",
        "d3:keye",
        "di1ei2ee",
        "le extra",
        "i1ei2e",
        "x",
        "-1:",
    };
    struct sk__benc_node n[16];
    size_t count;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = sk__benc_decode(sk_slice_cstr(bad[i]), n, 16, &count);
        if (err != SK_EPARSE)
            fail_msg("'%s' gave %d", bad[i], err);
    }
    assert_int_equal(sk__benc_decode(S("i9223372036854775807e"), n, 16, &count), 0);
    assert_true(n[0].num == INT64_MAX);
    assert_int_equal(sk__benc_decode(S("i-9223372036854775808e"), n, 16, &count), 0);
    assert_true(n[0].num == INT64_MIN);
    assert_int_equal(sk__benc_decode(S("0:"), n, 16, &count), 0);
}

static void limits(void **state)
{
    char deep[2 * SK__BENC_MAX_DEPTH + 2];
    struct sk__benc_node n[64];
    size_t count, k = 0;

    (void)state;
    /* Too many nodes for the array. */
    assert_int_equal(sk__benc_decode(S("li1ei2ei3ee"), n, 3, &count), SK_ETOOBIG);
    assert_int_equal(sk__benc_decode(S("li1ei2ei3ee"), n, 4, &count), 0);
    assert_int_equal(count, 4);
    /* Nesting one level past the limit. */
    for (int i = 0; i <= SK__BENC_MAX_DEPTH; i++)
        deep[k++] = 'l';
    for (int i = 0; i <= SK__BENC_MAX_DEPTH; i++)
        deep[k++] = 'e';
    assert_int_equal(sk__benc_decode(sk_slice_make(deep, k), n, 64, &count), SK_ETOOBIG);
    assert_int_equal(sk__benc_decode(sk_slice_make(deep + 1, k - 2), n, 64, &count), 0);
    /* Decoding allocates nothing. */
    sk_test_alloc_hook();
    assert_int_equal(sk__benc_decode(S("d1:ali1ee1:b0:e"), n, 64, &count), 0);
    assert_int_equal(sk_test_alloc_count(), 0);
    sk_test_alloc_unhook();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(reply_lookup),
        cmocka_unit_test(malformed_refused),
        cmocka_unit_test(limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
