/*
 * Unit tests for the response-code catalog: every code of the IANA
 * registry (shared test data iana/sip-response-codes.tsv) has an entry with
 * the registry's phrase, class and reference and complete texts; nothing
 * else is in the catalog; unregistered codes map to their class.
 */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <sipkit/codes.h>

#define REGISTRY_ROWS 75

struct row {
    unsigned code;
    char phrase[64];
    char klass[8];
    char ref[32];
};

/* Copy the next tab- or newline-terminated field of *p into dst. */
static int next_field(const char **p, char *dst, size_t dstsz)
{
    size_t n = strcspn(*p, "\t\r\n");

    if (n >= dstsz)
        return -1;
    memcpy(dst, *p, n);
    dst[n] = '\0';
    *p += n;
    if (**p == '\t')
        (*p)++;
    return 0;
}

/* Parse the registry file into rows; returns the row count. */
static size_t load_registry(struct row *rows, size_t max)
{
    size_t len, n = 0;
    char *text = sk_test_read_file(sk_test_data("iana/sip-response-codes.tsv"), &len);
    const char *p;

    assert_non_null(text);
    p = strchr(text, '\n'); /* skip the header line */
    assert_non_null(p);
    p++;
    while (*p != '\0') {
        char num[8];
        uint64_t v;

        assert_true(n < max);
        assert_int_equal(next_field(&p, num, sizeof(num)), 0);
        assert_int_equal(sk_slice_to_u64(S(num), 999, &v), 0);
        rows[n].code = (unsigned)v;
        assert_int_equal(next_field(&p, rows[n].phrase, sizeof(rows[n].phrase)), 0);
        assert_int_equal(next_field(&p, rows[n].klass, sizeof(rows[n].klass)), 0);
        assert_int_equal(next_field(&p, rows[n].ref, sizeof(rows[n].ref)), 0);
        while (*p == '\r' || *p == '\n')
            p++;
        n++;
    }
    free(text);
    return n;
}

static bool in_registry(const struct row *rows, size_t n, unsigned code)
{
    for (size_t i = 0; i < n; i++) {
        if (rows[i].code == code)
            return true;
    }
    return false;
}

/* Printable ASCII, plus the section sign (UTF-8 C2 A7) used in citations. */
static void assert_clean_text(const char *s, unsigned code)
{
    assert_non_null(s);
    if (s[0] == '\0' || s[0] == ' ' || s[strlen(s) - 1] == ' ' || strstr(s, "  ") != NULL)
        fail_msg("code %u: empty text or stray spaces: \"%s\"", code, s);
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
        if (c[0] == 0xC2 && c[1] == 0xA7) {
            c++;
            continue;
        }
        if (*c < 0x20 || *c > 0x7E)
            fail_msg("code %u: byte 0x%02x in \"%s\"", code, *c, s);
    }
}

static void assert_sentence(const char *s, unsigned code)
{
    assert_clean_text(s, code);
    if (s[strlen(s) - 1] != '.')
        fail_msg("code %u: text does not end with a period: \"%s\"", code, s);
}

static void registry_codes_all_present(void **state)
{
    struct row rows[100];
    size_t n = load_registry(rows, 100);
    (void)state;

    assert_int_equal(n, REGISTRY_ROWS);
    for (size_t i = 0; i < n; i++) {
        const struct sk_code_info *e = sk_code_lookup(rows[i].code);
        const struct sk_code_class *c = sk_code_class_of(rows[i].code);

        if (e == NULL)
            fail_msg("registry code %u has no catalog entry", rows[i].code);
        assert_int_equal(e->code, rows[i].code);
        assert_string_equal(e->phrase, rows[i].phrase);
        assert_string_equal(e->rfc, rows[i].ref);
        assert_non_null(c);
        assert_string_equal(c->label, rows[i].klass);
    }
    /* Same size and every registry code found: the catalog holds nothing else. */
    assert_int_equal(sk_code_count(), REGISTRY_ROWS);
}

static void entry_texts_complete(void **state)
{
    (void)state;
    for (size_t i = 0; i < sk_code_count(); i++) {
        const struct sk_code_info *e = sk_code_at(i);

        assert_non_null(e);
        assert_clean_text(e->summary, e->code);
        if (strlen(e->summary) > 64 || e->summary[strlen(e->summary) - 1] == '.')
            fail_msg("code %u: summary too long or ends with a period", e->code);
        assert_sentence(e->meaning, e->code);
        assert_sentence(e->when, e->code);
        assert_sentence(e->fix, e->code);
        assert_clean_text(e->section, e->code);
        assert_true(strncmp(e->rfc, "RFC", 3) == 0);
        assert_true(e->sent_by != 0);
        if (e->headers != NULL)
            assert_clean_text(e->headers, e->code);
        if (e->related != NULL)
            assert_clean_text(e->related, e->code);
        for (size_t k = 0; k < SK_CODE_MAX_NOTES && e->notes[k].method != NULL; k++) {
            assert_clean_text(e->notes[k].method, e->code);
            assert_sentence(e->notes[k].text, e->code);
        }
        /* What the sender can do follows from the class for 1xx-3xx. */
        if (e->code < 300)
            assert_int_equal(e->retry, SK_CODE_RETRY_NONE);
        else if (e->code < 400)
            assert_int_equal(e->retry, SK_CODE_RETRY_REDIRECT);
        else
            assert_true(e->retry != SK_CODE_RETRY_NONE && e->retry != SK_CODE_RETRY_REDIRECT);
    }
}

static void iteration_sorted_and_consistent(void **state)
{
    unsigned prev = 0;
    (void)state;
    for (size_t i = 0; i < sk_code_count(); i++) {
        const struct sk_code_info *e = sk_code_at(i);

        assert_true(e->code > prev);
        assert_ptr_equal(sk_code_lookup(e->code), e);
        prev = e->code;
    }
    assert_int_equal(sk_code_at(0)->code, 100);
    assert_int_equal(sk_code_at(sk_code_count() - 1)->code, 608);
    assert_null(sk_code_at(sk_code_count()));
}

static void unregistered_codes_map_to_class(void **state)
{
    static const char *const names[] = {"Provisional",    "Success",        "Redirection",
                                        "Client Failure", "Server Failure", "Global Failure"};
    struct row rows[100];
    size_t n = load_registry(rows, 100);
    (void)state;

    for (unsigned code = SK_CODE_MIN; code <= SK_CODE_MAX; code++) {
        const struct sk_code_class *c = sk_code_class_of(code);

        assert_non_null(c);
        assert_int_equal(c->digit, code / 100);
        assert_string_equal(c->name, names[code / 100 - 1]);
        if (in_registry(rows, n, code))
            continue;
        assert_null(sk_code_lookup(code));
        assert_string_equal(sk_code_phrase(code), c->phrase);
        assert_string_equal(sk_code_summary(code), c->summary);
    }
    assert_string_equal(sk_code_class_of(499)->label, "4xx");
    assert_string_equal(sk_code_phrase(499), "Client Failure");
    assert_string_equal(sk_code_phrase(699), "Global Failure");
    assert_string_equal(sk_code_phrase(150), "Provisional");
}

static void non_codes_rejected(void **state)
{
    static const unsigned bad[] = {0, 1, 99, 700, 999, 1000, 4011, 0xFFFFFFFFu};
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(sk_code_valid(bad[i]));
        assert_null(sk_code_lookup(bad[i]));
        assert_null(sk_code_class_of(bad[i]));
        assert_string_equal(sk_code_phrase(bad[i]), "Unknown");
    }
    assert_true(sk_code_valid(100));
    assert_true(sk_code_valid(699));
}

static void wire_phrases(void **state)
{
    (void)state;
    assert_string_equal(sk_code_phrase(200), "OK");
    assert_string_equal(sk_code_phrase(401), "Unauthorized");
    assert_string_equal(sk_code_phrase(481), "Call/Transaction Does Not Exist");
    /* The registry marks 202 deprecated in its phrase; the wire phrase is plain. */
    assert_string_equal(sk_code_lookup(202)->phrase, "Accepted (Deprecated)");
    assert_string_equal(sk_code_phrase(202), "Accepted");
}

static void method_notes_present(void **state)
{
    /* Codes whose meaning depends on the method carry notes for it. */
    static const struct {
        unsigned code;
        const char *method;
    } want[] = {
        {200, "INVITE"}, {200, "REGISTER"},  {200, "SUBSCRIBE"}, {401, "REGISTER"},
        {407, "INVITE"}, {423, "REGISTER"},  {423, "SUBSCRIBE"}, {481, "BYE"},
        {481, "NOTIFY"}, {489, "SUBSCRIBE"}, {489, "PUBLISH"},   {202, "REFER"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct sk_code_info *e = sk_code_lookup(want[i].code);
        bool found = false;

        for (size_t k = 0; k < SK_CODE_MAX_NOTES && e->notes[k].method != NULL; k++)
            found = found || strcmp(e->notes[k].method, want[i].method) == 0;
        if (!found)
            fail_msg("code %u has no %s note", want[i].code, want[i].method);
    }
    assert_non_null(strstr(sk_code_lookup(401)->headers, "WWW-Authenticate"));
    assert_non_null(strstr(sk_code_lookup(407)->headers, "Proxy-Authenticate"));
    assert_non_null(strstr(sk_code_lookup(423)->headers, "Min-Expires"));
    assert_non_null(strstr(sk_code_lookup(405)->headers, "Allow"));
    assert_non_null(strstr(sk_code_lookup(420)->headers, "Unsupported"));
    assert_non_null(strstr(sk_code_lookup(489)->headers, "Allow-Events"));
    assert_non_null(strstr(sk_code_lookup(503)->headers, "Retry-After"));
    assert_non_null(strstr(sk_code_lookup(302)->headers, "Contact"));
}

static void pair_notes(void **state)
{
    static const unsigned pairs[][2] = {
        {401, 407}, {403, 401}, {404, 480}, {486, 600}, {301, 302}, {500, 503},
        {408, 504}, {480, 486}, {405, 501}, {415, 488}, {481, 487}, {200, 202},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        const char *ab = sk_code_pair_note(pairs[i][0], pairs[i][1]);

        if (ab == NULL)
            fail_msg("no note for %u/%u", pairs[i][0], pairs[i][1]);
        assert_ptr_equal(ab, sk_code_pair_note(pairs[i][1], pairs[i][0]));
        assert_sentence(ab, pairs[i][0]);
    }
    assert_null(sk_code_pair_note(100, 608));
    assert_null(sk_code_pair_note(401, 401));
}

static void format_line(void **state)
{
    struct sk_buf b;
    (void)state;
    sk_test_alloc_hook();
    sk_buf_init(&b);
    assert_int_equal(sk_code_format_line(&b, 401), 0);
    assert_string_equal(b.p, "401 Unauthorized: credentials needed: resend with Authorization");
    sk_buf_reset(&b);
    assert_int_equal(sk_code_format_line(&b, 499), 0);
    assert_string_equal(b.p, "499 Client Failure: request failure: this server will not handle "
                             "the request as sent");
    sk_buf_reset(&b);
    assert_int_equal(sk_code_format_line(&b, 700), 0);
    assert_string_equal(b.p, "700 Unknown: not a SIP response code (valid codes are 100..699)");
    sk_buf_free(&b);

    sk_buf_init(&b);
    sk_test_alloc_fail_at(1);
    assert_int_equal(sk_code_format_line(&b, 200), SK_ENOMEM);
    sk_buf_free(&b);
    assert_int_equal(sk_test_alloc_live(), 0);
    sk_test_alloc_unhook();
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(sk_code_retry_name(SK_CODE_RETRY_FIX), "fix-and-resend");
    assert_string_equal(sk_code_retry_name(SK_CODE_RETRY_NEVER), "do-not-retry");
    assert_string_equal(sk_code_origin_name(SK_CODE_BY_PROXY), "proxy");
    assert_string_equal(sk_code_origin_name(SK_CODE_BY_LOCAL), "local stack");
    assert_null(sk_code_origin_name(3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry_codes_all_present),
        cmocka_unit_test(entry_texts_complete),
        cmocka_unit_test(iteration_sorted_and_consistent),
        cmocka_unit_test(unregistered_codes_map_to_class),
        cmocka_unit_test(non_codes_rejected),
        cmocka_unit_test(wire_phrases),
        cmocka_unit_test(method_notes_present),
        cmocka_unit_test(pair_notes),
        cmocka_unit_test(format_line),
        cmocka_unit_test(names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
