/* Unit tests for subscription dialogs and NOTIFY building (events/dialog.c). */
#include "support.h"

#include <stdio.h>
#include <string.h>

#include <sipkit/events.h>

static const char subscribe[] = "SUBSCRIBE sip:bob@example.com SIP/2.0\r\n"
                                "Via: SIP/2.0/UDP 192.0.2.5:5070;branch=z9hG4bKs1\r\n"
                                "Record-Route: <sip:p2.example.com;lr>\r\n"
                                "Record-Route: <sip:p1.example.com;lr>, <sip:p0.example.com;lr>\r\n"
                                "Max-Forwards: 70\r\n"
                                "From: \"Alice\" <sip:alice@example.com>;tag=w1\r\n"
                                "To: <sip:bob@example.com>\r\n"
                                "Call-ID: sub-1@192.0.2.5\r\n"
                                "CSeq: 7 SUBSCRIBE\r\n"
                                "Contact: <sip:alice@192.0.2.5:5070;transport=udp>\r\n"
                                "Event: presence;id=e9\r\n"
                                "Expires: 600\r\n"
                                "Content-Length: 0\r\n\r\n";

static void parse(struct sk_msg *m, const char *text)
{
    sk_msg_init(m);
    assert_int_equal(sk_msg_parse(m, text, strlen(text), SK_MSG_DATAGRAM, NULL), 0);
    sk_msg_set_source(m, S("192.0.2.5"), 5070);
}

static void sub_from_subscribe(void **state)
{
    struct sk_msg m;
    struct sk_subscription sub;
    const char *why = NULL;
    (void)state;
    parse(&m, subscribe);
    assert_int_equal(sk_ev_sub_init(&sub, &m, "ourtag", "presence", "alice@example.com",
                                    "bob@example.com", &why),
                     0);
    assert_string_equal(sub.key, "ourtag");
    assert_string_equal(sub.package, "presence");
    assert_string_equal(sub.event_id, "e9");
    assert_string_equal(sub.call_id, "sub-1@192.0.2.5");
    assert_string_equal(sub.remote_tag, "w1");
    assert_string_equal(sub.remote_uri, "sip:alice@example.com");
    assert_string_equal(sub.local_uri, "sip:bob@example.com");
    assert_string_equal(sub.remote_target, "sip:alice@192.0.2.5:5070;transport=udp");
    assert_string_equal(
        sub.route_set, "<sip:p2.example.com;lr>, <sip:p1.example.com;lr>, <sip:p0.example.com;lr>");
    assert_string_equal(sub.watcher, "alice@example.com");
    assert_string_equal(sub.resource, "bob@example.com");
    assert_int_equal(sub.remote_cseq, 7);
    assert_int_equal(sub.local_cseq, 0);
    assert_string_equal(sub.src_ip, "192.0.2.5");
    assert_int_equal(sub.src_port, 5070);

    struct sk_uri hop;
    assert_int_equal(sk_ev_sub_next_hop(&sub, &hop), 0);
    assert_slice_equal(hop.host, "p2.example.com");
    sub.route_set[0] = '\0';
    assert_int_equal(sk_ev_sub_next_hop(&sub, &hop), 0);
    assert_slice_equal(hop.host, "192.0.2.5");
    assert_int_equal(hop.port, 5070);
    sk_msg_free(&m);
}

static void sub_init_errors(void **state)
{
    struct sk_msg m;
    struct sk_subscription sub;
    const char *why = NULL;
    char text[2048], longkey[100];
    (void)state;
    /* No Contact: RFC 6665 §4.1.2 needs one. */
    const char *c = strstr(subscribe, "Contact:");
    const char *e = strstr(c, "\r\n") + 2;
    snprintf(text, sizeof(text), "%.*s%s", (int)(c - subscribe), subscribe, e);
    parse(&m, text);
    assert_int_equal(sk_ev_sub_init(&sub, &m, "t", "presence", "a", "b", &why), SK_EPARSE);
    assert_string_equal(why, "Missing Contact");
    sk_msg_free(&m);
    parse(&m, subscribe);
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_int_equal(sk_ev_sub_init(&sub, &m, longkey, "presence", "a", "b", &why), SK_ETOOBIG);
    assert_string_equal(why, "Header Value Too Long");
    sk_msg_free(&m);
}

static void matches_in_dialog(void **state)
{
    struct sk_msg m, r;
    struct sk_subscription sub;
    const char *why;
    char text[2048];
    (void)state;
    parse(&m, subscribe);
    assert_int_equal(sk_ev_sub_init(&sub, &m, "ourtag", "presence", "a", "b", &why), 0);
    assert_false(sk_ev_sub_matches(&sub, &m)); /* no To tag yet */
    const char *to = strstr(subscribe, "To: <sip:bob@example.com>") + 25;
    snprintf(text, sizeof(text), "%.*s;tag=ourtag%s", (int)(to - subscribe), subscribe, to);
    parse(&r, text);
    assert_true(sk_ev_sub_matches(&sub, &r));
    sk_msg_free(&r);
    /* Another event id is another subscription (RFC 6665 §4.2.1). */
    snprintf(sub.event_id, sizeof(sub.event_id), "other");
    parse(&r, text);
    assert_false(sk_ev_sub_matches(&sub, &r));
    sk_msg_free(&r);
    sk_msg_free(&m);
}

static void notify_text(void **state)
{
    struct sk_msg m, n;
    struct sk_subscription sub;
    struct sk_buf b;
    const char *why;
    struct sk_ev_notify nt = {S("SIP/2.0/UDP 127.0.0.1:5060"),
                              S("z9hG4bKn1"),
                              S("sip:127.0.0.1:5060"),
                              SK_SUB_ACTIVE,
                              599,
                              NULL,
                              S("application/pidf+xml"),
                              S("<presence/>")};
    (void)state;
    sk_test_alloc_hook();
    parse(&m, subscribe);
    assert_int_equal(sk_ev_sub_init(&sub, &m, "ourtag", "presence", "a", "b", &why), 0);
    sub.local_cseq = 41;
    sk_buf_init(&b);
    assert_int_equal(sk_ev_notify_build(&b, &sub, &nt), 0);
    assert_int_equal(sub.local_cseq, 42);
    assert_string_equal(
        b.p, "NOTIFY sip:alice@192.0.2.5:5070;transport=udp SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKn1\r\n"
             "Max-Forwards: 70\r\n"
             "Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>, <sip:p0.example.com;lr>\r\n"
             "From: <sip:bob@example.com>;tag=ourtag\r\n"
             "To: <sip:alice@example.com>;tag=w1\r\n"
             "Call-ID: sub-1@192.0.2.5\r\n"
             "CSeq: 42 NOTIFY\r\n"
             "Event: presence;id=e9\r\n"
             "Subscription-State: active;expires=599\r\n"
             "Contact: <sip:127.0.0.1:5060>\r\n"
             "Content-Type: application/pidf+xml\r\n"
             "Content-Length: 11\r\n\r\n<presence/>");
    /* What we build parses, and is a NOTIFY of the dialog. */
    sk_msg_init(&n);
    assert_int_equal(sk_msg_parse(&n, b.p, b.len, SK_MSG_DATAGRAM, NULL), 0);
    assert_int_equal(sk_msg_check(&n), 0);
    assert_int_equal(n.method_id, SK_METHOD_NOTIFY);
    sk_msg_free(&n);
    /* Terminated, no id, no route set, no body. */
    nt.state = SK_SUB_TERMINATED;
    nt.reason = "timeout";
    nt.ctype = SK_SLICE_NULL;
    nt.body = SK_SLICE_NULL;
    sub.event_id[0] = '\0';
    sub.route_set[0] = '\0';
    assert_int_equal(sk_ev_notify_build(&b, &sub, &nt), 0);
    assert_non_null(strstr(b.p, "CSeq: 43 NOTIFY\r\nEvent: presence\r\n"
                                "Subscription-State: terminated;reason=timeout\r\n"));
    assert_null(strstr(b.p, "Route:"));
    assert_null(strstr(b.p, "Content-Type"));
    assert_non_null(strstr(b.p, "Content-Length: 0\r\n\r\n"));
    nt.state = SK_SUB_PENDING;
    nt.expires = 30;
    assert_int_equal(sk_ev_notify_build(&b, &sub, &nt), 0);
    assert_non_null(strstr(b.p, "Subscription-State: pending;expires=30\r\n"));
    /* An allocation failure leaves the CSeq alone. */
    sk_buf_free(&b);
    sk_buf_init(&b);
    sk_test_alloc_fail_at(1);
    assert_int_equal(sk_ev_notify_build(&b, &sub, &nt), SK_ENOMEM);
    assert_int_equal(sub.local_cseq, 44);
    sk_test_alloc_fail_at(0);
    sk_buf_free(&b);
    sk_msg_free(&m);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sub_from_subscribe),
        cmocka_unit_test(sub_init_errors),
        cmocka_unit_test(matches_in_dialog),
        cmocka_unit_test(notify_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
