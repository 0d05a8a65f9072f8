/* Unit tests for the registrar's decisions (server/registrar.c, RFC 3261
 * §10.3): expiry per Contact, from Expires or the default; 423 below the
 * minimum; the cap at the maximum; the Contact: * rules; q-values,
 * +sip.instance and reg-id; Call-ID / CSeq ordering (step 7) as the
 * registrar hands a REGISTER to the location service; and the Contact
 * list of the 200 OK with the remaining expires. */
#include "support.h"

#include "server/registrar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct sk__reg_limits lim = {
    .default_expires = 3600, .min_expires = 60, .max_expires = 7200};

/* A REGISTER with the given extra header lines (each ending in CRLF). */
static void parse_register(struct sk_msg *m, char *buf, size_t bufsz, const char *call_id,
                           unsigned cseq, const char *extra)
{
    int n = snprintf(buf, bufsz,
                     "REGISTER sip:ex.test SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-reg1\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:alice@ex.test>;tag=f1\r\n"
                     "To: <sip:alice@ex.test>\r\n"
                     "Call-ID: %s\r\n"
                     "CSeq: %u REGISTER\r\n"
                     "%s"
                     "Content-Length: 0\r\n\r\n",
                     call_id, cseq, extra);
    assert_true(n > 0 && (size_t)n < bufsz);
    sk_msg_init(m);
    assert_int_equal(sk_msg_parse(m, buf, (size_t)n, SK_MSG_DATAGRAM, NULL), 0);
}

/* Read the contacts of a REGISTER carrying extra; returns the status. */
static unsigned read_with(const char *extra, struct sk__reg_contacts *x, const char **why)
{
    static char buf[4096];
    struct sk_msg m;
    unsigned code;

    parse_register(&m, buf, sizeof(buf), "c1@ex.test", 1, extra);
    *why = NULL;
    code = sk__reg_read_contacts(&m, &lim, x, why);
    sk_msg_free(&m);
    return code;
}

static void expires_selection(void **state)
{
    struct sk__reg_contacts x;
    const char *why;
    (void)state;
    sk_test_alloc_hook();
    /* Neither a parameter nor the header: the default. */
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>\r\n", &x, &why), 0);
    assert_int_equal(x.n, 1);
    assert_false(x.star);
    assert_slice_equal(x.c[0].uri, "sip:a@192.0.2.7");
    assert_int_equal(x.c[0].expires, 3600);
    /* The header applies to every Contact without a parameter; the
     * parameter wins where it is given. */
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>;expires=120, <sip:b@192.0.2.8>\r\n"
                               "Expires: 300\r\n",
                               &x, &why),
                     0);
    assert_int_equal(x.n, 2);
    assert_int_equal(x.c[0].expires, 120);
    assert_slice_equal(x.c[1].uri, "sip:b@192.0.2.8");
    assert_int_equal(x.c[1].expires, 300);
    /* Zero removes, whatever the minimum. */
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>;expires=0\r\n", &x, &why), 0);
    assert_int_equal(x.c[0].expires, 0);
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>\r\nExpires: 0\r\n", &x, &why), 0);
    assert_int_equal(x.c[0].expires, 0);
    /* Exactly the minimum and the maximum are kept as asked. */
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>;expires=60\r\n", &x, &why), 0);
    assert_int_equal(x.c[0].expires, 60);
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>;expires=7200\r\n", &x, &why), 0);
    assert_int_equal(x.c[0].expires, 7200);
    /* A REGISTER without Contact is a query. */
    assert_int_equal(read_with("", &x, &why), 0);
    assert_int_equal(x.n, 0);
    assert_false(x.star);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

static void too_brief_and_cap(void **state)
{
    struct sk__reg_contacts x;
    const char *why;
    (void)state;
    /* Below the minimum: 423 (the handler adds Min-Expires), from the
     * parameter or from the header. */
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>;expires=59\r\n", &x, &why), 423);
    assert_null(why);
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>\r\nExpires: 1\r\n", &x, &why), 423);
    /* One brief Contact among good ones fails the whole request. */
    assert_int_equal(
        read_with("Contact: <sip:a@192.0.2.7>, <sip:b@192.0.2.8>;expires=30\r\n", &x, &why), 423);
    /* A long parameter beats a short header: no 423. */
    assert_int_equal(
        read_with("Contact: <sip:a@192.0.2.7>;expires=600\r\nExpires: 10\r\n", &x, &why), 0);
    assert_int_equal(x.c[0].expires, 600);
    /* Above the maximum: granted the maximum. */
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>;expires=86400\r\n", &x, &why), 0);
    assert_int_equal(x.c[0].expires, 7200);
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>\r\nExpires: 4294967296\r\n", &x, &why),
                     0);
    assert_int_equal(x.c[0].expires, 7200);
    /* An Expires header that is not a number is refused. */
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>\r\nExpires: soon\r\n", &x, &why), 400);
    assert_string_equal(why, "Invalid Expires");
}

static void star_rules(void **state)
{
    struct sk__reg_contacts x;
    const char *why;
    (void)state;
    /* §10.3 step 6: "*" alone with Expires: 0 removes every binding. */
    assert_int_equal(read_with("Contact: *\r\nExpires: 0\r\n", &x, &why), 0);
    assert_true(x.star);
    assert_int_equal(x.n, 0);
    const char *bad[] = {
        "Contact: *\r\n",                                             /* no Expires */
        "Contact: *\r\nExpires: 3600\r\n",                            /* not zero */
        "Contact: *, <sip:a@192.0.2.7>\r\nExpires: 0\r\n",            /* not alone */
        "Contact: <sip:a@192.0.2.7>\r\nContact: *\r\nExpires: 0\r\n", /* not alone */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(read_with(bad[i], &x, &why), 400);
        assert_string_equal(why, "Invalid Contact: * needs Expires: 0 and no other Contact");
    }
    /* A malformed Contact is a 400 of its own. */
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7\r\n", &x, &why), 400);
    assert_string_equal(why, "Malformed Contact");
}

static void q_instance_and_limits(void **state)
{
    struct sk__reg_contacts x;
    const char *why;
    char extra[4096];
    size_t len = 0;
    (void)state;
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7>;q=0.5, <sip:b@192.0.2.8>;q=1,"
                               " <sip:c@192.0.2.9>\r\n",
                               &x, &why),
                     0);
    assert_int_equal(x.n, 3);
    assert_int_equal(x.c[0].q, 500);
    assert_int_equal(x.c[1].q, 1000);
    assert_int_equal(x.c[2].q, -1);
    /* RFC 5626: the instance without its quotes and angle brackets. */
    assert_int_equal(read_with("Contact: <sip:a@192.0.2.7;ob>;+sip.instance=\"<urn:uuid:00000000-"
                               "0000-1000-8000-000A95A0E128>\";reg-id=2\r\n",
                               &x, &why),
                     0);
    assert_slice_equal(x.c[0].instance, "urn:uuid:00000000-0000-1000-8000-000A95A0E128");
    assert_int_equal(x.c[0].reg_id, 2);
    assert_slice_equal(x.c[0].uri, "sip:a@192.0.2.7;ob");
    /* At most SK__REG_MAX_CONTACTS in one REGISTER. */
    for (int i = 0; i <= SK__REG_MAX_CONTACTS; i++)
        len += (size_t)snprintf(extra + len, sizeof(extra) - len,
                                "Contact: <sip:u%d@192.0.2.7>\r\n", i);
    assert_int_equal(read_with(extra, &x, &why), 400);
    assert_string_equal(why, "Too Many Contacts");
}

/* ---- step 7 through the location service ---------------------------------- */

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/sk-reg-XXXXXX");
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

/* What the registrar does with a REGISTER once authenticated: read the
 * contacts, update the AOR with the request's Call-ID and CSeq. */
static int register_msg(struct sk_location *loc, const char *call_id, unsigned cseq,
                        const char *extra, int64_t now, struct sk_binding *b, size_t *n)
{
    char buf[4096];
    struct sk_msg m;
    struct sk__reg_contacts x;
    struct sk_location_update u;
    const char *why;
    int rc;

    parse_register(&m, buf, sizeof(buf), call_id, cseq, extra);
    assert_int_equal(sk__reg_read_contacts(&m, &lim, &x, &why), 0);
    memset(&u, 0, sizeof(u));
    u.aor = S("alice@ex.test");
    u.call_id = m.call_id;
    u.cseq = m.cseq.num;
    u.remove_all = x.star;
    u.contacts = x.c;
    u.ncontacts = x.n;
    u.transport = SK_TP_UDP;
    u.src_ip = S("192.0.2.7");
    u.src_port = 5062;
    u.now = now;
    rc = sk_location_update(loc, &u, b, 4, n);
    sk_msg_free(&m);
    return rc;
}

static void callid_cseq_order(void **state)
{
    struct sk_store *st;
    struct sk_location *loc;
    struct sk_binding b[4];
    size_t n;
    (void)state;
    assert_int_equal(sk_store_open(&st, dir, NULL), 0);
    assert_int_equal(sk_location_open(&loc, st, NULL), 0);
    const char *c1 = "Contact: <sip:a@192.0.2.7>\r\n";
    assert_int_equal(register_msg(loc, "call-1", 10, c1, 1000, b, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(b[0].cseq, 10);
    /* The same Call-ID with a CSeq not above the stored one: refused
     * (500 in the handler), nothing changes. */
    assert_int_equal(register_msg(loc, "call-1", 10, c1, 1001, b, &n), SK_ESTATE);
    assert_int_equal(
        register_msg(loc, "call-1", 9, "Contact: <sip:a@192.0.2.7>;expires=0\r\n", 1001, b, &n),
        SK_ESTATE);
    assert_int_equal(sk_location_lookup(loc, S("alice@ex.test"), 1001, b, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(b[0].cseq, 10);
    assert_int_equal(b[0].expires_at, 1000 + 3600);
    /* A higher CSeq refreshes. */
    assert_int_equal(register_msg(loc, "call-1", 11,
                                  "Contact: <sip:a@192.0.2.7>\r\nExpires: 120\r\n", 1002, b, &n),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(b[0].expires_at, 1002 + 120);
    /* Another Call-ID (the UA rebooted) replaces it whatever its CSeq. */
    assert_int_equal(register_msg(loc, "call-2", 1, c1, 1003, b, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(b[0].call_id, "call-2");
    assert_int_equal(b[0].cseq, 1);
    /* Contact: * with Expires: 0 removes it; the 200 then lists none. */
    assert_int_equal(register_msg(loc, "call-2", 2, "Contact: *\r\nExpires: 0\r\n", 1004, b, &n),
                     0);
    assert_int_equal(n, 0);
    sk_location_close(loc);
    sk_store_close(st);
}

/* ---- the 200 OK ------------------------------------------------------------ */

static void ok_contact_list(void **state)
{
    struct sk_binding *b = calloc(3, sizeof(*b));
    struct sk_buf out;
    (void)state;
    assert_non_null(b);
    snprintf(b[0].contact, sizeof(b[0].contact), "sip:a@192.0.2.7");
    b[0].expires_at = 1000 + 3600;
    b[0].q = 500;
    snprintf(b[1].contact, sizeof(b[1].contact), "sip:b@192.0.2.8;ob");
    b[1].expires_at = 1000 + 45;
    b[1].q = -1;
    snprintf(b[1].instance, sizeof(b[1].instance), "urn:uuid:1");
    b[1].reg_id = 1;
    snprintf(b[2].contact, sizeof(b[2].contact), "sip:c@192.0.2.9");
    b[2].expires_at = 999; /* already past: 0 seconds left */
    b[2].q = 0;
    sk_buf_init(&out);
    sk__reg_write_contacts(&out, b, 3, 1000);
    assert_true(sk_buf_ok(&out));
    assert_string_equal(out.p, "Contact: <sip:a@192.0.2.7>;expires=3600;q=0.500\r\n"
                               "Contact: <sip:b@192.0.2.8;ob>;expires=45;+sip.instance="
                               "\"<urn:uuid:1>\";reg-id=1\r\n"
                               "Contact: <sip:c@192.0.2.9>;expires=0;q=0.000\r\n");
    sk_buf_reset(&out);
    sk__reg_write_contacts(&out, b, 0, 1000);
    assert_int_equal(out.len, 0);
    sk_buf_free(&out);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expires_selection),
        cmocka_unit_test(too_brief_and_cap),
        cmocka_unit_test(star_rules),
        cmocka_unit_test(q_instance_and_limits),
        cmocka_unit_test_setup_teardown(callid_cseq_order, setup, teardown),
        cmocka_unit_test(ok_contact_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
