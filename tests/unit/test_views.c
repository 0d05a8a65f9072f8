/*
 * Unit tests for the header value views: parameter lists, name-addr and
 * addr-spec (RFC 3261 §20.10, §25.1), Contact (star, q, expires), Via
 * (RFC 3261 §20.42, RFC 3581, RFC 5118), Event and Subscription-State
 * (RFC 6665) and Content-Type (RFC 3261 §20.15). Many cases come from the
 * RFC 4475 and RFC 5118 torture messages.
 */
#include "support.h"

#include <sipkit/msg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameter lists ---------------------------------------------------- */

static void params_iterate(void **state)
{
    struct sk_slice cur = S(";  tag = 1918181833n ;lr;\r\n maddr=[2001:db8::1]; x=\"a \\\" ;b\"");
    struct sk_param p;
    (void)state;
    assert_int_equal(sk_param_next(&cur, &p), 1);
    assert_slice_equal(p.name, "tag");
    assert_slice_equal(p.value, "1918181833n");
    assert_false(p.quoted);
    assert_int_equal(sk_param_next(&cur, &p), 1);
    assert_slice_equal(p.name, "lr");
    assert_null(p.value.p);
    assert_int_equal(sk_param_next(&cur, &p), 1);
    assert_slice_equal(p.name, "maddr");
    assert_slice_equal(p.value, "[2001:db8::1]");
    assert_int_equal(sk_param_next(&cur, &p), 1);
    assert_slice_equal(p.name, "x");
    assert_slice_equal(p.value, "a \\\" ;b");
    assert_true(p.quoted);
    assert_int_equal(sk_param_next(&cur, &p), 0);
    assert_int_equal(sk_param_next(&cur, &p), 0);

    /* Without a leading ';', and an empty quoted value. */
    cur = S("a=\"\";b");
    assert_int_equal(sk_param_next(&cur, &p), 1);
    assert_slice_equal(p.value, "");
    assert_true(p.quoted);
    assert_int_equal(sk_param_next(&cur, &p), 1);
    assert_slice_equal(p.name, "b");
    assert_int_equal(sk_param_next(&cur, &p), 0);
}

static int first_error(const char *list)
{
    struct sk_slice cur = S(list);
    struct sk_param p;
    int rc;

    while ((rc = sk_param_next(&cur, &p)) == 1)
        ;
    return rc;
}

static void params_errors(void **state)
{
    (void)state;
    assert_int_equal(first_error(""), 0);
    assert_int_equal(first_error("   "), 0);
    assert_int_equal(first_error(";"), SK_EPARSE);
    assert_int_equal(first_error("a;"), SK_EPARSE);
    assert_int_equal(first_error("a="), SK_EPARSE);
    assert_int_equal(first_error("a b"), SK_EPARSE);
    assert_int_equal(first_error(";;a"), SK_EPARSE);
    assert_int_equal(first_error("a=\"unterminated"), SK_EPARSE);
    assert_int_equal(first_error("a=\"x\"y"), SK_EPARSE);
    assert_int_equal(first_error("a=\"x\\"), SK_EPARSE);
    assert_int_equal(first_error("a=\"x\ny\""), SK_EPARSE);
    assert_int_equal(first_error("a=\"x\x01y\""), SK_EPARSE);
    assert_int_equal(first_error("a=@"), SK_EPARSE);
    assert_int_equal(first_error("=v"), SK_EPARSE);
    assert_int_equal(first_error("a=b=c"), SK_EPARSE);
    assert_int_equal(first_error("a\r\nb"), SK_EPARSE);
}

static void params_find(void **state)
{
    struct sk_slice v;
    (void)state;
    assert_true(sk_param_find(S("branch=z9hG4bK1;Received=1.2.3.4"), "received", &v));
    assert_slice_equal(v, "1.2.3.4");
    assert_true(sk_param_find(S(";lr"), "LR", &v));
    assert_int_equal(v.len, 0);
    assert_false(sk_param_find(S("lrx"), "lr", &v));
    assert_false(sk_param_find(S("a=1;;lr"), "lr", &v));
}

/* ---- name-addr ------------------------------------------------------------ */

static struct sk_nameaddr na_ok(const char *s)
{
    struct sk_nameaddr na;
    int rc = sk_nameaddr_parse(S(s), &na);
    if (rc != 0)
        print_error("expected to parse: %s\n", s);
    assert_int_equal(rc, 0);
    return na;
}

static void na_bad(const char *s)
{
    struct sk_nameaddr na;
    int rc = sk_nameaddr_parse(S(s), &na);
    if (rc != SK_EPARSE)
        print_error("expected to fail: %s\n", s);
    assert_int_equal(rc, SK_EPARSE);
}

static void nameaddr_quoted_display(void **state)
{
    (void)state;
    /* RFC 4475 §3.1.1.1 wsinv From */
    struct sk_nameaddr na = na_ok("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>");
    assert_slice_equal(na.display, "J Rosenberg \\\\\\\"");
    assert_true(na.display_quoted);
    assert_true(na.bracketed);
    assert_slice_equal(na.uri.user, "jdrosen");
    assert_slice_equal(na.params, "");
    assert_slice_equal(na.tag, "");

    na =
        na_ok("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n newvalue ;\r\n"
              "  secondparam ; q = 0.33");
    assert_slice_equal(na.display, "Quoted string \\\"\\\"");
    assert_slice_equal(na.params, " newparam =\r\n newvalue ;\r\n  secondparam ; q = 0.33");

    na = na_ok("\"\"<sip:a@b.com>");
    assert_slice_equal(na.display, "");
    assert_true(na.display_quoted);

    /* RFC 4475 §3.1.1.2 intmeth To: quoted-pair may escape BEL, NUL, DEL. */
    static const char to[] = "\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:x@example.com>";
    assert_int_equal(sk_nameaddr_parse(sk_slice_make(to, sizeof(to) - 1), &na), 0);
    assert_int_equal(na.display.len, 20);
    /* A bare control character or NUL is not qdtext. */
    static const char nul[] = "\"a\x00\" <sip:x@example.com>";
    assert_int_equal(sk_nameaddr_parse(sk_slice_make(nul, sizeof(nul) - 1), &na), SK_EPARSE);
}

static void nameaddr_token_display(void **state)
{
    (void)state;
    /* RFC 4475 §3.1.1.2 intmeth From */
    struct sk_nameaddr na =
        na_ok("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="
              "\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9\""
              ";tag=_token~1'+`*%!-.");
    assert_slice_equal(na.display, "token1~` token2'+_ token3*%!.-");
    assert_false(na.display_quoted);
    assert_slice_equal(na.uri.user, "mundane");
    assert_slice_equal(na.tag, "_token~1'+`*%!-.");

    /* RFC 4475 §3.1.1.6 lwsdisp: no LWS before '<' is accepted. */
    na = na_ok("caller<sip:caller@example.com>;tag=323");
    assert_slice_equal(na.display, "caller");
    assert_slice_equal(na.tag, "323");
    assert_slice_equal(na.params, "tag=323");

    na = na_ok("  <sip:a@b.com>  ");
    assert_slice_equal(na.display, "");
    assert_true(na.bracketed);
}

static void nameaddr_addr_spec(void **state)
{
    (void)state;
    /* RFC 4475 §3.1.1.1 wsinv To */
    struct sk_nameaddr na = na_ok("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
    assert_false(na.bracketed);
    assert_slice_equal(na.uri.host, "chair-dnrc.example.com");
    assert_slice_equal(na.tag, "1918181833n");
    assert_slice_equal(na.display, "");

    /* RFC 3261 §20.10: without <>, parameters belong to the header
     * (RFC 4475 §3.3.12 cparam01 vs §3.3.13 cparam02). */
    na = na_ok("sip:+19725552222@gw1.example.net;unknownparam");
    assert_slice_equal(na.uri.params, "");
    assert_slice_equal(na.uri.raw, "sip:+19725552222@gw1.example.net");
    assert_slice_equal(na.params, "unknownparam");
    na = na_ok("<sip:+19725552222@gw1.example.net;unknownparam>");
    assert_slice_equal(na.uri.params, "unknownparam");
    assert_slice_equal(na.params, "");

    na = na_ok("sip:watson@example.com;tag=DkfVgjkrtMwaerKKpe");
    assert_slice_equal(na.tag, "DkfVgjkrtMwaerKKpe");
    na = na_ok("tel:+1-201-555-0123;tag=1");
    assert_int_equal(na.uri.scheme, SK_URI_TEL);
    assert_slice_equal(na.uri.params, "");
    assert_slice_equal(na.tag, "1");
}

static void nameaddr_other_schemes(void **state)
{
    (void)state;
    /* RFC 4475 §3.3.4 unksm2 */
    struct sk_nameaddr na = na_ok("isbn:2983792873");
    assert_int_equal(na.uri.scheme, SK_URI_OTHER);
    na = na_ok("<http://www.example.com>;tag=3234233");
    assert_slice_equal(na.uri.scheme_name, "http");
    assert_slice_equal(na.tag, "3234233");
    na = na_ok("<name:John_Smith>");
    assert_slice_equal(na.uri.opaque, "John_Smith");
}

static void nameaddr_errors(void **state)
{
    (void)state;
    na_bad("\"Mr. J. User <sip:j.user@example.com>");               /* quotbal */
    na_bad("\"Watson, Thomas\" < sip:t.watson@example.org >");      /* badaspec */
    na_bad("Bell, Alexander <sip:a.g.bell@example.com>;tag=43");    /* baddn */
    na_bad("sip:user@example.com?Route=%3Csip:sip.example.com%3E"); /* regbadct */
    na_bad("sip:a,b@example.com");
    na_bad("<sip:a@b.com");
    na_bad("<sip:a@b.com>x");
    na_bad("<sip:a@b.com> x");
    na_bad("<sip:a@b.com>;tag");
    na_bad("<sip:a@b.com>;tag=\"x\"");
    na_bad("<sip:a@b.com>;tag=a:b");
    na_bad("<sip:a@b.com>;");
    na_bad("<sip:a@b.com>;;x");
    na_bad("");
    na_bad("   ");
    na_bad("<>");
    na_bad("Bob sip:bob@b.com");
    na_bad("foo \"bar\" <sip:a@b.com>");
    na_bad("\"a\" sip:a@b.com");
    na_bad("<sip:a@b.com>>");
    na_bad("<<sip:a@b.com>");
}

/* ---- Contact -------------------------------------------------------------- */

static struct sk_contact ct_ok(const char *s)
{
    struct sk_contact c;
    int rc = sk_contact_parse(S(s), &c);
    if (rc != 0)
        print_error("expected to parse: %s\n", s);
    assert_int_equal(rc, 0);
    return c;
}

static void contact_star(void **state)
{
    struct sk_contact c;
    (void)state;
    c = ct_ok("*");
    assert_true(c.star);
    assert_int_equal(c.expires, -1);
    assert_int_equal(c.q, -1);
    assert_true(ct_ok("  * ").star);
    assert_int_equal(sk_contact_parse(S("*;expires=0"), &c), SK_EPARSE);
    assert_int_equal(sk_contact_parse(S("**"), &c), SK_EPARSE);
}

static void contact_q_values(void **state)
{
    static const struct {
        const char *q;
        int thousandths;
    } good[] = {{"0", 0},      {"0.", 0},       {"0.7", 700}, {"0.05", 50},
                {"0.001", 1},  {"0.999", 999},  {"1", 1000},  {"1.", 1000},
                {"1.0", 1000}, {"1.000", 1000}, {"0.000", 0}};
    static const char *const badq[] = {"1.1",    "2",     "0.0001", ".5",  "\"0.5\"", "-1",
                                       "1.0001", "1.001", "01",     "0,5", "0.5a",    "1e0"};
    char buf[128];
    struct sk_contact c;
    (void)state;

    c = ct_ok("\"Mr. Watson\" <sip:watson@worcester.bell-telephone.com>;q=0.7; expires=3600");
    assert_false(c.star);
    assert_int_equal(c.q, 700);
    assert_int_equal(c.expires, 3600);
    assert_slice_equal(c.addr.display, "Mr. Watson");
    assert_slice_equal(c.addr.uri.host, "worcester.bell-telephone.com");
    c = ct_ok("<sip:a@b.com>");
    assert_int_equal(c.q, -1);
    assert_int_equal(c.expires, -1);
    for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
        snprintf(buf, sizeof(buf), "<sip:a@b.com>;Q=%s", good[k].q);
        c = ct_ok(buf);
        assert_int_equal(c.q, good[k].thousandths);
    }
    for (size_t k = 0; k < sizeof(badq) / sizeof(badq[0]); k++) {
        snprintf(buf, sizeof(buf), "<sip:a@b.com>;q=%s", badq[k]);
        if (sk_contact_parse(S(buf), &c) != SK_EPARSE)
            print_error("q accepted: %s\n", badq[k]);
        assert_int_equal(sk_contact_parse(S(buf), &c), SK_EPARSE);
    }
    assert_int_equal(sk_contact_parse(S("<sip:a@b.com>;q"), &c), SK_EPARSE);
}

static void contact_expires(void **state)
{
    struct sk_contact c;
    (void)state;
    c = ct_ok("<sip:a@b.com>;expires=4294967295");
    assert_int_equal(c.expires, 4294967295LL);
    c = ct_ok("sip:a@b.com;expires=0");
    assert_int_equal(c.expires, 0);
    assert_int_equal(c.addr.uri.params.len, 0);
    c = ct_ok("<sip:a@b.com;expires=5>");
    assert_int_equal(c.expires, -1); /* a URI parameter, not the contact's */
    assert_int_equal(sk_contact_parse(S("<sip:a@b.com>;expires=4294967296"), &c), SK_EPARSE);
    assert_int_equal(sk_contact_parse(S("<sip:a@b.com>;expires=99999999999999999999999"), &c),
                     SK_EPARSE);
    assert_int_equal(sk_contact_parse(S("<sip:a@b.com>;expires=-1"), &c), SK_EPARSE);
    assert_int_equal(sk_contact_parse(S("<sip:a@b.com>;expires=abc"), &c), SK_EPARSE);
    assert_int_equal(sk_contact_parse(S("<sip:a@b.com>;expires=\"60\""), &c), SK_EPARSE);
    assert_int_equal(sk_contact_parse(S("<sip:a@b.com>;expires"), &c), SK_EPARSE);
    /* RFC 4475 §3.1.2.13 regbadct */
    assert_int_equal(
        sk_contact_parse(S("sip:user@example.com?Route=%3Csip:sip.example.com%3E"), &c), SK_EPARSE);
}

/* ---- Via ------------------------------------------------------------------ */

static struct sk_via via_ok(const char *s)
{
    struct sk_via v;
    int rc = sk_via_parse(S(s), &v);
    if (rc != 0)
        print_error("expected to parse: %s\n", s);
    assert_int_equal(rc, 0);
    return v;
}

static void via_bad(const char *s)
{
    struct sk_via v;
    int rc = sk_via_parse(S(s), &v);
    if (rc != SK_EPARSE)
        print_error("expected to fail: %s\n", s);
    assert_int_equal(rc, SK_EPARSE);
}

static void via_basic(void **state)
{
    (void)state;
    struct sk_via v = via_ok("SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds");
    assert_slice_equal(v.protocol, "SIP/2.0");
    assert_slice_equal(v.transport, "UDP");
    assert_slice_equal(v.host, "pc33.atlanta.com");
    assert_int_equal(v.host_type, SK_HOST_NAME);
    assert_false(v.has_port);
    assert_slice_equal(v.branch, "z9hG4bK776asdhds");
    assert_slice_equal(v.params, "branch=z9hG4bK776asdhds");
    assert_slice_equal(v.received, "");
    assert_slice_equal(v.maddr, "");
    assert_false(v.has_rport);
    assert_int_equal(v.ttl, -1);

    /* RFC 4475 §3.1.1.1 wsinv: LWS around '/' and before ';'. */
    v = via_ok("SIP  / 2.0  / TCP     spindle.example.com   ;\r\n      branch  =   z9hG4bK9ikj8  ");
    assert_slice_equal(v.protocol, "SIP  / 2.0");
    assert_slice_equal(v.transport, "TCP");
    assert_slice_equal(v.host, "spindle.example.com");
    assert_slice_equal(v.branch, "z9hG4bK9ikj8");

    /* RFC 4475 §3.1.1.10 transports: unknown transports are tokens. */
    assert_slice_equal(via_ok("SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en").transport,
                       "UNKNOWN");
    /* RFC 4475 §3.1.1.2 intmeth branch */
    assert_slice_equal(via_ok("SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~").branch,
                       "z9hG4bK-.!%66*_+`'~");
}

static void via_ports_and_params(void **state)
{
    struct sk_slice val;
    (void)state;
    struct sk_via v = via_ok("SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bKx");
    assert_int_equal(v.host_type, SK_HOST_IPV4);
    assert_true(v.has_port);
    assert_int_equal(v.port, 5060);
    assert_true(v.has_rport);
    assert_int_equal(v.rport, 0);
    v = via_ok("SIP/2.0/UDP 192.0.2.1;received=192.0.2.200;rport=5070;branch=z9hG4bKx");
    assert_int_equal(v.rport, 5070);
    assert_slice_equal(v.received, "192.0.2.200");
    v = via_ok("SIP/2.0/TCP host.example.com : 5061 ;ttl=255;maddr=224.2.0.1;TTL=7");
    assert_int_equal(v.port, 5061);
    assert_int_equal(v.ttl, 255);
    assert_slice_equal(v.maddr, "224.2.0.1");
    assert_int_equal(via_ok("SIP/2.0/UDP h.example.com;ttl=0").ttl, 0);
    v = via_ok("SIP/2.0/UDP h.example.com:65535;branch=z9hG4bK1;foo=bar;flag;x=\"q v\"");
    assert_int_equal(v.port, 65535);
    assert_slice_equal(v.params, "branch=z9hG4bK1;foo=bar;flag;x=\"q v\"");
    assert_true(sk_param_find(v.params, "foo", &val));
    assert_slice_equal(val, "bar");
}

static void via_ipv6(void **state)
{
    (void)state;
    /* RFC 5118 §4.5: received with and without brackets. */
    struct sk_via v =
        via_ok("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3");
    assert_int_equal(v.host_type, SK_HOST_IPV6);
    assert_slice_equal(v.host, "[2001:db8::9:1]");
    assert_slice_equal(v.received, "2001:db8::9:255");
    v = via_ok("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111");
    assert_slice_equal(v.received, "[2001:db8::9:255]");
    assert_slice_equal(v.branch, "z9hG4bKas3-111");
    v = via_ok("SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19");
    assert_slice_equal(v.host, "[::ffff:192.0.2.10]");
    assert_int_equal(v.port, 19823);
    v = via_ok("SIP/2.0/UDP h.example.com;maddr=[ff02::1]");
    assert_slice_equal(v.maddr, "[ff02::1]");
}

static void via_errors(void **state)
{
    (void)state;
    via_bad("");
    via_bad("SIP/2.0/UDP");
    via_bad("SIP/2.0/UDP ");
    via_bad("SIP/2.0 UDP host.com");
    via_bad("SIP/2.0/UDPhost.com");
    via_bad("SIP//UDP host.com");
    via_bad("SIP/2.0/UDP host.com:70000");
    via_bad("SIP/2.0/UDP host.com:");
    via_bad("SIP/2.0/UDP host.com:5060:5060");
    via_bad("SIP/2.0/UDP 2001:db8::1");
    via_bad("SIP/2.0/UDP [2001:db8::1");
    via_bad("SIP/2.0/UDP host.com;ttl=256");
    via_bad("SIP/2.0/UDP host.com;ttl=0001");
    via_bad("SIP/2.0/UDP host.com;ttl");
    via_bad("SIP/2.0/UDP host.com;received=example.com");
    via_bad("SIP/2.0/UDP host.com;received=[1::2");
    via_bad("SIP/2.0/UDP host.com;received=1.2.3.256");
    via_bad("SIP/2.0/UDP host.com;branch");
    via_bad("SIP/2.0/UDP host.com;branch=\"x\"");
    via_bad("SIP/2.0/UDP host.com;rport=65536");
    via_bad("SIP/2.0/UDP host.com;rport=x");
    via_bad("SIP/2.0/UDP host.com;maddr=a_b");
    via_bad("SIP/2.0/UDP host.com;;branch=x");
    via_bad("SIP/2.0/UDP host.com extra");
    via_bad("SIP/2.0/UDP host.com;branch=z9hG4bK1,SIP/2.0/UDP h2.com");
}

/* Every Via and Contact line of the RFC 5118 messages parses. */
static void rfc5118_header_values(void **state)
{
    static const char *const files[] = {"ipv4-mapped-ipv6",
                                        "ipv6-bug-abnf-3-colons",
                                        "ipv6-correct-abnf-2-colons",
                                        "ipv6-good",
                                        "ipv6-in-sdp",
                                        "mult-ip-in-header",
                                        "mult-ip-in-sdp",
                                        "port-ambiguous",
                                        "port-unambiguous",
                                        "via-received-param-no-delim",
                                        "via-received-param-with-delim"};
    size_t vias = 0, contacts = 0, tos = 0;
    char path[128];
    (void)state;
    for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
        size_t len;
        snprintf(path, sizeof(path), "rfc5118/%s.dat", files[k]);
        char *msg = sk_test_read_file(sk_test_data(path), &len);
        assert_non_null(msg);
        char *line = msg;
        while (line < msg + len) {
            char *nl = memchr(line, '\n', (size_t)(msg + len - line));
            size_t n = nl ? (size_t)(nl - line) : (size_t)(msg + len - line);
            if (n > 0 && line[n - 1] == '\r')
                n--;
            struct sk_slice l = sk_slice_make(line, n);
            struct sk_via v;
            struct sk_contact c;
            struct sk_nameaddr na;
            if (n > 5 && memcmp(line, "Via: ", 5) == 0) {
                assert_int_equal(sk_via_parse(sk_slice_make(l.p + 5, l.len - 5), &v), 0);
                vias++;
            } else if (n > 9 && memcmp(line, "Contact: ", 9) == 0) {
                assert_int_equal(sk_contact_parse(sk_slice_make(l.p + 9, l.len - 9), &c), 0);
                assert_true(c.addr.bracketed);
                contacts++;
            } else if (n > 4 && memcmp(line, "To: ", 4) == 0) {
                assert_int_equal(sk_nameaddr_parse(sk_slice_make(l.p + 4, l.len - 4), &na), 0);
                tos++;
            }
            line = nl ? nl + 1 : msg + len;
        }
        free(msg);
    }
    assert_int_equal(vias, 14);
    assert_int_equal(contacts, 7);
    assert_int_equal(tos, 11);
}

/* ---- Event, Subscription-State, Content-Type ------------------------------ */

static void event_values(void **state)
{
    struct sk_event e;
    (void)state;
    assert_int_equal(sk_event_parse(S("presence"), &e), 0);
    assert_slice_equal(e.package, "presence");
    assert_slice_equal(e.id, "");
    assert_slice_equal(e.params, "");
    assert_int_equal(sk_event_parse(S("presence.winfo;id=17"), &e), 0);
    assert_slice_equal(e.package, "presence.winfo");
    assert_slice_equal(e.id, "17");
    assert_int_equal(sk_event_parse(S(" dialog ; call-id=x ; ID = a1"), &e), 0);
    assert_slice_equal(e.package, "dialog");
    assert_slice_equal(e.id, "a1");
    assert_slice_equal(e.params, " call-id=x ; ID = a1");
    assert_int_equal(sk_event_parse(S("x-a.b.c"), &e), 0);
    assert_slice_equal(e.package, "x-a.b.c");
    static const char *const bad[] = {"",          "presence.",   ".x",         "a..b",
                                      "pres ence", "presence;id", "p;id=\"1\"", "p;",
                                      "p/q",       "p;id=1;;"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
        assert_int_equal(sk_event_parse(S(bad[k]), &e), SK_EPARSE);
}

static void substate_values(void **state)
{
    struct sk_substate st;
    (void)state;
    assert_int_equal(sk_substate_parse(S("active;expires=3600"), &st), 0);
    assert_slice_equal(st.state, "active");
    assert_int_equal(st.expires, 3600);
    assert_int_equal(st.retry_after, -1);
    assert_slice_equal(st.reason, "");
    assert_int_equal(sk_substate_parse(S("terminated;reason=timeout;retry-after=20"), &st), 0);
    assert_slice_equal(st.state, "terminated");
    assert_slice_equal(st.reason, "timeout");
    assert_int_equal(st.retry_after, 20);
    assert_int_equal(st.expires, -1);
    assert_int_equal(sk_substate_parse(S("pending"), &st), 0);
    assert_slice_equal(st.params, "");
    assert_int_equal(sk_substate_parse(S("x-state ; foo=\"bar\""), &st), 0);
    assert_slice_equal(st.state, "x-state");
    static const char *const bad[] = {"",
                                      "active;expires=x",
                                      "active;expires=4294967296",
                                      "active;expires",
                                      "terminated;reason",
                                      "terminated;reason=\"timeout\"",
                                      "active pending",
                                      "active;retry-after=-5"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
        assert_int_equal(sk_substate_parse(S(bad[k]), &st), SK_EPARSE);
}

static void ctype_values(void **state)
{
    struct sk_ctype ct;
    struct sk_slice v;
    (void)state;
    assert_int_equal(sk_ctype_parse(S("application/sdp"), &ct), 0);
    assert_slice_equal(ct.type, "application");
    assert_slice_equal(ct.subtype, "sdp");
    assert_slice_equal(ct.params, "");
    assert_int_equal(sk_ctype_parse(S("multipart/mixed;boundary=unique-boundary-1"), &ct), 0);
    assert_slice_equal(ct.subtype, "mixed");
    assert_true(sk_param_find(ct.params, "boundary", &v));
    assert_slice_equal(v, "unique-boundary-1");
    assert_int_equal(sk_ctype_parse(S("text/plain ; charset=\"utf-8\""), &ct), 0);
    assert_true(sk_param_find(ct.params, "charset", &v));
    assert_slice_equal(v, "utf-8");
    assert_int_equal(sk_ctype_parse(S("Application / PIDF+XML"), &ct), 0);
    assert_slice_equal(ct.type, "Application");
    assert_slice_equal(ct.subtype, "PIDF+XML");
    static const char *const bad[] = {"",      "application", "application/", "/sdp", "a/b;c",
                                      "a/b c", "a/b;c=",      "a/b;c=d:e",    "a b/c"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
        assert_int_equal(sk_ctype_parse(S(bad[k]), &ct), SK_EPARSE);
}

/* An empty or NULL slice is malformed for every view (and never touched). */
static void views_empty_input(void **state)
{
    struct sk_nameaddr na;
    struct sk_contact c;
    struct sk_via v;
    struct sk_event e;
    struct sk_substate st;
    struct sk_ctype ct;
    struct sk_uri u;
    struct sk_param p;
    struct sk_slice cur = SK_SLICE_NULL, val;
    (void)state;
    assert_int_equal(sk_uri_parse(SK_SLICE_NULL, &u), SK_EPARSE);
    assert_int_equal(sk_nameaddr_parse(SK_SLICE_NULL, &na), SK_EPARSE);
    assert_int_equal(sk_contact_parse(SK_SLICE_NULL, &c), SK_EPARSE);
    assert_int_equal(sk_via_parse(SK_SLICE_NULL, &v), SK_EPARSE);
    assert_int_equal(sk_event_parse(SK_SLICE_NULL, &e), SK_EPARSE);
    assert_int_equal(sk_substate_parse(SK_SLICE_NULL, &st), SK_EPARSE);
    assert_int_equal(sk_ctype_parse(SK_SLICE_NULL, &ct), SK_EPARSE);
    assert_int_equal(sk_param_next(&cur, &p), 0);
    assert_false(sk_param_find(SK_SLICE_NULL, "tag", &val));
    assert_int_equal(sk_uri_unescape(SK_SLICE_NULL, NULL, 0), 0);
}

static void views_allocate_nothing(void **state)
{
    struct sk_via v;
    struct sk_contact c;
    struct sk_event e;
    (void)state;
    sk_test_alloc_hook();
    sk_test_alloc_reset();
    assert_int_equal(sk_via_parse(S("SIP/2.0/TCP [::1]:5060;branch=z9hG4bK1;rport"), &v), 0);
    assert_int_equal(sk_contact_parse(S("\"A\" <sip:a@b.com>;q=0.5;expires=60"), &c), 0);
    assert_int_equal(sk_event_parse(S("reg;id=1"), &e), 0);
    assert_int_equal(sk_test_alloc_count(), 0);
    sk_test_alloc_unhook();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params_iterate),
        cmocka_unit_test(params_errors),
        cmocka_unit_test(params_find),
        cmocka_unit_test(nameaddr_quoted_display),
        cmocka_unit_test(nameaddr_token_display),
        cmocka_unit_test(nameaddr_addr_spec),
        cmocka_unit_test(nameaddr_other_schemes),
        cmocka_unit_test(nameaddr_errors),
        cmocka_unit_test(contact_star),
        cmocka_unit_test(contact_q_values),
        cmocka_unit_test(contact_expires),
        cmocka_unit_test(via_basic),
        cmocka_unit_test(via_ports_and_params),
        cmocka_unit_test(via_ipv6),
        cmocka_unit_test(via_errors),
        cmocka_unit_test(rfc5118_header_values),
        cmocka_unit_test(event_values),
        cmocka_unit_test(substate_values),
        cmocka_unit_test(ctype_values),
        cmocka_unit_test(views_empty_input),
        cmocka_unit_test(views_allocate_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
