/* Unit tests for server/auth_watch.c: a client challenged with several
 * digest algorithms that never sends credentials is reported once per
 * source and User-Agent, after 64*T1, on an injected clock. */
#include "support.h"

#include <stdio.h>
#include <string.h>

#include "server/internal.h"

static char logged[8][512];
static int nlogged;

static void on_log(void *arg, enum sk_log_level level, const char *module, const char *text)
{
    (void)arg;
    if (level == SK_LOG_WARN && strcmp(module, "auth") == 0 && nlogged < 8)
        snprintf(logged[nlogged++], sizeof(logged[0]), "%s", text);
}

struct req {
    char buf[512];
    struct sk_msg m;
};

static void make(struct req *r, const char *src, const char *ua)
{
    int n = snprintf(r->buf, sizeof(r->buf),
                     "REGISTER sip:example.com SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK1\r\n"
                     "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\n"
                     "Call-ID: c1\r\nCSeq: 1 REGISTER\r\n%s%s%sContent-Length: 0\r\n\r\n",
                     src, ua != NULL ? "User-Agent: " : "", ua != NULL ? ua : "",
                     ua != NULL ? "\r\n" : "");
    sk_msg_init(&r->m);
    assert_int_equal(sk_msg_parse(&r->m, r->buf, (size_t)n, SK_MSG_DATAGRAM, NULL), 0);
    sk_msg_set_source(&r->m, sk_slice_cstr(src), 5060);
}

static void never_retried_is_reported_once(void **state)
{
    struct sk__authwatch *w;
    struct sk_auth_algos two, one;
    struct req phone, ok, scanner;
    (void)state;
    nlogged = 0;
    sk_log_set(on_log, NULL, SK_LOG_DEBUG);
    assert_int_equal(sk_auth_algos_parse("MD5 SHA-256", false, &two), 0);
    assert_int_equal(sk_auth_algos_parse("SHA-256", false, &one), 0);
    assert_int_equal(sk__authwatch_new(&w), 0);
    make(&phone, "198.51.100.7", "OldPhone/1.0 \"x\"");
    make(&ok, "198.51.100.8", "GoodPhone/2.0");
    make(&scanner, "203.0.113.9", NULL);

    sk__authwatch_challenged(w, &phone.m, &two, 1000);
    sk__authwatch_challenged(w, &phone.m, &two, 5000); /* its retransmission */
    sk__authwatch_challenged(w, &ok.m, &two, 1000);
    sk__authwatch_answered(w, &ok.m);
    sk__authwatch_challenged(w, &scanner.m, &one, 1000); /* one algorithm: not our doing */
    sk__authwatch_tick(w, 32999);
    assert_int_equal(nlogged, 0);
    sk__authwatch_tick(w, 33000);
    assert_int_equal(nlogged, 1);
    assert_non_null(strstr(logged[0], "event=auth_never_retried src=198.51.100.7"));
    /* The User-Agent is quoted safely and the fix is named. */
    assert_non_null(strstr(logged[0], "ua=\"OldPhone/1.0 'x'\""));
    assert_non_null(strstr(logged[0], "offered=\"MD5 SHA-256\""));
    assert_non_null(strstr(logged[0], "auth.algorithms (--auth-algorithms)"));
    /* Once per source and User-Agent, however often it tries again. */
    sk__authwatch_challenged(w, &phone.m, &two, 40000);
    sk__authwatch_tick(w, 90000);
    assert_int_equal(nlogged, 1);

    sk__authwatch_free(w);
    sk_msg_free(&phone.m);
    sk_msg_free(&ok.m);
    sk_msg_free(&scanner.m);
    sk_log_set(NULL, NULL, SK_LOG_ERROR);
}

/* Many sources: the table forgets the oldest, it never grows, and the
 * warnings are spaced so a scan cannot flood the log. */
static void bounded_under_a_scan(void **state)
{
    struct sk__authwatch *w;
    struct sk_auth_algos two;
    struct req r;
    char ip[32];
    (void)state;
    nlogged = 0;
    sk_log_set(on_log, NULL, SK_LOG_DEBUG);
    assert_int_equal(sk_auth_algos_parse("MD5 SHA-256", false, &two), 0);
    sk_test_alloc_hook();
    assert_int_equal(sk__authwatch_new(&w), 0);
    unsigned long in_watch = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(ip, sizeof(ip), "203.0.113.%d", i % 250);
        make(&r, ip, "scanner");
        unsigned long before = sk_test_alloc_count();
        sk__authwatch_challenged(w, &r.m, &two, 1000 + (uint64_t)i);
        in_watch += sk_test_alloc_count() - before;
        sk_msg_free(&r.m);
    }
    assert_int_equal(in_watch, 0); /* no allocation per challenge */
    sk__authwatch_tick(w, 40000);
    sk__authwatch_tick(w, 40500);
    assert_int_equal(nlogged, 1);
    sk__authwatch_tick(w, 41000);
    assert_int_equal(nlogged, 2);
    sk__authwatch_free(w);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
    sk_log_set(NULL, NULL, SK_LOG_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(never_retried_is_reported_once),
        cmocka_unit_test(bounded_under_a_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
