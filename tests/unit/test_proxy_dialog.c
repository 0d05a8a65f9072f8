/*
 * What the proxy tells the dialog package (RFC 4235): each side's view of
 * an initial INVITE (who is our user, which tag is whose), the state a
 * response status gives (§3.7.1), and the tracker taking the callee's tag
 * from its first response and leaving unknown dialogs alone for a BYE.
 */
#include "support.h"

#include "server/internal.h"
#include "server/proxy_int.h"

#include <stdio.h>
#include <string.h>

static char *crlf(int slot, const char *text)
{
    static char bufs[2][2048];
    char *b = bufs[slot];
    size_t n = 0;

    for (const char *p = text; *p != '\0' && n + 2 < sizeof(bufs[0]); p++) {
        if (*p == '\n')
            b[n++] = '\r';
        b[n++] = *p;
    }
    b[n] = '\0';
    return b;
}

static void parse(struct sk_msg *m, int slot, const char *text)
{
    const char *wire = crlf(slot, text);

    sk_msg_init(m);
    assert_int_equal(sk_msg_parse(m, wire, strlen(wire), SK_MSG_DATAGRAM, NULL), 0);
}

static const char invite[] = "INVITE sip:bob@example.test SIP/2.0\n"
                             "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa1\n"
                             "Max-Forwards: 70\n"
                             "From: <sip:alice@example.test>;tag=at\n"
                             "To: <sip:bob@example.test>\n"
                             "Call-ID: c1@x\n"
                             "CSeq: 2 INVITE\n"
                             "Content-Length: 0\n\n";

static const char ringing[] = "SIP/2.0 180 Ringing\n"
                              "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa1\n"
                              "From: <sip:alice@example.test>;tag=at\n"
                              "To: <sip:bob@example.test>;tag=bt\n"
                              "Call-ID: c1@x\n"
                              "CSeq: 2 INVITE\n"
                              "Content-Length: 0\n\n";

static void server_init(struct sk_server *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->cfg.domain, sizeof(s->cfg.domain), "example.test");
}

static void views_of_an_invite(void **state)
{
    struct sk_server s;
    struct sk__dlg_view v;
    struct sk_msg req, resp;

    (void)state;
    server_init(&s);
    parse(&req, 0, invite);
    parse(&resp, 1, ringing);
    /* The caller: From, its own tag local, initiator. */
    assert_int_equal(sk__proxy_dialog_caller(&s, &req, NULL, &v), 0);
    assert_string_equal(v.e.aor, "alice@example.test");
    assert_string_equal(v.e.call_id, "c1@x");
    assert_string_equal(v.e.local_tag, "at");
    assert_string_equal(v.e.remote_tag, "");
    assert_true(v.e.initiator);
    assert_int_equal(v.e.state, SK_DLG_TRYING);
    assert_string_equal(v.e.local_uri, "sip:alice@example.test");
    assert_string_equal(v.e.remote_uri, "sip:bob@example.test");
    assert_int_equal(sk__proxy_dialog_caller(&s, &req, &resp, &v), 0);
    assert_string_equal(v.e.remote_tag, "bt");
    /* The callee: the Request-URI's user, its tag only from a response. */
    assert_int_equal(sk__proxy_dialog_callee(&s, &req, NULL, &v), 0);
    assert_string_equal(v.e.aor, "bob@example.test");
    assert_string_equal(v.e.local_tag, "");
    assert_string_equal(v.e.remote_tag, "at");
    assert_false(v.e.initiator);
    assert_string_equal(v.e.local_uri, "sip:bob@example.test");
    assert_string_equal(v.e.remote_uri, "sip:alice@example.test");
    assert_int_equal(sk__proxy_dialog_callee(&s, &req, &resp, &v), 0);
    assert_string_equal(v.e.local_tag, "bt");
    sk_msg_free(&req);
    sk_msg_free(&resp);
    /* Another domain's caller is not ours. */
    parse(&req, 0,
          "INVITE sip:bob@example.test SIP/2.0\n"
          "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa2\n"
          "From: <sip:zed@elsewhere.test>;tag=zt\n"
          "To: <sip:bob@example.test>\n"
          "Call-ID: c2@x\n"
          "CSeq: 1 INVITE\n"
          "Content-Length: 0\n\n");
    assert_int_equal(sk__proxy_dialog_caller(&s, &req, NULL, &v), SK_ENOTFOUND);
    assert_int_equal(sk__proxy_dialog_callee(&s, &req, NULL, &v), 0);
    assert_string_equal(v.e.aor, "bob@example.test");
    sk_msg_free(&req);
}

static void states_of_statuses(void **state)
{
    struct sk_dlg_event e;

    (void)state;
    memset(&e, 0, sizeof(e));
    sk__proxy_dialog_state(0, false, &e);
    assert_int_equal(e.state, SK_DLG_TRYING);
    assert_int_equal(e.code, 0);
    sk__proxy_dialog_state(180, true, &e);
    assert_int_equal(e.state, SK_DLG_EARLY);
    assert_int_equal(e.code, 180);
    sk__proxy_dialog_state(183, false, &e);
    assert_int_equal(e.state, SK_DLG_PROCEEDING);
    sk__proxy_dialog_state(200, true, &e);
    assert_int_equal(e.state, SK_DLG_CONFIRMED);
    assert_null(e.event);
    sk__proxy_dialog_state(487, true, &e);
    assert_int_equal(e.state, SK_DLG_TERMINATED);
    assert_string_equal(e.event, "cancelled");
    sk__proxy_dialog_state(408, false, &e);
    assert_string_equal(e.event, "timeout");
    sk__proxy_dialog_state(486, true, &e);
    assert_string_equal(e.event, "rejected");
    assert_int_equal(e.code, 486);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);

    /* Not strstr in a loop: sanitizers measure the whole haystack each call. */
    for (const char *p = hay; *p != '\0'; p++)
        n += *p == *needle && strncmp(p, needle, len) == 0;
    return n;
}

static void tracker_takes_the_callee_tag(void **state)
{
    struct sk_dlgtrack *t;
    struct sk_buf b;
    struct sk_dlg_event e = {.aor = "bob@example.test",
                             .call_id = "c1",
                             .local_tag = "",
                             .remote_tag = "at",
                             .state = SK_DLG_TRYING,
                             .now_ms = 1000};

    (void)state;
    sk_test_alloc_hook();
    sk_buf_init(&b);
    assert_int_equal(sk_dlgtrack_new(&t), 0);
    assert_int_equal(sk_dlgtrack_update(t, &e), 0);
    /* The first response's tag goes to the trying dialog. */
    e.local_tag = "bt";
    e.state = SK_DLG_EARLY;
    e.code = 180;
    assert_int_equal(sk_dlgtrack_update(t, &e), 0);
    assert_int_equal(sk_dlgtrack_build(t, "bob@example.test", 1, &b), 1);
    assert_non_null(strstr(b.p, "local-tag=\"bt\" remote-tag=\"at\" direction=\"recipient\""));
    /* Another fork's tag is another dialog. */
    e.local_tag = "ct";
    assert_int_equal(sk_dlgtrack_update(t, &e), 0);
    sk_buf_reset(&b);
    assert_int_equal(sk_dlgtrack_build(t, "bob@example.test", 2, &b), 2);
    /* A BYE changes only what is known, and keeps who started it. */
    struct sk_dlg_event bye = {.aor = "bob@example.test",
                               .call_id = "c1",
                               .local_tag = "zz",
                               .remote_tag = "at",
                               .initiator = true,
                               .state = SK_DLG_TERMINATED,
                               .event = "remote-bye",
                               .now_ms = 2000,
                               .known_only = true};
    assert_int_equal(sk_dlgtrack_update(t, &bye), 0);
    sk_buf_reset(&b);
    assert_int_equal(sk_dlgtrack_build(t, "bob@example.test", 3, &b), 2);
    assert_null(strstr(b.p, "terminated"));
    bye.local_tag = "bt";
    assert_int_equal(sk_dlgtrack_update(t, &bye), 0);
    sk_buf_reset(&b);
    assert_int_equal(sk_dlgtrack_build(t, "bob@example.test", 4, &b), 2);
    assert_int_equal(count(b.p, "<state event=\"remote-bye\">terminated</state>"), 1);
    assert_int_equal(count(b.p, "direction=\"recipient\""), 2);
    assert_null(strstr(b.p, "initiator"));
    /* An empty tag with nothing untagged left makes nothing for a BYE. */
    bye.local_tag = "";
    assert_int_equal(sk_dlgtrack_update(t, &bye), 0);
    sk_buf_reset(&b);
    assert_int_equal(sk_dlgtrack_build(t, "bob@example.test", 5, &b), 2);
    sk_buf_free(&b);
    sk_dlgtrack_free(t);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

/* One callee with thousands of calls: each is its own dialog, a document
 * lists only its AOR's dialogs, and purge forgets ended ones oldest first. */
static void tracker_many_calls_to_one_user(void **state)
{
    enum { N = 10000 };
    struct sk_dlgtrack *t;
    struct sk_buf b;
    char cid[32], tag[32];
    struct sk_dlg_event e = {.aor = "bob@example.test", .remote_tag = "at", .call_id = cid};

    (void)state;
    sk_test_alloc_hook();
    sk_buf_init(&b);
    assert_int_equal(sk_dlgtrack_new(&t), 0);
    for (unsigned i = 0; i < N; i++) {
        snprintf(cid, sizeof(cid), "call-%u", i);
        e.local_tag = "";
        e.state = SK_DLG_TRYING;
        e.now_ms = i;
        assert_int_equal(sk_dlgtrack_update(t, &e), 0);
        snprintf(tag, sizeof(tag), "bt%u", i);
        e.local_tag = tag;
        e.state = SK_DLG_CONFIRMED;
        e.remote_uri = "sip:alice@example.test";
        assert_int_equal(sk_dlgtrack_update(t, &e), 0);
        e.remote_uri = NULL;
    }
    /* Alice's own call is hers alone. */
    struct sk_dlg_event a = {.aor = "alice@example.test", .call_id = "x", .local_tag = "at"};
    assert_int_equal(sk_dlgtrack_update(t, &a), 0);
    assert_int_equal(sk_dlgtrack_build(t, "alice@example.test", 1, &b), 1);
    assert_int_equal(count(b.p, "<dialog id="), 1);
    sk_buf_reset(&b);
    assert_int_equal(sk_dlgtrack_build(t, "carol@example.test", 1, &b), 0);
    /* End every other call: at ms N + i. */
    for (unsigned i = 0; i < N; i += 2) {
        snprintf(cid, sizeof(cid), "call-%u", i);
        snprintf(tag, sizeof(tag), "bt%u", i);
        e.local_tag = tag;
        e.state = SK_DLG_TERMINATED;
        e.event = "remote-bye";
        e.now_ms = N + i;
        e.known_only = true;
        assert_int_equal(sk_dlgtrack_update(t, &e), 0);
    }
    sk_buf_reset(&b);
    assert_int_equal(sk_dlgtrack_build(t, "bob@example.test", 2, &b), N);
    assert_int_equal(count(b.p, "terminated</state>"), N / 2);
    assert_int_equal(count(b.p, "<identity>sip:alice@example.test</identity>"), N);
    assert_int_equal(sk_dlgtrack_purge(t, N - 1), 0);
    assert_int_equal(sk_dlgtrack_purge(t, N + 99), 50);
    assert_int_equal(sk_dlgtrack_purge(t, 3 * N), N / 2 - 50);
    sk_buf_reset(&b);
    assert_int_equal(sk_dlgtrack_build(t, "bob@example.test", 3, &b), N / 2);
    assert_null(strstr(b.p, "terminated"));
    sk_buf_free(&b);
    sk_dlgtrack_free(t);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

/* A dialog block grows with what it learns and keeps its id; running out
 * of memory on the way changes nothing. */
static void tracker_resizes_and_survives_oom(void **state)
{
    struct sk_dlgtrack *t;
    struct sk_buf b, b2;
    struct sk_dlg_event e = {.aor = "bob@example.test",
                             .call_id = "c1",
                             .local_tag = "",
                             .remote_tag = "at",
                             .state = SK_DLG_TRYING};
    (void)state;
    sk_test_alloc_hook();
    sk_buf_init(&b);
    sk_buf_init(&b2);
    assert_int_equal(sk_dlgtrack_new(&t), 0);
    assert_int_equal(sk_dlgtrack_update(t, &e), 0);
    assert_int_equal(sk_dlgtrack_build(t, "bob@example.test", 1, &b), 1);
    e.local_tag = "bt";
    e.state = SK_DLG_EARLY;
    e.local_uri = "sip:bob@example.test";
    sk_test_alloc_fail_at(1);
    assert_int_equal(sk_dlgtrack_update(t, &e), SK_ENOMEM);
    assert_int_equal(sk_dlgtrack_build(t, "bob@example.test", 1, &b2), 1);
    assert_string_equal(b.p, b2.p);
    assert_int_equal(sk_dlgtrack_update(t, &e), 0);
    sk_buf_reset(&b2);
    assert_int_equal(sk_dlgtrack_build(t, "bob@example.test", 2, &b2), 1);
    char id[40];
    assert_non_null(strstr(b.p, "<dialog id=\""));
    memcpy(id, strstr(b.p, "<dialog id=\""), 30);
    id[30] = '\0';
    assert_non_null(strstr(b2.p, id));
    assert_non_null(strstr(b2.p, "local-tag=\"bt\""));
    assert_non_null(strstr(b2.p, "<identity>sip:bob@example.test</identity>"));
    /* Over a limit: refused before anything changes. */
    char longtag[SK_SUB_TAG_MAX + 2];
    memset(longtag, 't', sizeof(longtag) - 1);
    longtag[sizeof(longtag) - 1] = '\0';
    e.local_tag = longtag;
    assert_int_equal(sk_dlgtrack_update(t, &e), SK_ETOOBIG);
    sk_buf_free(&b);
    sk_buf_free(&b2);
    sk_dlgtrack_free(t);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(views_of_an_invite),
        cmocka_unit_test(states_of_statuses),
        cmocka_unit_test(tracker_takes_the_callee_tag),
        cmocka_unit_test(tracker_many_calls_to_one_user),
        cmocka_unit_test(tracker_resizes_and_survives_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
