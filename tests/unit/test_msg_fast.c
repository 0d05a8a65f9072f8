/*
 * The parser's fast paths give the answers of the general ones: typed
 * iterators that skip the comma split, the top Via read without it,
 * header names matched a word at a time, quoted strings skipped sixteen
 * octets at a time, and numbers range-checked without division.
 */
#include "support.h"

#include <stdio.h>
#include <string.h>

#include <sipkit/msg.h>

static const char msg_head[] = "REGISTER sip:example.com SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
                               "From: <sip:a@example.com>;tag=1\r\n"
                               "To: <sip:a@example.com>\r\n"
                               "Call-ID: x1\r\n"
                               "CSeq: 1 REGISTER\r\n";

/* Values where splitting at commas and parsing disagree on where quotes
 * and brackets end, or where a value is refused. */
static const char *const contact_values[] = {
    "<sip:a@b>",
    "\"A, B\" <sip:a@b>",
    "\"unterminated <sip:a@b>",
    "<sip:a@b>;p=\"x,y\"",
    "<sip:a@b>;p=\"x\\\"y\"",
    "<sip:a@b>;p=\"x\\",
    "<sip:a@b>;p=\"x",
    "<sip:a@b>, <sip:c@d>",
    "<sip:a@b>,",
    ", <sip:a@b>",
    "<sip:a@b>,,<sip:c@d>",
    "sip:a@b;x=1",
    "sip:a@b?h=1",
    "*",
    "<sip:a@b;x=1,2>",
    "\"\\\"\" <sip:a@b>",
    "a\\\"b <sip:x@y>",
    "a\\\"b <sip:x@y>, \"",
    "<sip:a@b>;q=0.5;expires=10",
    "<sip:a@b>;q=2",
    "<sip:a@b>\"",
    "<sip:a@b> ; tag = x\"",
    "<sip:a@b>;x=\"a,b\", <sip:c@d>;y=\"",
};

static const char *const via_values[] = {
    "SIP/2.0/UDP g.example.com",
    "SIP/2.0/UDP g;x=\"a,b\"",
    "SIP/2.0/UDP g;x=\"a",
    "SIP/2.0/UDP g;x=\\\"",
    "SIP/2.0/UDP g, SIP/2.0/TCP k",
    "SIP/2.0/UDP g,",
    "SIP/2.0/UDP g;received=\"1.2.3.4\"",
    "SIP/2.0/UDP g;branch=\"z9hG4bK,1\", SIP/2.0/UDP k",
};

static const char *const route_values[] = {
    "<sip:p1.example.com;lr>", "\"x <sip:p1>", "<sip:p1;lr>, <sip:p2;lr>",
    "\"P, 1\" <sip:p1>;x=\"y", "sip:p1",
};

static void build(char *buf, size_t size, const char *hdr, const char *value)
{
    int n = snprintf(buf, size, "%s%s: %s\r\n%s: <sip:z@y>\r\nContent-Length: 0\r\n\r\n", msg_head,
                     hdr, value, hdr);
    assert_true(n > 0 && (size_t)n < size);
}

/* The general path: split at commas, then parse the value. */
static int ref_next(struct sk_hdr_iter *it, enum sk_hdr_id id, void *out)
{
    struct sk_slice v;
    int r = sk_hdr_iter_next(it, &v);

    if (r <= 0)
        return r;
    if (id == SK_HDR_VIA)
        return sk_via_parse(v, out) == 0 ? 1 : SK_EPARSE;
    if (id == SK_HDR_ROUTE)
        return sk_nameaddr_parse(v, out) == 0 ? 1 : SK_EPARSE;
    struct sk_contact *c = out;
    if (sk_contact_parse(v, c) != 0)
        return SK_EPARSE;
    if (!c->star && !c->addr.bracketed && c->addr.uri.headers.len > 0)
        return SK_EPARSE;
    return 1;
}

static int typed_next(struct sk_hdr_iter *it, enum sk_hdr_id id, void *out)
{
    if (id == SK_HDR_VIA)
        return sk_msg_via_next(it, out);
    if (id == SK_HDR_ROUTE)
        return sk_msg_nameaddr_next(it, out);
    return sk_msg_contact_next(it, out);
}

/* Walk a header both ways, comparing every answer and iterator state,
 * also after a failure (the caller may go on). */
static void walk_both(const struct sk_msg *m, enum sk_hdr_id id, const char *value)
{
    struct sk_hdr_iter a, b;
    union {
        struct sk_contact c;
        struct sk_via v;
        struct sk_nameaddr na;
    } ua, ub;

    sk_hdr_iter_init(&a, m, id);
    sk_hdr_iter_init(&b, m, id);
    for (int step = 0; step < 6; step++) {
        int ra = typed_next(&a, id, &ua);
        int rb = ref_next(&b, id, &ub);
        if (ra != rb || a.idx != b.idx || a.rest.p != b.rest.p || a.rest.len != b.rest.len)
            fail_msg("%s value [%s] step %d: fast %d, general %d", sk_hdr_name(id), value, step, ra,
                     rb);
        if (ra == 1 && id == SK_HDR_CONTACT) {
            assert_true(sk_slice_eq(ua.c.addr.raw, ub.c.addr.raw));
            assert_int_equal(ua.c.expires, ub.c.expires);
            assert_int_equal(ua.c.q, ub.c.q);
        }
        if (ra == 0)
            break;
    }
}

static void run_values(enum sk_hdr_id id, const char *hdr, const char *const *values, size_t n)
{
    char buf[1024];
    struct sk_msg m;

    sk_msg_init(&m);
    for (size_t i = 0; i < n; i++) {
        build(buf, sizeof(buf), hdr, values[i]);
        assert_int_equal(sk_msg_parse(&m, buf, strlen(buf), SK_MSG_DATAGRAM, NULL), 0);
        walk_both(&m, id, values[i]);
    }
    sk_msg_free(&m);
}

static void typed_iterators_match_comma_split(void **state)
{
    (void)state;
    run_values(SK_HDR_CONTACT, "Contact", contact_values,
               sizeof(contact_values) / sizeof(contact_values[0]));
    run_values(SK_HDR_VIA, "Via", via_values, sizeof(via_values) / sizeof(via_values[0]));
    run_values(SK_HDR_ROUTE, "Route", route_values, sizeof(route_values) / sizeof(route_values[0]));
}

/* The top Via is read without the comma split when there is no comma. */
static void top_via_with_and_without_commas(void **state)
{
    static const struct {
        const char *via;
        int rc;
        const char *host;
    } cases[] = {
        {"SIP/2.0/UDP g.example.com;branch=z9hG4bK1", 0, "g.example.com"},
        {"SIP/2.0/UDP g;x=\"a,b\";branch=z9hG4bK1", 0, "g"},
        {"SIP/2.0/UDP g;x=\"a;branch=z9hG4bK1", SK_EPARSE, NULL},
        {"SIP/2.0/UDP g;branch=z9hG4bK1;x=\"a\\", SK_EPARSE, NULL},
        {"SIP/2.0/UDP g;branch=z9hG4bK1, SIP/2.0/TCP k", 0, "g"},
        {"SIP/2.0/UDP g;branch=z9hG4bK1,", SK_EPARSE, NULL},
        {"SIP/2.0/UDP g;branch=\"z9hG4bK1\"", SK_EPARSE, NULL},
    };
    char buf[512];
    struct sk_msg m;
    (void)state;

    sk_msg_init(&m);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = snprintf(buf, sizeof(buf),
                         "OPTIONS sip:x@example.com SIP/2.0\r\nVia: %s\r\nFrom: <sip:a@b>;tag=1\r\n"
                         "To: <sip:x@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
                         cases[i].via);
        assert_true(n > 0 && (size_t)n < sizeof(buf));
        int r = sk_msg_parse(&m, buf, (size_t)n, SK_MSG_DATAGRAM, NULL);
        if (r != cases[i].rc)
            fail_msg("Via [%s]: %d, expected %d", cases[i].via, r, cases[i].rc);
        if (r == 0)
            assert_slice_equal(m.via.host, cases[i].host);
        else
            assert_int_equal(m.cause_hdr, SK_HDR_VIA);
    }
    sk_msg_free(&m);
}

static void set_case(char *dst, const char *src, bool upper)
{
    for (; *src != '\0'; src++, dst++)
        *dst = (char)(upper && *src >= 'a' && *src <= 'z'    ? *src - 32
                      : !upper && *src >= 'A' && *src <= 'Z' ? *src + 32
                                                             : *src);
    *dst = '\0';
}

/* Every known name in any case; near misses are unknown. */
static void header_names_match_exactly(void **state)
{
    char name[64];
    (void)state;

    for (int id = 1; id < SK_HDR__COUNT; id++) {
        const char *n = sk_hdr_name((enum sk_hdr_id)id);
        size_t len = strlen(n);
        if (len < 2 || len + 2 > sizeof(name)) {
            fail_msg("header %d: name of %zu octets", id, len);
            continue;
        }
        assert_int_equal(sk_hdr_lookup(S(n)), id);
        set_case(name, n, true);
        assert_int_equal(sk_hdr_lookup(S(name)), id);
        set_case(name, n, false);
        assert_int_equal(sk_hdr_lookup(S(name)), id);
        /* Each octet changed to something that differs from it only in
         * bit 0x20, or to '_': never this header. */
        for (size_t k = 0; k < len; k++) {
            char saved = name[k];
            bool letter = (saved >= 'a' && saved <= 'z');
            name[k] = letter ? '_' : (char)(saved ^ 0x20);
            assert_int_not_equal(sk_hdr_lookup(S(name)), id);
            name[k] = saved;
        }
        memcpy(name + len, " ", 2);
        assert_int_equal(sk_hdr_lookup(S(name)), SK_HDR_OTHER);
        name[len - 1] = '\0'; /* one octet short ("T" is To's compact form) */
        if (len > 2)
            assert_int_not_equal(sk_hdr_lookup(S(name)), id);
    }
    assert_int_equal(sk_hdr_lookup(S("Content\rLength")), SK_HDR_OTHER);
    assert_int_equal(sk_hdr_lookup(S("CONTENT-LENGTH")), SK_HDR_CONTENT_LENGTH);
    assert_int_equal(sk_hdr_lookup(S("Content_Length")), SK_HDR_OTHER);
    assert_int_equal(sk_hdr_lookup(S("v")), SK_HDR_VIA);
    assert_int_equal(sk_hdr_lookup(S("M")), SK_HDR_CONTACT);
    assert_int_equal(sk_hdr_lookup(S("")), SK_HDR_OTHER);
    assert_int_equal(sk_hdr_lookup(S("X-Unknown")), SK_HDR_OTHER);
}

/* A header line with white space before the colon, a known name in odd
 * case, and an unknown name all split as before. */
static void header_lines_split(void **state)
{
    static const char text[] = "OPTIONS sip:x@example.com SIP/2.0\r\n"
                               "vIA  \t: SIP/2.0/UDP g;branch=z9hG4bK1\r\n"
                               "f: <sip:a@b>;tag=1\r\n"
                               "To: <sip:x@example.com>\r\n"
                               "X-Odd:Name: value\r\n"
                               "Call-ID: c\r\n"
                               "CSeq: 1 OPTIONS\r\n\r\n";
    struct sk_msg m;
    (void)state;

    sk_msg_init(&m);
    assert_int_equal(sk_msg_parse(&m, text, strlen(text), SK_MSG_DATAGRAM, NULL), 0);
    assert_int_equal(m.hdrs[0].id, SK_HDR_VIA);
    assert_slice_equal(m.hdrs[0].name, "vIA");
    assert_slice_equal(m.hdrs[0].value, "SIP/2.0/UDP g;branch=z9hG4bK1");
    assert_int_equal(m.hdrs[1].id, SK_HDR_FROM);
    assert_int_equal(m.hdrs[3].id, SK_HDR_OTHER);
    assert_slice_equal(m.hdrs[3].name, "X-Odd");
    assert_slice_equal(m.hdrs[3].value, "Name: value");

    static const char bad[] = "OPTIONS sip:x@example.com SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP g;branch=z9hG4bK1\r\n"
                              "Call ID: c\r\n\r\n";
    assert_int_equal(sk_msg_parse(&m, bad, strlen(bad), SK_MSG_DATAGRAM, NULL), SK_EPARSE);
    assert_int_equal(m.cause, SK_CAUSE_HEADER_LINE);
    assert_slice_equal(m.cause_name, "Call");
    sk_msg_free(&m);
}

/* A quoted string of len octets with c at pos, in a digest parameter and
 * in a display name. */
static void quoted_with(char *q, size_t len, size_t pos, const char *c, size_t clen)
{
    memset(q, 'a', len);
    memcpy(q + pos, c, clen);
    q[len] = '\0';
}

static int digest_with(const char *q, size_t qlen)
{
    char buf[256];
    struct sk_digest_hdr h;

    memcpy(buf, "Digest realm=\"", 14);
    memcpy(buf + 14, q, qlen);
    memcpy(buf + 14 + qlen, "\", nonce=\"n\"", 12);
    int r = sk_digest_hdr_parse(sk_slice_make(buf, 26 + qlen), &h);
    if (r == 0 && !sk_slice_eq(h.f[SK_DIG_REALM], sk_slice_make(buf + 14, qlen)))
        return -1000;
    return r;
}

static int display_with(const char *q, size_t qlen)
{
    char buf[256];
    struct sk_nameaddr na;

    buf[0] = '"';
    memcpy(buf + 1, q, qlen);
    memcpy(buf + 1 + qlen, "\" <sip:a@b>", 11);
    int r = sk_nameaddr_parse(sk_slice_make(buf, 12 + qlen), &na);
    if (r == 0 && !sk_slice_eq(na.display, sk_slice_make(buf + 1, qlen)))
        return -1000;
    return r;
}

static void quoted_strings_at_every_offset(void **state)
{
    static const struct {
        const char *c;
        size_t len;
        bool ok;
    } cases[] = {
        {"\x01", 1, false}, {"\x1f", 1, false},   {"\x7f", 1, false},    {"\0", 1, false},
        {"\t", 1, true},    {"\\\"", 2, true},    {"\xc3\xa9", 2, true}, {"~", 1, true},
        {"\\\r", 2, false}, {"\\\x80", 2, false},
    };
    char q[80];
    (void)state;

    for (size_t len = 2; len < 40; len++) {
        for (size_t pos = 0; pos + 2 <= len; pos++) {
            for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
                quoted_with(q, len, pos, cases[k].c, cases[k].len);
                int want = cases[k].ok ? 0 : SK_EPARSE;
                if (digest_with(q, len) != want || display_with(q, len) != want)
                    fail_msg("case %zu, length %zu, offset %zu: digest %d, display %d", k, len, pos,
                             digest_with(q, len), display_with(q, len));
            }
        }
    }
}

static void numbers_at_their_bounds(void **state)
{
    uint64_t v;
    (void)state;

    assert_int_equal(sk_slice_to_u64(S("4294967295"), UINT32_MAX, &v), 0);
    assert_true(v == UINT32_MAX);
    assert_int_equal(sk_slice_to_u64(S("4294967296"), UINT32_MAX, &v), SK_ETOOBIG);
    assert_int_equal(sk_slice_to_u64(S("18446744073709551615"), UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(sk_slice_to_u64(S("18446744073709551616"), UINT64_MAX, &v), SK_ETOOBIG);
    assert_int_equal(sk_slice_to_u64(S("255"), 255, &v), 0);
    assert_int_equal(sk_slice_to_u64(S("256"), 255, &v), SK_ETOOBIG);
    assert_int_equal(sk_slice_to_u64(S("0000000000000000000000255"), 255, &v), 0);
    assert_true(v == 255);
    /* Overflow is reported where it happens, before a later bad octet. */
    assert_int_equal(sk_slice_to_u64(S("2560x"), 255, &v), SK_ETOOBIG);
    assert_int_equal(sk_slice_to_u64(S("25x"), 255, &v), SK_EPARSE);
    /* Bounds below 9 hold too. */
    assert_int_equal(sk_slice_to_u64(S("5"), 5, &v), 0);
    assert_int_equal(sk_slice_to_u64(S("7"), 5, &v), SK_ETOOBIG);
    assert_int_equal(sk_slice_to_u64(S("0"), 0, &v), 0);
    assert_int_equal(sk_slice_to_u64(S("1"), 0, &v), SK_ETOOBIG);
}

/* The digit-by-digit definition: overflow is reported at the digit that
 * causes it. */
static int ref_u64(struct sk_slice s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s.len == 0)
        return SK_EPARSE;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return SK_EPARSE;
        uint64_t d = (uint64_t)(s.p[i] - '0');
        if (v > max / 10 || (v == max / 10 && d > max % 10))
            return SK_ETOOBIG;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static void numbers_match_definition(void **state)
{
    static const uint64_t maxes[] = {0,          5,           9,           10,
                                     255,        65535,       0x7fffffffu, UINT32_MAX,
                                     999999999u, 1000000000u, UINT64_MAX,  10000000000000000000u};
    static const char digits[] = "0123456789999x";
    uint64_t seed = 42;
    char buf[24];
    (void)state;

    for (int n = 0; n < 300000; n++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t len = (size_t)(seed >> 59) % 23;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            buf[i] = digits[(seed >> 40) % (sizeof(digits) - 1)];
        }
        uint64_t max = maxes[(seed >> 20) % (sizeof(maxes) / sizeof(maxes[0]))];
        uint64_t a = 1, b = 2;
        int ra = sk_slice_to_u64(sk_slice_make(buf, len), max, &a);
        int rb = ref_u64(sk_slice_make(buf, len), max, &b);
        if (ra != rb || (ra == 0 && a != b))
            fail_msg("[%.*s] max %llu: %d, expected %d", (int)len, buf, (unsigned long long)max, ra,
                     rb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(typed_iterators_match_comma_split),
        cmocka_unit_test(top_via_with_and_without_commas),
        cmocka_unit_test(header_names_match_exactly),
        cmocka_unit_test(header_lines_split),
        cmocka_unit_test(quoted_strings_at_every_offset),
        cmocka_unit_test(numbers_at_their_bounds),
        cmocka_unit_test(numbers_match_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
