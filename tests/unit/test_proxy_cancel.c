/*
 * CANCEL of a forked INVITE whose branches have not all answered (RFC 3261
 * §9.1, §16.10): a branch with a provisional response is CANCELed; one
 * with nothing yet is given up on at once and counts as a 487, so the
 * caller hears 487 without waiting for Timer B. A late provisional on it
 * then gets the CANCEL, a late 2xx still goes upstream (§16.7 step 5).
 */
#include "support.h"

#include "server/proxy_int.h"

static void on(struct sk__fork *f, size_t i, unsigned status, struct sk__fork_acts *a)
{
    /* No bytes: what matters here is what the fork decides. */
    assert_int_equal(sk__fork_response(f, i, status, NULL, 0, 10, a), 0);
}

static void silent_branch_counts_as_487(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;

    (void)state;
    sk__fork_init(&f, true, 180000);
    sk__fork_add(&f, 0);
    sk__fork_begin(&f, 0, &a);
    sk__fork_cancel(&f, &a);
    assert_int_equal(a.cancel, 0); /* §9.1: no CANCEL before a provisional */
    assert_true(a.final);
    assert_int_equal(a.status, 487);
    assert_true(sk__fork_done(&f));
    /* The callee wakes up: now the CANCEL goes, and only once. */
    on(&f, 0, 100, &a);
    assert_int_equal(a.cancel, 1);
    assert_false(a.forward);
    assert_false(a.final);
    on(&f, 0, 180, &a);
    assert_int_equal(a.cancel, 0);
    assert_false(a.forward);
    /* Its 487 to our CANCEL changes nothing upstream. */
    on(&f, 0, 487, &a);
    assert_false(a.forward);
    assert_false(a.final);
    sk__fork_free(&f);
}

static void late_2xx_goes_upstream(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;

    (void)state;
    sk__fork_init(&f, true, 180000);
    sk__fork_add(&f, 0);
    sk__fork_begin(&f, 0, &a);
    sk__fork_cancel(&f, &a);
    assert_true(a.final);
    on(&f, 0, 200, &a);
    assert_true(a.forward); /* the caller ACKs and hangs up (§16.10) */
    assert_int_equal(a.cancel, 0);
    on(&f, 0, 200, &a);
    assert_true(a.forward); /* and its retransmissions */
    sk__fork_free(&f);
}

static void ringing_and_silent_branches(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;

    (void)state;
    sk__fork_init(&f, true, 180000);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 1);
    sk__fork_begin(&f, 0, &a);
    on(&f, 0, 180, &a);
    sk__fork_cancel(&f, &a);
    assert_int_equal(a.cancel, 1);
    assert_false(a.final); /* branch 0 rings: its 487 is awaited */
    on(&f, 0, 487, &a);
    assert_true(a.final);
    assert_int_equal(a.status, 487);
    assert_int_equal(a.start, 0); /* no next serial group after CANCEL */
    on(&f, 1, 183, &a);
    assert_int_equal(a.cancel, 2);
    assert_false(a.forward);
    sk__fork_free(&f);
}

/* After a 6xx (or a 2xx) the silent branches are let go as well, so the
 * best response does not wait for Timer B either. */
static void silent_branch_let_go_after_6xx(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;

    (void)state;
    sk__fork_init(&f, true, 180000);
    sk__fork_add(&f, 0);
    sk__fork_add(&f, 0);
    sk__fork_begin(&f, 0, &a);
    on(&f, 0, 603, &a);
    assert_true(a.final);
    assert_int_equal(a.best, 0);
    assert_int_equal(a.status, 603);
    sk__fork_free(&f);
}

/* A non-INVITE has no CANCEL worth waiting for: unchanged. */
static void non_invite_waits(void **state)
{
    struct sk__fork f;
    struct sk__fork_acts a;

    (void)state;
    sk__fork_init(&f, false, 0);
    sk__fork_add(&f, 0);
    sk__fork_begin(&f, 0, &a);
    sk__fork_cancel(&f, &a);
    assert_false(a.final);
    assert_false(sk__fork_done(&f));
    sk__fork_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(silent_branch_counts_as_487),
        cmocka_unit_test(late_2xx_goes_upstream),
        cmocka_unit_test(ringing_and_silent_branches),
        cmocka_unit_test(silent_branch_let_go_after_6xx),
        cmocka_unit_test(non_invite_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
