/* Unit tests for durable subscriptions and publications
 * (store/subscriptions.c) and the publication state on top of them
 * (events/publish.c). */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sipkit/events.h>
#include <sipkit/store.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/sk-subs-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static struct sk_store *open_store(void)
{
    struct sk_store *s = NULL;
    assert_int_equal(sk_store_open(&s, dir, NULL), 0);
    return s;
}

static struct sk_subscription sample(const char *key)
{
    struct sk_subscription sub;
    memset(&sub, 0, sizeof(sub));
    snprintf(sub.key, sizeof(sub.key), "%s", key);
    snprintf(sub.package, sizeof(sub.package), "presence");
    snprintf(sub.event_id, sizeof(sub.event_id), "e1");
    snprintf(sub.call_id, sizeof(sub.call_id), "call-%s", key);
    snprintf(sub.remote_tag, sizeof(sub.remote_tag), "rt");
    snprintf(sub.local_uri, sizeof(sub.local_uri), "sip:bob@example.com");
    snprintf(sub.remote_uri, sizeof(sub.remote_uri), "sip:alice@example.com");
    snprintf(sub.remote_target, sizeof(sub.remote_target), "sip:alice@192.0.2.5:5070");
    snprintf(sub.route_set, sizeof(sub.route_set), "<sip:p1;lr>");
    snprintf(sub.watcher, sizeof(sub.watcher), "alice@example.com");
    snprintf(sub.resource, sizeof(sub.resource), "bob@example.com");
    snprintf(sub.src_ip, sizeof(sub.src_ip), "192.0.2.5");
    sub.remote_cseq = 3;
    sub.local_cseq = 9;
    sub.version = 2;
    sub.expires_at = 1700000000;
    sub.state = SK_SUB_ACTIVE;
    sub.transport = SK_TP_TCP;
    sub.src_port = 5070;
    sub.conn_id = 77;
    return sub;
}

struct collected {
    struct sk_subscription subs[4];
    size_t n;
};

static int collect(void *arg, const struct sk_subscription *sub)
{
    struct collected *c = arg;
    if (c->n < 4)
        c->subs[c->n++] = *sub;
    return 0;
}

static int stop_at_first(void *arg, const struct sk_subscription *sub)
{
    (void)arg;
    (void)sub;
    return 42;
}

static void subscriptions_round_trip(void **state)
{
    struct sk_store *s;
    struct sk_subscription a = sample("k1"), b = sample("k2");
    static struct collected c;
    (void)state;
    sk_test_alloc_hook();
    s = open_store();
    assert_int_equal(sk_store_sub_put(s, &a), 0);
    assert_int_equal(sk_store_sub_put(s, &b), 0);
    b.expires_at += 60; /* a refresh replaces */
    assert_int_equal(sk_store_sub_put(s, &b), 0);
    assert_int_equal(sk_store_sub_seq(s, "k1", 10, 3), 0);
    assert_int_equal(sk_store_sub_seq(s, "nope", 10, 3), SK_ENOTFOUND);
    sk_store_close(s);

    /* A new process (here: a new handle) sees what was committed. */
    s = open_store();
    memset(&c, 0, sizeof(c));
    assert_int_equal(sk_store_sub_foreach(s, collect, &c), 0);
    assert_int_equal(c.n, 2);
    a.local_cseq = 10;
    a.version = 3;
    assert_memory_equal(&c.subs[0], &a, sizeof(a));
    assert_memory_equal(&c.subs[1], &b, sizeof(b));
    assert_int_equal(sk_store_sub_foreach(s, stop_at_first, NULL), 42);
    assert_int_equal(sk_store_sub_del(s, "k1"), 0);
    assert_int_equal(sk_store_sub_del(s, "k1"), SK_ENOTFOUND);
    memset(&c, 0, sizeof(c));
    assert_int_equal(sk_store_sub_foreach(s, collect, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.subs[0].key, "k2");
    a.key[0] = '\0';
    assert_int_equal(sk_store_sub_put(s, &a), SK_EINVAL);
    sk_store_close(s);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

/* A child commits and dies with SIGKILL; the parent reopens and finds it. */
static void subscription_survives_kill(void **state)
{
    pid_t pid;
    int status;
    static struct collected c;
    (void)state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sk_store *s = NULL;
        struct sk_subscription a = sample("killed");
        if (sk_store_open(&s, dir, NULL) != 0 || sk_store_sub_put(s, &a) != 0)
            _exit(1);
        kill(getpid(), SIGKILL);
        _exit(2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    struct sk_store *s = open_store();
    memset(&c, 0, sizeof(c));
    assert_int_equal(sk_store_sub_foreach(s, collect, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.subs[0].key, "killed");
    assert_int_equal(c.subs[0].conn_id, 77);
    sk_store_close(s);
}

static struct sk_pub_request preq(const char *if_match, int64_t expires, const char *body,
                                  int64_t now)
{
    struct sk_pub_request r = {S("bob@example.com"),      S("presence"), S(if_match), expires,
                               S("application/pidf+xml"), S(body),       now};
    return r;
}

static void publish_life_cycle(void **state)
{
    struct sk_store *s;
    struct sk_pubstate *ps;
    struct sk_pubstate_options o = {60, 600, 300, NULL};
    struct sk_pub_result res;
    struct sk_pub_request rq;
    struct sk_buf body;
    char ctype[64], etag1[SK_PUB_ETAG_MAX + 1], etag2[SK_PUB_ETAG_MAX + 1];
    (void)state;
    sk_test_alloc_hook();
    s = open_store();
    o.store = s;
    sk_buf_init(&body);
    assert_int_equal(sk_pubstate_new(&ps, &o), 0);
    /* Nothing published yet. */
    assert_int_equal(sk_pubstate_current(ps, S("bob@example.com"), S("presence"), 1000, &body,
                                         ctype, sizeof(ctype)),
                     0);
    /* Initial publication: no body is 400; Expires 0 without a tag is 400;
     * too brief is 423; no Expires takes the default. */
    rq = preq("", -1, "", 1000);
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    assert_int_equal(res.status, 400);
    assert_string_equal(res.reason, "Missing Body In Initial PUBLISH");
    rq = preq("", 0, "<a/>", 1000);
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    assert_int_equal(res.status, 400);
    rq = preq("", 59, "<a/>", 1000);
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    assert_int_equal(res.status, 423);
    assert_int_equal(res.min_expires, 60);
    rq = preq("", -1, "<open/>", 1000);
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.expires, 300);
    assert_true(res.changed);
    assert_int_equal(strlen(res.etag), 16);
    memcpy(etag1, res.etag, sizeof(etag1));
    assert_int_equal(sk_pubstate_current(ps, S("bob@example.com"), S("presence"), 1000, &body,
                                         ctype, sizeof(ctype)),
                     1);
    assert_string_equal(body.p, "<open/>");
    assert_string_equal(ctype, "application/pidf+xml");
    assert_int_equal(sk_pubstate_current(ps, S("bob@example.com"), S("dialog"), 1000, &body, ctype,
                                         sizeof(ctype)),
                     0);
    /* Refresh: no body, new entity-tag, capped expiry, not a change. */
    rq = preq(etag1, 100000, "", 1010);
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.expires, 600);
    assert_false(res.changed);
    assert_string_not_equal(res.etag, etag1);
    memcpy(etag2, res.etag, sizeof(etag2));
    /* The old tag is gone: 412. Another resource's tag: 412. */
    rq = preq(etag1, 60, "", 1010);
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    assert_int_equal(res.status, 412);
    assert_string_equal(res.reason, "Conditional Request Failed");
    rq = preq(etag2, 60, "", 1010);
    rq.resource = S("carol@example.com");
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    assert_int_equal(res.status, 412);
    /* Modify: a body under the tag. */
    rq = preq(etag2, 120, "<closed/>", 1020);
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    assert_int_equal(res.status, 200);
    assert_true(res.changed);
    memcpy(etag1, res.etag, sizeof(etag1));
    assert_int_equal(sk_pubstate_current(ps, S("bob@example.com"), S("presence"), 1020, &body,
                                         ctype, sizeof(ctype)),
                     1);
    assert_string_equal(body.p, "<closed/>");
    assert_int_equal(sk_pubstate_count(ps), 1);
    sk_pubstate_free(ps);

    /* Restart: the publication is loaded back from the store. */
    assert_int_equal(sk_pubstate_new(&ps, &o), 0);
    assert_int_equal(sk_pubstate_load(ps, 1030), 0);
    assert_int_equal(sk_pubstate_count(ps), 1);
    assert_int_equal(sk_pubstate_current(ps, S("bob@example.com"), S("presence"), 1030, &body,
                                         ctype, sizeof(ctype)),
                     1);
    assert_string_equal(body.p, "<closed/>");
    /* Remove with Expires: 0. */
    rq = preq(etag1, 0, "", 1030);
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.expires, 0);
    assert_string_equal(res.etag, "");
    assert_true(res.changed);
    assert_int_equal(sk_pubstate_count(ps), 0);
    sk_pubstate_free(ps);
    assert_int_equal(sk_pubstate_new(&ps, &o), 0);
    assert_int_equal(sk_pubstate_load(ps, 1030), 0);
    assert_int_equal(sk_pubstate_count(ps), 0);
    sk_pubstate_free(ps);
    sk_buf_free(&body);
    sk_store_close(s);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

static int changes;

static void on_change(void *arg, const char *resource, const char *package)
{
    (void)arg;
    assert_string_equal(resource, "bob@example.com");
    assert_string_equal(package, "presence");
    changes++;
}

static void publish_expiry_and_order(void **state)
{
    struct sk_pubstate *ps;
    struct sk_pubstate_options o = {60, 600, 300, NULL};
    struct sk_pub_result res;
    struct sk_pub_request rq;
    struct sk_buf body;
    char ctype[64];
    (void)state;
    sk_buf_init(&body);
    assert_int_equal(sk_pubstate_new(&ps, &o), 0);
    rq = preq("", 60, "<first/>", 1000);
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    rq = preq("", 120, "<second/>", 1000); /* same second: order by sequence */
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    assert_int_equal(sk_pubstate_current(ps, S("bob@example.com"), S("presence"), 1000, &body,
                                         ctype, sizeof(ctype)),
                     1);
    assert_string_equal(body.p, "<second/>");
    /* An expired publication's tag is 412 before the purge removes it. */
    assert_int_equal(sk_pubstate_current(ps, S("bob@example.com"), S("presence"), 1120, &body,
                                         ctype, sizeof(ctype)),
                     0);
    rq = preq(res.etag, 60, "", 1120);
    assert_int_equal(sk_pubstate_apply(ps, &rq, &res), 0);
    assert_int_equal(res.status, 412);
    changes = 0;
    assert_int_equal(sk_pubstate_purge(ps, 1059, on_change, NULL), 0);
    assert_int_equal(sk_pubstate_purge(ps, 1060, on_change, NULL), 1);
    assert_int_equal(changes, 1);
    assert_int_equal(sk_pubstate_purge(ps, 2000, on_change, NULL), 1);
    assert_int_equal(changes, 2);
    assert_int_equal(sk_pubstate_count(ps), 0);
    sk_pubstate_free(ps);
    sk_buf_free(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(subscriptions_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(subscription_survives_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(publish_life_cycle, setup, teardown),
        cmocka_unit_test(publish_expiry_and_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
