/* Unit tests for transport addresses: parsing and formatting IPv4 and
 * IPv6 socket addresses (the IPv4 formatter is hand-written for the
 * receive path, so every digit-count case is covered). */
#include "support.h"

#include <sipkit/transport.h>

#include <string.h>

static const char *host_of(const char *text, bool brackets)
{
    static char buf[SK_ADDR_STRLEN];
    struct sk_addr a;

    assert_int_equal(sk_addr_parse(S(text), 5060, &a), 0);
    return sk_addr_format_host(&a, brackets, buf, sizeof(buf));
}

static void format_ipv4(void **state)
{
    (void)state;
    assert_string_equal(host_of("0.0.0.0", false), "0.0.0.0");
    assert_string_equal(host_of("255.255.255.255", false), "255.255.255.255");
    assert_string_equal(host_of("10.0.100.9", true), "10.0.100.9");
    assert_string_equal(host_of("1.20.199.3:7", false), "1.20.199.3");
    assert_string_equal(host_of("127.0.0.1", false), "127.0.0.1");
}

static void format_ipv6(void **state)
{
    (void)state;
    assert_string_equal(host_of("[::1]", false), "::1");
    assert_string_equal(host_of("[::1]", true), "[::1]");
    assert_string_equal(host_of("[2001:db8::a:0:1]:5070", true), "[2001:db8::a:0:1]");
}

static void format_with_port(void **state)
{
    struct sk_addr a;
    char buf[SK_ADDR_STRLEN];

    (void)state;
    assert_int_equal(sk_addr_parse(S("192.168.10.200:65535"), 0, &a), 0);
    assert_string_equal(sk_addr_format(&a, buf, sizeof(buf)), "192.168.10.200:65535");
    assert_int_equal(sk_addr_parse(S("[::1]:5070"), 0, &a), 0);
    assert_string_equal(sk_addr_format(&a, buf, sizeof(buf)), "[::1]:5070");
}

static void short_buffer_gets_empty_text(void **state)
{
    struct sk_addr a;
    char buf[8];

    (void)state;
    assert_int_equal(sk_addr_parse(S("192.168.10.200"), 5060, &a), 0);
    memset(buf, 'x', sizeof(buf));
    assert_string_equal(sk_addr_format_host(&a, false, buf, sizeof(buf)), "");
    assert_int_equal(sk_addr_parse(S("1.2.3.4"), 5060, &a), 0);
    assert_string_equal(sk_addr_format_host(&a, false, buf, sizeof(buf)), "1.2.3.4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_ipv4),
        cmocka_unit_test(format_ipv6),
        cmocka_unit_test(format_with_port),
        cmocka_unit_test(short_buffer_gets_empty_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
