/* Unit tests for the event package bodies (events/xml.c) and the reg diff
 * (events/reg.c). */
#include "support.h"

#include <stdio.h>
#include <string.h>

#include <sipkit/events.h>

static void escape_everything(void **state)
{
    struct sk_buf b;
    (void)state;
    sk_test_alloc_hook();
    sk_buf_init(&b);
    sk_xml_escape(&b, S("a&b<c>d\"e'f"));
    sk_xml_escape(&b, sk_slice_make("\x01\t\xc3\xa9", 4));
    assert_true(sk_buf_ok(&b));
    assert_string_equal(b.p, "a&amp;b&lt;c&gt;d&quot;e&apos;f\xEF\xBF\xBD\t\xc3\xa9");
    sk_buf_free(&b);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

static void packages(void **state)
{
    (void)state;
    assert_int_equal(sk_ev_pkg_from(S("presence")), SK_EV_PKG_PRESENCE);
    assert_int_equal(sk_ev_pkg_from(S("reg")), SK_EV_PKG_REG);
    assert_int_equal(sk_ev_pkg_from(S("dialog")), SK_EV_PKG_DIALOG);
    /* RFC 6665 §8.2.1: compared case-sensitively. */
    assert_int_equal(sk_ev_pkg_from(S("Presence")), SK_EV_PKG_NONE);
    assert_int_equal(sk_ev_pkg_from(S("message-summary")), SK_EV_PKG_NONE);
    assert_int_equal(sk_ev_pkg_from(S("")), SK_EV_PKG_NONE);
    assert_string_equal(sk_ev_pkg_ctype(SK_EV_PKG_REG), "application/reginfo+xml");
    assert_string_equal(sk_ev_pkg_ctype(SK_EV_PKG_PRESENCE), "application/pidf+xml");
    assert_string_equal(sk_ev_pkg_ctype(SK_EV_PKG_DIALOG), "application/dialog-info+xml");
    assert_string_equal(sk_ev_pkg_name(SK_EV_PKG_NONE), "");
}

static void reginfo_document(void **state)
{
    struct sk_buf b;
    const struct sk_reginfo_contact c[] = {
        {"c1", "sip:alice@192.0.2.1:5060", true, SK_REG_EV_REGISTERED, 3600, 500, "cid@x", 2},
        {"c2", "sip:alice@pc.example.com;a=\"1\"", false, SK_REG_EV_UNREGISTERED, 0, -1, NULL, 0},
    };
    struct sk_reginfo ri = {"sip:alice@example.com", "r1", 3, true, c, 2};
    (void)state;
    sk_buf_init(&b);
    sk_ev_reginfo_build(&b, &ri);
    assert_string_equal(
        b.p, "<?xml version=\"1.0\"?>\n"
             "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"3\" state=\"full\">\n"
             "  <registration aor=\"sip:alice@example.com\" id=\"r1\" state=\"active\">\n"
             "    <contact id=\"c1\" state=\"active\" event=\"registered\" expires=\"3600\""
             " q=\"0.5\" callid=\"cid@x\" cseq=\"2\">\n"
             "      <uri>sip:alice@192.0.2.1:5060</uri>\n"
             "    </contact>\n"
             "    <contact id=\"c2\" state=\"terminated\" event=\"unregistered\">\n"
             "      <uri>sip:alice@pc.example.com;a=&quot;1&quot;</uri>\n"
             "    </contact>\n"
             "  </registration>\n"
             "</reginfo>\n");
    /* Registration states: terminated with only terminated contacts,
     * init with none; q written as RFC 3261 writes it. */
    sk_buf_reset(&b);
    ri.contacts = &c[1];
    ri.ncontacts = 1;
    ri.full = false;
    sk_ev_reginfo_build(&b, &ri);
    assert_non_null(strstr(b.p, "state=\"partial\""));
    assert_non_null(strstr(b.p, "id=\"r1\" state=\"terminated\""));
    sk_buf_reset(&b);
    ri.ncontacts = 0;
    sk_ev_reginfo_build(&b, &ri);
    assert_non_null(strstr(b.p, "id=\"r1\" state=\"init\">\n  </registration>"));
    struct sk_reginfo_contact q = c[0];
    const int qs[] = {1000, 125, 100, 0};
    const char *const want[] = {"q=\"1\"", "q=\"0.125\"", "q=\"0.1\"", "q=\"0.0\""};
    for (size_t i = 0; i < 4; i++) {
        q.q = qs[i];
        ri.contacts = &q;
        ri.ncontacts = 1;
        sk_buf_reset(&b);
        sk_ev_reginfo_build(&b, &ri);
        assert_non_null(strstr(b.p, want[i]));
    }
    sk_buf_free(&b);
}

static void pidf_document(void **state)
{
    struct sk_buf b;
    struct sk_pidf p = {"pres:alice@example.com", NULL, true, "sip:alice@192.0.2.1", "At <lunch>"};
    (void)state;
    sk_buf_init(&b);
    sk_ev_pidf_build(&b, &p);
    assert_string_equal(b.p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                             "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\""
                             " entity=\"pres:alice@example.com\">\n"
                             "  <tuple id=\"t1\">\n"
                             "    <status>\n"
                             "      <basic>open</basic>\n"
                             "    </status>\n"
                             "    <contact>sip:alice@192.0.2.1</contact>\n"
                             "  </tuple>\n"
                             "  <note>At &lt;lunch&gt;</note>\n"
                             "</presence>\n");
    /* What we build passes our own check. */
    const char *why = NULL;
    assert_int_equal(sk_ev_pidf_check(sk_buf_slice(&b), &why), 0);
    sk_buf_reset(&b);
    p.open = false;
    p.contact = NULL;
    p.note = "";
    p.tuple_id = "x";
    sk_ev_pidf_build(&b, &p);
    assert_non_null(strstr(b.p, "<tuple id=\"x\">\n    <status>\n      <basic>closed</basic>"));
    assert_null(strstr(b.p, "<contact>"));
    assert_null(strstr(b.p, "<note>"));
    sk_buf_free(&b);
}

static void pidf_check_cases(void **state)
{
    static const struct {
        const char *body;
        const char *why; /* NULL: valid */
    } cases[] = {
        {"<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'></presence>", NULL},
        {"\xEF\xBB\xBF<?xml version='1.0'?>\n<!-- c -->\n<p:presence "
         "xmlns:p='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'>\n<p:tuple id='1'/>\n"
         "</p:presence>\n\n",
         NULL},
        {"<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'/>", NULL},
        {"hello", "PIDF body is not an XML document"},
        {"", "PIDF body is not an XML document"},
        {"<?xml version='1.0'", "PIDF body is not an XML document"},
        {"<reginfo xmlns='urn:ietf:params:xml:ns:pidf' entity='x'></reginfo>",
         "PIDF root element is not presence"},
        {"<presence entity='pres:a@b'></presence>", "PIDF namespace missing"},
        {"<presence xmlns='urn:ietf:params:xml:ns:pidf'></presence>",
         "PIDF entity attribute missing"},
        {"<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'><tuple>",
         "PIDF presence element not closed"},
        {"<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'",
         "PIDF presence element not closed"},
        {"<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'></presenc>",
         "PIDF presence element not closed"},
        {"<presence", "PIDF presence element not closed"},
        /* RFC 3863 §4.1.4: basic is open or closed (baresip 1.0 publishes
         * "unknown" at start-up). */
        {"<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'><tuple id='t'><status>"
         "<basic>unknown</basic></status></tuple></presence>",
         "PIDF basic status is neither open nor closed"},
        {"<p:presence xmlns:p='urn:ietf:params:xml:ns:pidf' entity='a'><p:tuple id='t'>"
         "<p:status><p:basic> open </p:basic></p:status></p:tuple><p:tuple id='u'><p:status>"
         "<p:basic>busy</p:basic></p:status></p:tuple></p:presence>",
         "PIDF basic status is neither open nor closed"},
        {"<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'><tuple id='t'><status>"
         "<basic>\n  closed\n</basic></status></tuple><tuple id='u'><status><basic>open</basic>"
         "</status></tuple></presence>",
         NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        int rc = sk_ev_pidf_check(S(cases[i].body), &why);
        if (cases[i].why == NULL) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, SK_EPARSE);
            assert_string_equal(why, cases[i].why);
        }
    }
    const char *why = NULL;
    assert_int_equal(sk_ev_pidf_check(sk_slice_make("<presence\0", 10), &why), SK_EPARSE);
    assert_string_equal(why, "NUL byte in PIDF body");
}

static void dialog_info_document(void **state)
{
    struct sk_buf b;
    const struct sk_dialog_info_dialog d[] = {
        {"d1", "call@x", "lt", "rt", true, SK_DLG_CONFIRMED, NULL, 0, "sip:alice@example.com",
         "sip:bob@example.com"},
        {"d2", "c2", NULL, "", false, SK_DLG_TERMINATED, "rejected", 486, NULL, NULL},
    };
    struct sk_dialog_info di = {"sip:alice@example.com", 7, true, d, 2};
    (void)state;
    sk_buf_init(&b);
    sk_ev_dialog_info_build(&b, &di);
    assert_string_equal(
        b.p, "<?xml version=\"1.0\"?>\n"
             "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"7\""
             " state=\"full\" entity=\"sip:alice@example.com\">\n"
             "  <dialog id=\"d1\" call-id=\"call@x\" local-tag=\"lt\" remote-tag=\"rt\""
             " direction=\"initiator\">\n"
             "    <state>confirmed</state>\n"
             "    <local>\n      <identity>sip:alice@example.com</identity>\n    </local>\n"
             "    <remote>\n      <identity>sip:bob@example.com</identity>\n    </remote>\n"
             "  </dialog>\n"
             "  <dialog id=\"d2\" call-id=\"c2\" direction=\"recipient\">\n"
             "    <state event=\"rejected\" code=\"486\">terminated</state>\n"
             "  </dialog>\n"
             "</dialog-info>\n");
    const char *const names[] = {"trying", "proceeding", "early", "confirmed", "terminated"};
    for (int s = SK_DLG_TRYING; s <= SK_DLG_TERMINATED; s++)
        assert_string_equal(sk_dlg_state_name((enum sk_dlg_state)s), names[s]);
    sk_buf_reset(&b);
    di.ndialogs = 0;
    di.full = false;
    sk_ev_dialog_info_build(&b, &di);
    assert_non_null(strstr(b.p, "state=\"partial\" entity=\"sip:alice@example.com\">\n"
                                "</dialog-info>\n"));
    sk_buf_free(&b);
}

static struct sk_binding binding(const char *contact, int64_t exp, uint32_t cseq)
{
    struct sk_binding b;
    memset(&b, 0, sizeof(b));
    snprintf(b.aor, sizeof(b.aor), "alice@example.com");
    snprintf(b.contact, sizeof(b.contact), "%s", contact);
    snprintf(b.call_id, sizeof(b.call_id), "reg-1");
    b.expires_at = exp;
    b.cseq = cseq;
    b.q = -1;
    return b;
}

static void reg_diff_events(void **state)
{
    struct sk_binding old[3], cur[3];
    struct sk_reginfo_contact out[6];
    char ids[6][17];
    size_t n;
    (void)state;
    old[0] = binding("sip:a@1.1.1.1", 1100, 1); /* refreshed */
    old[1] = binding("sip:b@2.2.2.2", 1200, 1); /* unchanged */
    old[2] = binding("sip:c@3.3.3.3", 1000, 1); /* expired at now */
    cur[0] = binding("sip:a@1.1.1.1", 1500, 2);
    cur[1] = binding("sip:b@2.2.2.2", 1200, 1);
    cur[2] = binding("sip:d@4.4.4.4", 1300, 2); /* new */
    n = sk_ev_reg_diff(old, 3, cur, 3, 1000, false, out, ids, 6);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].uri, "sip:a@1.1.1.1");
    assert_int_equal(out[0].event, SK_REG_EV_REFRESHED);
    assert_true(out[0].active);
    assert_int_equal(out[0].expires, 500);
    assert_string_equal(out[1].uri, "sip:d@4.4.4.4");
    assert_int_equal(out[1].event, SK_REG_EV_REGISTERED);
    assert_int_equal(out[1].expires, 300);
    assert_string_equal(out[2].uri, "sip:c@3.3.3.3");
    assert_int_equal(out[2].event, SK_REG_EV_EXPIRED);
    assert_false(out[2].active);
    /* Ids are stable per contact and differ between contacts. */
    char first[17];
    memcpy(first, out[0].id, 17);
    assert_int_equal(strlen(first), 16);
    assert_string_not_equal(out[0].id, out[1].id);
    /* With unchanged contacts listed; a removal before expiry is
     * "unregistered"; max bounds the output. */
    n = sk_ev_reg_diff(old, 3, cur, 2, 900, true, out, ids, 6);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].id, first);
    assert_string_equal(out[1].uri, "sip:b@2.2.2.2");
    assert_int_equal(out[1].event, SK_REG_EV_REGISTERED);
    assert_int_equal(out[2].event, SK_REG_EV_UNREGISTERED);
    assert_int_equal(sk_ev_reg_diff(old, 3, cur, 3, 1000, true, out, ids, 2), 2);
    /* RFC 5626 instances: same instance and reg-id is the same binding even
     * with another Contact URI. */
    snprintf(old[0].instance, sizeof(old[0].instance), "urn:uuid:1");
    cur[0] = old[0];
    snprintf(cur[0].contact, sizeof(cur[0].contact), "sip:a@9.9.9.9");
    cur[0].cseq = 5;
    n = sk_ev_reg_diff(old, 1, cur, 1, 1000, false, out, ids, 6);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].event, SK_REG_EV_REFRESHED);
    assert_string_equal(out[0].uri, "sip:a@9.9.9.9");
    assert_string_equal(sk_reg_event_name(SK_REG_EV_SHORTENED), "shortened");
    assert_string_equal(sk_reg_event_name(SK_REG_EV_DEACTIVATED), "deactivated");
    assert_string_equal(sk_reg_event_name(SK_REG_EV_CREATED), "created");
}

static void dialog_tracker(void **state)
{
    struct sk_dlgtrack *t;
    struct sk_buf b;
    struct sk_dlg_event e = {"alice@example.com",
                             "c1",
                             "at",
                             "",
                             true,
                             SK_DLG_TRYING,
                             0,
                             NULL,
                             "sip:alice@example.com",
                             "sip:bob@example.com",
                             1000};
    (void)state;
    sk_test_alloc_hook();
    sk_buf_init(&b);
    assert_int_equal(sk_dlgtrack_new(&t), 0);
    assert_int_equal(sk_dlgtrack_build(t, "alice@example.com", 0, &b), 0);
    assert_non_null(strstr(b.p, "entity=\"sip:alice@example.com\">\n</dialog-info>"));
    assert_int_equal(sk_dlgtrack_update(t, &e), 0);
    /* The callee's view is another user's dialog. */
    struct sk_dlg_event bob = e;
    bob.aor = "bob@example.com";
    bob.initiator = false;
    bob.local_tag = "";
    assert_int_equal(sk_dlgtrack_update(t, &bob), 0);
    /* Early with the remote tag, then confirmed: one dialog throughout. */
    e.state = SK_DLG_EARLY;
    e.remote_tag = "bt";
    e.code = 180;
    assert_int_equal(sk_dlgtrack_update(t, &e), 0);
    e.state = SK_DLG_CONFIRMED;
    e.remote_tag = NULL;
    e.code = 200;
    e.remote_uri = NULL;
    assert_int_equal(sk_dlgtrack_update(t, &e), 0);
    sk_buf_reset(&b);
    assert_int_equal(sk_dlgtrack_build(t, "alice@example.com", 4, &b), 1);
    assert_non_null(strstr(b.p, "version=\"4\" state=\"full\""));
    assert_non_null(strstr(b.p,
                           "call-id=\"c1\" local-tag=\"at\" remote-tag=\"bt\""
                           " direction=\"initiator\">\n    <state code=\"200\">confirmed</state>"));
    assert_non_null(strstr(b.p, "<identity>sip:bob@example.com</identity>"));
    e.state = SK_DLG_TERMINATED;
    e.event = "remote-bye";
    e.code = 0;
    e.now_ms = 2000;
    assert_int_equal(sk_dlgtrack_update(t, &e), 0);
    sk_buf_reset(&b);
    assert_int_equal(sk_dlgtrack_build(t, "alice@example.com", 5, &b), 1);
    assert_non_null(strstr(b.p, "<state event=\"remote-bye\">terminated</state>"));
    /* Terminated dialogs go at the purge; live ones stay. */
    assert_int_equal(sk_dlgtrack_purge(t, 1999), 0);
    assert_int_equal(sk_dlgtrack_purge(t, 5000), 1);
    sk_buf_reset(&b);
    assert_int_equal(sk_dlgtrack_build(t, "alice@example.com", 6, &b), 0);
    sk_buf_reset(&b);
    assert_int_equal(sk_dlgtrack_build(t, "bob@example.com", 1, &b), 1);
    assert_non_null(strstr(b.p, "direction=\"recipient\">\n    <state>trying</state>"));
    char big[300];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    e.call_id = big;
    assert_int_equal(sk_dlgtrack_update(t, &e), SK_ETOOBIG);
    sk_dlgtrack_free(t);
    sk_buf_free(&b);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_everything), cmocka_unit_test(packages),
        cmocka_unit_test(reginfo_document),  cmocka_unit_test(pidf_document),
        cmocka_unit_test(pidf_check_cases),  cmocka_unit_test(dialog_info_document),
        cmocka_unit_test(reg_diff_events),   cmocka_unit_test(dialog_tracker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
