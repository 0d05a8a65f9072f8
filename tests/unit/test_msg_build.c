/*
 * Stream framing, serialization, building and editing messages, and the
 * allocation promises of the parser.
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <sipkit/msg.h>

static const char invite[] = "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;rport\r\n"
                             "v: SIP/2.0/UDP proxy.atlanta.com;branch=z9hG4bK1\r\n"
                             "Max-Forwards: 70\r\n"
                             "To: Bob <sip:bob@biloxi.com>\r\n"
                             "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
                             "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
                             "CSeq: 314159 INVITE\r\n"
                             "Route: <sip:proxy.biloxi.com;lr>\r\n"
                             "Subject: folded\r\n  value\r\n"
                             "Contact: <sip:alice@pc33.atlanta.com>\r\n"
                             "Content-Type: application/sdp\r\n"
                             "Content-Length: 4\r\n"
                             "\r\n"
                             "v=0\n";

static void parse_ok(struct sk_msg *m, const char *text, size_t len, enum sk_msg_mode mode)
{
    int r = sk_msg_parse(m, text, len, mode, NULL);
    if (r != 0) {
        char why[128];
        sk_msg_error(m, why, sizeof(why));
        print_error("parse failed: %s\n", why);
    }
    assert_int_equal(r, 0);
}

static void frame_every_prefix_needs_more(void **state)
{
    size_t skip, len, n = strlen(invite);
    (void)state;

    for (size_t i = 0; i < n; i++)
        assert_int_equal(sk_msg_frame(invite, i, NULL, &skip, &len), SK_EAGAIN);
    assert_int_equal(sk_msg_frame(invite, n, NULL, &skip, &len), 0);
    assert_int_equal(skip, 0);
    assert_int_equal(len, n);
}

static void frame_skips_keepalives_and_stops_at_length(void **state)
{
    char buf[2048];
    size_t skip, len, n = strlen(invite);
    (void)state;

    memcpy(buf, "\r\n\r\n", 4);
    memcpy(buf + 4, invite, n);
    memcpy(buf + 4 + n, "OPTIONS", 7);
    assert_int_equal(sk_msg_frame(buf, 4 + n + 7, NULL, &skip, &len), 0);
    assert_int_equal(skip, 4);
    assert_int_equal(len, n);
    assert_int_equal(sk_msg_frame("\r\n", 2, NULL, &skip, &len), SK_EAGAIN);
    assert_int_equal(skip, 2);
}

static void frame_rejects_bad_lengths(void **state)
{
    size_t skip, len;
    const char *neg = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: -5\r\n\r\n";
    const char *two = "MESSAGE sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx";
    const char *huge = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 9999999\r\n\r\n";
    const char *none = "MESSAGE sip:a@b SIP/2.0\r\nSubject: x\r\n\r\nNEXT";
    struct sk_msg_limits small = {100, 0, 0, 0};
    (void)state;

    assert_int_equal(sk_msg_frame(neg, strlen(neg), NULL, &skip, &len), SK_EPARSE);
    assert_int_equal(sk_msg_frame(two, strlen(two), NULL, &skip, &len), SK_EPARSE);
    assert_int_equal(sk_msg_frame(huge, strlen(huge), NULL, &skip, &len), SK_ETOOBIG);
    assert_int_equal(sk_msg_frame(invite, strlen(invite), &small, &skip, &len), SK_ETOOBIG);
    /* no Content-Length: framed with an empty body */
    assert_int_equal(sk_msg_frame(none, strlen(none), NULL, &skip, &len), 0);
    assert_int_equal(len, strlen(none) - 4);
}

static void stream_mode_requires_content_length(void **state)
{
    static const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
                              "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\n"
                              "CSeq: 1 OPTIONS\r\n\r\n";
    struct sk_msg m;
    char why[64];
    (void)state;

    sk_msg_init(&m);
    assert_int_equal(sk_msg_parse(&m, msg, strlen(msg), SK_MSG_STREAM, NULL), SK_EPARSE);
    assert_int_equal(sk_msg_error(&m, why, sizeof(why)), 400);
    assert_string_equal(why, "Missing Content-Length");
    assert_true(m.respondable);
    parse_ok(&m, msg, strlen(msg), SK_MSG_DATAGRAM);
    sk_msg_free(&m);
}

static void roundtrip_is_byte_identical(void **state)
{
    struct sk_msg m;
    struct sk_buf out;
    (void)state;

    sk_msg_init(&m);
    sk_buf_init(&out);
    parse_ok(&m, invite, strlen(invite), SK_MSG_DATAGRAM);
    assert_int_equal(sk_msg_write(&m, &out), 0);
    assert_int_equal(out.len, strlen(invite));
    assert_memory_equal(out.p, invite, out.len);
    sk_buf_free(&out);
    sk_msg_free(&m);
}

static void response_copies_dialog_headers(void **state)
{
    struct sk_msg m, r;
    struct sk_buf out;
    (void)state;

    sk_msg_init(&m);
    sk_msg_init(&r);
    sk_buf_init(&out);
    parse_ok(&m, invite, strlen(invite), SK_MSG_DATAGRAM);
    sk_msg_set_source(&m, S("192.0.2.7"), 5062);
    sk_msg_start_response(&out, &m, 180, S("Ringing"), S("a6c85cf"));
    sk_msg_add_header(&out, "Contact", S("<sip:bob@192.0.2.4>"));
    sk_msg_finish(&out, SK_SLICE_NULL, SK_SLICE_NULL);
    assert_true(sk_buf_ok(&out));
    assert_string_equal(out.p,
                        "SIP/2.0 180 Ringing\r\n"
                        "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;rport=5062"
                        ";received=192.0.2.7\r\n"
                        "v: SIP/2.0/UDP proxy.atlanta.com;branch=z9hG4bK1\r\n"
                        "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
                        "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n"
                        "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
                        "CSeq: 314159 INVITE\r\n"
                        "Contact: <sip:bob@192.0.2.4>\r\n"
                        "Content-Length: 0\r\n\r\n");
    /* What we build parses, with the fields we put in. */
    parse_ok(&r, out.p, out.len, SK_MSG_STREAM);
    assert_int_equal(r.status, 180);
    assert_slice_equal(r.to.tag, "a6c85cf");
    assert_slice_equal(r.via.received, "192.0.2.7");
    sk_buf_free(&out);
    sk_msg_free(&r);
    sk_msg_free(&m);
}

static void response_keeps_existing_to_tag(void **state)
{
    static const char bye[] =
        "BYE sip:alice@pc33.atlanta.com SIP/2.0\r\n"
        "Via: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKnashds10\r\n"
        "From: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n"
        "To: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
        "Call-ID: a84b4c76e66710\r\nCSeq: 231 BYE\r\nContent-Length: 0\r\n\r\n";
    struct sk_msg m;
    struct sk_buf out;
    (void)state;

    sk_msg_init(&m);
    sk_buf_init(&out);
    parse_ok(&m, bye, strlen(bye), SK_MSG_STREAM);
    /* Same address as sent-by and no rport: Via is copied unchanged. */
    sk_msg_set_source(&m, S("192.0.2.4"), 5060);
    sk_msg_start_response(&out, &m, 200, S("OK"), S("ignored"));
    sk_msg_finish(&out, SK_SLICE_NULL, SK_SLICE_NULL);
    assert_non_null(strstr(out.p, "\r\nTo: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"));
    assert_non_null(strstr(out.p, "\r\nVia: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKnashds10\r\n"));
    assert_null(strstr(out.p, "ignored"));
    sk_buf_free(&out);
    sk_msg_free(&m);
}

static void ipv6_source_equal_to_sent_by_adds_no_received(void **state)
{
    static const char msg[] = "OPTIONS sip:[::1] SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP [::1]:5070;branch=z9hG4bK6\r\n"
                              "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\n"
                              "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    struct sk_msg m;
    struct sk_buf out;
    (void)state;

    sk_msg_init(&m);
    sk_buf_init(&out);
    parse_ok(&m, msg, strlen(msg), SK_MSG_DATAGRAM);
    sk_msg_set_source(&m, S("::1"), 5070);
    sk_msg_write_top_via(&m, &out);
    assert_string_equal(out.p, "SIP/2.0/UDP [::1]:5070;branch=z9hG4bK6");
    sk_buf_reset(&out);
    sk_msg_set_source(&m, S("2001:db8::2"), 5070);
    sk_msg_write_top_via(&m, &out);
    assert_string_equal(out.p, "SIP/2.0/UDP [::1]:5070;branch=z9hG4bK6;received=2001:db8::2");
    sk_buf_free(&out);
    sk_msg_free(&m);
}

static void build_request_with_body(void **state)
{
    struct sk_buf out;
    struct sk_msg m;
    (void)state;

    sk_buf_init(&out);
    sk_msg_init(&m);
    sk_msg_start_request(&out, S("MESSAGE"), S("sip:bob@biloxi.com"));
    sk_msg_add_header(&out, "Via", S("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKm1"));
    sk_msg_add_headerf(&out, "Max-Forwards", "%d", 70);
    sk_msg_add_header(&out, "From", S("<sip:alice@atlanta.com>;tag=x1"));
    sk_msg_add_header(&out, "To", S("<sip:bob@biloxi.com>"));
    sk_msg_add_header(&out, "Call-ID", S("m1@127.0.0.1"));
    sk_msg_add_headerf(&out, "CSeq", "%u MESSAGE", 1u);
    sk_msg_finish(&out, S("text/plain"), S("Hello"));
    parse_ok(&m, out.p, out.len, SK_MSG_STREAM);
    assert_slice_equal(m.body, "Hello");
    assert_int_equal(m.max_forwards, 70);
    assert_non_null(sk_msg_find(&m, SK_HDR_CONTENT_TYPE));
    sk_buf_free(&out);
    sk_msg_free(&m);
}

static void edit_like_a_proxy(void **state)
{
    struct sk_msg m, f;
    struct sk_msg_edit e;
    struct sk_buf out;
    (void)state;

    sk_msg_init(&m);
    sk_msg_init(&f);
    sk_buf_init(&out);
    parse_ok(&m, invite, strlen(invite), SK_MSG_DATAGRAM);
    size_t via = m.first[SK_HDR_VIA] - 1u, mf = m.first[SK_HDR_MAX_FORWARDS] - 1u;
    size_t route = m.first[SK_HDR_ROUTE] - 1u;
    sk_msg_edit_init(&e, &m);
    sk_msg_edit_set_ruri(&e, S("sip:bob@192.0.2.4:5062"));
    assert_int_equal(
        sk_msg_edit_insert(&e, via, S("Via"), S("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKp")), 0);
    assert_int_equal(sk_msg_edit_replace(&e, mf, S("69")), 0);
    assert_int_equal(sk_msg_edit_remove(&e, route), 0);
    assert_int_equal(sk_msg_edit_insert(&e, m.nhdrs, S("Record-Route"), S("<sip:10.0.0.1;lr>")), 0);
    assert_int_equal(sk_msg_edit_remove(&e, m.nhdrs), SK_EINVAL);
    assert_int_equal(sk_msg_edit_write(&e, &out), 0);
    parse_ok(&f, out.p, out.len, SK_MSG_STREAM);
    assert_slice_equal(f.ruri.host, "192.0.2.4");
    assert_slice_equal(f.via.branch, "z9hG4bKp");
    assert_int_equal(f.max_forwards, 69);
    assert_int_equal(sk_msg_count(&f, SK_HDR_VIA), 3);
    assert_null(sk_msg_find(&f, SK_HDR_ROUTE));
    assert_non_null(sk_msg_find(&f, SK_HDR_RECORD_ROUTE));
    assert_slice_equal(f.body, "v=0\n");
    /* untouched headers are byte-identical, folding included */
    assert_non_null(strstr(out.p, "Subject: folded\r\n  value\r\n"));
    assert_non_null(strstr(out.p, "v: SIP/2.0/UDP proxy.atlanta.com;branch=z9hG4bK1\r\n"));
    sk_buf_free(&out);
    sk_msg_free(&f);
    sk_msg_free(&m);
}

static void edit_body_rewrites_length(void **state)
{
    struct sk_msg m, f;
    struct sk_msg_edit e;
    struct sk_buf out;
    (void)state;

    sk_msg_init(&m);
    sk_msg_init(&f);
    sk_buf_init(&out);
    parse_ok(&m, invite, strlen(invite), SK_MSG_DATAGRAM);
    sk_msg_edit_init(&e, &m);
    sk_msg_edit_set_body(&e, S("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n"));
    assert_int_equal(sk_msg_edit_write(&e, &out), 0);
    parse_ok(&f, out.p, out.len, SK_MSG_STREAM);
    assert_int_equal(f.content_length, 30);
    assert_slice_equal(f.body, "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n");
    sk_buf_free(&out);
    sk_msg_free(&f);
    sk_msg_free(&m);
}

static void iterators_and_tokens(void **state)
{
    static const char msg[] =
        "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"
        "Supported: 100rel, path\r\nk: gruu\r\nRequire: foo\r\nAllow: INVITE,ACK ,BYE\r\n"
        "Expires: 3600\r\nMin-Expires: abc\r\nEvent: presence;id=7\r\n\r\n";
    struct sk_msg m;
    struct sk_hdr_iter it;
    struct sk_slice tok;
    struct sk_event ev;
    uint64_t v;
    int n = 0;
    (void)state;

    sk_msg_init(&m);
    parse_ok(&m, msg, strlen(msg), SK_MSG_DATAGRAM);
    assert_true(sk_msg_has_token(&m, SK_HDR_SUPPORTED, "PATH"));
    assert_true(sk_msg_has_token(&m, SK_HDR_SUPPORTED, "gruu"));
    assert_false(sk_msg_has_token(&m, SK_HDR_SUPPORTED, "timer"));
    sk_hdr_iter_init(&it, &m, SK_HDR_ALLOW);
    while (sk_msg_token_next(&it, &tok) == 1)
        n++;
    assert_int_equal(n, 3);
    assert_int_equal(sk_msg_get_uint(&m, SK_HDR_EXPIRES, UINT32_MAX, &v), 1);
    assert_int_equal(v, 3600);
    assert_int_equal(sk_msg_get_uint(&m, SK_HDR_MIN_EXPIRES, UINT32_MAX, &v), SK_EPARSE);
    assert_int_equal(sk_msg_get_uint(&m, SK_HDR_MAX_FORWARDS, 255, &v), 0);
    assert_int_equal(sk_msg_event(&m, &ev), 1);
    assert_slice_equal(ev.package, "presence");
    assert_slice_equal(ev.id, "7");
    assert_int_equal(sk_msg_check(&m), SK_EPARSE); /* Min-Expires: abc */
    assert_int_equal(m.cause_hdr, SK_HDR_MIN_EXPIRES);
    sk_msg_free(&m);
}

static void list_splitting(void **state)
{
    struct sk_slice cur = S("\"a, b\" <sip:x@y;p=1,2>;q=1 , <sip:z@w>"), v;
    (void)state;

    assert_int_equal(sk_list_next(&cur, &v), 1);
    assert_slice_equal(v, "\"a, b\" <sip:x@y;p=1,2>;q=1");
    assert_int_equal(sk_list_next(&cur, &v), 1);
    assert_slice_equal(v, "<sip:z@w>");
    assert_int_equal(sk_list_next(&cur, &v), 0);
    cur = S("a,,b");
    assert_int_equal(sk_list_next(&cur, &v), 1);
    assert_int_equal(sk_list_next(&cur, &v), SK_EPARSE);
    cur = S("a,");
    assert_int_equal(sk_list_next(&cur, &v), SK_EPARSE);
    cur = S("\"open, b");
    assert_int_equal(sk_list_next(&cur, &v), SK_EPARSE);
}

static void limits_are_settings(void **state)
{
    struct sk_msg m;
    struct sk_msg_limits few = {0, 5, 0, 0}, small = {200, 0, 0, 0}, short_uri = {0, 0, 10, 0};
    char why[64];
    (void)state;

    sk_msg_init(&m);
    assert_int_equal(sk_msg_parse(&m, invite, strlen(invite), SK_MSG_DATAGRAM, &few), SK_EPARSE);
    assert_int_equal(m.cause, SK_CAUSE_TOO_MANY_HEADERS);
    assert_int_equal(sk_msg_parse(&m, invite, strlen(invite), SK_MSG_DATAGRAM, &small), SK_ETOOBIG);
    assert_int_equal(sk_msg_error(&m, why, sizeof(why)), 513);
    assert_true(m.respondable); /* a 513 can still be sent */
    assert_int_equal(sk_msg_parse(&m, invite, strlen(invite), SK_MSG_DATAGRAM, &short_uri),
                     SK_ETOOBIG);
    assert_int_equal(sk_msg_error(&m, why, sizeof(why)), 414);
    sk_msg_free(&m);
}

static void parse_allocates_nothing_when_reused(void **state)
{
    struct sk_msg m;
    (void)state;

    sk_test_alloc_hook();
    sk_msg_init(&m);
    parse_ok(&m, invite, strlen(invite), SK_MSG_DATAGRAM);
    sk_test_alloc_reset();
    for (int i = 0; i < 100; i++)
        parse_ok(&m, invite, strlen(invite), SK_MSG_DATAGRAM);
    assert_int_equal(sk_test_alloc_count(), 0);
    sk_msg_free(&m);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

static void parse_survives_allocation_failure(void **state)
{
    struct sk_msg m;
    (void)state;

    sk_test_alloc_hook();
    sk_msg_init(&m);
    sk_test_alloc_fail_at(1);
    assert_int_equal(sk_msg_parse(&m, invite, strlen(invite), SK_MSG_DATAGRAM, NULL), SK_ENOMEM);
    sk_test_alloc_fail_at(0);
    parse_ok(&m, invite, strlen(invite), SK_MSG_DATAGRAM);
    sk_msg_free(&m);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

static void header_table_knows_compact_forms(void **state)
{
    (void)state;
    assert_int_equal(sk_hdr_lookup(S("v")), SK_HDR_VIA);
    assert_int_equal(sk_hdr_lookup(S("I")), SK_HDR_CALL_ID);
    assert_int_equal(sk_hdr_lookup(S("o")), SK_HDR_EVENT);
    assert_int_equal(sk_hdr_lookup(S("u")), SK_HDR_ALLOW_EVENTS);
    assert_int_equal(sk_hdr_lookup(S("x")), SK_HDR_SESSION_EXPIRES);
    assert_int_equal(sk_hdr_lookup(S("y")), SK_HDR_IDENTITY);
    assert_int_equal(sk_hdr_lookup(S("www-authenticate")), SK_HDR_WWW_AUTHENTICATE);
    assert_int_equal(sk_hdr_lookup(S("X-Custom")), SK_HDR_OTHER);
    assert_int_equal(sk_hdr_lookup(S("q")), SK_HDR_OTHER);
    assert_string_equal(sk_hdr_name(SK_HDR_CSEQ), "CSeq");
    assert_int_equal(sk_hdr_compact(SK_HDR_CONTENT_LENGTH), 'l');
    assert_int_equal(sk_method_from_slice(S("SUBSCRIBE")), SK_METHOD_SUBSCRIBE);
    assert_string_equal(sk_method_name(SK_METHOD_PRACK), "PRACK");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_every_prefix_needs_more),
        cmocka_unit_test(frame_skips_keepalives_and_stops_at_length),
        cmocka_unit_test(frame_rejects_bad_lengths),
        cmocka_unit_test(stream_mode_requires_content_length),
        cmocka_unit_test(roundtrip_is_byte_identical),
        cmocka_unit_test(response_copies_dialog_headers),
        cmocka_unit_test(response_keeps_existing_to_tag),
        cmocka_unit_test(ipv6_source_equal_to_sent_by_adds_no_received),
        cmocka_unit_test(build_request_with_body),
        cmocka_unit_test(edit_like_a_proxy),
        cmocka_unit_test(edit_body_rewrites_length),
        cmocka_unit_test(iterators_and_tokens),
        cmocka_unit_test(list_splitting),
        cmocka_unit_test(limits_are_settings),
        cmocka_unit_test(parse_allocates_nothing_when_reused),
        cmocka_unit_test(parse_survives_allocation_failure),
        cmocka_unit_test(header_table_knows_compact_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
