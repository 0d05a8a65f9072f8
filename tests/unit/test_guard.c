/* Unit tests for the server's guard (src/server/guard.c): bans after N
 * failures and their doubling, trusted networks, the flood limit, the
 * per-user slow-down, delayed answers, and bans kept in and lifted
 * through the store. Time is passed in, so nothing sleeps. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/guard.h"

static struct sk_addr addr(const char *text)
{
    struct sk_addr a;

    assert_int_equal(sk_addr_parse(sk_slice_cstr(text), 5060, &a), 0);
    return a;
}

static void config(struct sk_server_config *c)
{
    char err[256];

    sk_server_config_init(c);
    snprintf(c->domain, sizeof(c->domain), "example.test");
    assert_int_equal(sk_server_config_finish(c, err, sizeof(err)), 0);
}

/* N failures in the window ban the address (only that one); the ban ends,
 * a second one lasts twice as long. */
static void ban_after_failures_doubling(void **state)
{
    struct sk_server_config c;
    struct sk__guard *g;
    struct sk_addr a = addr("192.0.2.7"), b = addr("192.0.2.8"), v6 = addr("[2001:db8::1]");
    uint64_t t = 1000000;
    (void)state;
    config(&c);
    assert_int_equal(sk__guard_new(&g, &c), 0);
    for (int i = 0; i < 9; i++)
        sk__guard_auth_failed(g, &a, "alice", "wrong_password", t + (uint64_t)i);
    assert_true(sk__guard_admit(g, &a, t + 10));
    sk__guard_auth_failed(g, &a, "alice", "wrong_password", t + 10);
    assert_false(sk__guard_admit(g, &a, t + 11));
    assert_true(sk__guard_admit(g, &b, t + 11));
    assert_true(sk__guard_admit(g, &v6, t + 11));
    assert_int_equal(sk__guard_ban_count(g, t + 11), 1);
    /* 600 s later it is over. */
    assert_false(sk__guard_admit(g, &a, t + 10 + 599999));
    assert_true(sk__guard_admit(g, &a, t + 10 + 600000));
    /* Again: 1200 s this time. */
    t += 700000;
    for (int i = 0; i < 10; i++)
        sk__guard_auth_failed(g, &a, "alice", "wrong_password", t);
    assert_false(sk__guard_admit(g, &a, t + 1199999));
    assert_true(sk__guard_admit(g, &a, t + 1200000));
    /* Failures spread wider than the window never add up to a ban. */
    t += 2000000;
    for (int i = 0; i < 30; i++)
        sk__guard_auth_failed(g, &b, "bob", "wrong_password", t + (uint64_t)i * 7000);
    assert_true(sk__guard_admit(g, &b, t + 30 * 7000));
    sk__guard_free(g);
}

static void trusted_are_exempt(void **state)
{
    struct sk_server_config c;
    struct sk__guard *g;
    struct sk_addr in = addr("10.1.2.3"), out = addr("10.2.0.1"), six = addr("[2001:db8::5]");
    char err[256];
    (void)state;
    config(&c);
    snprintf(c.sec_trusted, sizeof(c.sec_trusted), "10.1.0.0/16, 2001:db8::/32");
    c.sec_rate_limit = 1;
    c.sec_rate_window = 1;
    assert_int_equal(sk__guard_new(&g, &c), 0);
    for (int i = 0; i < 50; i++) {
        sk__guard_auth_failed(g, &in, "alice", "wrong_password", 1000);
        assert_true(sk__guard_admit(g, &in, 1000));
        assert_true(sk__guard_admit(g, &six, 1000));
    }
    assert_true(sk__guard_admit(g, &out, 1000));
    assert_false(sk__guard_admit(g, &out, 1001)); /* 1 per second */
    sk__guard_free(g);
    snprintf(c.sec_trusted, sizeof(c.sec_trusted), "10.0.0.0/33");
    assert_int_equal(sk__guard_check_config(&c, err, sizeof(err)), SK_EINVAL);
    assert_string_equal(err, "trusted: '10.0.0.0/33' is not an address or ADDR/BITS");
}

/* Over the limit is dropped; rate_ban_windows windows in a row ban. */
static void flood_limit_then_ban(void **state)
{
    struct sk_server_config c;
    struct sk__guard *g;
    struct sk_addr a = addr("198.51.100.1");
    uint64_t t = 5000;
    int ok = 0;
    (void)state;
    config(&c);
    c.sec_rate_limit = 10;
    c.sec_rate_window = 1;
    c.sec_rate_ban_windows = 3;
    assert_int_equal(sk__guard_new(&g, &c), 0);
    for (int i = 0; i < 50; i++)
        ok += sk__guard_admit(g, &a, t);
    assert_int_equal(ok, 10);
    /* A quiet window resets the count of windows over the limit. */
    assert_true(sk__guard_admit(g, &a, t + 1000));
    assert_true(sk__guard_admit(g, &a, t + 2000));
    for (int w = 3; w < 6; w++) {
        ok = 0;
        for (int i = 0; i < 50; i++)
            ok += sk__guard_admit(g, &a, t + (uint64_t)w * 1000);
        assert_int_equal(ok, 10); /* the third window over bans at its 11th */
    }
    assert_int_equal(sk__guard_ban_count(g, t + 5001), 1);
    assert_false(sk__guard_admit(g, &a, t + 7000));
    sk__guard_free(g);
}

/* After user_delay_after failures, answers wait 250 ms doubling up to
 * the maximum, and one check is allowed per delay. */
static void user_slow_down(void **state)
{
    struct sk_server_config c;
    struct sk__guard *g;
    struct sk_addr a = addr("192.0.2.1"), b = addr("192.0.2.2");
    bool check;
    uint64_t t = 10000;
    (void)state;
    config(&c);
    c.sec_user_delay_after = 3;
    c.sec_user_delay_max = 1000;
    c.sec_auth_fail_limit = 0;
    assert_int_equal(sk__guard_new(&g, &c), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sk__guard_user_gate(g, &a, "carol", t, &check), 0);
        assert_true(check);
        sk__guard_auth_failed(g, &a, "carol", "wrong_password", t);
    }
    assert_int_equal(sk__guard_user_gate(g, &a, "carol", t, &check), 250);
    assert_true(check);
    /* From another address within the delay: not checked. */
    assert_int_equal(sk__guard_user_gate(g, &b, "carol", t + 100, &check), 250);
    assert_false(check);
    sk__guard_auth_failed(g, &a, "carol", "wrong_password", t);
    assert_int_equal(sk__guard_user_gate(g, &b, "carol", t + 300, &check), 500);
    assert_true(check);
    sk__guard_auth_failed(g, &b, "carol", "wrong_password", t + 300);
    sk__guard_auth_failed(g, &b, "carol", "wrong_password", t + 300);
    assert_int_equal(sk__guard_user_gate(g, &b, "carol", t + 900, &check), 1000);
    /* Other users are untouched; success wipes the slate. */
    assert_int_equal(sk__guard_user_gate(g, &b, "dave", t + 900, &check), 0);
    sk__guard_auth_ok(g, "carol");
    assert_int_equal(sk__guard_user_gate(g, &b, "carol", t + 901, &check), 0);
    assert_true(check);
    sk__guard_free(g);
}

static int sent_count;
static char sent_last[64];

static int record_send(void *arg, const struct sk_addr *dst, const char *data, size_t len)
{
    (void)arg;
    (void)dst;
    sent_count++;
    snprintf(sent_last, sizeof(sent_last), "%.*s", (int)len, data);
    return 0;
}

/* Delayed answers leave when due, and the queue is bounded. */
static void delayed_answers(void **state)
{
    struct sk_server_config c;
    struct sk__guard *g;
    struct sk_addr a = addr("192.0.2.1");
    int refused = 0;
    (void)state;
    sk_test_alloc_hook();
    config(&c);
    assert_int_equal(sk__guard_new(&g, &c), 0);
    assert_int_equal(sk__guard_delay(g, &a, "late", 4, 2000), 0);
    assert_int_equal(sk__guard_delay(g, &a, "early", 5, 1500), 0);
    assert_int_equal(sk__guard_next_due(g), 1500);
    sent_count = 0;
    sk__guard_tick(g, 1499, NULL, record_send, NULL);
    assert_int_equal(sent_count, 0);
    sk__guard_tick(g, 1500, NULL, record_send, NULL);
    assert_int_equal(sent_count, 1);
    assert_string_equal(sent_last, "early");
    sk__guard_tick(g, 2500, NULL, record_send, NULL);
    assert_int_equal(sent_count, 2);
    for (int i = 0; i < 5000; i++)
        refused += sk__guard_delay(g, &a, "x", 1, 9000) != 0;
    assert_true(refused > 0 && refused < 5000);
    sk__guard_free(g); /* frees what was never sent */
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

static int count_ban(void *arg, const struct sk_store_ban *b)
{
    (void)b;
    ++*(int *)arg;
    return 0;
}

/* A ban is written to the store; deleting the row lifts it. */
static void bans_in_the_store(void **state)
{
    struct sk_server_config c;
    struct sk__guard *g;
    struct sk_store *st;
    struct sk_addr a = addr("203.0.113.9");
    char dir[] = "/tmp/sk-guard-XXXXXX";
    int n = 0;
    uint64_t t = 100000;
    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(sk_store_open(&st, dir, NULL), 0);
    config(&c);
    assert_int_equal(sk__guard_new(&g, &c), 0);
    for (int i = 0; i < 10; i++)
        sk__guard_auth_failed(g, &a, "alice", "wrong_password", t);
    sk__guard_tick(g, t, st, record_send, NULL);
    assert_int_equal(sk_store_ban_list(st, sk_wall_s(), count_ban, &n), 0);
    assert_int_equal(n, 1);
    /* A second guard on the same store (a restart) takes the ban over. */
    struct sk__guard *g2;
    assert_int_equal(sk__guard_new(&g2, &c), 0);
    sk__guard_tick(g2, 50, st, record_send, NULL);
    assert_false(sk__guard_admit(g2, &a, 60));
    assert_int_equal(sk_store_ban_del(st, "203.0.113.9"), 0);
    assert_int_equal(sk_store_ban_del(st, "203.0.113.9"), SK_ENOTFOUND);
    sk__guard_tick(g, t + 5000, st, record_send, NULL);
    assert_true(sk__guard_admit(g, &a, t + 5001));
    sk__guard_free(g);
    sk__guard_free(g2);
    sk_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ban_after_failures_doubling),
        cmocka_unit_test(trusted_are_exempt),
        cmocka_unit_test(flood_limit_then_ban),
        cmocka_unit_test(user_slow_down),
        cmocka_unit_test(delayed_answers),
        cmocka_unit_test(bans_in_the_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
