/*
 * Unit tests for URI parsing and comparison: SIP/SIPS (RFC 3261 §19.1,
 * §25.1), tel (RFC 3966), other absoluteURIs, IPv6 references (RFC 5118)
 * and the §19.1.4 equality rules with the RFC's own examples.
 */
#include "support.h"

#include <sipkit/msg.h>

#include <stdlib.h>
#include <string.h>

static struct sk_uri ok(const char *s)
{
    struct sk_uri u;
    memset(&u, 0x5a, sizeof(u));
    int rc = sk_uri_parse(S(s), &u);
    if (rc != 0)
        print_error("expected to parse: %s\n", s);
    assert_int_equal(rc, 0);
    assert_ptr_equal(u.raw.p, s);
    return u;
}

static void bad(const char *s)
{
    struct sk_uri u;
    int rc = sk_uri_parse(S(s), &u);
    if (rc != SK_EPARSE)
        print_error("expected to fail: %s\n", s);
    assert_int_equal(rc, SK_EPARSE);
}

static void bad_len(const char *s, size_t len)
{
    struct sk_uri u;
    assert_int_equal(sk_uri_parse(sk_slice_make(s, len), &u), SK_EPARSE);
}

static bool eq(const char *a, const char *b)
{
    struct sk_uri x = ok(a), y = ok(b);
    bool ab = sk_uri_equal(&x, &y);
    /* Equality is symmetric and reflexive. */
    assert_int_equal(ab, sk_uri_equal(&y, &x));
    assert_true(sk_uri_equal(&x, &x));
    assert_true(sk_uri_equal(&y, &y));
    return ab;
}

static void uri_basic(void **state)
{
    (void)state;
    struct sk_uri u = ok("sip:alice@atlanta.com");
    assert_int_equal(u.scheme, SK_URI_SIP);
    assert_slice_equal(u.scheme_name, "sip");
    assert_slice_equal(u.user, "alice");
    assert_slice_equal(u.password, "");
    assert_slice_equal(u.host, "atlanta.com");
    assert_int_equal(u.host_type, SK_HOST_NAME);
    assert_false(u.has_port);
    assert_int_equal(u.port, 0);
    assert_slice_equal(u.params, "");
    assert_slice_equal(u.headers, "");

    u = ok("sip:registrar.biloxi.com");
    assert_slice_equal(u.user, "");
    assert_slice_equal(u.host, "registrar.biloxi.com");
}

static void uri_full(void **state)
{
    struct sk_slice v;
    (void)state;
    struct sk_uri u = ok("sips:alice:secretword@atlanta.com:5061;transport=tcp;lr"
                         "?subject=project%20x&priority=urgent");
    assert_int_equal(u.scheme, SK_URI_SIPS);
    assert_slice_equal(u.user, "alice");
    assert_slice_equal(u.password, "secretword");
    assert_slice_equal(u.host, "atlanta.com");
    assert_true(u.has_port);
    assert_int_equal(u.port, 5061);
    assert_slice_equal(u.params, "transport=tcp;lr");
    assert_slice_equal(u.headers, "subject=project%20x&priority=urgent");
    assert_true(sk_uri_param(&u, "Transport", &v));
    assert_slice_equal(v, "tcp");
    v = S("x");
    assert_true(sk_uri_param(&u, "lr", &v));
    assert_int_equal(v.len, 0);
    assert_false(sk_uri_param(&u, "maddr", &v));
    assert_false(sk_uri_param(&u, "l", &v));
}

static void uri_user_with_semicolon(void **state)
{
    (void)state;
    /* RFC 4475 §3.1.1.9 semiuri */
    struct sk_uri u = ok("sip:user;par=u%40example.net@example.com");
    assert_slice_equal(u.user, "user;par=u%40example.net");
    assert_slice_equal(u.host, "example.com");
    assert_slice_equal(u.params, "");
    assert_false(sk_uri_param(&u, "par", NULL));

    /* RFC 4475 §3.1.1.2 intmeth: every legal user and password char. */
    u = ok("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
           "(doesn't-it)@example.com");
    assert_slice_equal(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert_slice_equal(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert_slice_equal(u.host, "example.com");

    /* RFC 3261 §19.1.3 examples */
    u = ok("sip:alice;day=tuesday@atlanta.com");
    assert_slice_equal(u.user, "alice;day=tuesday");
    u = ok("sip:+1-212-555-1212:1234@gateway.com;user=phone");
    assert_slice_equal(u.user, "+1-212-555-1212");
    assert_slice_equal(u.password, "1234");
    assert_slice_equal(u.params, "user=phone");
    u = ok("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com");
    assert_slice_equal(u.host, "atlanta.com");
    assert_slice_equal(u.params, "method=REGISTER");
    assert_slice_equal(u.headers, "to=alice%40atlanta.com");

    /* Without '@' the ';' starts the parameters. */
    u = ok("sip:example.com;user=phone;lr");
    assert_slice_equal(u.user, "");
    assert_slice_equal(u.params, "user=phone;lr");
}

static void uri_escapes(void **state)
{
    char buf[64];
    (void)state;
    /* RFC 4475 §3.1.1.3 esc01 */
    struct sk_uri u = ok("sip:sips%3Auser%40example.com@example.net");
    assert_slice_equal(u.user, "sips%3Auser%40example.com");
    assert_slice_equal(u.host, "example.net");
    assert_int_equal(sk_uri_unescape(u.user, buf, sizeof(buf)), 21);
    assert_string_equal(buf, "sips:user@example.com");
    u = ok("sip:%75se%72@example.com");
    assert_int_equal(sk_uri_unescape(u.user, buf, sizeof(buf)), 4);
    assert_string_equal(buf, "user");
    /* RFC 4475 §3.1.1.4 escnull: %00 must not truncate. */
    u = ok("sip:null-%00-null@example.com");
    assert_int_equal(sk_uri_unescape(u.user, buf, sizeof(buf)), 11);
    assert_memory_equal(buf, "null-\0-null", 11);
    u = ok("sip:%00%00@host5.example.com");
    assert_int_equal(sk_uri_unescape(u.user, buf, sizeof(buf)), 2);
    u = ok("sip:I%20have%20spaces@example.net");
    assert_int_equal(sk_uri_unescape(u.user, buf, sizeof(buf)), 13);
    assert_string_equal(buf, "I have spaces");
}

static void uri_unescape_bounds(void **state)
{
    char buf[4];
    (void)state;
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(sk_uri_unescape(S("ab%41d"), buf, 4), 4);
    assert_memory_equal(buf, "abAd", 4); /* fits exactly, no room for NUL */
    assert_int_equal(sk_uri_unescape(S("abcde"), buf, 4), SK_ETOOBIG);
    assert_int_equal(sk_uri_unescape(S(""), buf, 4), 0);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(sk_uri_unescape(S("%4"), buf, 4), 2); /* not an escape: copied */
    assert_memory_equal(buf, "%4", 2);
}

static void uri_ipv4(void **state)
{
    (void)state;
    struct sk_uri u = ok("sip:192.0.2.4:5060");
    assert_int_equal(u.host_type, SK_HOST_IPV4);
    assert_slice_equal(u.host, "192.0.2.4");
    assert_int_equal(u.port, 5060);
    u = ok("sip:bob@255.255.255.255");
    assert_int_equal(u.host_type, SK_HOST_IPV4);
    bad("sip:bob@256.1.1.1");
    bad("sip:1.2.3");
    bad("sip:1.2.3.4.5");
    bad("sip:1234.1.1.1");
}

static void uri_ipv6(void **state)
{
    (void)state;
    struct sk_uri u = ok("sip:[2001:db8::10]:5070");
    assert_int_equal(u.host_type, SK_HOST_IPV6);
    assert_slice_equal(u.host, "[2001:db8::10]");
    assert_true(u.has_port);
    assert_int_equal(u.port, 5070);
    /* RFC 5118 §4.3: no port, the last group is part of the address. */
    u = ok("sip:[2001:db8::10:5070]");
    assert_slice_equal(u.host, "[2001:db8::10:5070]");
    assert_false(u.has_port);
    u = ok("sip:user@[::ffff:192.0.2.10]:19823;transport=tcp");
    assert_slice_equal(u.host, "[::ffff:192.0.2.10]");
    assert_int_equal(u.port, 19823);
    /* RFC 5118 §4.10: both forms are tolerated. */
    assert_int_equal(ok("sip:user@[2001:db8:::192.0.2.1]").host_type, SK_HOST_IPV6);
    assert_int_equal(ok("sip:user@[2001:db8::192.0.2.1]").host_type, SK_HOST_IPV6);
    ok("sip:[::1]");
    ok("sip:[::]");
    ok("sip:[1:2:3:4:5:6:7:8]");
    ok("sip:[1:2:3:4:5:6:1.2.3.4]");
    ok("sip:[1::]");
    ok("sip:[:::1.2.3.4]");
    ok("sips:[FEDC:BA98:7654:3210:FEDC:BA98:7654:3210]");
    bad("sip:2001:db8::10"); /* RFC 5118 §4.2 */
    bad("sip:[2001:db8::10");
    bad("sip:[]");
    bad("sip:[1:2:3:4:5:6:7:8:9]");
    bad("sip:[1:2:3:4:5:6:7]");
    bad("sip:[1::2::3]");
    bad("sip:[12345::]");
    bad("sip:[g::1]");
    bad("sip:[:1::]");
    bad("sip:[1:]");
    bad("sip:[1:::2]");
    bad("sip:[1.2.3.4::]");
    bad("sip:[1:2:3:4:5:6:7:1.2.3.4]");
    bad("sip:[::1.2.3]");
    bad("sip:[::1]x");
}

static void uri_ports(void **state)
{
    (void)state;
    struct sk_uri u = ok("sip:h.example:0");
    assert_true(u.has_port);
    assert_int_equal(u.port, 0);
    assert_int_equal(ok("sip:h.example:65535").port, 65535);
    assert_int_equal(ok("sip:h.example:005060").port, 5060);
    bad("sip:h.example:65536");
    bad("sip:h.example:99999999999999999999999999");
    bad("sip:h.example:");
    bad("sip:h.example:5x");
    bad("sip:h.example:-1");
    bad("sip:h.example:50:60");
}

static void uri_hosts(void **state)
{
    (void)state;
    assert_slice_equal(ok("sip:a-b.Example.COM.").host, "a-b.Example.COM.");
    assert_slice_equal(ok("sip:x@h-1").host, "h-1");
    assert_slice_equal(ok("sip:9.example.org").host, "9.example.org");
    bad("sip:-a.com");
    bad("sip:a-.com");
    bad("sip:a..com");
    bad("sip:.a.com");
    bad("sip:a_b.com");
    bad("sip:example.123");
    bad("sip:user@");
    bad("sip:");
    bad("sip:@host.com");
    bad("sip:user@;lr");
    bad("sip:user@:5060");
    bad("sip:a@b@c.com");
}

static void uri_refused_chars(void **state)
{
    (void)state;
    bad("sip:user@exa mple.com");
    bad("sip:us er@h.com");
    bad("sip:user@h.com ");
    bad(" sip:user@h.com");
    bad("<sip:a@b.com>");
    bad("sip:a@b.com>");
    bad("sip:a<b@c.com");
    bad("sip:\"a\"@b.com");
    bad_len("sip:a@b.com\0", 12);
    bad_len("sip:a\0@b.com", 12);
    bad("sip:a\x01@b.com");
    bad("sip:a@b.com;x=\x7f");
    bad("sip:a\tb@c.com");
    bad("sip:a@b.com\r\n");
    bad("sip:h\xc3\xa9.com");
    bad("sip:%4@h.com");
    bad("sip:%zz@h.com");
    bad("sip:a%@h.com");
    bad("sip:a@h.com;p=%4");
    bad("sip:a@h.com?x=%g0");
}

static void uri_params_and_headers(void **state)
{
    struct sk_slice v;
    (void)state;
    struct sk_uri u = ok("sip:h.com;lr;ttl=5;maddr=[::1];x=%41");
    assert_slice_equal(u.params, "lr;ttl=5;maddr=[::1];x=%41");
    assert_true(sk_uri_param(&u, "MADDR", &v));
    assert_slice_equal(v, "[::1]");
    assert_true(sk_uri_param(&u, "x", &v));
    assert_slice_equal(v, "%41");
    /* RFC 4475 §3.1.2.11 escruri: a well-formed URI; refusing it is policy. */
    u = ok("sip:user@example.com?Route=%3Csip:example.com%3E");
    assert_slice_equal(u.headers, "Route=%3Csip:example.com%3E");
    u = ok("sip:h.com?a=&b=c");
    assert_slice_equal(u.headers, "a=&b=c");
    bad("sip:h.com;");
    bad("sip:h.com;a;;b");
    bad("sip:h.com;=v");
    bad("sip:h.com;a=");
    bad("sip:h.com;a=b=c");
    bad("sip:h.com?");
    bad("sip:h.com?a");
    bad("sip:h.com?=b");
    bad("sip:h.com?a=b&");
    bad("sip:h.com?a=b?c;d");
}

static void uri_scheme_case(void **state)
{
    (void)state;
    struct sk_uri u = ok("SIP:alice@h.com");
    assert_int_equal(u.scheme, SK_URI_SIP);
    assert_slice_equal(u.scheme_name, "SIP");
    assert_int_equal(ok("Sips:h.com").scheme, SK_URI_SIPS);
    assert_int_equal(ok("TeL:+1234").scheme, SK_URI_TEL);
    assert_int_equal(ok("sipx:h.com").scheme, SK_URI_OTHER);
}

static void uri_tel(void **state)
{
    struct sk_slice v;
    (void)state;
    struct sk_uri u = ok("tel:+1-201-555-0123");
    assert_int_equal(u.scheme, SK_URI_TEL);
    assert_slice_equal(u.user, "+1-201-555-0123");
    assert_slice_equal(u.params, "");
    assert_slice_equal(u.host, "");
    u = ok("tel:7042;phone-context=example.com");
    assert_slice_equal(u.user, "7042");
    assert_true(sk_uri_param(&u, "phone-context", &v));
    assert_slice_equal(v, "example.com");
    u = ok("tel:+1(201)555.0123;ext=22;isub=a1;x-y");
    assert_slice_equal(u.params, "ext=22;isub=a1;x-y");
    ok("tel:#31#;phone-context=+1-201");
    ok("tel:*99aB;phone-context=+1");
    bad("tel:7042");
    bad("tel:+");
    bad("tel:+-.");
    bad("tel:");
    bad("tel:+1 2");
    bad("tel:+12a");
    bad("tel:+1;a_b=1");
    bad("tel:+1;");
    bad("tel:+1?x=y");
}

static void uri_other_schemes(void **state)
{
    (void)state;
    struct sk_uri u = ok("isbn:2983792873");
    assert_int_equal(u.scheme, SK_URI_OTHER);
    assert_slice_equal(u.scheme_name, "isbn");
    assert_slice_equal(u.opaque, "2983792873");
    assert_slice_equal(u.host, "");
    u = ok("http://www.example.com/a?b=c");
    assert_slice_equal(u.scheme_name, "http");
    assert_slice_equal(u.opaque, "//www.example.com/a?b=c");
    ok("name:John_Smith");
    ok("urn:service:sos");
    ok("mailto:a@b.c");
    ok("x-1.a+b:%41");
    bad("name:");
    bad("x y:z");
    bad("1abc:foo");
    bad("http://a b");
    bad("nocolon");
    bad(":foo");
    bad("a:b#c");
    bad("im:<x>");
    bad("");
}

static void uri_equal_rfc3261_examples(void **state)
{
    (void)state;
    /* RFC 3261 §19.1.4: equivalent sets. */
    assert_true(eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
    assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
    assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
    assert_true(eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
    assert_true(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                   "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
    assert_true(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                   "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
    /* Not equivalent. */
    assert_false(eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
    assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
    assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
    assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
    assert_false(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
    assert_false(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
}

static void uri_equal_rules(void **state)
{
    (void)state;
    assert_false(eq("sip:alice@atlanta.com", "sips:alice@atlanta.com"));
    assert_true(eq("SIP:alice@atlanta.com", "sip:alice@atlanta.com"));
    assert_false(eq("sip:alice@atlanta.com", "sip:atlanta.com"));
    assert_false(eq("sip:alice:pw@atlanta.com", "sip:alice:PW@atlanta.com"));
    assert_false(eq("sip:alice:pw@atlanta.com", "sip:alice@atlanta.com"));
    assert_true(eq("sip:alice@atlanta.com:5060", "sip:alice@atlanta.com:05060"));
    assert_false(eq("sip:alice@atlanta.com:5060", "sip:alice@atlanta.com:5061"));
    /* Reserved characters are not equal to their escapes. */
    assert_false(eq("sip:a%3Bb@h.com", "sip:a;b@h.com"));
    assert_true(eq("sip:a%2db@h.com", "sip:a-b@h.com"));
    assert_false(eq("sip:%41@h.com", "sip:%61@h.com"));
    /* user, ttl, method and maddr in only one never match. */
    assert_false(eq("sip:+1234@h.com;user=phone", "sip:+1234@h.com"));
    assert_false(eq("sip:h.com;ttl=1", "sip:h.com"));
    assert_false(eq("sip:h.com;method=INVITE", "sip:h.com"));
    assert_false(eq("sip:h.com;maddr=239.255.255.1", "sip:h.com"));
    assert_false(eq("sip:h.com;lr", "sip:h.com;lr=on"));
    assert_true(eq("sip:h.com;lr", "sip:h.com;LR"));
    assert_true(eq("sip:h.com;lr", "sip:h.com"));
    assert_true(eq("sip:h.com;x=%41", "sip:h.com;X=a"));
    assert_false(eq("sip:h.com;x=1", "sip:h.com;x=2"));
    /* A repeated name: the first value counts. */
    assert_true(eq("sip:h.com;x=1;x=2", "sip:h.com;x=1"));
    /* Headers: a multiset, case-insensitive. */
    assert_true(eq("sip:h.com?a=1&a=1&b=2", "sip:h.com?b=2&a=1&a=1"));
    assert_false(eq("sip:h.com?a=1&a=1&b=2", "sip:h.com?a=1&b=2&b=2"));
    assert_true(eq("sip:h.com?Subject=X", "sip:h.com?subject=x"));
    /* Addresses, not spellings. */
    assert_true(eq("sip:[::1]:5060", "sip:[0:0:0:0:0:0:0:1]:5060"));
    assert_true(eq("sip:[2001:DB8::1]", "sip:[2001:db8:0::1]"));
    assert_true(eq("sip:[::ffff:192.0.2.1]", "sip:[::ffff:c000:201]"));
    assert_true(eq("sip:[2001:db8:::192.0.2.1]", "sip:[2001:db8::192.0.2.1]"));
    assert_false(eq("sip:[::1]", "sip:[::2]"));
    assert_true(eq("sip:192.0.2.1", "sip:192.0.2.001"));
    assert_false(eq("sip:192.0.2.1", "tel:+1"));
}

static void uri_equal_tel_and_other(void **state)
{
    (void)state;
    /* RFC 3966 §4 */
    assert_true(eq("tel:+1-201-555-0123", "tel:+12015550123"));
    assert_true(eq("tel:+1(201)555.0123", "TEL:+12015550123"));
    assert_false(eq("tel:+12015550123", "tel:+12015550124"));
    assert_false(eq("tel:7042;phone-context=+1", "tel:+17042"));
    assert_true(eq("tel:7042;phone-context=Example.COM", "tel:7042;phone-context=example.com"));
    assert_true(eq("tel:7042;phone-context=+1-201", "tel:7042;phone-context=+1201"));
    assert_true(eq("tel:+1;ext=1-2;isub=a", "tel:+1;isub=A;ext=12"));
    assert_false(eq("tel:+1;ext=1", "tel:+1"));
    assert_false(eq("tel:+1;x=1", "tel:+1"));
    assert_true(eq("tel:*99aB;phone-context=+1", "tel:*99Ab;phone-context=+1"));
    /* Other schemes: scheme case-insensitive, the rest exact. */
    assert_true(eq("HTTP://example.com/x", "http://example.com/x"));
    assert_true(eq("urn:a%41", "urn:aA"));
    assert_false(eq("urn:ab", "urn:AB"));
    assert_false(eq("urn:ab", "uri:ab"));
}

/* RFC 5118 torture messages: the Request-URI of each file. */
static void uri_rfc5118_request_uris(void **state)
{
    static const struct {
        const char *file;
        int rc;
        const char *host;
        int port;
        enum sk_host_type type;
    } cases[] = {
        {"rfc5118/ipv6-good.dat", 0, "[2001:db8::10]", -1, SK_HOST_IPV6},
        {"rfc5118/ipv6-bad.dat", SK_EPARSE, NULL, 0, SK_HOST_NONE},
        {"rfc5118/port-ambiguous.dat", 0, "[2001:db8::10:5070]", -1, SK_HOST_IPV6},
        {"rfc5118/port-unambiguous.dat", 0, "[2001:db8::10]", 5070, SK_HOST_IPV6},
        {"rfc5118/ipv4-mapped-ipv6.dat", 0, "example.com", -1, SK_HOST_NAME},
        {"rfc5118/mult-ip-in-header.dat", 0, "host.example.net", -1, SK_HOST_NAME},
        {"rfc5118/ipv6-bug-abnf-3-colons.dat", 0, "[2001:db8:::192.0.2.1]", -1, SK_HOST_IPV6},
        {"rfc5118/ipv6-correct-abnf-2-colons.dat", 0, "[2001:db8::192.0.2.1]", -1, SK_HOST_IPV6},
    };
    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t len;
        char *msg = sk_test_read_file(sk_test_data(cases[k].file), &len);
        assert_non_null(msg);
        const char *sp1 = memchr(msg, ' ', len);
        assert_non_null(sp1);
        const char *sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - msg));
        assert_non_null(sp2);
        struct sk_uri u;
        int rc = sk_uri_parse(sk_slice_make(sp1 + 1, (size_t)(sp2 - sp1 - 1)), &u);
        if (rc != cases[k].rc)
            print_error("%s: rc %d\n", cases[k].file, rc);
        assert_int_equal(rc, cases[k].rc);
        if (rc == 0) {
            assert_slice_equal(u.host, cases[k].host);
            assert_int_equal(u.host_type, cases[k].type);
            assert_int_equal(u.has_port, cases[k].port >= 0);
            if (cases[k].port >= 0)
                assert_int_equal(u.port, cases[k].port);
        }
        free(msg);
    }
}

static void uri_parse_allocates_nothing(void **state)
{
    struct sk_uri a, b;
    (void)state;
    sk_test_alloc_hook();
    sk_test_alloc_reset();
    assert_int_equal(sk_uri_parse(S("sips:u%41:p@[::1]:5061;transport=tls?x=y"), &a), 0);
    assert_int_equal(sk_uri_parse(S("tel:+1-2;ext=3"), &b), 0);
    assert_true(sk_uri_equal(&a, &a));
    assert_false(sk_uri_equal(&a, &b));
    assert_int_equal(sk_test_alloc_count(), 0);
    sk_test_alloc_unhook();
}

static void uri_failure_leaves_output(void **state)
{
    struct sk_uri u;
    (void)state;
    memset(&u, 0, sizeof(u));
    u.port = 77;
    assert_int_equal(sk_uri_parse(S("sip:a@b.com:99999"), &u), SK_EPARSE);
    assert_int_equal(u.port, 77);
    assert_null(u.raw.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uri_basic),
        cmocka_unit_test(uri_full),
        cmocka_unit_test(uri_user_with_semicolon),
        cmocka_unit_test(uri_escapes),
        cmocka_unit_test(uri_unescape_bounds),
        cmocka_unit_test(uri_ipv4),
        cmocka_unit_test(uri_ipv6),
        cmocka_unit_test(uri_ports),
        cmocka_unit_test(uri_hosts),
        cmocka_unit_test(uri_refused_chars),
        cmocka_unit_test(uri_params_and_headers),
        cmocka_unit_test(uri_scheme_case),
        cmocka_unit_test(uri_tel),
        cmocka_unit_test(uri_other_schemes),
        cmocka_unit_test(uri_equal_rfc3261_examples),
        cmocka_unit_test(uri_equal_rules),
        cmocka_unit_test(uri_equal_tel_and_other),
        cmocka_unit_test(uri_rfc5118_request_uris),
        cmocka_unit_test(uri_parse_allocates_nothing),
        cmocka_unit_test(uri_failure_leaves_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
