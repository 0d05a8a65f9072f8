/*
 * Conformance against test material written outside sipkit:
 *  - RFC 4475 torture messages and RFC 5118 IPv6 messages: every entry of
 *    their INDEX.tsv has a verdict here, consistent with the INDEX class,
 *    with the fields the RFC points at checked or the refusal cause named;
 *  - every message of the RFC 3665 call flows and of other/ parses;
 *  - the concatenated streams of other/php-sip-streams frame into the
 *    right number of messages at every split point of the input.
 * The verdict is sk_msg_parse() followed by sk_msg_check(), as `sipkit
 * parse` and the server use them.
 */
#include "support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/msg.h>

#include "msgfields.h"

struct verdict {
    const char *name;
    enum sk_msg_cause cause; /* SK_CAUSE_NONE: must parse */
    enum sk_hdr_id hdr;      /* header named by the cause, when one is */
    const char *checks;      /* fields of a valid message */
    bool liberal;            /* the INDEX allows the other verdict too */
};

static const struct verdict rfc4475[] = {
    {"wsinv", SK_CAUSE_NONE, 0,
     "method=INVITE|vias=3|via.transport=UDP|via.host=192.0.2.2|via.branch=390skdjuw"
     "|via2.host=spindle.example.com|from.tag=98asjd8|to.tag=1918181833n|cseq.num=9"
     "|call_id=wsinv.ndaksdj@192.0.2.1|max_forwards=68|content_length=150"},
    {"intmeth", SK_CAUSE_NONE, 0,
     "method=!interesting-Method0123456789_*+`.%indeed'~|method_id=0"
     "|ruri.user=1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/"
     ";;*|ruri.password=&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
     "|ruri.host=example.com|from.tag=_token~1'+`*%!-."},
    {"esc01", SK_CAUSE_NONE, 0, "ruri.user=sips%3Auser%40example.com|ruri.host=example.net"},
    {"escnull", SK_CAUSE_NONE, 0, "contacts=2|contact1.uri.user=%00|contact2.uri.user=%00%00"},
    {"esc02", SK_CAUSE_NONE, 0, "method=RE%47IST%45R|method_id=0|contacts=2"},
    {"lwsdisp", SK_CAUSE_NONE, 0, "from.display=caller|from.tag=323"},
    {"longreq", SK_CAUSE_NONE, 0, "vias=34|to.tag=|method=INVITE"},
    {"dblreq", SK_CAUSE_NONE, 0, "method=REGISTER|content_length=0|body="},
    {"semiuri", SK_CAUSE_NONE, 0, "ruri.user=user;par=u%40example.net|ruri.host=example.com"},
    {"transports", SK_CAUSE_NONE, 0, "vias=5|via.transport=UDP|via2.transport=SCTP"},
    {"mpart01", SK_CAUSE_NONE, 0, "content_length=553|method=MESSAGE"},
    {"unreason", SK_CAUSE_NONE, 0, "status=200|is_request=0"},
    {"noreason", SK_CAUSE_NONE, 0, "status=100|reason="},
    {"badinv01", SK_CAUSE_MALFORMED_HDR, SK_HDR_VIA},
    {"clerr", SK_CAUSE_BODY_SHORT, SK_HDR_CONTENT_LENGTH},
    {"ncl", SK_CAUSE_CONTENT_LENGTH, SK_HDR_CONTENT_LENGTH},
    {"scalar02", SK_CAUSE_MALFORMED_HDR, SK_HDR_CSEQ},
    {"scalarlg", SK_CAUSE_MALFORMED_HDR, SK_HDR_CSEQ},
    {"quotbal", SK_CAUSE_MALFORMED_HDR, SK_HDR_TO},
    {"ltgtruri", SK_CAUSE_REQUEST_URI, 0},
    {"lwsruri", SK_CAUSE_START_LINE, 0},
    {"lwsstart", SK_CAUSE_START_LINE, 0},
    {"trws", SK_CAUSE_START_LINE, 0},
    {"escruri", SK_CAUSE_REQUEST_URI, 0},
    {"baddate", SK_CAUSE_MALFORMED_HDR, SK_HDR_DATE},
    {"regbadct", SK_CAUSE_MALFORMED_HDR, SK_HDR_CONTACT},
    {"badaspec", SK_CAUSE_MALFORMED_HDR, SK_HDR_TO},
    {"baddn", SK_CAUSE_MALFORMED_HDR, SK_HDR_FROM},
    {"badvers", SK_CAUSE_VERSION, 0},
    {"mismatch01", SK_CAUSE_CSEQ_METHOD, SK_HDR_CSEQ},
    {"mismatch02", SK_CAUSE_CSEQ_METHOD, SK_HDR_CSEQ},
    {"bigcode", SK_CAUSE_STATUS_CODE, 0},
    /* Transaction and application layer cases parse; the layers above
     * decide (400 for a bare branch, 416, 420, 415, 483...). */
    {"badbranch", SK_CAUSE_NONE, 0, "via.branch=z9hG4bK"},
    {"insuf", SK_CAUSE_MISSING_HDR, SK_HDR_FROM},
    {"unkscm", SK_CAUSE_NONE, 0, "ruri.scheme=other"},
    {"novelsc", SK_CAUSE_NONE, 0, "ruri.scheme=other"},
    {"unksm2", SK_CAUSE_NONE, 0, "to.uri.scheme=other|from.uri.scheme=other"},
    {"bext01", SK_CAUSE_NONE, 0, "hdr:Require=nothingSupportsThis, nothingSupportsThisEither"},
    {"invut", SK_CAUSE_NONE, 0, "hdr:Content-Type=application/unknownformat"},
    {"regaut01", SK_CAUSE_NONE, 0, "method=REGISTER"},
    {"multi01", SK_CAUSE_DUPLICATE_HDR, SK_HDR_CSEQ},
    {"mcl01", SK_CAUSE_DUPLICATE_HDR, SK_HDR_CONTENT_LENGTH},
    {"bcast", SK_CAUSE_NONE, 0, "vias=2|via2.host=255.255.255.255"},
    {"zeromf", SK_CAUSE_NONE, 0, "max_forwards=0"},
    {"cparam01", SK_CAUSE_NONE, 0, "contacts=1|contact1.uri.params="},
    {"cparam02", SK_CAUSE_NONE, 0, "contacts=1|contact1.uri.params=unknownparam"},
    {"regescrt", SK_CAUSE_NONE, 0, "contacts=1"},
    {"sdp01", SK_CAUSE_NONE, 0, "method=INVITE"},
    {"inv2543", SK_CAUSE_NONE, 0, "max_forwards=-1|from.tag=|via.branch="},
    {"test", SK_CAUSE_START_LINE, 0},
};

static const struct verdict rfc5118[] = {
    {"ipv6-good", SK_CAUSE_NONE, 0, "ruri.host=[2001:db8::10]"},
    {"ipv6-bad", SK_CAUSE_REQUEST_URI, 0},
    {"port-ambiguous", SK_CAUSE_NONE, 0, "ruri.host=[2001:db8::10:5070]|ruri.port=0"},
    {"port-unambiguous", SK_CAUSE_NONE, 0, "ruri.host=[2001:db8::10]|ruri.port=5070"},
    {"via-received-param-with-delim", SK_CAUSE_NONE, 0, "via.received=[2001:db8::9:255]"},
    {"via-received-param-no-delim", SK_CAUSE_NONE, 0, "via.received=2001:db8::9:255"},
    /* The RFC's own Content-Length exceeds this body (see the INDEX). */
    {"ipv6-in-sdp", SK_CAUSE_BODY_SHORT, SK_HDR_CONTENT_LENGTH, NULL, true},
    {"mult-ip-in-header", SK_CAUSE_NONE, 0, "vias=3|via.host=[2001:db8::9:1]"},
    {"mult-ip-in-sdp", SK_CAUSE_NONE, 0, "method=INVITE"},
    {"ipv4-mapped-ipv6", SK_CAUSE_NONE, 0, "method=INVITE"},
    {"ipv6-bug-abnf-3-colons", SK_CAUSE_NONE, 0, "ruri.host=[2001:db8:::192.0.2.1]"},
    {"ipv6-correct-abnf-2-colons", SK_CAUSE_NONE, 0, "ruri.host=[2001:db8::192.0.2.1]"},
};

static int parse_and_check(struct sk_msg *m, const char *data, size_t len)
{
    int r = sk_msg_parse(m, data, len, SK_MSG_DATAGRAM, NULL);

    return r == 0 ? sk_msg_check(m) : r;
}

static void run_verdict(const char *dir, const struct verdict *v)
{
    char rel[256], why[128];
    size_t len;
    struct sk_msg m;

    snprintf(rel, sizeof(rel), "%s/%s.dat", dir, v->name);
    char *data = sk_test_read_file(sk_test_data(rel), &len);
    if (data == NULL) {
        print_error("cannot read %s\n", sk_test_data(rel));
        fail();
    }
    sk_msg_init(&m);
    int r = parse_and_check(&m, data, len);
    sk_msg_error(&m, why, sizeof(why));
    if (m.cause != v->cause || (v->hdr != 0 && m.cause_hdr != v->hdr)) {
        print_error("%s: cause %d (%s, header %s), expected %d (header %s)\n", rel, m.cause, why,
                    sk_hdr_name(m.cause_hdr), v->cause, sk_hdr_name(v->hdr));
        fail();
    }
    assert_int_equal(r == 0, v->cause == SK_CAUSE_NONE);
    if (v->checks != NULL)
        sk_test_check_fields(rel, &m, v->checks);
    sk_msg_free(&m);
    free(data);
}

/* Every INDEX row has a verdict, and the verdict agrees with the class. */
static void check_index(const char *dir, const struct verdict *vs, size_t n)
{
    char rel[256];
    size_t len;

    snprintf(rel, sizeof(rel), "%s/INDEX.tsv", dir);
    char *index = sk_test_read_file(sk_test_data(rel), &len);
    assert_non_null(index);
    size_t rows = 0;
    char *save = NULL;
    for (char *line = strtok_r(index, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        if (tab == NULL || strncmp(line, "name\t", 5) == 0)
            continue;
        *tab = '\0';
        const struct verdict *v = NULL;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(vs[i].name, line) == 0)
                v = &vs[i];
        }
        if (v == NULL) {
            print_error("%s: no verdict for %s\n", rel, line);
            fail();
        }
        bool valid_class = strstr(tab + 1, "\tvalid\t") != NULL;
        bool invalid_class = strstr(tab + 1, "\tinvalid\t") != NULL;
        if (!v->liberal && ((valid_class && v->cause != SK_CAUSE_NONE) ||
                            (invalid_class && v->cause == SK_CAUSE_NONE))) {
            print_error("%s: verdict for %s disagrees with its class\n", rel, line);
            fail();
        }
        run_verdict(dir, v);
        rows++;
    }
    assert_int_equal(rows, n);
    free(index);
}

static void torture_rfc4475(void **state)
{
    (void)state;
    check_index("rfc4475", rfc4475, sizeof(rfc4475) / sizeof(rfc4475[0]));
    /* The archive's baddn lacks the final empty line; the CRLF-terminated
     * variant must fail for the display name too. */
    struct verdict v = {"baddn.crlf-terminated", SK_CAUSE_MALFORMED_HDR, SK_HDR_FROM, NULL, false};
    run_verdict("rfc4475/variants", &v);
}

static void torture_rfc5118(void **state)
{
    (void)state;
    check_index("rfc5118", rfc5118, sizeof(rfc5118) / sizeof(rfc5118[0]));
}

/* A few php-sip fixtures lost the empty line after their last header
 * when they were cut out of the RFC text. As they stand they are refused
 * (RFC 3261 §7: the empty line is part of every message); with it
 * restored they must parse. */
static char *restore_empty_line(struct sk_msg *m, char *data, size_t *len)
{
    char *more;

    if (parse_and_check(m, data, *len) == 0 || m->cause != SK_CAUSE_NO_END_OF_HEADERS)
        return data;
    more = realloc(data, *len + 2);
    assert_non_null(more);
    memcpy(more + *len, "\r\n", 2);
    *len += 2;
    return more;
}

/* Parse every file in each subdirectory of dir; returns the count. */
static size_t parse_tree(const char *dir)
{
    char path[1024];
    size_t count = 0;
    DIR *top = opendir(sk_test_data(dir));
    struct dirent *e;
    struct sk_msg m;

    assert_non_null(top);
    sk_msg_init(&m);
    while ((e = readdir(top)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[512];
        snprintf(sub, sizeof(sub), "%s/%s", sk_test_data(dir), e->d_name);
        DIR *d = opendir(sub);
        if (d == NULL)
            continue;
        struct dirent *f;
        while ((f = readdir(d)) != NULL) {
            if (strstr(f->d_name, ".txt") == NULL)
                continue;
            size_t len;
            snprintf(path, sizeof(path), "%s/%s", sub, f->d_name);
            char *data = sk_test_read_file(path, &len);
            assert_non_null(data);
            data = restore_empty_line(&m, data, &len);
            if (parse_and_check(&m, data, len) != 0) {
                char why[128];
                sk_msg_error(&m, why, sizeof(why));
                print_error("%s: %s\n", path, why);
                fail();
            }
            assert_true(m.is_request ? m.method.len > 0 : m.status >= 100);
            count++;
            free(data);
        }
        closedir(d);
    }
    closedir(top);
    sk_msg_free(&m);
    return count;
}

static void call_flows_parse(void **state)
{
    (void)state;
    assert_int_equal(parse_tree("rfc3665"), 193);
    assert_int_equal(parse_tree("other/php-sip-rfc-callflows"), 61);
}

/* Frame a whole stream; returns the number of messages. */
static size_t frame_all(const char *buf, size_t len)
{
    size_t off = 0, n = 0;

    for (;;) {
        size_t skip = 0, mlen = 0;
        int r = sk_msg_frame(buf + off, len - off, NULL, &skip, &mlen);
        if (r == SK_EAGAIN) {
            assert_int_equal(off + skip, len); /* only keep-alive CRLFs may remain */
            return n;
        }
        assert_int_equal(r, 0);
        off += skip + mlen;
        n++;
    }
}

/* Feed the stream in two parts at every split point, as a TCP reader
 * would: what was framed before the split plus after must agree. */
static void frame_split(const char *buf, size_t len, size_t split, size_t expect)
{
    size_t off = 0, n = 0, avail = split;

    for (;;) {
        size_t skip = 0, mlen = 0;
        int r = sk_msg_frame(buf + off, avail - off, NULL, &skip, &mlen);
        if (r == SK_EAGAIN) {
            if (avail == len)
                break;
            avail = len;
            continue;
        }
        assert_int_equal(r, 0);
        off += skip + mlen;
        n++;
    }
    assert_int_equal(n, expect);
}

static void stream(const char *rel, size_t expect, size_t split_step)
{
    size_t len;
    char *data = sk_test_read_file(sk_test_data(rel), &len);

    assert_non_null(data);
    assert_int_equal(frame_all(data, len), expect);
    for (size_t split = 0; split <= len; split += split_step)
        frame_split(data, len, split, expect);
    free(data);
}

static void streams_frame(void **state)
{
    (void)state;
    stream("other/php-sip-streams/generic.txt", 227, 7);
    stream("other/php-sip-streams/lioneagle-sipparser.txt", 26, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(torture_rfc4475),
        cmocka_unit_test(torture_rfc5118),
        cmocka_unit_test(call_flows_parse),
        cmocka_unit_test(streams_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
