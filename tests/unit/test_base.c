/* Unit tests for the base layer: slices, numbers, buffers, arenas. */
#include "support.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static void slice_compare(void **state)
{
    (void)state;
    assert_true(sk_slice_eq(S("abc"), S("abc")));
    assert_false(sk_slice_eq(S("abc"), S("abd")));
    assert_true(sk_slice_caseeq(S("Call-ID"), S("call-id")));
    assert_false(sk_slice_caseeq(S("Call-ID"), S("call-i")));
    assert_slice_equal(sk_slice_trim(S(" \t x y \r\n")), "x y");
    assert_slice_equal(sk_slice_trim(S("   ")), "");
}

static void slice_numbers(void **state)
{
    uint64_t v = 7;
    (void)state;
    assert_int_equal(sk_slice_to_u64(S("0"), 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(sk_slice_to_u64(S("4294967295"), UINT32_MAX, &v), 0);
    assert_int_equal(v, 4294967295u);
    assert_int_equal(sk_slice_to_u64(S("4294967296"), UINT32_MAX, &v), SK_ETOOBIG);
    assert_int_equal(sk_slice_to_u64(S("18446744073709551616"), UINT64_MAX, &v), SK_ETOOBIG);
    assert_int_equal(sk_slice_to_u64(S(""), 10, &v), SK_EPARSE);
    assert_int_equal(sk_slice_to_u64(S("-1"), 10, &v), SK_EPARSE);
    assert_int_equal(sk_slice_to_u64(S("1 "), 10, &v), SK_EPARSE);
}

static void buf_appends(void **state)
{
    struct sk_buf b;
    (void)state;
    sk_buf_init(&b);
    sk_buf_append_cstr(&b, "SIP/2.0 ");
    sk_buf_append_u64(&b, 200);
    sk_buf_printf(&b, " %s", "OK");
    assert_true(sk_buf_ok(&b));
    assert_string_equal(b.p, "SIP/2.0 200 OK");
    sk_buf_free(&b);
}

/* JSON strings carry only UTF-8 (RFC 8259 §8.1): valid sequences pass,
 * anything RFC 3629 forbids (overlong forms, surrogates, above U+10FFFF,
 * cut short) is escaped byte by byte, so parsers never reject the text. */
static void buf_json_utf8(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"caf\xc3\xa9 \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""},
        {"\xc0\xaf", "\"\\u00c0\\u00af\""},                       /* overlong '/' */
        {"\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\""},            /* overlong, 3 octets */
        {"\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""},            /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""}, /* U+110000 */
        {"\xe2\x82", "\"\\u00e2\\u0082\""},                       /* cut short */
        {"\xef\xbf\xbd", "\"\xef\xbf\xbd\""},                     /* U+FFFD is fine */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sk_buf b;
        sk_buf_init(&b);
        sk_buf_append_json(&b, sk_slice_cstr(cases[i].in));
        assert_true(sk_buf_ok(&b));
        assert_string_equal(b.p, cases[i].out);
        sk_buf_free(&b);
    }
}

static void buf_failure_sticks(void **state)
{
    struct sk_buf b;
    (void)state;
    sk_test_alloc_hook();
    sk_buf_init(&b);
    sk_test_alloc_fail_at(1);
    sk_buf_append_cstr(&b, "x");
    assert_false(sk_buf_ok(&b));
    sk_buf_append_cstr(&b, "y");
    assert_false(sk_buf_ok(&b));
    sk_buf_free(&b);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

static void arena_reuse_allocates_nothing(void **state)
{
    struct sk_arena a;
    (void)state;
    sk_test_alloc_hook();
    sk_arena_init(&a, 1024);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 10; i++)
            assert_non_null(sk_arena_alloc(&a, 64));
        if (round == 0)
            sk_test_alloc_reset();
        sk_arena_reset(&a);
    }
    assert_int_equal(sk_test_alloc_count(), 0);
    char *s = sk_arena_strndup(&a, "hello", 5);
    assert_string_equal(s, "hello");
    assert_non_null(sk_arena_alloc(&a, 100000));
    sk_arena_free(&a);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

static void strerror_names(void **state)
{
    (void)state;
    assert_string_equal(sk_strerror(SK_EPARSE), "malformed input");
    assert_string_equal(sk_strerror(0), "success");
    assert_non_null(sk_strerror(-2));
}

/* sk_log_set() while other threads log (the server's SIGHUP): every line
 * reaches a callback together with that callback's own argument. */
static int sink_a_arg, sink_b_arg;
static atomic_uint torn, lines;
static atomic_bool stop_logging;

static void sink_a(void *arg, enum sk_log_level level, const char *module, const char *text)
{
    (void)level, (void)module, (void)text;
    if (arg != &sink_a_arg)
        atomic_fetch_add(&torn, 1);
    atomic_fetch_add(&lines, 1);
}

static void sink_b(void *arg, enum sk_log_level level, const char *module, const char *text)
{
    (void)level, (void)module, (void)text;
    if (arg != &sink_b_arg)
        atomic_fetch_add(&torn, 1);
    atomic_fetch_add(&lines, 1);
}

static void *log_loop(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_logging))
        SK_LOG(SK_LOG_INFO, "test", "event=tick");
    return NULL;
}

static void log_set_while_logging(void **state)
{
    pthread_t t[3];
    (void)state;

    sk_log_set(sink_a, &sink_a_arg, SK_LOG_INFO);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, log_loop, NULL), 0);
    /* Until the loggers have logged a good many lines, 5 s at most. */
    uint64_t until = sk_now_ms() + 5000;
    for (unsigned i = 0; atomic_load(&lines) < 200000 && sk_now_ms() < until; i++) {
        if (i % 2 == 0)
            sk_log_set(sink_b, &sink_b_arg, SK_LOG_INFO);
        else
            sk_log_set(sink_a, &sink_a_arg, SK_LOG_INFO);
    }
    atomic_store(&stop_logging, true);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    sk_log_set(NULL, NULL, SK_LOG_INFO);
    assert_true(atomic_load(&lines) > 0);
    assert_int_equal(atomic_load(&torn), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slice_compare),      cmocka_unit_test(slice_numbers),
        cmocka_unit_test(buf_appends),        cmocka_unit_test(buf_json_utf8),
        cmocka_unit_test(buf_failure_sticks), cmocka_unit_test(arena_reuse_allocates_nothing),
        cmocka_unit_test(strerror_names),     cmocka_unit_test(log_set_while_logging),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
